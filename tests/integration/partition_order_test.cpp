// One message's calls spread over partitions: `edi-audit run` merges the partitions in event
// time, so the findings are those of the calls in the order they happened (a replay of the
// time-ordered file), not artefacts of the order in which partitions were fetched.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "integration/daemon_fixture.h"

namespace edi::testing {
namespace {

// The findings of `db` are those of the reference database, up to ten differences reported.
void ExpectSameFindings(const AuditDb& db, const std::string& reference) {
  const auto expected = AuditDb(reference).FindingSummaries();
  const auto actual = db.FindingSummaries();
  ASSERT_FALSE(expected.empty());
  int failures = 0;
  for (const auto& [id, summary] : expected) {
    auto it = actual.find(id);
    if (it == actual.end() || it->second != summary) {
      ADD_FAILURE() << "expected " << summary << ", got "
                    << (it == actual.end() ? std::string("nothing") : it->second);
      if (++failures == 10) break;
    }
  }
  for (const auto& [id, summary] : actual) {
    if (!expected.contains(id) && failures++ < 10) ADD_FAILURE() << "unexpected " << summary;
  }
  EXPECT_EQ(actual.size(), expected.size());
}

// The daemon's statistics when it stopped; empty if it logged none.
std::string StatsLine(const std::string& log) {
  const size_t stopped = log.find("info stopped: records");
  if (stopped == std::string::npos) return "";
  return log.substr(stopped, log.find('\n', stopped) - stopped);
}

class PartitionOrderTest : public DaemonTest {
 protected:
  // The generated access log replayed in its own (event-time) order, once.
  static std::string Reference() {
    const std::string reference = Db("order-reference");
    if (!std::filesystem::exists(reference)) {
      const std::string replay = std::string(EDI_BINARY) + " replay -q --registry " +
                                 traffic().registry_dir + " --db " + reference + " " + dir() +
                                 "/gen/access-log.jsonl >/dev/null";
      EXPECT_EQ(std::system(replay.c_str()), 0) << replay;
    }
    return reference;
  }
};

// A call of the generated traffic as `request_id` at `timestamp`.
std::string CallAt(const std::string& request_id, const std::string& timestamp) {
  std::string v = DaemonTest::traffic().values[0];
  for (const auto& [key, value] : {std::pair{std::string("\"timestamp\":\""), timestamp},
                                   std::pair{std::string("\"requestId\":\""), request_id}}) {
    const size_t at = v.find(key) + key.size();
    v.replace(at, v.find('"', at) - at, value);
  }
  return v;
}

TEST_F(PartitionOrderTest, AShutdownLeavesHeldRecordsToTheNextStartNotAheadOfEarlierOnes) {
  // p0's call at :05 waits in the merge for p1 to show a later one. Stored at shutdown, it
  // would go ahead of p1's call at :03 produced only afterwards.
  kafka()->CreateTopic("held", 2);
  std::vector<Produced> first = {{CallAt("a-05", "2026-05-08T10:00:05.000Z"), 0, -1},
                                 {CallAt("b-00", "2026-05-08T10:00:00.000Z"), 1, -1}};
  kafka()->Produce("held", &first, {"", ""});
  const std::string config = WriteConfig("held", "held", "audit-held");
  {
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string run = "run:\n  batch_max_ms: 200\n";
    text.replace(text.find(run), run.size(), run + "  reorder_ms: 60000\n");
    std::ofstream(config) << text;
  }
  AuditDb db(Db("held"));
  {
    DaemonProcess daemon(config, Log("held"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 1)) << daemon.Log();
    // Time in which a daemon that did not hold a-05 back would store it (batch_max_ms 200).
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  EXPECT_EQ(db.Records(), 1);  // b-00; a-05 is read again at the next start
  std::vector<Produced> more = {{CallAt("b-03", "2026-05-08T10:00:03.000Z"), 1, -1},
                                {CallAt("b-10", "2026-05-08T10:00:10.000Z"), 1, -1}};
  kafka()->Produce("held", &more, {"", ""});
  DaemonProcess daemon(config, Log("held-2"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 3)) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  std::vector<std::string> order;
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(Db("held").c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(handle, "SELECT request_id FROM events ORDER BY event_id", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    order.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(handle);
  EXPECT_EQ(order, (std::vector<std::string>{"b-00", "b-03", "a-05"}));
}

TEST_F(PartitionOrderTest, CallsSpreadOverPartitionsAreAuditedInTheOrderTheyHappened) {
  // Keyed by requestId: a message's send, download and mark land in different partitions.
  kafka()->CreateTopic("spread", 4);
  std::vector<Produced> records;
  std::vector<std::string> keys;
  for (size_t i = 0; i < traffic().values.size(); ++i) {
    records.push_back({traffic().values[i], -1, -1});
    keys.push_back(traffic().request_ids[i]);
  }
  kafka()->Produce("spread", &records, keys);

  AuditDb db(Db("spread"));
  DaemonProcess daemon(WriteConfig("spread", "spread", "audit-spread"), Log("spread"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, static_cast<int64_t>(records.size()))) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  ExpectSameFindings(db, Reference());
}

TEST_F(PartitionOrderTest, ABacklogFetchedPartitionByPartitionIsAuditedInTheOrderItHappened) {
  // Runs of 800 records in time order go to one partition, then the next (as a producer's
  // sticky partitioning does). The consumer's prefetch is small: each partition runs dry again
  // and again while Kafka holds more of it, and the others are far ahead or far behind in time.
  kafka()->CreateTopic("runs", 4);
  std::vector<Produced> records;
  for (size_t i = 0; i < traffic().values.size(); ++i) {
    records.push_back({traffic().values[i], static_cast<int32_t>(i / 800 % 4), -1});
  }
  kafka()->Produce("runs", &records, std::vector<std::string>(records.size()));

  AuditDb db(Db("runs"));
  DaemonProcess daemon(
      WriteConfig("runs", "runs", "audit-runs", "    queued.max.messages.kbytes: 128\n"),
      Log("runs"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, static_cast<int64_t>(records.size()))) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  const std::string stats = StatsLine(daemon.Log());
  EXPECT_NE(stats.find("merged before lagging partitions caught up 0"), std::string::npos) << stats;
  ExpectSameFindings(db, Reference());
}

TEST_F(PartitionOrderTest, ATransactionsCommitMarkerDoesNotMakeItsPartitionLag) {
  // Partition 0 holds the first 200 records, written in a transaction: its high watermark stays
  // one past the next offset to read (the commit marker). Partition 1's later records wait for
  // it as for a quiet partition, not as for one that Kafka still holds records of.
  kafka()->CreateTopic("txn", 2);
  const std::vector<std::string> first(traffic().values.begin(), traffic().values.begin() + 200);
  kafka()->ProduceInTransaction("txn", 0, first);
  std::vector<Produced> rest;
  for (size_t i = 200; i < 400; ++i) rest.push_back({traffic().values[i], 1, -1});
  kafka()->Produce("txn", &rest, std::vector<std::string>(rest.size()));

  AuditDb db(Db("txn"));
  DaemonProcess daemon(WriteConfig("txn", "txn", "audit-txn"), Log("txn"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 400)) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  const std::string stats = StatsLine(daemon.Log());
  EXPECT_NE(stats.find("merged before lagging partitions caught up 0"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("merged ahead of quiet partitions 0,"), std::string::npos) << stats;
}

// Restarted after the last record of a transaction, a partition starts at the transaction's
// commit marker, which Kafka never delivers: it is quiet, not lagging, and no records are
// missing.
TEST_F(PartitionOrderTest, ARestartAfterATransactionFindsNothingMissingAndNothingLagging) {
  kafka()->CreateTopic("txn-restart", 2);
  const std::vector<std::string> first(traffic().values.begin(), traffic().values.begin() + 200);
  kafka()->ProduceInTransaction("txn-restart", 0, first);
  AuditDb db(Db("txn-restart"));
  const std::string config = WriteConfig("txn-restart", "txn-restart", "audit-txn-restart");
  {
    DaemonProcess daemon(config, Log("txn-restart"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 200)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  std::vector<Produced> rest;
  for (size_t i = 200; i < 400; ++i) rest.push_back({traffic().values[i], 1, -1});
  kafka()->Produce("txn-restart", &rest, std::vector<std::string>(rest.size()));
  DaemonProcess daemon(config, Log("txn-restart-2"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 400)) << daemon.Log();
  // The next transaction's first record comes after the marker: nothing between is missing.
  const std::vector<std::string> more(traffic().values.begin() + 400,
                                      traffic().values.begin() + 410);
  kafka()->ProduceInTransaction("txn-restart", 0, more);
  ASSERT_TRUE(WaitForRecords({&db}, 410)) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("starting at 200 (stored here: 199"), std::string::npos) << log;
  EXPECT_EQ(log.find("no longer in Kafka"), std::string::npos) << log;
  const std::string stats = StatsLine(log);
  EXPECT_NE(stats.find("merged before lagging partitions caught up 0"), std::string::npos) << stats;
}

// Restarted right behind an aborted transaction, a partition has offsets Kafka never delivers
// (the aborted records and the markers): it is quiet, not lagging.
TEST_F(PartitionOrderTest, ARestartBehindAnAbortedTransactionLeavesNoPartitionLagging) {
  kafka()->CreateTopic("txn-abort", 2);
  const std::vector<std::string> first(traffic().values.begin(), traffic().values.begin() + 100);
  kafka()->ProduceInTransaction("txn-abort", 0, first);
  AuditDb db(Db("txn-abort"));
  const std::string config = WriteConfig("txn-abort", "txn-abort", "audit-txn-abort");
  {
    DaemonProcess daemon(config, Log("txn-abort"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 100)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  const std::vector<std::string> aborted(traffic().values.begin() + 100,
                                         traffic().values.begin() + 160);
  kafka()->ProduceInTransaction("txn-abort", 0, aborted, /*abort=*/true);
  std::vector<Produced> rest;
  for (size_t i = 200; i < 400; ++i) rest.push_back({traffic().values[i], 1, -1});
  kafka()->Produce("txn-abort", &rest, std::vector<std::string>(rest.size()));
  DaemonProcess daemon(config, Log("txn-abort-2"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 300)) << daemon.Log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(db.Records(), 300);
  const std::string stats = StatsLine(daemon.Log());
  EXPECT_NE(stats.find("merged before lagging partitions caught up 0"), std::string::npos) << stats;
}

}  // namespace
}  // namespace edi::testing
