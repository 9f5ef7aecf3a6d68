// KafkaSource against librdkafka's mock cluster: every record is stored exactly once through
// restarts, broker outages, failed offset commits, failed batches and a rebalance between two
// instances with their own databases.
#include "source/kafka_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <set>

#include "source/mock_kafka.h"

namespace edi {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::MockKafka;

constexpr char kTopic[] = "edi-access";
constexpr int kPartitions = 4;

// An in-memory database: positions and how often each (source, offset) was stored.
class MemoryStore : public BatchStore {
 public:
  Status StoreBatch(const std::vector<RawRecord>& batch) override {
    if (fail_next > 0) {
      --fail_next;
      return Status::IOError("disk full (injected)");
    }
    for (const RawRecord& r : batch) {
      ++times_stored[{r.where.source, r.where.position}];
      int64_t& p = positions.try_emplace(r.where.source, r.where.position).first->second;
      p = std::max(p, r.where.position);
      records.push_back(r);
    }
    ++batches;
    return Status::OK();
  }
  std::optional<int64_t> StoredPosition(const std::string& source) override {
    auto it = positions.find(source);
    if (it == positions.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::string, int64_t> positions;
  std::map<std::pair<std::string, int64_t>, int> times_stored;
  std::vector<RawRecord> records;
  int batches = 0;
  int fail_next = 0;
};

std::set<std::string> Values(const MemoryStore& s) {
  std::set<std::string> out;
  for (const RawRecord& r : s.records) out.insert(r.bytes);
  return out;
}

int MaxTimesStored(const MemoryStore& s) {
  int m = 0;
  for (const auto& [k, n] : s.times_stored) m = std::max(m, n);
  return m;
}

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    kafka_.CreateTopic(kTopic, kPartitions);
  }

  KafkaSourceOptions Options(const std::string& group = "audit") {
    KafkaSourceOptions o;
    o.brokers = kafka_.bootstrap();
    o.topics = {kTopic};
    o.group_id = group;
    o.batch_size = 100;
    o.batch_max_wait = milliseconds(50);
    o.retry_min = milliseconds(50);
    o.retry_max = milliseconds(400);
    o.properties = {{"session.timeout.ms", "3000", ""},
                    {"heartbeat.interval.ms", "300", ""},
                    {"reconnect.backoff.max.ms", "500", ""},
                    {"auto.commit.interval.ms", "100", ""},
                    {"log_level", "2", ""}};
    // EDI_KAFKA_DEBUG=cgrp,fetch shows librdkafka's view when a test misbehaves.
    if (const char* debug = std::getenv("EDI_KAFKA_DEBUG"); debug != nullptr) {
      o.properties.back().value = "7";
      o.properties.push_back({"debug", debug, ""});
      spdlog::set_level(spdlog::level::debug);
    }
    return o;
  }

  std::unique_ptr<KafkaSource> Start(MemoryStore* store, KafkaSourceOptions o) {
    auto s = KafkaSource::Create(o, store);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Polls every source in turn until `done` or the timeout; returns done().
  static bool PollUntil(const std::vector<KafkaSource*>& sources, const std::function<bool()>& done,
                        seconds timeout = seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      for (KafkaSource* s : sources) EXPECT_TRUE(s->Poll(milliseconds(50)).ok());
    }
    return true;
  }
  static void PollFor(const std::vector<KafkaSource*>& sources, milliseconds how_long) {
    const auto end = std::chrono::steady_clock::now() + how_long;
    while (std::chrono::steady_clock::now() < end) {
      for (KafkaSource* s : sources) EXPECT_TRUE(s->Poll(milliseconds(50)).ok());
    }
  }

  MockKafka kafka_;
};

TEST_F(KafkaSourceTest, StoresEveryRecordOnceWithItsPartitionAndOffset) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 1000);
  MemoryStore store;
  auto source = Start(&store, Options());
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 1000; }));
  ASSERT_TRUE(source->Close().ok());

  EXPECT_EQ(store.records.size(), 1000u);
  EXPECT_EQ(MaxTimesStored(store), 1);
  EXPECT_EQ(Values(store).size(), 1000u);
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(store.positions[KafkaSourceName(kTopic, p)], 249) << "partition " << p;
  }
  EXPECT_EQ(source->counters().records, 1000u);
  // Offsets (+1) were committed to Kafka for lag tools.
  auto committed = kafka_.Committed("audit", kTopic, kPartitions);
  for (int p = 0; p < kPartitions; ++p) EXPECT_EQ(committed[p], 250) << "partition " << p;
}

