// Loading: coded errors and warnings with file, line and column.

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "detect/rules_test_util.h"

namespace edi {
namespace {

using rules_test::LoadOne;
using rules_test::OneRule;

// The issue with `code`; fails the test when there is none.
LoadIssue IssueWith(const LoadResult& result, LoadCode code) {
  const LoadIssue* issue = result.Find(code);
  EXPECT_NE(issue, nullptr) << "no " << LoadCodeName(code) << " in:\n" << result.ToString();
  return issue ? *issue : LoadIssue{};
}

void ExpectAt(const LoadIssue& issue, const std::string& file, int line, int column) {
  EXPECT_EQ(issue.file, file) << issue.ToString();
  EXPECT_EQ(issue.line, line) << issue.ToString();
  EXPECT_EQ(issue.column, column) << issue.ToString();
}

// A rule whose condition is on line 3, starting at column 14 when written plain.
std::string RuleWithCondition(const std::string& condition_yaml) {
  return "- rule: r\n  desc: d\n  condition: " + condition_yaml +
         "\n  severity: low\n  output: o\n";
}

TEST(RuleLoading, ACleanFileLoadsWithoutIssues) {
  LoadResult result = LoadOne(OneRule("evt.success"));
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_TRUE(result.issues.empty());
  ASSERT_EQ(result.rules->rules().size(), 1u);
  EXPECT_EQ(result.rules->rules()[0].id, "r");
  EXPECT_EQ(result.rules->rules()[0].file, "rules.yaml");
  EXPECT_EQ(result.rules->rules()[0].line, 1);
}

TEST(RuleLoading, AStrayLineBetweenRulesIsASyntaxErrorNotTheEndOfTheFile) {
  // Read as the end of the list, it would drop every rule after it without a word.
  const std::string two = OneRule("evt.success") + "garbage: here\n" +
                          "- rule: s\n  desc: d\n  condition: evt.success\n"
                          "  severity: low\n  output: o\n";
  LoadResult result = LoadOne(two);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.rules, nullptr);
  EXPECT_NE(result.Find(LoadCode::kSyntax), nullptr) << result.ToString();
}

TEST(RuleLoading, ASecondDocumentIsASyntaxErrorAtItsFirstLine) {
  const std::string rule = OneRule("evt.success");
  const int lines = static_cast<int>(std::count(rule.begin(), rule.end(), '\n'));
  LoadResult result = LoadOne(rule + "---\n- rule: r\n  enabled: false\n");
  EXPECT_FALSE(result.ok());
  ExpectAt(IssueWith(result, LoadCode::kSyntax), "rules.yaml", lines + 2, 1);
  for (const std::string tail : {"garbage\n", "x: [\n", "{{{\n"}) {
    EXPECT_FALSE(LoadOne(rule + tail).ok()) << tail;
  }
  // Nothing after a closing marker: still the one document.
  EXPECT_TRUE(LoadOne(rule + "---\n").ok());
}

TEST(RuleLoading, AKeyGivenTwiceInARuleIsASyntaxError) {
  // Only one of the two would count: `enabled: false` then `enabled: true` must not pass.
  LoadResult result = LoadOne(OneRule("evt.success") + "  enabled: false\n  enabled: true\n");
  EXPECT_FALSE(result.ok());
  ExpectAt(IssueWith(result, LoadCode::kSyntax), "rules.yaml", 7, 3);
}

TEST(RuleLoading, AConditionSyntaxErrorPointsAtTheTokenInThePlainScalar) {
  LoadResult result = LoadOne(RuleWithCondition("evt.success and and party.locked"));
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.rules, nullptr);
  LoadIssue issue = IssueWith(result, LoadCode::kSyntax);
  ExpectAt(issue, "rules.yaml", 3, 30);  // the second `and`
  EXPECT_EQ(issue.ToString(),
            "rules.yaml:3:30: E_SYNTAX: rule 'r' condition: expected a field, macro or '(', "
            "found 'and'");
}

TEST(RuleLoading, AConditionSyntaxErrorPointsIntoQuotedScalarsAndBlocks) {
  ExpectAt(IssueWith(LoadOne(RuleWithCondition("\"evt.success and and party.locked\"")),
                     LoadCode::kSyntax),
           "rules.yaml", 3, 31);
  ExpectAt(IssueWith(LoadOne(RuleWithCondition(">\n    evt.success and\n    and party.locked")),
                     LoadCode::kSyntax),
           "rules.yaml", 5, 5);
  ExpectAt(IssueWith(LoadOne(RuleWithCondition("|\n    evt.success and\n      (party.locked")),
                     LoadCode::kSyntax),
           "rules.yaml", 5, 20);  // the end of the condition: ')' is missing
}

