// Loading entry points, the issue list, and the RuleEngine that swaps rule sets on reload.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/rule_file.h"
#include "detect/rules.h"

namespace edi {

std::string_view LoadCodeName(LoadCode code) {
  switch (code) {
    case LoadCode::kIO:
      return "E_IO";
    case LoadCode::kSyntax:
      return "E_SYNTAX";
    case LoadCode::kUnknownItem:
      return "E_UNKNOWN_ITEM";
    case LoadCode::kMissingKey:
      return "E_MISSING_KEY";
    case LoadCode::kBadValue:
      return "E_BAD_VALUE";
    case LoadCode::kBadName:
      return "E_BAD_NAME";
    case LoadCode::kEngineVersion:
      return "E_ENGINE_VERSION";
    case LoadCode::kUnknownField:
      return "E_UNKNOWN_FIELD";
    case LoadCode::kTypeMismatch:
      return "E_TYPE_MISMATCH";
    case LoadCode::kUnknownMacro:
      return "E_UNKNOWN_MACRO";
    case LoadCode::kUnknownList:
      return "E_UNKNOWN_LIST";
    case LoadCode::kMacroCycle:
      return "E_MACRO_CYCLE";
    case LoadCode::kDuplicateRule:
      return "E_DUPLICATE_RULE";
    case LoadCode::kDuplicateMacro:
      return "E_DUPLICATE_MACRO";
    case LoadCode::kDuplicateList:
      return "E_DUPLICATE_LIST";
    case LoadCode::kOverrideUnknownRule:
      return "E_OVERRIDE_UNKNOWN_RULE";
    case LoadCode::kOverrideUnknownMacro:
      return "E_OVERRIDE_UNKNOWN_MACRO";
    case LoadCode::kOverrideUnknownList:
      return "E_OVERRIDE_UNKNOWN_LIST";
    case LoadCode::kBadOverride:
      return "E_BAD_OVERRIDE";
    case LoadCode::kBadSeverity:
      return "E_BAD_SEVERITY";
    case LoadCode::kBadException:
      return "E_BAD_EXCEPTION";
    case LoadCode::kUnusedList:
      return "W_UNUSED_LIST";
    case LoadCode::kUnusedMacro:
      return "W_UNUSED_MACRO";
    case LoadCode::kUnknownKey:
      return "W_UNKNOWN_KEY";
    case LoadCode::kRuleNeverEnabled:
      return "W_RULE_NEVER_ENABLED";
    case LoadCode::kFieldLikeLiteral:
      return "W_FIELD_LIKE_LITERAL";
    case LoadCode::kUnknownValue:
      return "W_UNKNOWN_VALUE";
    case LoadCode::kSeverityCasesReplaced:
      return "W_SEVERITY_CASES_REPLACED";
    case LoadCode::kRuleNeverFires:
      return "W_RULE_NEVER_FIRES";
    case LoadCode::kConditionAlwaysTrue:
      return "W_CONDITION_ALWAYS_TRUE";
  }
  return "?";
}

bool IsError(LoadCode code) { return code < LoadCode::kUnusedList; }

std::string LoadIssue::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (line > 0 && column > 0) s += ":" + std::to_string(column);
  s += ": ";
  s += LoadCodeName(code);
  s += ": " + message;
  return s;
}

size_t LoadResult::error_count() const {
  return std::count_if(issues.begin(), issues.end(),
                       [](const LoadIssue& i) { return i.is_error(); });
}

size_t LoadResult::warning_count() const { return issues.size() - error_count(); }

const LoadIssue* LoadResult::Find(LoadCode code) const {
  for (const LoadIssue& i : issues) {
    if (i.code == code) return &i;
  }
  return nullptr;
}

std::string LoadResult::ToString() const {
  std::string s;
  for (const LoadIssue& i : issues) s += i.ToString() + "\n";
  return s;
}

