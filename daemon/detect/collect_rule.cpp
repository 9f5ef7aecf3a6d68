// First load pass, `- rule:` items: definitions, the `enabled` shorthand and overrides.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/rule_file.h"

namespace edi::detect {

namespace {

const std::vector<std::string_view> kRuleKeys = {"rule",     "desc",    "condition", "severity",
                                                 "output",   "tags",    "enabled",   "exceptions",
                                                 "suppress", "override"};

// Keys an override may name, and whether it may append to them (replace always works).
const std::vector<std::pair<std::string_view, bool>> kRuleOverrides = {
    {"condition", true}, {"exceptions", true}, {"tags", true},     {"desc", false},
    {"output", false},   {"severity", false},  {"enabled", false}, {"suppress", false}};

const char kSeverityHelp[] =
    "severity must be info, low, medium, high or critical, or a list of "
    "{when: CONDITION, severity: LEVEL} cases ending with {default: LEVEL}";

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool ReadLevel(const ItemReader& item, const YAML::Node& node, Severity* out) {
  std::optional<Severity> s = node.IsScalar() ? ParseSeverity(node.Scalar()) : std::nullopt;
  if (!s) {
    std::string shown = node.IsScalar() ? Quote(node.Scalar()) : "this value";
    item.Report(LoadCode::kBadSeverity, item.PosOf(node),
                shown + " is no severity (info, low, medium, high or critical)");
    return false;
  }
  *out = *s;
  return true;
}

// Reads `severity:` into *cases and *level; leaves them alone on error.
bool ReadSeverity(const ItemReader& item, std::vector<SeverityCase>* cases, Severity* level) {
  const YAML::Node v = item.node()["severity"];
  if (v.IsScalar()) {
    if (!ReadLevel(item, v, level)) return false;
    cases->clear();
    return true;
  }
  if (!v.IsSequence() || v.size() == 0) {
    item.Report(LoadCode::kBadSeverity, item.PosOf(v), kSeverityHelp);
    return false;
  }
  std::vector<SeverityCase> read;
  Severity fallback = Severity::kInfo;
  bool ok = true;
  bool has_default = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const YAML::Node c = v[i];
    if (c.IsMap() && c["default"].IsDefined()) {
      if (i + 1 != v.size() || c.size() != 1) {
        item.Report(LoadCode::kBadSeverity, item.PosOf(c),
                    "{default: LEVEL} must be the last severity case, alone");
        ok = false;
      } else {
        ok = ReadLevel(item, c["default"], &fallback) && ok;
        has_default = true;
      }
      continue;
    }
    if (!c.IsMap() || c.size() != 2 || !c["when"].IsScalar() || !c["severity"].IsDefined()) {
      item.Report(LoadCode::kBadSeverity, item.PosOf(c),
                  "a severity case is {when: CONDITION, severity: LEVEL}");
      ok = false;
      continue;
    }
    SeverityCase sc;
    sc.when = {item.label() + " severity case", c["when"].Scalar(), item.PosOf(c["when"])};
    ok = ReadLevel(item, c["severity"], &sc.severity) && ok;
    read.push_back(std::move(sc));
  }
  if (!has_default) {
    item.Report(LoadCode::kBadSeverity, item.PosOf(v),
                "the last severity case must be {default: LEVEL}");
    ok = false;
  }
  if (!ok) return false;
  *cases = std::move(read);
  *level = fallback;
  return true;
}

bool ReadExceptionValue(const ItemReader& item, const YAML::Node& node, ExceptionValue* out) {
  out->pos = item.PosOf(node);
  if (node.IsScalar()) {
    out->items = {{node.Scalar(), out->pos}};
    return true;
  }
  if (node.IsSequence()) {
    out->is_list = true;
    return item.ScalarList(node, "a value list", &out->items);
  }
  item.Report(LoadCode::kBadException, out->pos, "an exception value must be a value or a list");
  return false;
}

// Reads one exception. `existing` is the rule's exception of the same name, if any: an
// exception that appends values need not repeat its fields.
bool ReadException(const ItemReader& rule, const YAML::Node& node,
                   const std::vector<ExceptionDef>* existing, ExceptionDef* out) {
  ItemReader item(rule.file(), node, rule.issues());
  item.set_label(rule.label() + " exception");
  if (!node.IsMap()) {
    item.Report(LoadCode::kBadException, item.pos(),
                "an exception is a map with name, fields, comps and values");
    return false;
  }
  Scalar name;
  if (!item.Text("name", true, &name)) return false;
  item.set_label(rule.label() + " exception " + Quote(name.text));
  item.WarnUnknownKeys({"name", "fields", "comps", "values"});
  out->name = name.text;
  out->pos = item.pos();
  bool ok = true;
  if (item.Has("fields")) {
    out->single_field = item.node()["fields"].IsScalar();
    ok = item.TextList("fields", true, &out->fields) && ok;
  } else if (existing != nullptr) {
    for (const ExceptionDef& e : *existing) {
      if (e.name == out->name) out->single_field = e.single_field;
    }
  }
  if (item.Has("comps")) ok = item.TextList("comps", true, &out->comps) && ok;
  const YAML::Node values = node["values"];
  if (!values.IsDefined() || values.IsNull()) return ok;
  if (!values.IsSequence()) {
    item.Report(LoadCode::kBadException, item.PosOf(values), "'values' must be a list of tuples");
    return false;
  }
  for (const YAML::Node& t : values) {
    std::vector<ExceptionValue> tuple;
    if (out->single_field) {
      tuple.emplace_back();
      ok = ReadExceptionValue(item, t, &tuple.back()) && ok;
    } else if (!t.IsSequence()) {
      item.Report(LoadCode::kBadException, item.PosOf(t),
                  "each value must be a tuple [v1, v2, ...] with one value per field");
      ok = false;
      continue;
    } else {
      for (const YAML::Node& v : t) {
        tuple.emplace_back();
        ok = ReadExceptionValue(item, v, &tuple.back()) && ok;
      }
    }
    out->tuples.push_back(std::move(tuple));
    out->tuple_pos.push_back(item.PosOf(t));
  }
  return ok;
}

bool ReadExceptions(const ItemReader& item, const std::vector<ExceptionDef>* existing,
                    bool need_fields, std::vector<ExceptionDef>* out) {
  const YAML::Node node = item.node()["exceptions"];
  if (node.IsNull()) return true;
  if (!node.IsSequence()) {
    item.Report(LoadCode::kBadValue, item.PosOf(node), "'exceptions' must be a list");
    return false;
  }
  bool ok = true;
  for (const YAML::Node& e : node) {
    ExceptionDef def;
    if (!ReadException(item, e, existing, &def)) {
      ok = false;
      continue;
    }
    for (const ExceptionDef& other : *out) {
      if (other.name == def.name) {
        item.Report(LoadCode::kBadException, def.pos,
                    "exception " + Quote(def.name) + " appears twice in this item");
        ok = false;
      }
    }
    if (need_fields && def.fields.empty()) {
      item.Report(LoadCode::kMissingKey, def.pos,
                  "exception " + Quote(def.name) + " needs 'fields'");
      ok = false;
    }
    out->push_back(std::move(def));
  }
  return ok;
}

void AppendExceptions(const ItemReader& item, std::vector<ExceptionDef> more, RuleDef* rule) {
  for (ExceptionDef& e : more) {
    ExceptionDef* same = nullptr;
    for (ExceptionDef& old : rule->exceptions) same = old.name == e.name ? &old : same;
    if (same == nullptr) {
      if (e.fields.empty()) {
        item.Report(LoadCode::kMissingKey, e.pos,
                    "exception " + Quote(e.name) + " is new to the rule and needs 'fields'");
        continue;
      }
      rule->exceptions.push_back(std::move(e));
      continue;
    }
    bool same_fields = e.fields.size() == same->fields.size();
    for (size_t i = 0; same_fields && i < e.fields.size(); ++i) {
      same_fields = e.fields[i].text == same->fields[i].text;
    }
    if (!e.fields.empty() && !same_fields) {
      item.Report(LoadCode::kBadException, e.pos,
                  "exception " + Quote(e.name) + " exists with other fields; append values only");
      continue;
    }
    for (size_t i = 0; i < e.tuples.size(); ++i) {
      same->tuples.push_back(std::move(e.tuples[i]));
      same->tuple_pos.push_back(e.tuple_pos[i]);
    }
  }
}

void ReadTags(const ItemReader& item, bool append, std::vector<std::string>* tags) {
  std::vector<Scalar> read;
  if (!item.TextList("tags", false, &read)) return;
  if (!append) tags->clear();
  for (const Scalar& t : read) {
    bool dup = false;
    for (const std::string& have : *tags) dup = dup || have == t.text;
    if (!dup) tags->push_back(t.text);
  }
}

void ApplyOverride(const ItemReader& item, const Overrides& ov, RuleDef* rule) {
  for (const auto& [key, mode] : ov) {
    bool append = mode == OverrideMode::kAppend;
    if (key == "condition") {
      SourceText cond;
      if (!item.Source("condition", item.label() + " condition", &cond)) continue;
      if (!append) {
        for (const SourceText& t : rule->condition) rule->replaced += t.text + "\n";
        rule->condition.clear();
      }
      rule->condition.push_back(std::move(cond));
    } else if (key == "exceptions") {
      std::vector<ExceptionDef> read;
      if (!ReadExceptions(item, &rule->exceptions, !append, &read)) continue;
      if (!append) rule->exceptions.clear();
      AppendExceptions(item, std::move(read), rule);
    } else if (key == "tags") {
      ReadTags(item, append, &rule->tags);
    } else if (key == "desc") {
      Scalar desc;
      if (item.Text("desc", true, &desc)) rule->desc = desc.text;
    } else if (key == "output") {
      item.Source("output", item.label() + " output", &rule->output);
    } else if (key == "severity") {
      const std::vector<SeverityCase> before = rule->severity_cases;
      const Severity before_default = rule->severity;
      if (ReadSeverity(item, &rule->severity_cases, &rule->severity)) {
        for (const SeverityCase& c : before) rule->replaced += c.when.text + "\n";
        if (!before.empty() && rule->severity_cases.empty()) {
          std::string levels;
          for (const SeverityCase& c : before) {
            levels += std::string(SeverityName(c.severity)) + " when " + c.when.text + ", ";
          }
          levels += "else " + std::string(SeverityName(before_default));
          item.Report(LoadCode::kSeverityCasesReplaced, item.PosOf(item.node()["severity"]),
                      "rule " + Quote(rule->id) + " was ranked per call (" + levels +
                          "); this one level ranks every call alike: a denied call as a "
                          "successful one, and a successful call repeating a denied one no "
                          "longer raises the finding's severity. To re-rank, give every case: "
                          "severity: [{when: ..., severity: ...}, {default: ...}]");
        }
      }
    } else if (key == "enabled") {
      item.Bool("enabled", &rule->enabled);
    } else if (key == "suppress") {
      item.TextList("suppress", false, &rule->suppress);
    }
  }
}

void DefineRule(const ItemReader& item, const Scalar& id, Collection* c) {
  RuleDef r;
  r.id = id.text;
  r.pos = item.pos();
  bool ok = true;
  Scalar desc;
  ok = item.Text("desc", true, &desc) && ok;
  r.desc = desc.text;
  SourceText cond;
  if (item.Source("condition", item.label() + " condition", &cond)) {
    r.condition.push_back(std::move(cond));
  } else {
    ok = false;
  }
  if (item.Has("severity")) {
    ok = ReadSeverity(item, &r.severity_cases, &r.severity) && ok;
  } else {
    item.Report(LoadCode::kMissingKey, item.pos(), "missing key 'severity'");
    ok = false;
  }
  ok = item.Source("output", item.label() + " output", &r.output) && ok;
  if (item.Has("tags")) ReadTags(item, false, &r.tags);
  if (item.Has("enabled")) {
    ok = item.Bool("enabled", &r.enabled) && ok;
    r.defined_disabled = !r.enabled;
  }
  if (item.Has("suppress")) ok = item.TextList("suppress", false, &r.suppress) && ok;
  if (item.Has("exceptions")) ok = ReadExceptions(item, nullptr, true, &r.exceptions) && ok;
  r.broken = !ok;
  c->rule_index.emplace(r.id, c->rules.size());
  c->rules.push_back(std::move(r));
}

}  // namespace