TEST(RuleLoading, AnUntraceableConditionErrorGivesThePositionWithinTheCondition) {
  // The escaped quotes make the text differ from the file, so the column is the scalar's.
  LoadIssue issue =
      IssueWith(LoadOne(RuleWithCondition("\"client.id = \\\"a\\\" and and evt.success\"")),
                LoadCode::kSyntax);
  ExpectAt(issue, "rules.yaml", 3, 14);
  EXPECT_NE(issue.message.find("(at character 21)"), std::string::npos) << issue.message;
}

TEST(RuleLoading, MalformedConditionsAreSyntaxErrors) {
  for (const char* bad :
       {"evt.success and", "(evt.success", "evt.success)", "evt.status = ", "evt.status == 1",
        "evt.action in send", "evt.action in ()", "evt.action in (a b)", "client.id = 'open",
        "evt.status ! 1", "client.id foo", "and", "evt.status = 1 evt.success", "client.id = %x"}) {
    LoadResult result = LoadOne(RuleWithCondition("\"" + std::string(bad) + "\""));
    EXPECT_FALSE(result.ok()) << bad;
    EXPECT_NE(result.Find(LoadCode::kSyntax), nullptr) << bad << "\n" << result.ToString();
  }
}

TEST(RuleLoading, ADeeplyNestedConditionIsRefusedRatherThanOverflowingTheStack) {
  std::string deep = std::string(5000, '(') + "evt.success" + std::string(5000, ')');
  EXPECT_NE(LoadOne(RuleWithCondition(deep)).Find(LoadCode::kSyntax), nullptr);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(LoadOne(RuleWithCondition(nots + "evt.success")).Find(LoadCode::kSyntax), nullptr);
  std::string fine = std::string(50, '(') + "evt.success" + std::string(50, ')');
  EXPECT_TRUE(LoadOne(RuleWithCondition(fine)).ok());
}

TEST(RuleLoading, TypeErrorsAreLoadErrorsAtTheOffendingToken) {
  ExpectAt(IssueWith(LoadOne(RuleWithCondition("evt.status = abc")), LoadCode::kTypeMismatch),
           "rules.yaml", 3, 27);
  ExpectAt(
      IssueWith(LoadOne(RuleWithCondition("party.her_id = '8142520'")), LoadCode::kTypeMismatch),
      "rules.yaml", 3, 29);
  ExpectAt(IssueWith(LoadOne(RuleWithCondition("evt.success < 1")), LoadCode::kTypeMismatch),
           "rules.yaml", 3, 26);
  ExpectAt(IssueWith(LoadOne(RuleWithCondition("evt.status contains 4")), LoadCode::kTypeMismatch),
           "rules.yaml", 3, 25);
  for (const char* bad :
       {"evt.success = yes", "client.id < b", "evt.success in (true)", "party.owner = evt.status",
        "evt.status", "evt.status startswith 2", "party.her_id in (1, x2)"}) {
    LoadResult result = LoadOne(RuleWithCondition(bad));
    EXPECT_FALSE(result.ok()) << bad;
    const bool typed = result.Find(LoadCode::kTypeMismatch) || result.Find(LoadCode::kUnknownList);
    EXPECT_TRUE(typed) << bad << "\n" << result.ToString();
  }
}

TEST(RuleLoading, AListItemOfTheWrongTypeIsReportedAtTheItem) {
  LoadResult result =
      LoadOne(OneRule("party.her_id in (parties)", "- list: parties\n  items: [8142520, eight]\n"));
  ExpectAt(IssueWith(result, LoadCode::kTypeMismatch), "rules.yaml", 2, 20);
}

TEST(RuleLoading, UnknownFieldsMacrosAndListsAreNamed) {
  LoadIssue field = IssueWith(LoadOne(RuleWithCondition("evt.success and party.ownr = x")),
                              LoadCode::kUnknownField);
  ExpectAt(field, "rules.yaml", 3, 30);
  EXPECT_NE(field.message.find("'party.ownr'"), std::string::npos);

  LoadIssue macro =
      IssueWith(LoadOne(RuleWithCondition("evt.success and not_defined")), LoadCode::kUnknownMacro);
  ExpectAt(macro, "rules.yaml", 3, 30);
  EXPECT_NE(macro.message.find("'not_defined'"), std::string::npos);

  LoadIssue list =
      IssueWith(LoadOne(RuleWithCondition("party.her_id in (watched)")), LoadCode::kUnknownList);
  ExpectAt(list, "rules.yaml", 3, 31);

  LoadIssue output =
      IssueWith(LoadOne("- rule: r\n  desc: d\n  condition: evt.success\n  severity: low\n"
                        "  output: client %client.id acted for %party.ownr.\n"),
                LoadCode::kUnknownField);
  ExpectAt(output, "rules.yaml", 5, 39);

  LoadIssue suppress = IssueWith(
      LoadOne("- rule: r\n  desc: d\n  condition: evt.success\n  severity: low\n  output: o\n"
              "  suppress: [client.id, party.nope]\n"),
      LoadCode::kUnknownField);
  ExpectAt(suppress, "rules.yaml", 6, 25);
}

