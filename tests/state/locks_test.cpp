#include <fstream>
#include "state_fixture.h"

namespace edi::testing {
namespace {

TEST_F(StateTest, ALockTakenWithClientLockedTrueNamesItsHolderAndOwner) {
  Feed(Lock("a", 101, true, 0));
  const PartyFacts& f = Feed(Poll("b", 101, 5));
  EXPECT_EQ(Field(f, "party.locked"), "true");
  EXPECT_EQ(Field(f, "party.lock_holder"), "a");
  EXPECT_EQ(Field(f, "party.owner"), "a");
  EXPECT_EQ(Field(f, "party.owner_source"), "lock");
  EXPECT_EQ(Field(f, "party.lock_holder_is_client"), "false");
  EXPECT_EQ(Field(f, "party.owner_is_client"), "false");
}

TEST_F(StateTest, TheLockingCallItselfSeesTheStateBeforeIt) {
  const PartyFacts& f = Feed(Lock("a", 101, true, 0));
  EXPECT_EQ(Field(f, "party.locked"), "false");
  EXPECT_EQ(Field(f, "cfg.lock_op"), "lock");
}

TEST_F(StateTest, ALockReplacedByAnotherClientIsSeenAsATakeoverThenHeldByTheNewClient) {
  Feed(Lock("a", 101, true, 0));
  const PartyFacts& f = Feed(Lock("b", 101, true, 10));
  EXPECT_EQ(Field(f, "party.lock_holder"), "a");
  EXPECT_EQ(Field(f, "cfg.lock_op"), "lock");
  EXPECT_EQ(Field(f, "party.lock_holder_is_client"), "false");
  const PartyFacts& g = Feed(Poll("c", 101, 20));
  EXPECT_EQ(Field(g, "party.lock_holder"), "b");
}

TEST_F(StateTest, ALockReleasedByItsHolderLeavesThePartyUnlocked) {
  Feed(Lock("a", 101, true, 0));
  const PartyFacts& f = Feed(Lock("a", 101, false, 10));
  EXPECT_EQ(Field(f, "cfg.lock_op"), "unlock");
  EXPECT_EQ(Field(f, "party.lock_holder_is_client"), "true");
  EXPECT_EQ(Field(Feed(Poll("b", 101, 20)), "party.locked"), "false");
}

TEST_F(StateTest, ALockReleasedByAnotherClientWithDeleteIsGone) {
  Feed(Lock("a", 101, true, 0));
  Rec del;
  del.client = "b";
  del.method = "DELETE";
  del.path = "/mshconfigurations";
  del.query = "HerIds=101";
  del.minute = 5;
  const PartyFacts& f = Feed(del);
  EXPECT_EQ(Field(f, "cfg.lock_op"), "unlock");
  EXPECT_EQ(Field(f, "party.lock_holder"), "a");
  EXPECT_EQ(Field(Feed(Poll("c", 101, 6)), "party.locked"), "false");
}

TEST_F(StateTest, ADeniedLockAttemptChangesNothingButIsCounted) {
  Feed(Lock("a", 101, true, 0));
  Feed(Lock("b", 101, true, 1, 423));
  Rec send = Send("b", 101, "201", kM1, 2);
  send.status = 423;
  Feed(send);
  const PartyFacts& f = Feed(Poll("c", 101, 3));
  EXPECT_EQ(Field(f, "party.lock_holder"), "a");
  EXPECT_EQ(Field(f, "party.lock_denied_others"), "2");
}

TEST_F(StateTest, ReservationsFromTheSnapshotAreLocksFromTheStart) {
  Reserve({R"({"herId":102,"clientId":"nursing","since":"2026-01-01T00:00:00Z"})"});
  EXPECT_EQ(Field(Feed(Poll("a", 102, 0)), "party.lock_holder"), "nursing");
}

// The snapshot's lock state is as of its time: a reservation made at 02:00 was not there for
// the calls before, in a log replayed from before it.
TEST_F(StateTest, AReservationTakesEffectWhenEventTimeReachesItsSince) {
  Reserve({R"({"herId":102,"clientId":"nursing","since":"2026-05-04T02:00:00Z"})"});
  EXPECT_EQ(Field(Feed(Poll("a", 102, 0)), "party.lock_holder"), "<absent>");
  EXPECT_EQ(Field(Feed(Poll("a", 102, 119)), "party.lock_holder"), "<absent>");
  const PartyFacts& f = Feed(Poll("a", 102, 120));
  EXPECT_EQ(Field(f, "party.lock_holder"), "nursing");
  EXPECT_EQ(Field(f, "party.lock_since"), std::to_string(*ParseRfc3339("2026-05-04T02:00:00Z")));
}

// A snapshot reloaded while running (SIGHUP) is read as a restart reads it: a reservation it
// adds takes effect when event time reaches its `since`; one it no longer has, still pending,
// does not.
TEST_F(StateTest, AReloadedSnapshotsReservationsTakeEffectWhenEventTimeReachesThem) {
  Reserve({R"({"herId":103,"clientId":"gp","since":"2026-05-04T03:00:00Z"})"});
  EXPECT_EQ(Field(Feed(Poll("a", 102, 60)), "party.lock_holder"), "<absent>");
  std::ofstream(std::filesystem::path(dir_) / "reservations.jsonl")
      << R"({"herId":102,"clientId":"nursing","since":"2026-05-04T02:00:00Z"})"
      << "\n";
  auto reloaded = Registry::Load(dir_, SchemaDir());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  state_->set_registry(*reloaded);
  EXPECT_EQ(Field(Feed(Poll("a", 102, 119)), "party.lock_holder"), "<absent>");
  EXPECT_EQ(Field(Feed(Poll("a", 102, 120)), "party.lock_holder"), "nursing");
  EXPECT_EQ(Field(Feed(Poll("a", 103, 200)), "party.lock_holder"), "<absent>");
}

// The call that took a reservation's lock, logged at its `since`, is judged against the lock
// it took over: the snapshot does not turn a takeover into the holder's own re-lock.
TEST_F(StateTest, TheCallThatTookAReservationsLockIsJudgedAgainstTheLockBefore) {
  Reserve({R"({"herId":102,"clientId":"a","since":"2026-05-04T00:05:00Z"})"});
  Feed(Lock("b", 102, true, 0));
  EXPECT_EQ(Field(Feed(Lock("a", 102, true, 5)), "party.lock_holder"), "b");
  EXPECT_EQ(Field(Feed(Poll("c", 102, 10)), "party.lock_holder"), "a");
}

// A takeover within that minute is what the holder's own call then replaces: it is judged
// against the taker's lock, not the one before the reservation.
TEST_F(StateTest, TheHoldersCallAfterATakeoverInTheMinuteIsJudgedAgainstTheTakersLock) {
  Reserve({R"({"herId":102,"clientId":"a","since":"2026-05-04T00:05:00Z"})"});
  Feed(Poll("c", 103, 4));
  Feed(Lock("b", 102, true, 5));
  EXPECT_EQ(Field(Feed(Lock("a", 102, true, 5)), "party.lock_holder"), "b");
}

// The holder releasing and locking again within the minute is still the call that took the
// lock from the one before the reservation.
TEST_F(StateTest, TheHoldersReleaseAndLockInTheMinuteAreJudgedAgainstTheLockBefore) {
  Reserve({R"({"herId":102,"clientId":"h","since":"2026-05-04T00:05:00Z"})"});
  Feed(Lock("b", 102, true, 0));
  Rec release;
  release.client = "h";
  release.method = "DELETE";
  release.path = "/mshconfigurations";
  release.query = "HerIds=102";
  release.status = 204;
  release.minute = 5;
  Feed(release);
  EXPECT_EQ(Field(Feed(Lock("h", 102, true, 5)), "party.lock_holder"), "b");
}

// Within that minute the reservation is in effect for everyone else: another client's lock is
// a takeover, and the holder's release is a release.
TEST_F(StateTest, AReservationIsInEffectAtOnceForOtherClientsAndItsHoldersRelease) {
  Reserve({R"({"herId":102,"clientId":"a","since":"2026-05-04T00:05:00Z"})",
           R"({"herId":101,"clientId":"a","since":"2026-05-04T00:05:00Z"})"});
  Feed(Poll("c", 103, 4));
  EXPECT_EQ(Field(Feed(Lock("c", 102, true, 5)), "party.lock_holder"), "a");
  Feed(Lock("a", 101, false, 5));  // the holder releases it
  EXPECT_EQ(Field(Feed(Poll("c", 101, 10)), "party.lock_holder"), "<absent>");
}

// A lock taken after a reservation's `since` takes it over (and a reservation still pending
// then, after a restart, does not replace it).
TEST_F(StateTest, ALockTakenAfterAReservationsSinceTakesItOver) {
  Reserve({R"({"herId":102,"clientId":"a","since":"2026-05-04T00:04:00Z"})"});
  // Taken at 00:05, after the reservation's 00:04: judged as a takeover of it.
  EXPECT_EQ(Field(Feed(Lock("b", 102, true, 5)), "party.lock_holder"), "a");
  EXPECT_EQ(Field(Feed(Poll("c", 102, 10)), "party.lock_holder"), "b");
}

// A call dated years ahead (a gateway's clock fault) by the holder does not count as its
// activity years ahead: the lock still goes stale a month after the holder's last real call.
TEST_F(StateTest, AHoldersCallDatedYearsAheadDoesNotKeepItsLockFromGoingStale) {
  const int64_t day = 24 * 60;
  state_->set_clock_limit(*ParseRfc3339("2026-05-04T00:00:00Z") + 100 * kMillisPerDay);
  Feed(Lock("a", 101, true, 0));
  Feed(Poll("a", 101, 4000 * day));
  Feed(Poll("c", 103, 30 * day + 1));
  EXPECT_TRUE(std::any_of(facts_.begin(), facts_.end(),
                          [](const PartyFacts& f) { return f.trigger == Trigger::kLockInactive; }));
}

// The learning period starts with the first record; one dated long before it (a clock fault)
// does not move the start back, one a little earlier (files merged late) does.
TEST_F(StateTest, ARecordDatedLongBeforeTheFirstDoesNotEndTheLearningPeriod) {
  const EventTime t0 = *ParseRfc3339("2026-05-04T00:00:00Z");
  Feed(Poll("a", 101, 0));
  Feed(Poll("b", 101, -400 * 24 * 60));
  EXPECT_EQ(state_->first_time(), t0);
  Feed(Poll("b", 101, -30));
  EXPECT_EQ(state_->first_time(), t0 - 30 * kMillisPerMinute);
}

TEST_F(StateTest, ALockWhoseHolderStaysQuietFor30DaysIsReportedOnceAsInactive) {
  Feed(Lock("a", 101, true, 0));
  Feed(Lock("b", 101, true, 60, 423));  // denied meanwhile
  Feed(Poll("a", 103, 29 * 24 * 60));   // the holder acts, but for another party
  EXPECT_TRUE(std::none_of(facts_.begin(), facts_.end(), [](const PartyFacts& f) {
    return f.trigger == Trigger::kLockInactive;
  }));
  Feed(Poll("c", 103, 30 * 24 * 60 + 1));
  auto stale = std::find_if(facts_.begin(), facts_.end(), [](const PartyFacts& f) {
    return f.trigger == Trigger::kLockInactive;
  });
  ASSERT_NE(stale, facts_.end());
  EXPECT_EQ(Field(*stale, "client.id"), "a");
  EXPECT_EQ(Field(*stale, "party.her_id"), "101");
  EXPECT_EQ(Field(*stale, "party.lock_denied_others"), "1");
  EXPECT_EQ(Field(*stale, "evt.trigger"), "lock_inactive");
  Feed(Poll("c", 103, 31 * 24 * 60));
  EXPECT_TRUE(std::none_of(facts_.begin(), facts_.end(), [](const PartyFacts& f) {
    return f.trigger == Trigger::kLockInactive;
  }));
}

TEST_F(StateTest, AStaleLocksHolderIsNamedAsItsTokensNamedIt) {
  // The holder is not in clients.jsonl: its name comes from its own calls.
  Rec lock = Lock("unlisted", 101, true, 0);
  lock.client_name = "Unlisted EPJ";
  Feed(lock);
  Feed(Poll("c", 103, 30 * 24 * 60 + 1));
  auto stale = std::find_if(facts_.begin(), facts_.end(), [](const PartyFacts& f) {
    return f.trigger == Trigger::kLockInactive;
  });
  ASSERT_NE(stale, facts_.end());
  EXPECT_EQ(Field(*stale, "client.id"), "unlisted");
  EXPECT_EQ(Field(*stale, "client.name"), "Unlisted EPJ");
}

TEST_F(StateTest, HolderActivityKeepsALockFresh) {
  Feed(Lock("a", 101, true, 0));
  Feed(Poll("a", 101, 20 * 24 * 60));
  Feed(Poll("c", 103, 45 * 24 * 60));
  EXPECT_TRUE(std::none_of(facts_.begin(), facts_.end(), [](const PartyFacts& f) {
    return f.trigger == Trigger::kLockInactive;
  }));
  Feed(Poll("c", 103, 51 * 24 * 60));
  EXPECT_TRUE(std::any_of(facts_.begin(), facts_.end(),
                          [](const PartyFacts& f) { return f.trigger == Trigger::kLockInactive; }));
}

}  // namespace
}  // namespace edi::testing