TEST_F(KafkaSourceTest, ARestartContinuesAfterTheStoredPositionsEvenWhenKafkaCommitsFailed) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 400);
  MemoryStore store;
  auto first = Start(&store, Options());
  ASSERT_TRUE(PollUntil({first.get()}, [&] { return store.records.size() >= 400; }));
  // Every later offset commit fails: Kafka's committed offsets stay behind the database's.
  std::vector<rd_kafka_resp_err_t> errors(200, RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE);
  rd_kafka_mock_push_request_errors_array(kafka_.cluster(), testing::kApiOffsetCommit,
                                          errors.size(), errors.data());
  kafka_.ProduceNumbered(kTopic, kPartitions, 400, 400);
  ASSERT_TRUE(PollUntil({first.get()}, [&] { return store.records.size() >= 800; }));
  // A timed commit of the new offsets has failed (its result comes back on a later poll).
  ASSERT_TRUE(PollUntil({first.get()}, [&] { return first->counters().commit_failures > 0; }));
  first.reset();  // a crash: no drain, no final commit
  rd_kafka_mock_clear_request_errors(kafka_.cluster(), testing::kApiOffsetCommit);
  EXPECT_LT(kafka_.Committed("audit", kTopic, kPartitions)[0], 200);

  kafka_.ProduceNumbered(kTopic, kPartitions, 800, 200);
  auto second = Start(&store, Options());
  ASSERT_TRUE(PollUntil({second.get()}, [&] { return store.records.size() >= 1000; }));
  PollFor({second.get()}, milliseconds(500));
  ASSERT_TRUE(second->Close().ok());
  EXPECT_EQ(store.records.size(), 1000u);
  EXPECT_EQ(MaxTimesStored(store), 1);
  EXPECT_EQ(second->counters().records, 200u);
}

// After a crash left Kafka's committed offsets behind the database, the restarted instance
// commits its stored positions even when no record arrives: the partition's next owner (another
// instance of the group) must not read those records again into its own database.
TEST_F(KafkaSourceTest, ARestartCommitsTheStoredPositionsWithoutWaitingForNewRecords) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 400);
  MemoryStore store;
  auto first = Start(&store, Options());
  std::vector<rd_kafka_resp_err_t> errors(200, RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE);
  rd_kafka_mock_push_request_errors_array(kafka_.cluster(), testing::kApiOffsetCommit,
                                          errors.size(), errors.data());
  ASSERT_TRUE(PollUntil({first.get()}, [&] { return store.records.size() >= 400; }));
  first.reset();  // a crash: no drain, no final commit
  rd_kafka_mock_clear_request_errors(kafka_.cluster(), testing::kApiOffsetCommit);
  for (const auto& [partition, offset] : kafka_.Committed("audit", kTopic, kPartitions)) {
    ASSERT_LT(offset, 100) << "partition " << partition;
  }

  auto second = Start(&store, Options());
  // The crashed member leaves the group when its session times out.
  ASSERT_TRUE(PollUntil({second.get()}, [&] { return second->counters().assigned >= 4; }));
  PollFor({second.get()}, milliseconds(500));
  ASSERT_TRUE(second->Close().ok());
  EXPECT_EQ(second->counters().records, 0u);
  auto committed = kafka_.Committed("audit", kTopic, kPartitions);
  for (int p = 0; p < kPartitions; ++p) EXPECT_EQ(committed[p], 100) << "partition " << p;
}

// At shutdown the in-flight batch is tried twice: before leaving the group, and as the
// partitions are given up. Stored at the second attempt, shutting down is no failure.
TEST_F(KafkaSourceTest, ALastBatchStoredAtTheSecondAttemptIsNoShutdownFailure) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 400);
  MemoryStore store;
  KafkaSourceOptions o = Options();
  o.batch_size = 1000;
  o.batch_max_wait = seconds(60);
  auto source = Start(&store, o);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return source->counters().assigned >= 4; }));
  PollFor({source.get()}, milliseconds(2000));  // all 400 read and released into the batch
  ASSERT_EQ(store.records.size(), 0u);
  store.fail_next = 1;
  EXPECT_TRUE(source->Close().ok());
  EXPECT_EQ(store.records.size(), 400u);
  EXPECT_EQ(source->counters().store_failures, 1u);
  auto committed = kafka_.Committed("audit", kTopic, kPartitions);
  for (int p = 0; p < kPartitions; ++p) EXPECT_EQ(committed[p], 100) << "partition " << p;
}