TEST(RuleLoading, AnErrorInAMacroIsReportedOnceAtTheMacro) {
  LoadResult result =
      LoadOne("- macro: broken\n  condition: party.ownr exists\n" + OneRule("broken") +
              "- rule: r2\n  desc: d\n  condition: broken and evt.success\n  severity: low\n"
              "  output: o\n");
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.error_count(), 1u) << result.ToString();
  ExpectAt(IssueWith(result, LoadCode::kUnknownField), "rules.yaml", 2, 14);
}

TEST(RuleLoading, AMacroThatUsesItselfIsACycle) {
  LoadResult result = LoadOne(
      OneRule("a", "- macro: a\n  condition: evt.success and b\n- macro: b\n  condition: not a\n"));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.Find(LoadCode::kMacroCycle), nullptr) << result.ToString();
}

TEST(RuleLoading, BadYamlIsASyntaxErrorWithItsPosition) {
  LoadResult result = LoadOne("- rule: r\n  desc: [unclosed\n- rule: s\n");
  EXPECT_FALSE(result.ok());
  LoadIssue issue = IssueWith(result, LoadCode::kSyntax);
  EXPECT_EQ(issue.file, "rules.yaml");
  EXPECT_GT(issue.line, 0);
  EXPECT_NE(issue.message.find("invalid YAML"), std::string::npos);
  EXPECT_NE(LoadOne("rule: r\n").Find(LoadCode::kSyntax), nullptr);  // not a list of items
}

TEST(RuleLoading, ItemsAndKeysAreChecked) {
  ExpectAt(IssueWith(LoadOne("- rule: r\n  desc: d\n  condition: evt.success\n  output: o\n"),
                     LoadCode::kMissingKey),
           "rules.yaml", 1, 3);
  ExpectAt(IssueWith(LoadOne("- rul: r\n"), LoadCode::kUnknownItem), "rules.yaml", 1, 3);
  ExpectAt(IssueWith(LoadOne(OneRule("evt.success") + "  enabled: maybe\n"), LoadCode::kBadValue),
           "rules.yaml", 6, 12);
  ExpectAt(
      IssueWith(LoadOne("- macro: evt.action\n  condition: evt.success\n"), LoadCode::kBadName),
      "rules.yaml", 1, 10);
  EXPECT_NE(LoadOne("- list: l\n  items: {a: b}\n").Find(LoadCode::kBadValue), nullptr);
}

TEST(RuleLoading, ABadSeverityIsReportedAtTheValue) {
  ExpectAt(IssueWith(LoadOne("- rule: r\n  desc: d\n  condition: evt.success\n"
                             "  severity: severe\n  output: o\n"),
                     LoadCode::kBadSeverity),
           "rules.yaml", 4, 13);
  // Cases must end with a default.
  EXPECT_NE(LoadOne("- rule: r\n  desc: d\n  condition: evt.success\n  severity:\n"
                    "    - when: evt.success\n      severity: high\n  output: o\n")
                .Find(LoadCode::kBadSeverity),
            nullptr);
  EXPECT_NE(LoadOne("- rule: r\n  desc: d\n  condition: evt.success\n  severity:\n"
                    "    - default: low\n    - when: evt.success\n      severity: high\n"
                    "  output: o\n")
                .Find(LoadCode::kBadSeverity),
            nullptr);
}

TEST(RuleLoading, AFileNeedingANewerEngineIsRefused) {
  LoadResult result = LoadOne("- required_engine_version: 2\n" + OneRule("evt.success"));
  EXPECT_FALSE(result.ok());
  ExpectAt(IssueWith(result, LoadCode::kEngineVersion), "rules.yaml", 1, 28);
  EXPECT_TRUE(LoadOne("- required_engine_version: 1\n" + OneRule("evt.success")).ok());
}

