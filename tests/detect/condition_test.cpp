// Conditions: operators, precedence, lists, macros and absent values.

#include <string>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "detect/rules_test_util.h"

namespace edi {
namespace {

using rules_test::FakeFields;
using rules_test::Holds;

// Three bool fields to play a, b and c.
FakeFields Abc(bool a, bool b, bool c) {
  FakeFields f;
  f.Bool("evt.success", a).Bool("party.locked", b).Bool("msg.downloaded_by_client", c);
  return f;
}

const char kAOrBAndNotC[] = "evt.success or party.locked and not msg.downloaded_by_client";

TEST(RuleConditions, NotBindsTighterThanAndWhichBindsTighterThanOr) {
  // a or (b and (not c)), checked over all eight combinations.
  for (int bits = 0; bits < 8; ++bits) {
    bool a = bits & 1, b = bits & 2, c = bits & 4;
    EXPECT_EQ(Holds(kAOrBAndNotC, Abc(a, b, c)), a || (b && !c))
        << "a=" << a << " b=" << b << " c=" << c;
  }
}

TEST(RuleConditions, ParenthesesOverridePrecedence) {
  const std::string grouped =
      "(evt.success or party.locked) and not (msg.downloaded_by_client or evt.success)";
  for (int bits = 0; bits < 8; ++bits) {
    bool a = bits & 1, b = bits & 2, c = bits & 4;
    EXPECT_EQ(Holds(grouped, Abc(a, b, c)), (a || b) && !(c || a));
  }
  EXPECT_TRUE(Holds("((((evt.success))))", Abc(true, false, false)));
}

TEST(RuleConditions, NotCanBeRepeated) {
  EXPECT_TRUE(Holds("not not evt.success", Abc(true, false, false)));
  EXPECT_FALSE(Holds("not not not evt.success", Abc(true, false, false)));
}

TEST(RuleConditions, IntComparisonsCoverEveryOperator) {
  FakeFields f;
  f.Int("evt.status", 403);
  EXPECT_TRUE(Holds("evt.status = 403", f));
  EXPECT_FALSE(Holds("evt.status != 403", f));
  EXPECT_TRUE(Holds("evt.status < 404", f));
  EXPECT_FALSE(Holds("evt.status < 403", f));
  EXPECT_TRUE(Holds("evt.status <= 403", f));
  EXPECT_TRUE(Holds("evt.status > 400", f));
  EXPECT_FALSE(Holds("evt.status > 403", f));
  EXPECT_TRUE(Holds("evt.status >= 403", f));
  EXPECT_TRUE(Holds("evt.status > -1", f));
}

TEST(RuleConditions, StringComparisonsCoverEveryOperator) {
  FakeFields f;
  f.Str("client.name", "Nursing EPJ Bergen");
  EXPECT_TRUE(Holds("client.name = 'Nursing EPJ Bergen'", f));
  EXPECT_TRUE(Holds("client.name = \"Nursing EPJ Bergen\"", f));
  EXPECT_FALSE(Holds("client.name = 'nursing epj bergen'", f));
  EXPECT_TRUE(Holds("client.name != Other", f));
  EXPECT_TRUE(Holds("client.name contains EPJ", f));
  EXPECT_FALSE(Holds("client.name contains Oslo", f));
  EXPECT_TRUE(Holds("client.name startswith Nursing", f));
  EXPECT_FALSE(Holds("client.name startswith Bergen", f));
  EXPECT_TRUE(Holds("client.name endswith 'EPJ Bergen'", f));
  EXPECT_TRUE(Holds("client.name exists", f));
  EXPECT_FALSE(Holds("client.id exists", f));
}

TEST(RuleConditions, BoolFieldsCompareWithTrueAndFalseOrStandAlone) {
  FakeFields f;
  f.Bool("evt.success", false);
  EXPECT_TRUE(Holds("evt.success = false", f));
  EXPECT_TRUE(Holds("evt.success != true", f));
  EXPECT_FALSE(Holds("evt.success", f));
  EXPECT_TRUE(Holds("not evt.success", f));
  EXPECT_TRUE(Holds("true", f));
  EXPECT_FALSE(Holds("false", f));
}

TEST(RuleConditions, InMatchesLiteralsOfEitherQuotingAndInts) {
  FakeFields f;
  f.Str("evt.action", "mark_downloaded").Int("party.her_id", 8142520);
  EXPECT_TRUE(Holds("evt.action in (send, mark_downloaded)", f));
  EXPECT_TRUE(Holds("evt.action in ('mark_downloaded')", f));
  EXPECT_FALSE(Holds("evt.action in (send, download)", f));
  EXPECT_TRUE(Holds("party.her_id in (1, 8142520, 3)", f));
  EXPECT_FALSE(Holds("party.her_id in (1, 2)", f));
}

TEST(RuleConditions, InExpandsNamedListsAlongsideLiterals) {
  const std::string lists =
      "- list: lock_blocked\n  items: [send, mark_downloaded, apprec_send]\n"
      "- list: watched_parties\n  items: [8142520, 8142521]\n";
  FakeFields f;
  f.Str("evt.action", "apprec_send").Int("party.her_id", 8142521);
  EXPECT_TRUE(
      Holds("evt.action in (lock_blocked) and party.her_id in (watched_parties)", f, lists));
  EXPECT_TRUE(Holds("evt.action in (poll, lock_blocked)", f, lists));
  EXPECT_FALSE(Holds("evt.action in (poll, download)", f, lists));
  // A quoted name is the text itself, not the list.
  EXPECT_FALSE(Holds("evt.action in ('lock_blocked')", f, lists));
  EXPECT_TRUE(Holds("evt.action in ('lock_blocked')",
                    FakeFields().Str("evt.action", "lock_blocked"), lists));
}

TEST(RuleConditions, MacrosNestAndCanBeUsedBeforeTheirDefinition) {
  const std::string rules = rules_test::OneRule(
      "owner_action and not by_owner",
      "- macro: owner_action\n  condition: succeeded and evt.action in (owner_actions)\n"
      "- macro: by_owner\n  condition: party.owner = client.id\n"
      "- macro: succeeded\n  condition: evt.status >= 200 and evt.status < 300\n"
      "- list: owner_actions\n  items: [send, download]\n");
  LoadResult result = rules_test::LoadOne(rules);
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(result.warning_count(), 0u) << result.ToString();
  FakeFields foreign;
  foreign.Str("evt.action", "send")
      .Int("evt.status", 201)
      .Str("party.owner", "a")
      .Str("client.id", "b");
  EXPECT_EQ(rules_test::FiredIds(*result.rules, foreign).size(), 1u);
  FakeFields own = foreign;
  own.Str("client.id", "a");
  EXPECT_TRUE(rules_test::FiredIds(*result.rules, own).empty());
  FakeFields denied = foreign;
  denied.Int("evt.status", 403);
  EXPECT_TRUE(rules_test::FiredIds(*result.rules, denied).empty());
}

TEST(RuleConditions, FieldsCompareWithFields) {
  FakeFields f;
  f.Str("party.owner", "a").Str("client.id", "b").Str("party.lock_holder", "a");
  EXPECT_TRUE(Holds("party.owner != client.id", f));
  EXPECT_TRUE(Holds("party.owner = party.lock_holder", f));
  EXPECT_TRUE(Holds("party.lock_holder startswith party.owner", f));
  // Quoting a field name makes it text.
  EXPECT_FALSE(Holds("party.owner = 'party.lock_holder'", f));
  FakeFields ints;
  ints.Int("evt.status", 200).Int("party.her_id", 100);
  EXPECT_TRUE(Holds("evt.status > party.her_id", ints));
}

TEST(RuleConditions, ComparisonsWithAnAbsentValueAreFalseAndTheirNegationTrue) {
  FakeFields no_owner;
  no_owner.Str("client.id", "b");
  EXPECT_FALSE(Holds("party.owner != client.id", no_owner));
  EXPECT_FALSE(Holds("party.owner = client.id", no_owner));
  EXPECT_TRUE(Holds("not party.owner != client.id", no_owner));
  EXPECT_TRUE(Holds("not party.owner = client.id", no_owner));
  EXPECT_FALSE(Holds("party.owner != someone", no_owner));
  EXPECT_FALSE(Holds("party.owner in (a, b)", no_owner));
  EXPECT_FALSE(Holds("party.owner contains x", no_owner));
  EXPECT_FALSE(Holds("evt.status < 500", no_owner));
  EXPECT_FALSE(Holds("evt.success", no_owner));
  EXPECT_FALSE(Holds("evt.success = false", no_owner));
  EXPECT_FALSE(Holds("party.owner exists", no_owner));
  // The right-hand field may be the absent one, too.
  FakeFields no_client;
  no_client.Str("party.owner", "a");
  EXPECT_FALSE(Holds("party.owner != client.id", no_client));
  EXPECT_TRUE(Holds("party.owner exists and not client.id exists", no_client));
}

TEST(RuleConditions, WordsMayHoldPunctuationUsedInIds) {
  FakeFields f;
  f.Str("client.id", "5b1c0e2a-7d4f-4c1e-9a53-2f0d8e6b9c11");
  EXPECT_TRUE(Holds("client.id = 5b1c0e2a-7d4f-4c1e-9a53-2f0d8e6b9c11", f));
  f.Str("client.name", "helseid://client/a:b@c");
  EXPECT_TRUE(Holds("client.name = helseid://client/a:b@c", f));
}

}  // namespace
}  // namespace edi
