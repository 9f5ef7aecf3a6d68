// Evaluation: exceptions, severity cases, output, rule order and what a match carries.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "detect/rules_test_util.h"

namespace edi {
namespace {

using rules_test::FakeFields;
using rules_test::FiredIds;

std::shared_ptr<const RuleSet> MustLoad(const std::string& yaml) {
  LoadResult result = rules_test::LoadOne(yaml);
  EXPECT_TRUE(result.ok()) << result.ToString();
  return result.ok() ? result.rules : std::make_shared<const RuleSet>();
}

const char kReservedParty[] = R"(
- list: lock_blocked_actions
  items: [send, mark_downloaded, apprec_send, config_write, config_delete]
- rule: edi.reserved-party-foreign-client
  desc: The party is locked to another client.
  condition: party.lock_holder exists and party.lock_holder != client.id
  severity:
    - when: evt.success and evt.action in (lock_blocked_actions)
      severity: critical
    - when: evt.success
      severity: high
    - default: low
  output: "%client.id called %evt.action (status %evt.status) for party %party.her_id locked by %party.lock_holder."
  tags: [authorisation, lock]
  suppress: [client.id, party.her_id]
  exceptions:
    - name: migration_tool
      fields: [client.id, party.her_id]
      comps: [=, in]
      values:
        - [migrator, [8142520, 8142521]]
    - name: read_only_actions
      fields: evt.action
      comps: in
      values: [[ping, read_status]]
)";

FakeFields Call(const std::string& action, bool success) {
  FakeFields f;
  f.Str("evt.action", action)
      .Bool("evt.success", success)
      .Int("evt.status", success ? 200 : 423)
      .Str("client.id", "intruder")
      .Str("party.lock_holder", "holder")
      .Int("party.her_id", 8142520);
  return f;
}

TEST(RuleEvaluation, TheSeverityIsTheFirstCaseThatHolds) {
  auto rules = MustLoad(kReservedParty);
  auto severity_of = [&](const FakeFields& f) {
    std::vector<RuleMatch> m = rules_test::Evaluate(*rules, f);
    EXPECT_EQ(m.size(), 1u);
    return m.empty() ? Severity::kInfo : m[0].severity;
  };
  EXPECT_EQ(severity_of(Call("send", true)), Severity::kCritical);
  EXPECT_EQ(severity_of(Call("download", true)), Severity::kHigh);
  EXPECT_EQ(severity_of(Call("send", false)), Severity::kLow);
  EXPECT_EQ(rules->rules()[0].default_severity, Severity::kLow);
}

TEST(RuleEvaluation, ExceptionTuplesStopTheRuleFiring) {
  auto rules = MustLoad(kReservedParty);
  EXPECT_EQ(FiredIds(*rules, Call("send", true)).size(), 1u);
  // Both values of the tuple match.
  EXPECT_TRUE(FiredIds(*rules, Call("send", true).Str("client.id", "migrator")).empty());
  EXPECT_TRUE(
      FiredIds(*rules, Call("send", true).Str("client.id", "migrator").Int("party.her_id", 8142521))
          .empty());
  // Only one of them does.
  EXPECT_EQ(FiredIds(*rules, Call("send", true).Str("client.id", "migrator").Int("party.her_id", 7))
                .size(),
            1u);
  // The single-field form.
  EXPECT_TRUE(FiredIds(*rules, Call("ping", true)).empty());
  EXPECT_TRUE(FiredIds(*rules, Call("read_status", true)).empty());
}

TEST(RuleEvaluation, AnAbsentFieldNeverExcusesAnEvent) {
  auto rules = MustLoad(kReservedParty);
  EXPECT_EQ(FiredIds(*rules, Call("send", true).Str("client.id", "migrator").Absent("party.her_id"))
                .size(),
            1u);
}

TEST(RuleEvaluation, ExceptionsMayUseEveryComparisonAndNamedLists) {
  auto rules =
      MustLoad(rules_test::OneRule("evt.success", "- list: tools\n  items: [tool-a, tool-b]\n") +
               "  exceptions:\n"
               "    - name: e\n"
               "      fields: [client.id, evt.status, client.name]\n"
               "      comps: [in, '>=', startswith]\n"
               "      values: [[tools, 500, 'Batch ']]\n"
               "    - name: f\n"
               "      fields: [client.name]\n"
               "      comps: [contains]\n"
               "      values: [[Monitor]]\n");
  FakeFields f;
  f.Bool("evt.success", true)
      .Str("client.id", "tool-b")
      .Int("evt.status", 503)
      .Str("client.name", "Batch job");
  EXPECT_TRUE(FiredIds(*rules, f).empty());
  EXPECT_EQ(FiredIds(*rules, f.Int("evt.status", 200)).size(), 1u);
  EXPECT_TRUE(FiredIds(*rules, f.Str("client.name", "Uptime Monitor")).empty());
}

TEST(RuleEvaluation, TheOutputRendersFieldValuesAndNoneForAbsentOnes) {
  auto rules = MustLoad(kReservedParty);
  std::vector<RuleMatch> m = rules_test::Evaluate(*rules, Call("send", true));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].summary, "intruder called send (status 200) for party 8142520 locked by holder.");
  m = rules_test::Evaluate(*rules, Call("send", true).Absent("party.her_id").Absent("evt.status"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].summary,
            "intruder called send (status <none>) for party <none> locked by holder.");

  auto literal = MustLoad(
      "- rule: r\n  desc: d\n  condition: evt.success or not evt.success\n  severity: info\n"
      "  output: \"100%% sure: %evt.success, 50% off, %%client.id, %party.locked\"\n");
  m = rules_test::Evaluate(*literal, FakeFields().Bool("evt.success", true));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].summary, "100% sure: true, 50% off, %client.id, <none>");
}

