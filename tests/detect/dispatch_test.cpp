// The dispatch buckets (condition.h): rules are only tried for the evt.trigger, evt.action and
// evt.success values they can fire for, with their conditions simplified for those values. The
// result must be exactly that of evaluating every rule's whole condition: these tests compare
// a rule set over the dispatch fields with the same rules over fields of other names, which
// are not dispatched on.
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "state/field.h"

namespace edi {
namespace {

// `prefix` "evt" gives the dispatch fields; any other prefix gives plain fields.
std::vector<FieldDef> Defs(const std::string& prefix) {
  return {
      {prefix + ".trigger", FieldType::kString, "call or lock_inactive", {}},
      {prefix + ".action", FieldType::kString, "what the call did", {}},
      {prefix + ".success", FieldType::kBool, "2xx", {}},
      {"evt.status", FieldType::kInt, "HTTP status", {}},
      {"client.id", FieldType::kString, "calling client", {}},
      {"party.owner", FieldType::kString, "the party's owner", {}},
  };
}

const FieldCatalog& Dispatched() {
  static const FieldCatalog c(Defs("evt"));
  return c;
}
const FieldCatalog& Plain() {
  static const FieldCatalog c(Defs("plain"));
  return c;
}

// The same rules over both catalogs.
struct Pair {
  std::shared_ptr<const RuleSet> dispatched;
  std::shared_ptr<const RuleSet> plain;
};

std::string Rename(std::string text) {
  for (const char* name : {"trigger", "action", "success"}) {
    const std::string from = std::string("evt.") + name;
    const std::string to = std::string("plain.") + name;
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), to);
    }
  }
  return text;
}

Pair Load(const std::string& yaml) {
  LoadResult a = LoadRulesFromStrings({{"rules.yaml", yaml}}, Dispatched());
  LoadResult b = LoadRulesFromStrings({{"rules.yaml", Rename(yaml)}}, Plain());
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  return {a.rules, b.rules};
}

// Field values by position in Defs(); nullopt = absent.
struct Values {
  std::optional<std::string> trigger, action;
  std::optional<int> success;  // 0, 1, or another int stored as a bool's value
  std::optional<std::string> client, owner;
};

class Source : public FieldSource {
 public:
  explicit Source(const Values& v) : v_(v) {}
  FieldValue Get(FieldId id) const override {
    auto str = [](const std::optional<std::string>& s) {
      return s ? FieldValue::Str(*s) : FieldValue::Absent();
    };
    switch (id) {
      case 0:
        return str(v_.trigger);
      case 1:
        return str(v_.action);
      case 2: {
        if (!v_.success) return FieldValue::Absent();
        FieldValue b = FieldValue::Bool(true);
        b.i = *v_.success;
        return b;
      }
      case 3:
        return FieldValue::Int(200);
      case 4:
        return str(v_.client);
      case 5:
        return str(v_.owner);
      default:
        return FieldValue::Absent();
    }
  }

 private:
  const Values& v_;
};

std::string Fired(const RuleSet& rules, const Values& values) {
  std::vector<RuleMatch> out;
  rules.Evaluate(Source(values), &out);
  std::string s;
  for (const RuleMatch& m : out) {
    s += std::string(m.rule_id) + "/" + std::string(SeverityName(m.severity)) + "/" + m.summary +
         " ";
  }
  return s;
}

// Every combination of the values below, including values no rule names and absent fields.
std::vector<Values> AllValues() {
  const std::vector<std::optional<std::string>> triggers = {"call", "lock_inactive", "other",
                                                            std::nullopt};
  const std::vector<std::optional<std::string>> actions = {
      "send", "poll", "download", "config_write", "sendx", "xsend", "", "c1", std::nullopt};
  const std::vector<std::optional<int>> successes = {0, 1, 2, std::nullopt};
  const std::vector<std::optional<std::string>> clients = {"c1", "send", std::nullopt};
  std::vector<Values> all;
  for (const auto& t : triggers) {
    for (const auto& a : actions) {
      for (const auto& s : successes) {
        for (const auto& c : clients) all.push_back({t, a, s, c, "c1"});
      }
    }
  }
  return all;
}

