// The party index: grouped per party and hour over batches, written in slices over several
// transactions, complete and without doubles in party_event_ids at every moment, and rebuilt
// after a restart or a rollback.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/store_fixture.h"

namespace edi {
namespace {

using testing::kT0;
using testing::MakeEvent;
using testing::StoreTest;

TEST_F(StoreTest, ThePartyIndexGroupsEventsPerPartyAndHourOverBatches) {
  StoreOptions options;
  options.party_index_flush_events = 6;
  auto s = Open(options);
  const std::string kIndexed =
      "SELECT her_id, hour - (SELECT min(hour) FROM party_events), first_event, events "
      "FROM party_events ORDER BY 1, 2";
  const std::string kView = "SELECT her_id, event_id FROM party_event_ids ORDER BY 1, 2";
  for (int i = 0; i < 6; ++i) {
    // Three batches of two; two events per hour, all for 8142520, every other one for 8142521.
    if (i % 2 == 0) {
      ASSERT_TRUE(s->Begin().ok());
    }
    std::vector<PartyRef> parties = {{8142520, PartySource::kPath}};
    if (i % 2 == 0) parties.push_back({8142521, PartySource::kQuery});
    EXPECT_TRUE(Put(
        *s, MakeEvent("req-" + std::to_string(i), kT0 + (i / 2) * kMillisPerHour + i, parties)));
    if (i % 2 == 1) {
      ASSERT_TRUE(s->Commit().ok());
    }
    if (i == 3) {
      // Not written yet, but the view reads the newest events' parties from their rows.
      EXPECT_EQ(Dump(*s, kIndexed), "");
      EXPECT_EQ(Dump(*s, kView),
                "8142520|1|\n8142520|2|\n8142520|3|\n8142520|4|\n8142521|1|\n8142521|3|\n");
    }
  }
  EXPECT_EQ(Dump(*s, kIndexed),
            "8142520|0|1|[1,2]|\n8142520|1|3|[3,4]|\n8142520|2|5|[5,6]|\n"
            "8142521|0|1|[1]|\n8142521|1|3|[3]|\n8142521|2|5|[5]|\n");
  EXPECT_EQ(Dump(*s, "SELECT value FROM store_meta WHERE key = 'party_index_upto'"), "6|\n");
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM party_event_ids"), "9|\n");  // no event twice
}

TEST_F(StoreTest, EventsNotYetInThePartyIndexAreIndexedAfterARestart) {
  StoreOptions options;
  options.party_index_flush_events = 4;
  {
    auto s = Open(options);
    ASSERT_TRUE(s->Begin().ok());
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(
          Put(*s, MakeEvent("req-" + std::to_string(i), kT0 + i, {{8142520, PartySource::kPath}})));
    }
    ASSERT_TRUE(s->Commit().ok());
    EXPECT_EQ(Dump(*s, "SELECT count(*) FROM party_events"), "0|\n");
  }
  auto s = Open(options);
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-3", kT0 + 3, {{8142520, PartySource::kPath}})));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT events FROM party_events"), "[1,2,3,4]|\n");
}

TEST_F(StoreTest, ARolledBackBatchLeavesNoEventsAndNoPartyIndexRows) {
  StoreOptions options;
  options.party_index_flush_events = 1;
  auto s = Open(options);
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}})));
  s->Rollback();
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-2", kT0, {{8142521, PartySource::kPath}})));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s,
                 "SELECT e.request_id, p.her_id FROM party_event_ids p JOIN events e USING "
                 "(event_id)"),
            "req-2|8142521|\n");
}

