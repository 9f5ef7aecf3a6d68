// Detection rules: the YAML rule language, its loader, and the compiled rule set that the
// detect stage evaluates once per (event, party).
//
// Detection logic lives in rule files that a security team reads, tunes and extends without
// recompiling. Conditions are written over the named, typed fields of state/field.h and are
// compiled once, at load, into a tree over field ids; evaluating an event does no name lookups.
//
// ---------------------------------------------------------------------------------------------
// Rule files
//
// A file is a YAML sequence of items. Files load in the order given; a later file may change
// what an earlier one defined (that is how operators tune the shipped pack without editing it).
//
//   - required_engine_version: 1        # refuse the file if this engine is older
//   (E_ENGINE_VERSION)
//
//   - list: owner_actions                # a named set of values, used as `in (owner_actions)`
//     items: [send, download, mark_downloaded, apprec_send, config_write, config_delete, poll]
//
//   - macro: succeeded                   # a named condition, used as a bare word
//     condition: evt.status >= 200 and evt.status < 300
//
//   - rule: edi.foreign-send             # stable id
//     desc: A client that is not the party's owner sent on its behalf.
//     condition: evt.action = send and succeeded and party.owner != client.id
//     severity: high                     # or a list of cases, see below
//     output: "%client.id sent for party %party.her_id owned by %party.owner"
//     tags: [interference]               # optional
//     enabled: true                      # optional, default true
//     suppress: [client.id, party.her_id]  # optional: the repeat key, field names
//     exceptions:                        # optional: named tuples that stop the rule firing
//       - name: integration_platform
//         fields: [client.id, party.her_id]
//         comps: [=, in]                 # optional, default `=` for every field
//         values:
//           - [c1, [8142520, 8142521]]   # a value for `in` is a YAML list or a list name
//
// Severity is `info`, `low`, `medium`, `high` or `critical`, or a list of cases tried in order;
// the first whose `when` condition holds gives the severity, and the last case must be
// `default`:
//
//     severity:
//       - when: evt.success and evt.action in (lock_blocked_actions)
//         severity: critical
//       - when: evt.success
//         severity: high
//       - default: low
//
// `output` is the finding's one-sentence summary. `%field.name` is replaced by the event's value
// of that field (`<none>` when absent, `true`/`false` for bools); `%%` is a literal `%`; a
// trailing `.` ends a field name, so "party %party.her_id." renders as "party 8142520.".
//
// Changing an earlier definition. An item that names an existing rule, macro or list and
// carries `override:` modifies it; `override` maps each key the item carries to `append` or
// `replace`:
//
//   - rule: edi.foreign-send
//     condition: not client.id in (trusted_clients)   # append: AND-ed to the old condition
//     exceptions:                                     # append: new exceptions are added; an
//       - name: integration_platform                  #   exception of the same name gets the
//         values: [[c2, [8142530]]]                   #   new value tuples
//     severity: medium                                # replace
//     override: {condition: append, exceptions: append, severity: replace}
//
//   - rule: edi.unknown-route                         # shorthand for override {enabled: replace}
//     enabled: false
//
//   - list: owner_actions
//     items: [read_status]
//     override: {items: append}
//
// Allowed modes: rule `condition`, `exceptions`, `tags`: append or replace; rule `desc`,
// `output`, `severity`, `enabled`, `suppress`: replace; macro `condition` and list `items`:
// append or replace. Defining a name that already exists without `override:` is an error
// (E_DUPLICATE_*), and so is overriding a name that does not exist yet (E_OVERRIDE_UNKNOWN_*).
// Names in conditions are resolved after every file is read, so lists and macros may be used
// before the item that defines them.
//
// ---------------------------------------------------------------------------------------------
// Conditions
//
//   expr  := expr `or` expr | expr `and` expr | `not` expr | `(` expr `)` | pred
//   pred  := FIELD OP value          OP: = != < <= > >=
//          | FIELD `in` `(` value {`,` value} `)`
//          | FIELD `contains` value | FIELD `startswith` value | FIELD `endswith` value
//          | FIELD `exists`
//          | NAME                    a macro, a bool field (true when present and true),
//                                    or `true` / `false`
//   value := 'quoted' | "quoted" | word (letters, digits and _ . : / @ + - *)
//
// Precedence: `not` binds tighter than `and`, which binds tighter than `or`; so
// `a or b and not c` is `a or (b and (not c))`. Keywords are lower case.
//
// Types are checked at load (E_TYPE_MISMATCH): an int field takes integer words, a bool field
// `true`/`false`, a string field any word or quoted text. `<` `<=` `>` `>=` need ints;
// `contains` `startswith` `endswith` need strings; `in` needs an int or string field. A word on
// the right of an operator that names a field compares the two fields (types must match);
// quote it to compare with the text instead. In `in (...)` a word that names a list stands for
// the list's items.
//
// Absent values: every comparison with an absent value is false, whatever the operator
// (`party.owner != client.id` is false when the party has no owner), and `not` of it is
// therefore true. Test presence with `exists`: `party.owner exists and party.owner != client.id`.
//
// Exceptions follow the same rule: a tuple matches only when every one of its comparisons
// holds, so an absent field never excuses an event.
//
// ---------------------------------------------------------------------------------------------
// Load results
//
// Loading never throws. Every problem is a LoadIssue with a code (E_* errors refuse the whole
// load, W_* warnings do not), a message, and the file, line and column it refers to; for an
// error inside a condition the column points at the offending token when the condition is
// written so that its text can be traced back to the file (plain or simply quoted scalars,
// literal and folded blocks), and otherwise at the condition's start with the position within
// the condition in the message.
//
// Thread-safety: a RuleSet is immutable; Evaluate may be called from any number of threads at
// once. RuleEngine's methods are safe to call concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "state/field.h"

