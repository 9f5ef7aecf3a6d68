// Later files changing earlier definitions: overrides, the enabled shorthand, appends.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "detect/rules_test_util.h"

namespace edi {
namespace {

using rules_test::FakeFields;
using rules_test::FiredIds;

const char kShipped[] = R"(
- required_engine_version: 1
- list: owner_actions
  items: [send, download]
- macro: succeeded
  condition: evt.status >= 200 and evt.status < 300
- rule: edi.foreign-send
  desc: A client that is not the owner sent for the party.
  condition: evt.action = send and succeeded and party.owner != client.id
  severity: high
  output: "%client.id sent for %party.her_id"
  tags: [interference]
  exceptions:
    - name: integration_platform
      fields: [client.id]
      values: [[platform-1]]
- rule: edi.unknown-route
  desc: A path no route matches.
  condition: evt.action = unknown
  severity: low
  output: unknown route
)";

LoadResult LoadWith(const std::string& local) {
  return LoadRulesFromStrings({{"edi-default.yaml", kShipped}, {"local.yaml", local}},
                              rules_test::TestCatalog());
}

FakeFields ForeignSend(const std::string& client) {
  FakeFields f;
  f.Str("evt.action", "send")
      .Int("evt.status", 201)
      .Bool("evt.success", true)
      .Str("party.owner", "owner-1")
      .Str("client.id", client)
      .Int("party.her_id", 8142520);
  return f;
}

TEST(RuleOverrides, TheShippedPackFiresWithoutOverrides) {
  LoadResult result = LoadWith("");
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(FiredIds(*result.rules, ForeignSend("intruder")),
            std::vector<std::string>{"edi.foreign-send"});
}

TEST(RuleOverrides, ALaterFileDisablesARuleWithEnabledFalse) {
  LoadResult result = LoadWith("- rule: edi.foreign-send\n  enabled: false\n");
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_TRUE(FiredIds(*result.rules, ForeignSend("intruder")).empty());
  const RuleInfo& info = result.rules->rules()[*result.rules->Find("edi.foreign-send")];
  EXPECT_FALSE(info.enabled);
  EXPECT_EQ(result.Find(LoadCode::kRuleNeverEnabled), nullptr);
}

TEST(RuleOverrides, ALaterFileCanEnableARuleShippedDisabled) {
  LoadResult result =
      LoadRulesFromStrings({{"a.yaml", rules_test::OneRule("evt.success") + "  enabled: false\n"},
                            {"b.yaml", "- rule: r\n  enabled: true\n"}},
                           rules_test::TestCatalog());
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(result.warning_count(), 0u) << result.ToString();
  EXPECT_EQ(FiredIds(*result.rules, FakeFields().Bool("evt.success", true)).size(), 1u);
}

TEST(RuleOverrides, ALaterFileReRanksSeverity) {
  LoadResult result =
      LoadWith("- rule: edi.foreign-send\n  severity: critical\n  override: {severity: replace}\n");
  ASSERT_TRUE(result.ok()) << result.ToString();
  std::vector<RuleMatch> matches = rules_test::Evaluate(*result.rules, ForeignSend("intruder"));
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].severity, Severity::kCritical);
}

TEST(RuleOverrides, AppendedExceptionsExtendANamedExceptionOrAddANewOne) {
  LoadResult result = LoadWith(R"(
- rule: edi.foreign-send
  exceptions:
    - name: integration_platform
      values: [[platform-2]]
    - name: delegated_party
      fields: [client.id, party.her_id]
      values: [[helper, 8142520]]
  override: {exceptions: append}
)");
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_TRUE(FiredIds(*result.rules, ForeignSend("platform-1")).empty());
  EXPECT_TRUE(FiredIds(*result.rules, ForeignSend("platform-2")).empty());
  EXPECT_TRUE(FiredIds(*result.rules, ForeignSend("helper")).empty());
  EXPECT_EQ(FiredIds(*result.rules, ForeignSend("helper").Int("party.her_id", 1)).size(), 1u);
  EXPECT_EQ(FiredIds(*result.rules, ForeignSend("intruder")).size(), 1u);
}

TEST(RuleOverrides, ReplacedExceptionsDropTheShippedOnes) {
  LoadResult result = LoadWith(R"(
- rule: edi.foreign-send
  exceptions:
    - name: other
      fields: [client.id]
      values: [[platform-2]]
  override: {exceptions: replace}
)");
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(FiredIds(*result.rules, ForeignSend("platform-1")).size(), 1u);
  EXPECT_TRUE(FiredIds(*result.rules, ForeignSend("platform-2")).empty());
}

TEST(RuleOverrides, AnAppendedConditionIsAndedAndReplaceSwapsIt) {
  LoadResult appended = LoadWith(
      "- rule: edi.foreign-send\n  condition: party.her_id != 8142520\n"
      "  override: {condition: append}\n");
  ASSERT_TRUE(appended.ok()) << appended.ToString();
  EXPECT_TRUE(FiredIds(*appended.rules, ForeignSend("intruder")).empty());
  EXPECT_EQ(FiredIds(*appended.rules, ForeignSend("intruder").Int("party.her_id", 1)).size(), 1u);

  LoadResult replaced = LoadWith(
      "- rule: edi.unknown-route\n  condition: evt.action = poll\n"
      "  override: {condition: replace}\n");
  ASSERT_TRUE(replaced.ok()) << replaced.ToString();
  EXPECT_EQ(FiredIds(*replaced.rules, FakeFields().Str("evt.action", "poll")),
            std::vector<std::string>{"edi.unknown-route"});
  EXPECT_TRUE(FiredIds(*replaced.rules, FakeFields().Str("evt.action", "unknown")).empty());
}

