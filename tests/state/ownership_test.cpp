#include "state_fixture.h"

namespace edi::testing {
namespace {

TEST_F(StateTest, TheDeclaredOwnerComesFromOwnersJsonl) {
  const PartyFacts& f = Feed(Poll("x", 103, 0));
  EXPECT_EQ(Field(f, "party.owner"), "gp");
  EXPECT_EQ(Field(f, "party.owner_source"), "declared");
}

TEST_F(StateTest, ALearnedOwnerAppearsAfterEnoughActionsWithADominantShare) {
  for (int i = 0; i < 19; ++i) Feed(Poll("a", 101, i));
  EXPECT_EQ(Field(Feed(Poll("a", 101, 19)), "party.owner"), "<absent>");  // 19 before this one
  const PartyFacts& f = Feed(Poll("b", 101, 20));
  EXPECT_EQ(Field(f, "party.learned_owner"), "a");
  EXPECT_EQ(Field(f, "party.owner_source"), "learned");
  EXPECT_EQ(Field(f, "party.owner_is_client"), "false");
}

TEST_F(StateTest, ALearnedOwnerDisappearsWhenAnotherClientTakesMoreThanAFifth) {
  for (int i = 0; i < 20; ++i) Feed(Poll("a", 101, i));
  for (int i = 0; i < 6; ++i) Feed(Poll("b", 101, 30 + i));  // 20 of 26 < 80 %
  EXPECT_EQ(Field(Feed(Poll("c", 101, 40)), "party.owner"), "<absent>");
}

TEST_F(StateTest, TheLearnedOwnerChangesWhenTheOldOneLeavesTheWindow) {
  for (int i = 0; i < 25; ++i) Feed(Poll("a", 101, i));
  const int64_t later = 16 * 24 * 60;
  for (int i = 0; i < 25; ++i) Feed(Poll("b", 101, later + i));
  EXPECT_EQ(Field(Feed(Poll("c", 101, later + 30)), "party.owner"), "b");
}

TEST_F(StateTest, DeniedCallsDoNotTeachOwnership) {
  for (int i = 0; i < 30; ++i) {
    Rec r = Poll("a", 101, i);
    r.status = 403;
    Feed(r);
  }
  EXPECT_EQ(Field(Feed(Poll("b", 101, 40)), "party.learned_owner"), "<absent>");
}

TEST_F(StateTest, AFirstSuccessfulCallByAClientForAPartyIsMarkedNew) {
  EXPECT_EQ(Field(Feed(Poll("a", 101, 0)), "party.first_call_by_client"), "true");
  EXPECT_EQ(Field(Feed(Poll("a", 101, 1)), "party.first_call_by_client"), "false");
  EXPECT_EQ(Field(Feed(Poll("b", 101, 2)), "party.first_call_by_client"), "true");
}

TEST_F(StateTest, CountsTheDistinctClientsOfAPartyInTheSharedWindow) {
  Feed(Poll("a", 101, 0));
  const PartyFacts& f = Feed(Poll("b", 101, 1));
  EXPECT_EQ(Field(f, "party.clients_window"), "2");
  EXPECT_EQ(Field(f, "party.client_new_in_window"), "true");
  EXPECT_EQ(Field(Feed(Poll("b", 101, 2)), "party.client_new_in_window"), "false");
  // eight days later a's activity has left the 7-day window
  EXPECT_EQ(Field(Feed(Poll("b", 101, 8 * 24 * 60)), "party.clients_window"), "1");
}

TEST_F(StateTest, CountsPartiesNewToAClientInTheSweepWindow) {
  Rec r = Poll("a", 101, 0);
  r.query = "HerIds=101&HerIds=102&HerIds=103";
  Feed(r);
  EXPECT_EQ(Field(facts_[2], "client.new_parties_window"), "3");
  EXPECT_EQ(Field(Feed(Poll("a", 201, 5)), "client.new_parties_window"), "4");
  EXPECT_EQ(Field(Feed(Poll("a", 201, 20)), "client.new_parties_window"), "0");
}

TEST_F(StateTest, TheLearningPeriodEndsSevenDaysAfterTheFirstRecord) {
  EXPECT_EQ(Field(Feed(Poll("a", 101, 0)), "evt.learning_complete"), "false");
  EXPECT_EQ(Field(Feed(Poll("a", 101, 7 * 24 * 60)), "evt.learning_complete"), "true");
}

// A stray first record dated years before the log (a clock fault) does not end the learning
// period: a jump of over a year while learning starts it again.
TEST_F(StateTest, AStrayFirstRecordYearsEarlierDoesNotEndTheLearningPeriod) {
  const int64_t day = 24 * 60;
  Feed(Poll("a", 101, -20 * 365 * day));
  EXPECT_EQ(Field(Feed(Poll("a", 101, 0)), "evt.learning_complete"), "false");
  EXPECT_EQ(Field(Feed(Poll("a", 101, 7 * day)), "evt.learning_complete"), "true");
}

// A stray record dated over a year after the rest of an old log restarts nothing: the records
// after it go on from before it, and learning ends a week after the log's own start.
TEST_F(StateTest, AStrayRecordAYearAheadOfAnOldLogDoesNotKeepItLearning) {
  const int64_t day = 24 * 60;
  Feed(Poll("a", 101, -430 * day));
  Feed(Poll("a", 101, 0));  // dated over a year after the log's start
  Feed(Poll("a", 101, -429 * day));
  EXPECT_EQ(Field(Feed(Poll("a", 101, -422 * day)), "evt.learning_complete"), "true");
}

TEST_F(StateTest, PartyFactsResolveTheOrganisationAndMembership) {
  Rec r = Poll("a", 102, 0);
  const PartyFacts& f = Feed(r);
  EXPECT_EQ(Field(f, "party.orgnr"), "900000002");
  EXPECT_EQ(Field(f, "party.top_orgnr"), "900000001");
  EXPECT_EQ(Field(f, "party.org_covered"), "true");
  EXPECT_EQ(Field(f, "party.type"), "Service");
  Rec other = Poll("a", 201, 1);
  EXPECT_EQ(Field(Feed(other), "party.org_covered"), "false");
  EXPECT_EQ(Field(Feed(Poll("a", 999, 2)), "party.known"), "false");
  // A known party whose organisation cannot be told is covered by no delegation.
  const PartyFacts& orphan = Feed(Poll("a", 104, 3));
  EXPECT_EQ(Field(orphan, "party.known"), "true");
  EXPECT_EQ(Field(orphan, "party.orgnr"), "<absent>");
  EXPECT_EQ(Field(orphan, "party.org_covered"), "false");
}

TEST_F(StateTest, HerIdClaimListsAreCheckedPerParty) {
  Rec r = Poll("v2", 101, 0);
  r.api = "2";
  r.path = "/Messages";
  r.query = "ReceiverHerIds=101&ReceiverHerIds=103";
  r.claim = "101-102";
  Feed(r);
  EXPECT_EQ(Field(facts_[0], "party.in_herid_claim"), "true");
  EXPECT_EQ(Field(facts_[1], "party.in_herid_claim"), "false");
  EXPECT_EQ(Field(facts_[0], "client.herid_claim_kind"), "list");
  r.claim = "0";
  r.minute = 1;
  Feed(r);
  EXPECT_EQ(Field(facts_[0], "party.in_herid_claim"), "<absent>");
  EXPECT_EQ(Field(facts_[0], "client.herid_claim_kind"), "whole_org");
}

}  // namespace
}  // namespace edi::testing