namespace edi {

// The rule-language version this engine implements; files may demand at most this.
inline constexpr int kEngineVersion = 1;

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);  // "info" .. "critical"
std::optional<Severity> ParseSeverity(std::string_view name);

// Every error code comes before every warning code (IsError relies on it).
enum class LoadCode : uint8_t {
  // Errors: the files are refused and no RuleSet is produced.
  kIO,                    // E_IO: a file could not be read
  kSyntax,                // E_SYNTAX: bad YAML, or a condition that does not parse
  kUnknownItem,           // E_UNKNOWN_ITEM: an item that is not list/macro/rule/engine version
  kMissingKey,            // E_MISSING_KEY: a required key is missing
  kBadValue,              // E_BAD_VALUE: a key's value has the wrong shape (not text, not bool...)
  kBadName,               // E_BAD_NAME: a list or macro name that is not usable
  kEngineVersion,         // E_ENGINE_VERSION: the file needs a newer engine
  kUnknownField,          // E_UNKNOWN_FIELD
  kTypeMismatch,          // E_TYPE_MISMATCH
  kUnknownMacro,          // E_UNKNOWN_MACRO
  kUnknownList,           // E_UNKNOWN_LIST
  kMacroCycle,            // E_MACRO_CYCLE: a macro that uses itself
  kDuplicateRule,         // E_DUPLICATE_RULE: a rule defined twice without override
  kDuplicateMacro,        // E_DUPLICATE_MACRO
  kDuplicateList,         // E_DUPLICATE_LIST
  kOverrideUnknownRule,   // E_OVERRIDE_UNKNOWN_RULE: an override of a rule not defined before
  kOverrideUnknownMacro,  // E_OVERRIDE_UNKNOWN_MACRO
  kOverrideUnknownList,   // E_OVERRIDE_UNKNOWN_LIST
  kBadOverride,           // E_BAD_OVERRIDE: a mode or key that override does not allow
  kBadSeverity,           // E_BAD_SEVERITY
  kBadException,          // E_BAD_EXCEPTION: arity, comparison or shape of an exception
  // Warnings: the files load.
  kUnusedList,             // W_UNUSED_LIST: no enabled or disabled rule uses the list
  kUnusedMacro,            // W_UNUSED_MACRO
  kUnknownKey,             // W_UNKNOWN_KEY: a key this engine does not know (ignored)
  kRuleNeverEnabled,       // W_RULE_NEVER_ENABLED: defined with `enabled: false`, never enabled
  kFieldLikeLiteral,       // W_FIELD_LIKE_LITERAL: a word compared as text that looks like a
                           //   misspelt field (`party.owner != client.idd`)
  kUnknownValue,           // W_UNKNOWN_VALUE: text a field with a closed set of values never takes
                           //   (`evt.action = sendd`), or a word that names no list in `in (...)`
  kSeverityCasesReplaced,  // W_SEVERITY_CASES_REPLACED: an override gives one level to a rule
                           //   whose severity depended on the call (succeeded, denied)
  kRuleNeverFires,         // W_RULE_NEVER_FIRES: an enabled rule's condition holds for no kind
                           //   of call (evt.action = send and evt.action = download)
  kConditionAlwaysTrue,    // W_CONDITION_ALWAYS_TRUE: it holds for every call and every check
};
std::string_view LoadCodeName(LoadCode code);  // "E_SYNTAX", "W_UNUSED_LIST", ...
bool IsError(LoadCode code);