TEST(RuleEvaluation, AMatchCarriesTheRuleIdIndexAndTags) {
  auto rules = MustLoad(kReservedParty);
  std::vector<RuleMatch> m = rules_test::Evaluate(*rules, Call("send", true));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule_id, "edi.reserved-party-foreign-client");
  EXPECT_EQ(m[0].rule_index, 0u);
  EXPECT_EQ(std::vector<std::string>(m[0].tags.begin(), m[0].tags.end()),
            (std::vector<std::string>{"authorisation", "lock"}));
  const RuleInfo& info = rules->rules()[0];
  EXPECT_EQ(info.desc, "The party is locked to another client.");
  EXPECT_TRUE(info.enabled);
  const FieldCatalog& c = rules_test::TestCatalog();
  EXPECT_EQ(info.suppress, (std::vector<FieldId>{*c.Find("client.id"), *c.Find("party.her_id")}));
}

TEST(RuleEvaluation, RulesFireInDefinitionOrderWhetherOrNotTheyNameAnAction) {
  auto rules = MustLoad(R"(
- rule: any-success
  desc: d
  condition: evt.success
  severity: info
  output: o
- rule: sends
  desc: d
  condition: evt.action = send and evt.success
  severity: info
  output: o
- rule: sends-or-polls
  desc: d
  condition: evt.success and evt.action in (send, poll)
  severity: info
  output: o
- rule: send-or-anything
  desc: d
  condition: evt.action = send or evt.success
  severity: info
  output: o
- rule: disabled-send
  desc: d
  condition: evt.action = send
  severity: info
  output: o
  enabled: false
)");
  auto fired = [&](const std::string& action) {
    FakeFields f;
    f.Bool("evt.success", true);
    if (!action.empty()) f.Str("evt.action", action);
    return FiredIds(*rules, f);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(fired("send"), (V{"any-success", "sends", "sends-or-polls", "send-or-anything"}));
  EXPECT_EQ(fired("poll"), (V{"any-success", "sends-or-polls", "send-or-anything"}));
  EXPECT_EQ(fired("download"), (V{"any-success", "send-or-anything"}));
  EXPECT_EQ(fired(""), (V{"any-success", "send-or-anything"}));
}

TEST(RuleEvaluation, EvaluateAppendsToWhatTheCallerAlreadyHas) {
  auto rules = MustLoad(kReservedParty);
  std::vector<RuleMatch> out(2);
  rules->Evaluate(Call("send", true), &out);
  rules->Evaluate(Call("send", true), &out);
  EXPECT_EQ(out.size(), 4u);
}

TEST(RuleEvaluation, AnEmptyRuleSetMatchesNothing) {
  RuleSet empty;
  EXPECT_TRUE(FiredIds(empty, Call("send", true)).empty());
  EXPECT_EQ(empty.Find("anything"), std::nullopt);
}

}  // namespace
}  // namespace edi
