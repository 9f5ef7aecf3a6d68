// One message's calls spread over partitions: `edi-audit run` merges the partitions in event
// time, so the findings are those of the calls in the order they happened (a replay of the
// time-ordered file), not artefacts of the order in which partitions were fetched.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
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

}  // namespace
}  // namespace edi::testing