struct LoadIssue {
  LoadCode code = LoadCode::kSyntax;
  std::string file;  // the path given to LoadRules, or the name given to LoadRulesFromStrings
  int line = 0;      // 1-based; 0 when the issue concerns the whole file
  int column = 0;    // 1-based; 0 when unknown
  std::string message;

  bool is_error() const { return IsError(code); }
  // "rules/local.yaml:12:30: E_UNKNOWN_FIELD: rule 'x' condition: unknown field 'party.ownr'"
  std::string ToString() const;
};

// What a rule is, as the rest of the daemon sees it.
struct RuleInfo {
  std::string id;
  std::string desc;
  std::vector<std::string> tags;
  bool enabled = true;
  std::vector<FieldId> suppress;                // the repeat key, in the order written
  Severity default_severity = Severity::kInfo;  // the plain severity, or the `default` case
  std::string file;                             // where the rule was defined
  int line = 0;
};

// One rule that fired for an event. The views point into the RuleSet that produced the match
// and stay valid as long as that RuleSet lives.
struct RuleMatch {
  uint32_t rule_index = 0;  // into RuleSet::rules()
  std::string_view rule_id;
  Severity severity = Severity::kInfo;
  std::string summary;  // the rendered `output`
  std::span<const std::string> tags;
};

class RuleSet {
 public:
  struct Impl;  // the compiled conditions; defined inside detect/

  RuleSet();  // no rules
  RuleSet(std::vector<RuleInfo> rules, std::unique_ptr<const Impl> impl);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // All rules in definition order, enabled or not.
  const std::vector<RuleInfo>& rules() const { return rules_; }
  // How many of them are enabled.
  size_t enabled_count() const {
    size_t n = 0;
    for (const RuleInfo& info : rules_) n += info.enabled ? 1 : 0;
    return n;
  }
  // The index of rule `id`, or nullopt.
  std::optional<uint32_t> Find(std::string_view id) const;

  // Appends to *out, in rule order, a match for every enabled rule whose condition holds for
  // `fields` and that no exception excuses. Never fails; allocates only for matches. The values
  // of evt.trigger, evt.action and evt.success pick the rules that can fire for them, with
  // their conditions simplified for those values: a rule that requires `evt.action = X` is only
  // tried for X, and `evt.trigger = call` is not compared again for each rule (same result,
  // less work per event).
  void Evaluate(const FieldSource& fields, std::vector<RuleMatch>* out) const;

 private:
  std::vector<RuleInfo> rules_;
  std::unique_ptr<const Impl> impl_;
};

struct LoadResult {
  std::vector<LoadIssue> issues;  // errors and warnings, by file (in load order), line, column
  std::shared_ptr<const RuleSet> rules;  // set exactly when ok()

  bool ok() const { return rules != nullptr; }
  size_t error_count() const;
  size_t warning_count() const;
  // The first issue with `code`, or nullptr.
  const LoadIssue* Find(LoadCode code) const;
  // Every issue, one per line.
  std::string ToString() const;
};

// Loads `files` in order against `catalog`. The catalog is only read during the call.
LoadResult LoadRules(const std::vector<std::string>& files, const FieldCatalog& catalog);
// As LoadRules, with each file given as (name, YAML text).
LoadResult LoadRulesFromStrings(const std::vector<std::pair<std::string, std::string>>& files,
                                const FieldCatalog& catalog);

// Holds the rule set in use and replaces it on reload, keeping the old one when the new files
// do not load cleanly. `catalog` must outlive the engine.
class RuleEngine {
 public:
  explicit RuleEngine(const FieldCatalog* catalog);

  // Compiles `files` completely; only when that succeeds does current() switch to them.
  // Otherwise the rules in use stay, failed_reloads() goes up by one, and the result says why.
  // With `require_enabled`, files that load but enable no rule fail too (a daemon that would
  // detect nothing).
  LoadResult Reload(const std::vector<std::string>& files, bool require_enabled = false);
  LoadResult ReloadFromStrings(const std::vector<std::pair<std::string, std::string>>& files);

  // The rules in use: an empty RuleSet until the first successful Reload.
  std::shared_ptr<const RuleSet> current() const;
  uint64_t failed_reloads() const { return failed_reloads_.load(std::memory_order_relaxed); }
  uint64_t successful_reloads() const { return good_reloads_.load(std::memory_order_relaxed); }

 private:
  LoadResult Install(LoadResult result);

  const FieldCatalog* catalog_;
  mutable std::mutex mu_;
  std::shared_ptr<const RuleSet> current_;  // guarded by mu_
  std::atomic<uint64_t> failed_reloads_{0};
  std::atomic<uint64_t> good_reloads_{0};
};

}  // namespace edi