TEST_F(KafkaSourceTest, SurvivesABrokerOutageWithoutLosingRecords) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 300);
  MemoryStore store;
  auto source = Start(&store, Options());
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 300; }));
  kafka_.SetAllBrokers(false);
  PollFor({source.get()}, milliseconds(2000));
  kafka_.SetAllBrokers(true);
  kafka_.ProduceNumbered(kTopic, kPartitions, 300, 300);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 600; }));
  ASSERT_TRUE(source->Close().ok());
  EXPECT_EQ(store.records.size(), 600u);
  EXPECT_EQ(MaxTimesStored(store), 1);
  EXPECT_GT(source->counters().consumer_errors, 0u);
}

TEST_F(KafkaSourceTest, TellsWhetherAnyBrokerIsReachableAndSinceWhenNone) {
  KafkaSourceOptions o = Options();
  o.properties.push_back({"statistics.interval.ms", "100", ""});
  MemoryStore store;
  auto source = Start(&store, o);
  EXPECT_EQ(source->brokers_up(), -1);  // nothing known before the first statistics
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return source->brokers_up() > 0; }));
  EXPECT_FALSE(source->unreachable_since());
  kafka_.SetAllBrokers(false);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return source->brokers_up() == 0; }));
  const auto since = source->unreachable_since();
  ASSERT_TRUE(since);
  PollFor({source.get()}, milliseconds(500));
  EXPECT_EQ(source->unreachable_since(), since);  // since the first statistics without one
  kafka_.SetAllBrokers(true);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return source->brokers_up() > 0; }));
  EXPECT_FALSE(source->unreachable_since());
  ASSERT_TRUE(source->Close().ok());
}

TEST_F(KafkaSourceTest, AnOutageLongerThanTheSessionLosesPartitionsButNoRecords) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 200);
  MemoryStore store;
  auto source = Start(&store, Options());
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 200; }));
  kafka_.SetAllBrokers(false);
  PollFor({source.get()}, milliseconds(5000));  // session.timeout.ms is 3000
  kafka_.SetAllBrokers(true);
  kafka_.ProduceNumbered(kTopic, kPartitions, 200, 200);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 400; }));
  PollFor({source.get()}, milliseconds(500));
  ASSERT_TRUE(source->Close().ok());
  // The outage did cost the partitions (and they came back): the case this test is about.
  EXPECT_GT(source->counters().revoked, 0u);
  EXPECT_GT(source->counters().assigned, static_cast<uint64_t>(kPartitions));
  EXPECT_EQ(store.records.size(), 400u);
  EXPECT_EQ(MaxTimesStored(store), 1);
}

TEST_F(KafkaSourceTest, ARefusedBatchPausesConsumptionAndIsRetriedUntilStored) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 500);
  MemoryStore store;
  store.fail_next = 4;
  auto source = Start(&store, Options());
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 500; }));
  PollFor({source.get()}, milliseconds(300));
  ASSERT_TRUE(source->Close().ok());
  EXPECT_EQ(store.records.size(), 500u);
  EXPECT_EQ(MaxTimesStored(store), 1);
  EXPECT_EQ(source->counters().store_failures, 4u);
  EXPECT_GE(source->counters().pauses, 1u);
}

