#include "common/yaml_document.h"

#include <set>
#include <string>
#include <vector>

namespace edi {
namespace {

// Deeper nesting, or more nodes, than any rule, fixture or configuration file has: aliases
// can make a node contain itself, or a few lines stand for billions of nodes.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 1000000;

// yaml-cpp keeps both entries of a key written twice, and a lookup finds the first.
void RefuseRepeatedKeys(const YAML::Node& n, int depth, size_t* nodes) {
  if (depth > kMaxDepth || ++*nodes > kMaxNodes) {
    throw YAML::ParserException(n.Mark(), depth > kMaxDepth
                                              ? "nested too deeply (an alias inside itself?)"
                                              : "too many nodes (aliases repeating aliases?)");
  }
  if (n.IsSequence()) {
    for (const YAML::Node& item : n) RefuseRepeatedKeys(item, depth + 1, nodes);
  } else if (n.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second) {
        throw YAML::ParserException(kv.first.Mark(),
                                    "key '" + kv.first.Scalar() + "' given twice in one mapping");
      }
      RefuseRepeatedKeys(kv.second, depth + 1, nodes);
    }
  }
}

YAML::Node TheOnlyDocument(const std::vector<YAML::Node>& docs) {
  for (size_t i = 1; i < docs.size(); ++i) {
    if (docs[i].IsNull()) continue;  // a trailing `---` or `...` with nothing after it
    throw YAML::ParserException(docs[i].Mark(),
                                "a second YAML document starts here, and a file holds one: is "
                                "this line out of place, or a '---' left before it?");
  }
  if (docs.empty()) return YAML::Node();
  size_t nodes = 0;
  RefuseRepeatedKeys(docs.front(), 0, &nodes);
  return docs.front();
}

// Whether the quoted scalar starting at text[at] ends on its line.
bool QuoteEndsOnItsLine(const std::string& text, size_t at) {
  const char quote = text[at];
  for (size_t i = at + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') return false;
    if (quote == '"' && c == '\\') {
      ++i;  // an escaped character (an escaped line break, too, continues the line)
    } else if (c == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;  // '' is a quote inside single quotes
      } else {
        return true;
      }
    }
  }
  return false;  // the end of the text: never closed
}

void CheckQuotes(const YAML::Node& n, const std::string& text) {
  if (n.IsScalar()) {
    const YAML::Mark m = n.Mark();
    if (m.pos >= 0 && static_cast<size_t>(m.pos) < text.size() &&
        (text[m.pos] == '"' || text[m.pos] == '\'') && !QuoteEndsOnItsLine(text, m.pos)) {
      throw YAML::ParserException(m,
                                  "a quoted value does not end on its line: is its closing "
                                  "quote missing?");
    }
  } else if (n.IsSequence()) {
    for (const YAML::Node& item : n) CheckQuotes(item, text);
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      CheckQuotes(kv.first, text);
      CheckQuotes(kv.second, text);
    }
  }
}

}  // namespace

void RefuseQuotedScalarsAcrossLines(const YAML::Node& doc, const std::string& text) {
  CheckQuotes(doc, text);
}

YAML::Node LoadOneYamlDocument(const std::string& text) {
  return TheOnlyDocument(YAML::LoadAll(text));
}

YAML::Node LoadOneYamlDocumentFile(const std::string& path) {
  return TheOnlyDocument(YAML::LoadAllFromFile(path));
}

}  // namespace edi
