#include "registry/snapshot_file.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <utility>
#include <vector>

#include "common/json_keys.h"

namespace edi {
namespace {

// JSON Pointer escaping of one reference token (RFC 6901).
std::string EscapeToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ValueText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return buffer.GetString();
}

// The first name of the JSON array `names` that `object` has (want_present) or lacks.
std::optional<std::string> FirstName(const rapidjson::Value& names, const rapidjson::Value& object,
                                     bool want_present) {
  if (!names.IsArray()) return std::nullopt;
  for (const auto& name : names.GetArray()) {
    if (name.IsString() && object.HasMember(name) == want_present) {
      return std::string(name.GetString(), name.GetStringLength());
    }
  }
  return std::nullopt;
}

// For a failed anyOf/oneOf whose branches are told apart by an enum on a property (e.g. "type"
// is "Organization"), names the property the matching branch requires or forbids.
std::optional<std::string> ExplainBranches(const rapidjson::Value& branches,
                                           const rapidjson::Value& object,
                                           const std::string& where) {
  if (!branches.IsArray()) return std::nullopt;
  for (const auto& branch : branches.GetArray()) {
    if (!branch.IsObject() || !branch.HasMember("properties")) continue;
    const rapidjson::Value& props = branch["properties"];
    if (!props.IsObject()) continue;
    std::string condition;
    bool matches = true;
    for (const auto& prop : props.GetObject()) {
      if (!prop.value.IsObject() || !prop.value.HasMember("enum")) continue;
      const rapidjson::Value& allowed = prop.value["enum"];
      auto it = object.FindMember(prop.name);
      bool found = false;
      if (it != object.MemberEnd() && allowed.IsArray()) {
        for (const auto& a : allowed.GetArray()) found = found || a == it->value;
      }
      if (!found) {
        matches = false;
        break;
      }
      if (condition.empty()) condition = ValueText(prop.name) + " is " + ValueText(it->value);
    }
    if (!matches || condition.empty()) continue;
    if (branch.HasMember("required")) {
      if (auto missing = FirstName(branch["required"], object, false)) {
        return "field '" + where + "/" + EscapeToken(*missing) + "': required when " + condition;
      }
    }
    if (branch.HasMember("not") && branch["not"].IsObject() &&
        branch["not"].HasMember("required")) {
      if (auto present = FirstName(branch["not"]["required"], object, true)) {
        return "field '" + where + "/" + EscapeToken(*present) + "': not allowed when " + condition;
      }
    }
  }
  return std::nullopt;
}

// Follows the parser through nested objects and arrays so a syntax error can name the field
// it occurred in. Used only after a line failed to parse.
class FieldTracker : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, FieldTracker> {
 public:
  bool Default() {
    StartValue();
    return true;
  }
  bool StartObject() {
    StartValue();
    frames_.push_back({true, {}, 0});
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    frames_.back().key.assign(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    frames_.pop_back();
    return true;
  }
  bool StartArray() {
    StartValue();
    frames_.push_back({false, {}, 0});
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    frames_.pop_back();
    return true;
  }

  // The JSON Pointer of the innermost field seen, "/" at the top level.
  std::string Field() const {
    std::string out;
    for (const Frame& f : frames_) {
      if (f.is_object) {
        if (f.key.empty()) break;
        out += "/" + EscapeToken(f.key);
      } else {
        out += "/" + std::to_string(f.values == 0 ? 0 : f.values - 1);
      }
    }
    return out.empty() ? "/" : out;
  }

 private:
  struct Frame {
    bool is_object;
    std::string key;
    size_t values;  // array elements started so far
  };
  void StartValue() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().values;
  }
  std::vector<Frame> frames_;
};

std::string DescribeSyntaxError(std::string_view text, const rapidjson::Document& failed) {
  FieldTracker tracker;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::Reader reader;
  reader.Parse(stream, tracker);
  return "field '" + tracker.Field() + "': invalid JSON at column " +
         std::to_string(failed.GetErrorOffset() + 1) + ": " +
         rapidjson::GetParseError_En(failed.GetParseError());
}

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

std::string DescribeSnapshotViolation(const JsonSchema& schema,
                                      const rapidjson::SchemaValidator& validator,
                                      const rapidjson::Value& doc) {
  const std::string keyword = validator.GetInvalidSchemaKeyword();
  if (keyword == "anyOf" || keyword == "oneOf") {
    const rapidjson::Value* node = validator.GetInvalidSchemaPointer().Get(schema.source);
    const rapidjson::Value* value = validator.GetInvalidDocumentPointer().Get(doc);
    if (node != nullptr && node->IsObject() && node->HasMember(keyword.c_str()) &&
        value != nullptr && value->IsObject()) {
      rapidjson::StringBuffer where;
      validator.GetInvalidDocumentPointer().Stringify(where);
      if (auto why = ExplainBranches((*node)[keyword.c_str()], *value, where.GetString())) {
        return *why;
      }
    }
  }
  std::string detail = DescribeViolation(schema, validator, doc).detail;
  if (keyword == "anyOf" || keyword == "oneOf" || keyword == "not") {
    // The shapes have no field to name; the schema's description of the value says what is meant.
    const rapidjson::Value* node = validator.GetInvalidSchemaPointer().Get(schema.source);
    if (node != nullptr && node->IsObject() && node->HasMember("description") &&
        (*node)["description"].IsString()) {
      detail += std::string(" (") + (*node)["description"].GetString() + ")";
    }
  }
  return detail;
}

std::string SnapshotError(std::string_view file, size_t line, std::string_view field,
                          std::string_view what) {
  std::string out(file);
  out += ":" + std::to_string(line) + ": field '";
  out += field;
  out += "': ";
  out += what;
  return out;
}

// The JSON pointer of the first string (or member name) holding a NUL byte; "" when none.
std::string FieldWithNul(const rapidjson::Value& v, const std::string& at) {
  if (v.IsString()) {
    return std::string_view(v.GetString(), v.GetStringLength()).find('\0') == std::string_view::npos
               ? std::string()
               : (at.empty() ? "/" : at);
  }
  if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (std::string f = FieldWithNul(v[i], at + "/" + std::to_string(i)); !f.empty()) return f;
    }
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      const std::string name(m.name.GetString(), m.name.GetStringLength());
      if (name.find('\0') != std::string::npos) return at + "/" + name;
      if (std::string f = FieldWithNul(m.value, at + "/" + name); !f.empty()) return f;
    }
  }
  return "";
}