TEST_F(KafkaSourceTest, TwoInstancesSplitTheTopicAndHandOverExactlyAtTheStoredOffsets) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 600);
  MemoryStore a_store, b_store;
  KafkaSourceOptions o = Options();
  // Long batches: at every revocation A has records in hand that it must store first.
  o.batch_size = 1000000;
  o.batch_max_wait = milliseconds(700);
  auto a = Start(&a_store, o);
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return a_store.records.size() >= 100; }));
  auto b = Start(&b_store, o);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return !b->assigned_sources().empty(); }));
  EXPECT_GT(a->counters().revoked, 0u);
  kafka_.ProduceNumbered(kTopic, kPartitions, 600, 400);
  PollFor({a.get(), b.get()}, milliseconds(300));
  ASSERT_TRUE(a->Close().ok());  // A leaves mid-way; B takes over its partitions
  kafka_.ProduceNumbered(kTopic, kPartitions, 1000, 200);
  // Until every record is stored somewhere (records stored by both count once: after a
  // handover without its commit there are such).
  auto distinct = [&] {
    std::set<std::string> v = Values(a_store);
    for (const RawRecord& r : b_store.records) v.insert(r.bytes);
    return v.size();
  };
  ASSERT_TRUE(PollUntil({b.get()}, [&] { return distinct() >= 1200; }));
  PollFor({b.get()}, milliseconds(1000));
  ASSERT_TRUE(b->Close().ok());

  std::set<std::string> a_values = Values(a_store), b_values = Values(b_store), both, all;
  for (const std::string& v : a_values) {
    if (b_values.contains(v)) both.insert(v);
  }
  all.insert(a_values.begin(), a_values.end());
  all.insert(b_values.begin(), b_values.end());
  EXPECT_EQ(all.size(), 1200u);  // nothing lost, whatever happened at the handovers
  EXPECT_GT(a_store.records.size(), 0u);
  EXPECT_GT(b_store.records.size(), 0u);
  if (a->counters().handed_over_uncommitted > 0) {
    // librdkafka's mock group, unlike Kafka, may refuse the commit A makes as it gives
    // partitions up (a rebalance is in progress); A then says so, and B reads from the older
    // committed offset. Seen on loaded machines. The handover itself is then untested here
    // (the integration tests hand partitions over between daemons on a real broker).
    GTEST_SKIP() << "the mock group refused the commit of " << a->counters().handed_over_uncommitted
                 << " partitions given up; " << both.size() << " records stored by both";
  }
  // Every handover committed what A had stored: B began exactly there.
  EXPECT_TRUE(both.empty()) << both.size() << " records stored by both, e.g. " << *both.begin();
  EXPECT_EQ(a_values.size() + b_values.size(), 1200u);
  EXPECT_EQ(a_store.records.size() + b_store.records.size(), 1200u);
}

TEST_F(KafkaSourceTest, PartitionsHandedBackAreReadFromTheirQueuesAgain) {
  kafka_.ProduceNumbered(kTopic, kPartitions, 0, 400);
  MemoryStore a_store, b_store;
  auto a = Start(&a_store, Options());
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return a_store.records.size() >= 400; }));
  // A's offsets reach Kafka before B joins. The mock group, unlike Kafka, refuses commits while
  // members join (and at times while A gives partitions up, when B's SyncGroup fails and it
  // joins again), which would make B read again what A stored: not what this test is about.
  ASSERT_TRUE(PollUntil({a.get()}, [&] {
    auto committed = kafka_.Committed("audit", kTopic, kPartitions);
    return std::ranges::all_of(committed, [](const auto& c) { return c.second == 100; }) &&
           committed.size() == static_cast<size_t>(kPartitions);
  }));
  auto b = Start(&b_store, Options());
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return !b->assigned_sources().empty(); }));
  kafka_.ProduceNumbered(kTopic, kPartitions, 400, 400);
  ASSERT_TRUE(PollUntil({a.get(), b.get()},
                        [&] { return a_store.records.size() + b_store.records.size() >= 800; }));
  ASSERT_TRUE(b->Close().ok());  // B's partitions go back to A
  ASSERT_TRUE(PollUntil(
      {a.get()}, [&] { return a->assigned_sources().size() == static_cast<size_t>(kPartitions); }));
  kafka_.ProduceNumbered(kTopic, kPartitions, 800, 400);
  auto distinct = [&] {
    std::set<std::string> v = Values(a_store);
    for (const RawRecord& r : b_store.records) v.insert(r.bytes);
    return v.size();
  };
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return distinct() >= 1200; }));
  PollFor({a.get()}, milliseconds(300));
  ASSERT_TRUE(a->Close().ok());

  EXPECT_GT(b_store.records.size(), 0u);
  EXPECT_EQ(distinct(), 1200u);  // nothing lost, whatever happened at the handover
  if (b->counters().handed_over_uncommitted > 0) {
    // The mock group refused the commit B made as it left (see the two-instance test): A read
    // again from the older committed offset.
    GTEST_SKIP() << "the mock group refused the commit of " << b->counters().handed_over_uncommitted
                 << " partitions B gave up";
  }
  EXPECT_EQ(a_store.records.size() + b_store.records.size(), 1200u);
  EXPECT_EQ(MaxTimesStored(a_store), 1);
  EXPECT_EQ(MaxTimesStored(b_store), 1);
  // Every partition, those B held included, delivered its last records to A.
  std::set<std::string> last_sources;
  for (const RawRecord& r : a_store.records) {
    if (std::stoi(r.bytes.substr(r.bytes.find('-') + 1)) >= 800)
      last_sources.insert(r.where.source);
  }
  EXPECT_EQ(last_sources.size(), static_cast<size_t>(kPartitions));
}