std::string Rule(const std::string& id, const std::string& condition) {
  return "- rule: " + id + "\n  desc: d\n  condition: " + condition +
         "\n  severity: high\n  output: '" + id + " %evt.action %evt.success'\n";
}

// Conditions over the dispatch fields with every operator, on both sides of and/or/not, with
// field-to-field comparisons and constants.
const char* const kConditions[] = {
    "evt.action = send",
    "evt.action != send",
    "evt.action in (send, poll)",
    "not evt.action in (send, poll)",
    "evt.action contains end",
    "evt.action startswith send",
    "evt.action endswith send",
    "evt.action exists",
    "not evt.action exists",
    "evt.action = ''",
    "evt.action = client.id",
    "evt.action != client.id",
    "client.id = evt.action",
    "client.id startswith evt.action",
    "evt.trigger = evt.action",
    "evt.trigger = call and evt.action = send and evt.success",
    "evt.trigger = call and (evt.action = send or evt.action = download)",
    "evt.trigger = call and evt.success and party.owner != client.id",
    "evt.trigger = lock_inactive",
    "evt.trigger != call or evt.action = poll",
    "(evt.success or evt.status = 200) and evt.action = config_write",
    "evt.success = false",
    "evt.success != true and evt.action exists",
    "not evt.success",
    "evt.success exists",
    "evt.action in (send) and not (evt.action = send)",
    "evt.action = send or true",
    "false or evt.action = poll",
    "not (evt.trigger = call and evt.action in (poll, send) and evt.success)",
};

TEST(RuleDispatch, EveryRuleFiresExactlyAsItsWholeConditionSays) {
  std::string yaml;
  int n = 0;
  for (const char* c : kConditions) yaml += Rule("r" + std::to_string(n++), c);
  // Severity cases and exceptions over the dispatch fields are evaluated as written.
  yaml +=
      "- rule: cases\n  desc: d\n  condition: evt.trigger = call\n  severity:\n"
      "    - when: evt.action = send\n      severity: critical\n"
      "    - when: evt.success\n      severity: medium\n    - default: low\n"
      "  output: o\n"
      "  exceptions:\n    - name: quiet\n      fields: [evt.action]\n      values: [[poll]]\n";
  yaml +=
      "- rule: off\n  desc: d\n  condition: evt.action = send\n  severity: high\n"
      "  output: o\n  enabled: false\n";
  Pair rules = Load(yaml);
  ASSERT_TRUE(rules.dispatched && rules.plain);
  size_t fired = 0;
  for (const Values& v : AllValues()) {
    const std::string want = Fired(*rules.plain, v);
    const std::string got = Fired(*rules.dispatched, v);
    EXPECT_EQ(got, want) << "trigger=" << v.trigger.value_or("<absent>")
                         << " action=" << v.action.value_or("<absent>")
                         << " success=" << (v.success ? std::to_string(*v.success) : "<absent>")
                         << " client=" << v.client.value_or("<absent>");
    fired += !want.empty();
  }
  EXPECT_GT(fired, 0u);
}

TEST(RuleDispatch, ARuleIndexedByActionFiresForEveryActionItCanMatch) {
  Pair rules = Load(Rule("some", "evt.action in (send, poll, download) and evt.success") +
                    Rule("not-send", "evt.action != send") + Rule("calls", "evt.trigger = call"));
  ASSERT_TRUE(rules.dispatched);
  auto fired = [&](std::optional<std::string> action, std::optional<std::string> trigger) {
    std::vector<RuleMatch> out;
    rules.dispatched->Evaluate(Source(Values{trigger, action, 1, "c1", "c1"}), &out);
    std::vector<std::string> ids;
    for (const RuleMatch& m : out) ids.emplace_back(m.rule_id);
    return ids;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(fired("send", "call"), (V{"some", "calls"}));
  EXPECT_EQ(fired("poll", "call"), (V{"some", "not-send", "calls"}));
  EXPECT_EQ(fired("download", "lock_inactive"), (V{"some", "not-send"}));
  EXPECT_EQ(fired("read_status", "call"), (V{"not-send", "calls"}));
  EXPECT_EQ(fired(std::nullopt, "call"), (V{"calls"}));  // absent: `!=` is false too
  EXPECT_EQ(fired("send", std::nullopt), (V{"some"}));
}

}  // namespace
}  // namespace edi