Status ForEachSnapshotLine(const std::string& path, std::string_view file_name,
                           const JsonSchema& schema, const SnapshotLineFn& on_line) {
  std::string text;
  if (Status s = ReadFile(path, &text); !s.ok()) return s;
  std::string_view rest(text);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);

  rapidjson::SchemaValidator validator(*schema.compiled);
  size_t line_number = 0;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    ++line_number;
    if (IsBlank(line)) continue;
    if (line.back() == '\r') line.remove_suffix(1);

    auto located = [&](const std::string& what) {
      return Status::InvalidArgument(std::string(file_name) + ":" + std::to_string(line_number) +
                                     ": " + what);
    };
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError()) return located(DescribeSyntaxError(line, doc));
    validator.Reset();
    if (!doc.Accept(validator)) return located(DescribeSnapshotViolation(schema, validator, doc));
    // The validator checks a pattern only up to a NUL byte ("900000001\u0000" passes
    // "^[0-9]{9}$"); no snapshot field has a use for one.
    if (const std::string field = FieldWithNul(doc, ""); !field.empty()) {
      return located("field '" + field + "': contains a NUL byte");
    }
    // Which of two values counts is up to the reader; access-log records are held to the same
    // (quarantined as duplicate_key). A snapshot's fields are the line's own members.
    if (std::string key; DuplicateKeyIn(doc, &key)) {
      return located("field '/': the key '" + key +
                     "' appears twice, so which value counts is ambiguous");
    }
    if (Status s = on_line(doc, line_number); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace edi