namespace detect {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Finds where byte `offset` of a YAML scalar's value lies in the file, by walking the value
// and the file text side by side from the scalar's start. Handles plain and quoted scalars
// without escapes, and literal (|) and folded (>) blocks; returns npos where the two stop
// agreeing (escape sequences, unusual folding).
size_t TraceOffset(std::string_view file, size_t start, std::string_view value, size_t offset) {
  size_t p = start;
  if (p < file.size() && (file[p] == '|' || file[p] == '>')) {
    p = file.find('\n', p);
    if (p == std::string_view::npos) return p;
    ++p;
  } else if (p < file.size() && (file[p] == '"' || file[p] == '\'')) {
    ++p;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    while (p < file.size() && (file[p] == ' ' || file[p] == '\t') && value[i] != file[p]) {
      ++p;  // indentation of a continuation line
    }
    if (p >= file.size()) return std::string_view::npos;
    if (value[i] == file[p]) {
      if (i == offset) return p;
      ++p;
    } else if (value[i] == ' ' && IsBlank(file[p])) {  // a line break folded into a space
      if (i == offset) return p;
      while (p < file.size() && IsBlank(file[p])) ++p;
    } else {
      return std::string_view::npos;
    }
  }
  return offset == value.size() ? p : std::string_view::npos;
}

}  // namespace

void Issues::Add(LoadCode code, const Pos& pos, std::string message) {
  LoadIssue issue;
  issue.code = code;
  issue.file = pos.file >= 0 ? (*files_)[pos.file].name : "";
  issue.line = pos.line;
  issue.column = pos.column;
  issue.message = std::move(message);
  if (issue.is_error()) ++errors_;
  issues_.emplace_back(pos.file, std::move(issue));
}

void Issues::AddIn(LoadCode code, const SourceText& text, size_t offset, std::string message) {
  std::string full = text.owner + ": " + message;
  const Pos& at = text.pos;
  if (at.file < 0 || at.line <= 0) {
    Add(code, at, full + " (at character " + std::to_string(offset + 1) + ")");
    return;
  }
  const SourceFile& file = (*files_)[at.file];
  size_t start = at.line - 1 < static_cast<int>(file.line_starts.size())
                     ? file.line_starts[at.line - 1] + at.column - 1
                     : file.text.size();
  size_t p = TraceOffset(file.text, start, text.text, offset);
  if (p == std::string_view::npos) {
    Add(code, at, full + " (at character " + std::to_string(offset + 1) + ")");
    return;
  }
  auto line = std::upper_bound(file.line_starts.begin(), file.line_starts.end(), p);
  int line_no = static_cast<int>(line - file.line_starts.begin());
  int column = static_cast<int>(p - file.line_starts[line_no - 1]) + 1;
  Add(code, {at.file, line_no, column}, std::move(full));
}

std::string Issues::Where(const Pos& pos) const {
  std::string s = pos.file >= 0 ? (*files_)[pos.file].name : "?";
  return s + ":" + std::to_string(pos.line);
}

std::vector<LoadIssue> Issues::Take() {
  std::stable_sort(issues_.begin(), issues_.end(), [](const auto& x, const auto& y) {
    if (x.first != y.first) return x.first < y.first;
    if (x.second.line != y.second.line) return x.second.line < y.second.line;
    return x.second.column < y.second.column;
  });
  std::vector<LoadIssue> out;
  for (auto& [file, issue] : issues_) {
    bool seen = std::any_of(out.begin(), out.end(), [&](const LoadIssue& o) {
      return o.code == issue.code && o.line == issue.line && o.column == issue.column &&
             o.file == issue.file && o.message == issue.message;
    });
    if (!seen) out.push_back(std::move(issue));
  }
  issues_.clear();
  errors_ = 0;
  return out;
}