// 3,000 events of 3,000 parties: one generation of 3,000 rows, written 1,000 rows a commit.
class SlicedPartyIndexTest : public StoreTest {
 protected:
  static constexpr int kEvents = 3000;
  static StoreOptions Options() {
    StoreOptions options;
    options.party_index_flush_events = kEvents;
    return options;
  }
  static void PutGeneration(Store& s) {
    ASSERT_TRUE(s.Begin().ok());
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_TRUE(Put(
          s, MakeEvent("req-" + std::to_string(i), kT0 + i, {{9000000 + i, PartySource::kPath}})));
    }
    ASSERT_TRUE(s.Commit().ok());
  }
  static void Commit(Store& s) {
    ASSERT_TRUE(s.Begin().ok());
    ASSERT_TRUE(s.Commit().ok());
  }
  // Rows written, party_index_upto, events in the view, distinct (party, event) pairs in it.
  static std::string Progress(Store& s) {
    return Dump(s,
                "SELECT (SELECT count(*) FROM party_events), (SELECT value FROM store_meta "
                "WHERE key = 'party_index_upto'), (SELECT count(*) FROM party_event_ids), "
                "(SELECT count(*) FROM (SELECT DISTINCT her_id, event_id FROM party_event_ids))");
  }
};

TEST_F(SlicedPartyIndexTest, AGenerationIsWrittenOverSeveralCommitsAndTheViewStaysComplete) {
  auto s = Open(Options());
  PutGeneration(*s);
  EXPECT_EQ(Progress(*s), "1000|0|3000|3000|\n");  // a third written, not yet counted as such
  ASSERT_TRUE(s->Begin().ok());
  ASSERT_TRUE(Put(*s, MakeEvent("late", kT0 + kEvents, {{8142520, PartySource::kPath}})));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Progress(*s), "2000|0|3001|3001|\n");
  Commit(*s);
  EXPECT_EQ(Progress(*s), "3000|3000|3001|3001|\n");  // complete; "late" gathers for the next
  Commit(*s);
  EXPECT_EQ(Progress(*s), "3000|3000|3001|3001|\n");
}

TEST_F(SlicedPartyIndexTest, ARestartOrRollbackHalfwayRewritesTheSlicesWithoutDoubles) {
  {
    auto s = Open(Options());
    PutGeneration(*s);
    EXPECT_EQ(Progress(*s), "1000|0|3000|3000|\n");
  }
  auto s = Open(Options());  // reads the 3,000 events back and freezes them again
  Commit(*s);
  EXPECT_EQ(Progress(*s), "1000|0|3000|3000|\n");  // the same first 1,000 rows, replaced
  ASSERT_TRUE(s->Begin().ok());
  ASSERT_TRUE(Put(*s, MakeEvent("rolled-back", kT0 + kEvents, {{8142520, PartySource::kPath}})));
  s->Rollback();  // the slice it would have written is gone too
  Commit(*s);
  Commit(*s);
  EXPECT_EQ(Progress(*s), "2000|0|3000|3000|\n");
  Commit(*s);
  EXPECT_EQ(Progress(*s), "3000|3000|3000|3000|\n");
  EXPECT_EQ(Dump(*s, "SELECT events FROM party_events WHERE her_id = 9000042"), "[43]|\n");
}

// A process ending before a generation's last slice completes it at its clean end: else each
// short run (a replay per file) would read every unindexed event back and start anew.
TEST_F(SlicedPartyIndexTest, ACleanEndCompletesAGenerationBeingWritten) {
  {
    auto s = Open(Options());
    PutGeneration(*s);
    EXPECT_EQ(Progress(*s), "1000|0|3000|3000|\n");
    ASSERT_TRUE(s->CompleteIndexes().ok());
    EXPECT_EQ(Progress(*s), "3000|3000|3000|3000|\n");
    EXPECT_EQ(Dump(*s, "SELECT value FROM store_meta WHERE key = 'client_index_upto'"), "3000|\n");
    ASSERT_TRUE(s->CompleteIndexes().ok());  // nothing left: nothing written
    EXPECT_EQ(Progress(*s), "3000|3000|3000|3000|\n");
  }
  auto s = Open(Options());  // nothing to read back
  ASSERT_TRUE(s->Begin().ok());
  ASSERT_TRUE(Put(*s, MakeEvent("next", kT0 + kEvents, {{8142520, PartySource::kPath}})));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Progress(*s), "3000|3000|3001|3001|\n");
  EXPECT_EQ(Dump(*s, "SELECT events FROM party_events WHERE her_id = 9000042"), "[43]|\n");
}

}  // namespace
}  // namespace edi