TEST(RuleOverrides, ListsAndMacrosCanBeAppendedOrReplaced) {
  LoadResult result = LoadRulesFromStrings(
      {{"a.yaml", rules_test::OneRule("evt.action in (acts) and ok",
                                      "- list: acts\n  items: [send]\n"
                                      "- macro: ok\n  condition: evt.success\n")},
       {"b.yaml",
        "- list: acts\n  items: [poll]\n  override: {items: append}\n"
        "- macro: ok\n  condition: evt.status = 200\n  override: {condition: append}\n"}},
      rules_test::TestCatalog());
  ASSERT_TRUE(result.ok()) << result.ToString();
  FakeFields poll;
  poll.Str("evt.action", "poll").Bool("evt.success", true).Int("evt.status", 200);
  EXPECT_EQ(FiredIds(*result.rules, poll).size(), 1u);
  EXPECT_TRUE(FiredIds(*result.rules, poll.Int("evt.status", 204)).empty());

  LoadResult replaced = LoadRulesFromStrings(
      {{"a.yaml", rules_test::OneRule("evt.action in (acts)", "- list: acts\n  items: [send]\n")},
       {"b.yaml", "- list: acts\n  items: [poll]\n  override: {items: replace}\n"}},
      rules_test::TestCatalog());
  ASSERT_TRUE(replaced.ok()) << replaced.ToString();
  EXPECT_TRUE(FiredIds(*replaced.rules, FakeFields().Str("evt.action", "send")).empty());
  EXPECT_EQ(FiredIds(*replaced.rules, FakeFields().Str("evt.action", "poll")).size(), 1u);
}

TEST(RuleOverrides, TagsDescOutputAndSuppressCanBeChanged) {
  LoadResult result = LoadWith(R"(
- rule: edi.foreign-send
  tags: [local]
  desc: Reworded.
  output: "%client.id again"
  suppress: [client.id]
  override: {tags: append, desc: replace, output: replace, suppress: replace}
)");
  ASSERT_TRUE(result.ok()) << result.ToString();
  const RuleInfo& info = result.rules->rules()[*result.rules->Find("edi.foreign-send")];
  EXPECT_EQ(info.tags, (std::vector<std::string>{"interference", "local"}));
  EXPECT_EQ(info.desc, "Reworded.");
  EXPECT_EQ(info.suppress, std::vector<FieldId>{*rules_test::TestCatalog().Find("client.id")});
  std::vector<RuleMatch> matches = rules_test::Evaluate(*result.rules, ForeignSend("intruder"));
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].summary, "intruder again");
}

TEST(RuleOverrides, OverridingSomethingNotDefinedBeforeIsAnError) {
  LoadResult rule = LoadWith("- rule: edi.nope\n  enabled: false\n");
  EXPECT_FALSE(rule.ok());
  const LoadIssue* issue = rule.Find(LoadCode::kOverrideUnknownRule);
  ASSERT_NE(issue, nullptr) << rule.ToString();
  EXPECT_EQ(issue->file, "local.yaml");
  EXPECT_EQ(issue->line, 1);

  EXPECT_NE(LoadWith("- rule: edi.nope\n  severity: low\n  override: {severity: replace}\n")
                .Find(LoadCode::kOverrideUnknownRule),
            nullptr);
  EXPECT_NE(LoadWith("- list: nope\n  items: [a]\n  override: {items: append}\n")
                .Find(LoadCode::kOverrideUnknownList),
            nullptr);
  EXPECT_NE(LoadWith("- macro: nope\n  condition: evt.success\n  override: {condition: append}\n")
                .Find(LoadCode::kOverrideUnknownMacro),
            nullptr);
}

TEST(RuleOverrides, RedefiningWithoutOverrideIsAnError) {
  EXPECT_NE(LoadWith("- list: owner_actions\n  items: [poll]\n").Find(LoadCode::kDuplicateList),
            nullptr);
  EXPECT_NE(
      LoadWith("- macro: succeeded\n  condition: evt.success\n").Find(LoadCode::kDuplicateMacro),
      nullptr);
  EXPECT_NE(
      LoadWith("- rule: edi.unknown-route\n  severity: info\n").Find(LoadCode::kDuplicateRule),
      nullptr);
}

TEST(RuleOverrides, OverrideModesAndKeysAreChecked) {
  // severity cannot be appended to.
  EXPECT_NE(LoadWith("- rule: edi.unknown-route\n  severity: info\n"
                     "  override: {severity: append}\n")
                .Find(LoadCode::kBadOverride),
            nullptr);
  // Every key the item carries needs a mode...
  EXPECT_NE(LoadWith("- rule: edi.unknown-route\n  severity: info\n  desc: x\n"
                     "  override: {severity: replace}\n")
                .Find(LoadCode::kBadOverride),
            nullptr);
  // ...and every mode a key.
  EXPECT_NE(LoadWith("- rule: edi.unknown-route\n  severity: info\n"
                     "  override: {severity: replace, output: replace}\n")
                .Find(LoadCode::kBadOverride),
            nullptr);
  // Appending values to an exception under other fields is refused.
  EXPECT_NE(LoadWith("- rule: edi.foreign-send\n  exceptions:\n    - name: integration_platform\n"
                     "      fields: [party.owner]\n      values: [[x]]\n"
                     "  override: {exceptions: append}\n")
                .Find(LoadCode::kBadException),
            nullptr);
}

}  // namespace
}  // namespace edi
