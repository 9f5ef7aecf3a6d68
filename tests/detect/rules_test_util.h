// Shared by the detect tests: a small field catalog, a settable FieldSource, and helpers that
// load inline YAML.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "state/field.h"

namespace edi::rules_test {

inline const FieldCatalog& TestCatalog() {
  static const FieldCatalog catalog({
      {"evt.action", FieldType::kString, "what the call did", {}},
      {"evt.success", FieldType::kBool, "2xx", {}},
      {"evt.status", FieldType::kInt, "HTTP status", {}},
      {"client.id", FieldType::kString, "calling client", {}},
      {"client.name", FieldType::kString, "calling client's name", {}},
      {"party.her_id", FieldType::kInt, "the party", {}},
      {"party.owner", FieldType::kString, "the party's owner", {}},
      {"party.lock_holder", FieldType::kString, "the client holding the party's lock", {}},
      {"party.locked", FieldType::kBool, "the party is locked", {}},
      {"msg.downloaded_by_client", FieldType::kBool, "this client downloaded the message", {}},
  });
  return catalog;
}

// Values for one (event, party); every field starts absent.
class FakeFields : public FieldSource {
 public:
  FakeFields() : values_(TestCatalog().size()) {}

  FakeFields& Str(const std::string& name, std::string value) {
    strings_.push_back(std::move(value));
    values_[Id(name)] = FieldValue::Str(strings_.back());
    return *this;
  }
  FakeFields& Int(const std::string& name, int64_t value) {
    values_[Id(name)] = FieldValue::Int(value);
    return *this;
  }
  FakeFields& Bool(const std::string& name, bool value) {
    values_[Id(name)] = FieldValue::Bool(value);
    return *this;
  }
  FakeFields& Absent(const std::string& name) {
    values_[Id(name)] = FieldValue::Absent();
    return *this;
  }

  FieldValue Get(FieldId id) const override { return values_[id]; }

 private:
  static FieldId Id(const std::string& name) {
    auto id = TestCatalog().Find(name);
    EXPECT_TRUE(id.has_value()) << "test uses unknown field " << name;
    return id.value_or(0);
  }

  std::vector<FieldValue> values_;
  std::deque<std::string> strings_;  // stable addresses for the string views
};

inline LoadResult LoadOne(const std::string& yaml, const std::string& name = "rules.yaml") {
  return LoadRulesFromStrings({{name, yaml}}, TestCatalog());
}

// A rule file with one rule `r` (severity high) over `condition`, plus `extra` items before it.
inline std::string OneRule(const std::string& condition, const std::string& extra = "") {
  return extra + "- rule: r\n  desc: test rule\n  condition: " + condition +
         "\n  severity: high\n  output: fired\n";
}

inline std::vector<RuleMatch> Evaluate(const RuleSet& rules, const FieldSource& fields) {
  std::vector<RuleMatch> out;
  rules.Evaluate(fields, &out);
  return out;
}

inline std::vector<std::string> FiredIds(const RuleSet& rules, const FieldSource& fields) {
  std::vector<std::string> ids;
  for (const RuleMatch& m : Evaluate(rules, fields)) ids.emplace_back(m.rule_id);
  return ids;
}

// Whether `condition` holds for `fields`; fails the test when the rule does not load.
inline bool Holds(const std::string& condition, const FieldSource& fields,
                  const std::string& extra = "") {
  LoadResult result = LoadOne(OneRule(condition, extra));
  EXPECT_TRUE(result.ok()) << result.ToString();
  if (!result.ok()) return false;
  return !Evaluate(*result.rules, fields).empty();
}

}  // namespace edi::rules_test