namespace {

SourceFile MakeSource(std::string name, std::string text) {
  SourceFile f{std::move(name), std::move(text), {0}};
  for (size_t i = 0; i < f.text.size(); ++i) {
    if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  return f;
}

// Reads `path` whole; on failure returns false and sets *why to the system's reason.
bool ReadWholeFile(const std::string& path, std::string* out, std::string* why) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    *why = std::strerror(errno);
    return false;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out->append(buf, n);
  if (std::ferror(f.get())) {
    *why = std::strerror(errno);
    return false;
  }
  return true;
}

// Loads files already read; `unreadable` lists (index, E_IO message) of those that could not be
// (or are given twice).
LoadResult LoadSources(const std::vector<SourceFile>& files,
                       const std::vector<std::pair<int, std::string>>& unreadable,
                       const FieldCatalog& catalog) {
  Issues issues(&files);
  for (const auto& [index, why] : unreadable) {
    issues.Add(LoadCode::kIO, {index, 0, 0}, why);
  }
  Collection collection;
  for (size_t i = 0; i < files.size(); ++i) {
    CollectFile(static_cast<int>(i), files[i], catalog, &collection, &issues);
  }
  LoadResult result;
  std::shared_ptr<const RuleSet> rules = CompileRules(collection, catalog, files, &issues);
  if (!issues.has_errors()) result.rules = std::move(rules);
  result.issues = issues.Take();
  return result;
}

}  // namespace

}  // namespace detect

LoadResult LoadRules(const std::vector<std::string>& files, const FieldCatalog& catalog) {
  std::vector<detect::SourceFile> sources;
  std::vector<std::pair<int, std::string>> unreadable;
  std::map<std::string, std::string> seen;  // the file as resolved -> as given first
  for (const std::string& path : files) {
    std::string text;
    std::string why;
    std::error_code ec;
    const std::string resolved = std::filesystem::weakly_canonical(path, ec).string();
    if (auto [at, added] = seen.try_emplace(ec ? path : resolved, path); !added) {
      // Its definitions would clash with themselves ("already defined at" the same line).
      unreadable.emplace_back(static_cast<int>(sources.size()),
                              "the rule file is given twice (first as " + at->second +
                                  ", a directory's file or the file itself): give each once");
    } else if (!detect::ReadWholeFile(path, &text, &why)) {
      unreadable.emplace_back(static_cast<int>(sources.size()),
                              "cannot read the rule file: " + why);
      text.clear();
    }
    sources.push_back(detect::MakeSource(path, std::move(text)));
  }
  return detect::LoadSources(sources, unreadable, catalog);
}

LoadResult LoadRulesFromStrings(const std::vector<std::pair<std::string, std::string>>& files,
                                const FieldCatalog& catalog) {
  std::vector<detect::SourceFile> sources;
  for (const auto& [name, text] : files) sources.push_back(detect::MakeSource(name, text));
  return detect::LoadSources(sources, {}, catalog);
}

RuleEngine::RuleEngine(const FieldCatalog* catalog)
    : catalog_(catalog), current_(std::make_shared<const RuleSet>()) {}

LoadResult RuleEngine::Reload(const std::vector<std::string>& files, bool require_enabled) {
  LoadResult result = LoadRules(files, *catalog_);
  if (require_enabled && result.ok() && result.rules->enabled_count() == 0) {
    LoadIssue issue;
    issue.code = LoadCode::kBadValue;
    issue.file = files.empty() ? std::string() : files.back();
    issue.message = "the rule files enable no rule: nothing would be detected";
    result.issues.push_back(std::move(issue));
    result.rules = nullptr;
  }
  return Install(std::move(result));
}

LoadResult RuleEngine::ReloadFromStrings(
    const std::vector<std::pair<std::string, std::string>>& files) {
  return Install(LoadRulesFromStrings(files, *catalog_));
}

LoadResult RuleEngine::Install(LoadResult result) {
  if (!result.ok()) {
    failed_reloads_.fetch_add(1, std::memory_order_relaxed);
    return result;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = result.rules;
  }
  good_reloads_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

std::shared_ptr<const RuleSet> RuleEngine::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

}  // namespace edi
