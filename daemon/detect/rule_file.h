// Internal to detect/ (the contract is rules.h): rule files as collected from YAML, with every
// override applied, before they are compiled; and the issue list that every load step reports
// to.
//
// Loading runs in two passes, as in Falco: collect.cpp and collect_rule.cpp read the files in
// order into a Collection (later items modify earlier ones), then compile.cpp resolves names
// and types over the final collection. Conditions therefore stay text until compilation.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "detect/rules.h"
#include "state/field.h"

namespace edi::detect {

struct SourceFile {
  std::string name;
  std::string text;
  std::vector<size_t> line_starts;  // byte offset at which each line begins
};

// A place in the rule files: 1-based line and column of a YAML node; 0 when unknown.
struct Pos {
  int file = -1;
  int line = 0;
  int column = 0;
};

struct Scalar {
  std::string text;
  Pos pos;
};

// Text parsed further (a condition, an output template), kept with the position of its YAML
// scalar so that an offset inside the text can be traced back to the file.
struct SourceText {
  std::string owner;  // names it in messages: "rule 'x' condition", "macro 'm'"
  std::string text;
  Pos pos;
};

class Issues {
 public:
  explicit Issues(const std::vector<SourceFile>* files) : files_(files) {}

  void Add(LoadCode code, const Pos& pos, std::string message);
  // Reports at `offset` inside `text`, traced back to the file when the YAML allows.
  void AddIn(LoadCode code, const SourceText& text, size_t offset, std::string message);
  bool has_errors() const { return errors_ > 0; }
  // "file:line", for messages that point at another definition.
  std::string Where(const Pos& pos) const;
  // Every issue once, ordered by file (in load order), line and column.
  std::vector<LoadIssue> Take();

 private:
  const std::vector<SourceFile>* files_;
  std::vector<std::pair<int, LoadIssue>> issues_;  // with the file index, for ordering
  size_t errors_ = 0;
};

struct ListDef {
  std::string name;
  Pos pos;
  std::vector<Scalar> items;
};

struct MacroDef {
  std::string name;
  Pos pos;
  std::vector<SourceText> condition;  // fragments, AND-ed (override: append adds one)
  std::string replaced;               // the text of conditions an override replaced
};

// A value in an exception tuple: one scalar, or a YAML list (for `in`).
struct ExceptionValue {
  Pos pos;
  bool is_list = false;
  std::vector<Scalar> items;
};

struct ExceptionDef {
  std::string name;
  Pos pos;
  bool single_field = false;  // `fields: f` (not a list): every value is a 1-tuple
  std::vector<Scalar> fields;
  std::vector<Scalar> comps;  // empty: `=` for every field
  std::vector<std::vector<ExceptionValue>> tuples;
  std::vector<Pos> tuple_pos;
};

struct SeverityCase {
  SourceText when;
  Severity severity = Severity::kInfo;
};

struct RuleDef {
  std::string id;
  Pos pos;
  std::string desc;
  std::vector<SourceText> condition;  // fragments, AND-ed (override: append adds one)
  std::vector<SeverityCase> severity_cases;
  Severity severity = Severity::kInfo;  // plain severity, or the `default` case
  SourceText output;
  std::vector<std::string> tags;
  bool enabled = true;
  bool defined_disabled = false;  // the defining item said `enabled: false`
  std::vector<Scalar> suppress;
  std::vector<ExceptionDef> exceptions;
  // Its definition had errors (reported). It is kept, so that overrides of it do not add
  // errors, and compiled as far as it goes, so that every error is reported in one load.
  bool broken = false;
  // The text of conditions and severity cases an override replaced: the lists and macros they
  // used are not reported unused (the file defining them is not the operator's to edit).
  std::string replaced;
};

struct Collection {
  std::vector<ListDef> lists;
  std::vector<MacroDef> macros;
  std::vector<RuleDef> rules;
  std::unordered_map<std::string, size_t> list_index;
  std::unordered_map<std::string, size_t> macro_index;
  std::unordered_map<std::string, size_t> rule_index;
};

enum class OverrideMode { kAppend, kReplace };
using Overrides = std::map<std::string, OverrideMode, std::less<>>;

// Reads one YAML map item; every accessor reports what is wrong with the value it reads.
class ItemReader {
 public:
  ItemReader(int file, const YAML::Node& item, Issues* issues)
      : file_(file), item_(item), issues_(issues) {}

  // Prefixes every message, e.g. "rule 'edi.foreign-send'".
  void set_label(std::string label) { label_ = std::move(label); }
  const std::string& label() const { return label_; }
  void Report(LoadCode code, const Pos& pos, const std::string& message) const;

  Pos pos() const;
  Pos PosOf(const YAML::Node& node) const;
  const YAML::Node& node() const { return item_; }
  Issues* issues() const { return issues_; }
  int file() const { return file_; }
  bool Has(std::string_view key) const;

  // The text of `key`. False when it is missing (E_MISSING_KEY if `required`) or is not a
  // single value (E_BAD_VALUE).
  bool Text(std::string_view key, bool required, Scalar* out) const;
  bool Bool(std::string_view key, bool* out) const;
  // A list of plain values (a single value is taken as a list of one when `allow_single`).
  bool TextList(std::string_view key, bool allow_single, std::vector<Scalar>* out) const;
  bool ScalarList(const YAML::Node& node, std::string_view what, std::vector<Scalar>* out) const;
  // `key` as text to parse later, named `owner` in messages.
  bool Source(std::string_view key, std::string owner, SourceText* out) const;

  // W_UNKNOWN_KEY for every key not in `known`.
  void WarnUnknownKeys(const std::vector<std::string_view>& known) const;
  // Reads `override:`. `allowed` maps each key that may be overridden to whether append is
  // allowed (replace always is). Every other key of the item except `name_key` must be named
  // in the override, and every key the override names must be present. False on E_BAD_OVERRIDE.
  bool ReadOverride(std::string_view name_key, const std::vector<std::string_view>& known,
                    const std::vector<std::pair<std::string_view, bool>>& allowed,
                    Overrides* out) const;

 private:
  int file_;
  YAML::Node item_;
  Issues* issues_;
  std::string label_;
};

// Reads the items of one file into *collection, in order.
void CollectFile(int file, const SourceFile& source, const FieldCatalog& catalog,
                 Collection* collection, Issues* issues);
// Handles one `- rule:` item (collect_rule.cpp).
void CollectRule(ItemReader& item, Collection* collection);

// Compiles the final collection. Returns nullptr when an error was reported.
std::shared_ptr<const RuleSet> CompileRules(const Collection& collection,
                                            const FieldCatalog& catalog,
                                            const std::vector<SourceFile>& files, Issues* issues);

}  // namespace edi::detect
