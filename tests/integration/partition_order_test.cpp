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
  const std::string log = daemon.Log();
  const size_t stopped = log.find("info stopped: records");
  ASSERT_NE(stopped, std::string::npos) << log;
  const std::string stats = log.substr(stopped, log.find('\n', stopped) - stopped);
  EXPECT_NE(stats.find("merged before lagging partitions caught up 0"), std::string::npos) << stats;
  ExpectSameFindings(db, Reference());
}

}  // namespace
}  // namespace edi::testing