TEST_F(KafkaSourceTest, EmptyAndOversizeRecordsAreHandedOnNotDropped) {
  const std::string big(5000, 'x');
  kafka_.Produce(kTopic, 0, nullptr);  // a tombstone
  kafka_.Produce(kTopic, 0, &big);
  kafka_.Flush();
  MemoryStore store;
  KafkaSourceOptions o = Options();
  o.max_record_bytes = 1024;
  auto source = Start(&store, o);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= 2; }));
  ASSERT_TRUE(source->Close().ok());
  ASSERT_EQ(store.records.size(), 2u);
  EXPECT_EQ(store.records[0].bytes, "");
  EXPECT_EQ(store.records[0].full_size, 0u);
  EXPECT_EQ(store.records[1].bytes.size(), 1024u);
  EXPECT_EQ(store.records[1].full_size, 5000u);
  EXPECT_EQ(store.records[1].where.source, "kafka:edi-access/0");
  EXPECT_EQ(store.records[1].where.position, 1);
}

TEST_F(KafkaSourceTest, ABacklogSpreadOverPartitionsIsStoredInEventTimeOrder) {
  // Event time rises with n; runs of 7 records go to one partition, then the next. Fetched,
  // each partition's whole backlog arrives at once, far more than the merge may hold.
  constexpr int kRecords = 400;
  for (int n = 0; n < kRecords; ++n) {
    const std::string v =
        fmt::format(R"({{"timestamp":"2026-11-02T08:{:02d}:{:02d}Z","n":{}}})", n / 60, n % 60, n);
    kafka_.Produce(kTopic, (n / 7) % kPartitions, &v);
  }
  kafka_.Flush();
  MemoryStore store;
  KafkaSourceOptions o = Options();
  o.reorder_max_held = 20;
  o.reorder_wait = milliseconds(1000);  // the last records wait for partitions with no more
  auto source = Start(&store, o);
  ASSERT_TRUE(PollUntil({source.get()}, [&] { return store.records.size() >= kRecords; }));
  ASSERT_TRUE(source->Close().ok());
  ASSERT_EQ(store.records.size(), static_cast<size_t>(kRecords));
  int out_of_order = 0;
  for (int i = 0; i < kRecords; ++i) {
    const std::string expected = fmt::format(R"("n":{}}})", i);
    if (!store.records[i].bytes.ends_with(expected) && out_of_order++ < 5) {
      ADD_FAILURE() << "record " << i << " is " << store.records[i].bytes;
    }
  }
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(MaxTimesStored(store), 1);
  EXPECT_EQ(source->counters().merged_early, 0u);  // no partition ran dry with more in Kafka
}

TEST_F(KafkaSourceTest, AnUnknownLibrdkafkaPropertyIsAStartupErrorNamingTheLine) {
  MemoryStore store;
  KafkaSourceOptions o = Options();
  o.properties.push_back({"ssl.ca.locaton", "/etc/ca.pem", "edi-audit.yaml:14"});
  auto source = KafkaSource::Create(o, &store);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("edi-audit.yaml:14: kafka.consumer.ssl.ca.locaton"),
            std::string::npos)
      << source.status().message();
}

TEST_F(KafkaSourceTest, PropertiesTheDesignDependsOnCannotBeOverridden) {
  MemoryStore store;
  KafkaSourceOptions o = Options();
  o.properties.push_back({"enable.auto.commit", "true", "edi-audit.yaml:9"});
  auto source = KafkaSource::Create(o, &store);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("edi-audit.yaml:9: kafka.consumer.enable.auto.commit"),
            std::string::npos)
      << source.status().message();
}

TEST_F(KafkaSourceTest, ACommitIntervalThatWouldStopOrStallCommitsIsRefused) {
  MemoryStore store;
  for (const std::string bad : {"0", "99", "600000", "1s", ""}) {
    KafkaSourceOptions o = Options();
    o.properties.push_back({"auto.commit.interval.ms", bad, "edi-audit.yaml:12"});
    auto source = KafkaSource::Create(o, &store);
    ASSERT_FALSE(source.ok()) << "'" << bad << "'";
    EXPECT_NE(source.status().message().find(
                  "edi-audit.yaml:12: kafka.consumer.auto.commit.interval.ms: '" + bad + "'"),
              std::string::npos)
        << source.status().message();
  }
  KafkaSourceOptions o = Options();
  o.properties.push_back({"auto.commit.interval.ms", "5000", "edi-audit.yaml:12"});
  EXPECT_TRUE(KafkaSource::Create(o, &store).ok());
}

}  // namespace
}  // namespace edi