TEST(RuleLoading, DefiningARuleTwiceIsAnErrorNamingTheFirstDefinition) {
  LoadResult result = LoadRulesFromStrings(
      {{"a.yaml", OneRule("evt.success")}, {"b.yaml", OneRule("party.locked")}},
      rules_test::TestCatalog());
  LoadIssue issue = IssueWith(result, LoadCode::kDuplicateRule);
  ExpectAt(issue, "b.yaml", 1, 3);
  EXPECT_NE(issue.message.find("a.yaml:1"), std::string::npos) << issue.message;
}

TEST(RuleLoading, ExceptionsWithTheWrongShapeAreErrors) {
  const std::string head =
      "- rule: r\n  desc: d\n  condition: evt.success\n  severity: low\n"
      "  output: o\n  exceptions:\n";
  EXPECT_NE(LoadOne(head + "    - name: e\n      fields: [client.id, party.her_id]\n"
                           "      values: [[a]]\n")
                .Find(LoadCode::kBadException),
            nullptr);
  EXPECT_NE(LoadOne(head + "    - name: e\n      fields: [client.id]\n      comps: [like]\n")
                .Find(LoadCode::kBadException),
            nullptr);
  EXPECT_NE(LoadOne(head + "    - name: e\n      fields: [party.her_id]\n      values: [[x]]\n")
                .Find(LoadCode::kTypeMismatch),
            nullptr);
  EXPECT_NE(LoadOne(head + "    - name: e\n      fields: [party.her_id]\n      comps: [in]\n"
                           "      values: [[no_such_list]]\n")
                .Find(LoadCode::kUnknownList),
            nullptr);
  EXPECT_NE(LoadOne(head + "    - name: e\n      values: [[x]]\n").Find(LoadCode::kMissingKey),
            nullptr);
}

TEST(RuleLoading, UnusedListsAndMacrosAreWarningsThatStillLoad) {
  LoadResult result =
      LoadOne("- list: spare\n  items: [a]\n- macro: idle\n  condition: evt.success\n" +
              OneRule("party.locked"));
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(result.warning_count(), 2u);
  ExpectAt(IssueWith(result, LoadCode::kUnusedList), "rules.yaml", 1, 3);
  ExpectAt(IssueWith(result, LoadCode::kUnusedMacro), "rules.yaml", 3, 3);
}

TEST(RuleLoading, UnknownKeysNeverEnabledRulesAndFieldLikeTextAreWarnings) {
  LoadResult result = LoadOne(
      "- rule: r\n  desc: d\n  condition: party.owner != client.idd\n  severity: low\n"
      "  output: o\n  priority: HIGH\n  enabled: false\n");
  ASSERT_TRUE(result.ok()) << result.ToString();
  ExpectAt(IssueWith(result, LoadCode::kUnknownKey), "rules.yaml", 6, 3);
  ExpectAt(IssueWith(result, LoadCode::kRuleNeverEnabled), "rules.yaml", 1, 3);
  ExpectAt(IssueWith(result, LoadCode::kFieldLikeLiteral), "rules.yaml", 3, 29);
  EXPECT_EQ(result.error_count(), 0u);
}

TEST(RuleLoading, EveryErrorIsReportedNotOnlyTheFirst) {
  LoadResult result = LoadOne(
      "- rule: r\n  desc: d\n  condition: party.nope = 1\n  severity: low\n  output: o\n"
      "- rule: s\n  desc: d\n  condition: evt.status = x\n  severity: low\n  output: o\n"
      "- rule: t\n  desc: d\n  condition: evt.success\n  severity: x\n  output: o\n");
  EXPECT_EQ(result.error_count(), 3u) << result.ToString();
  EXPECT_NE(result.Find(LoadCode::kUnknownField), nullptr);
  EXPECT_NE(result.Find(LoadCode::kTypeMismatch), nullptr);
  EXPECT_NE(result.Find(LoadCode::kBadSeverity), nullptr);
  // Ordered by line.
  for (size_t i = 1; i < result.issues.size(); ++i) {
    EXPECT_LE(result.issues[i - 1].line, result.issues[i].line);
  }
}

TEST(RuleLoading, AnUnreadableFileIsAnIoErrorNamingIt) {
  LoadResult result = LoadRules({"/nonexistent/edi-rules.yaml"}, rules_test::TestCatalog());
  EXPECT_FALSE(result.ok());
  LoadIssue issue = IssueWith(result, LoadCode::kIO);
  EXPECT_EQ(issue.file, "/nonexistent/edi-rules.yaml");
  EXPECT_NE(issue.message.find("No such file"), std::string::npos) << issue.message;
}

}  // namespace
}  // namespace edi