void CollectRule(ItemReader& item, Collection* c) {
  Scalar id;
  if (!item.Text("rule", true, &id)) return;
  if (id.text.empty()) {
    item.Report(LoadCode::kBadValue, id.pos, "a rule id must not be empty");
    return;
  }
  item.set_label("rule " + Quote(id.text));
  item.WarnUnknownKeys(kRuleKeys);
  auto found = c->rule_index.find(id.text);
  RuleDef* existing = found == c->rule_index.end() ? nullptr : &c->rules[found->second];
  if (item.Has("override")) {
    Overrides ov;
    if (!item.ReadOverride("rule", kRuleKeys, kRuleOverrides, &ov)) return;
    if (existing == nullptr) {
      item.Report(LoadCode::kOverrideUnknownRule, item.pos(),
                  "overrides a rule not defined before: files load in the order given, so the "
                  "one defining it (the shipped pack, rules/edi-default.yaml, for edi.* rules) "
                  "must come first");
      return;
    }
    ApplyOverride(item, ov, existing);
    return;
  }
  int keys = 0;
  for (std::string_view k : kRuleKeys) keys += k != "rule" && item.Has(k);
  if (keys == 1 && item.Has("enabled")) {  // Falco's shorthand for override {enabled: replace}
    if (existing == nullptr) {
      item.Report(LoadCode::kOverrideUnknownRule, item.pos(),
                  "sets 'enabled' on a rule not defined before: files load in the order given, "
                  "so the one defining it (the shipped pack, rules/edi-default.yaml, for edi.* "
                  "rules) must come first");
      return;
    }
    item.Bool("enabled", &existing->enabled);
    return;
  }
  if (existing != nullptr) {
    item.Report(LoadCode::kDuplicateRule, item.pos(),
                "already defined at " + item.issues()->Where(existing->pos) +
                    "; to change it add override: (e.g. {severity: replace, condition: append})");
    return;
  }
  DefineRule(item, id, c);
}

}  // namespace edi::detect
