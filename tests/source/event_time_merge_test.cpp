// EventTimeMerge: records of several partitions leave in event-time order, each partition's in
// its Kafka order, and nobody waits longer than the wait for a quiet partition.
#include "source/event_time_merge.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edi {
namespace {

using Clock = std::chrono::steady_clock;
using Fetch = EventTimeMerge::Fetch;
using std::chrono::milliseconds;

RawRecord Record(const std::string& source, int64_t offset, const std::string& timestamp) {
  RawRecord r;
  r.bytes = "{\"schemaVersion\":1,\"timestamp\":\"" + timestamp + "\",\"requestId\":\"" + source +
            "@" + std::to_string(offset) + "\"}";
  r.full_size = r.bytes.size();
  r.where.source = source;
  r.where.position = offset;
  return r;
}

// A merge of partitions "p0" and "p1".
EventTimeMerge TwoPartitions(milliseconds wait, size_t max_held) {
  EventTimeMerge merge(wait, max_held);
  merge.AddPartition("p0");
  merge.AddPartition("p1");
  return merge;
}

std::vector<std::string> Order(const std::vector<RawRecord>& out) {
  std::vector<std::string> v;
  for (const RawRecord& r : out)
    v.push_back(r.where.source + "@" + std::to_string(r.where.position));
  return v;
}

TEST(PeekEventTimeTest, ReadsTheTopLevelTimestampOnly) {
  EXPECT_EQ(PeekEventTime(R"({"timestamp":"2026-05-08T08:32:15.310Z"})"),
            ParseRfc3339("2026-05-08T08:32:15.310Z"));
  EXPECT_EQ(PeekEventTime(R"({"a":"x\"timestamp\":","timestamp" : "1970-01-01T00:00:01.000Z"})"),
            1000);
  // A nested "timestamp" (an unknown extra field) is not the record's.
  EXPECT_EQ(PeekEventTime(R"({"extra":{"timestamp":"1970-01-01T00:00:05.000Z"},)"
                          R"("timestamp":"1970-01-01T00:00:02.000Z"})"),
            2000);
  EXPECT_EQ(PeekEventTime(R"({"timestamp":"yesterday"})"), std::nullopt);
  EXPECT_EQ(PeekEventTime(R"({"timestamp":12})"), std::nullopt);
  EXPECT_EQ(PeekEventTime("not json"), std::nullopt);
  EXPECT_EQ(PeekEventTime(""), std::nullopt);
}

TEST(EventTimeMergeTest, AMarkReadBeforeTheEarlierDownloadOfAnotherPartitionGoesAfterIt) {
  EventTimeMerge merge = TwoPartitions(milliseconds(250), 1000);
  const auto t0 = Clock::now();
  std::vector<RawRecord> out;
  // p0 is read first: its mark at :03 must wait, p1 has shown nothing yet.
  merge.Add(Record("p0", 0, "2026-05-08T08:00:03.000Z"), t0);
  merge.Release(t0, true, 100, &out);
  EXPECT_TRUE(out.empty());
  merge.Add(Record("p1", 0, "2026-05-08T08:00:01.000Z"), t0);  // the send
  merge.Add(Record("p1", 1, "2026-05-08T08:00:02.000Z"), t0);  // the download
  merge.Release(t0, true, 100, &out);
  // p1 has not shown anything at :03 or later yet: its records go, the mark still waits.
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p1@0", "p1@1"}));
  merge.Add(Record("p1", 2, "2026-05-08T08:00:04.000Z"), t0);
  merge.Release(t0, true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p1@0", "p1@1", "p0@0"}));
  EXPECT_EQ(merge.held(), 1u);
  EXPECT_EQ(merge.released_early(), 0u);  // every one went in order
}

TEST(EventTimeMergeTest, AQuietPartitionHoldsRecordsUpForTheWaitAtMost) {
  EventTimeMerge merge(milliseconds(250), 1000);
  merge.AddPartition("p0");
  merge.AddPartition("quiet");
  const auto t0 = Clock::now();
  merge.Add(Record("p0", 0, "2026-05-08T08:00:01.000Z"), t0);
  merge.Add(Record("p0", 1, "2026-05-08T08:00:02.000Z"), t0 + milliseconds(100));
  std::vector<RawRecord> out;
  merge.Release(t0 + milliseconds(249), true, 100, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(merge.NextDeadline(), t0 + milliseconds(250));
  // Past the wait, but more records are ready to be read: they are read first.
  merge.Release(t0 + milliseconds(250), false, 100, &out);
  EXPECT_TRUE(out.empty());
  merge.Release(t0 + milliseconds(250), true, 100, &out);
  EXPECT_EQ(Order(out), std::vector<std::string>{"p0@0"});
  merge.Release(t0 + milliseconds(350), true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p0@0", "p0@1"}));
  EXPECT_EQ(merge.released_past_quiet(), 2u);  // counted: a producer might have been late
  EXPECT_EQ(merge.released_early(), 0u);
  EXPECT_EQ(merge.NextDeadline(), std::nullopt);
}

TEST(EventTimeMergeTest, APartitionBehindItsEndInKafkaIsWaitedForTenTimesAsLong) {
  EventTimeMerge merge(milliseconds(250), 1000);
  merge.AddPartition("p0");
  merge.AddPartition("behind");
  const auto t0 = Clock::now();
  merge.Add(Record("p0", 0, "2026-05-08T08:00:01.000Z"), t0);
  std::vector<RawRecord> out;
  // Nothing to read from "behind" just now, but Kafka has records of it not yet fetched.
  merge.SetFetch("behind", Fetch::kBehind);
  merge.Release(t0 + milliseconds(300), true, 100, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(merge.NextDeadline(), t0 + milliseconds(2500));
  merge.Release(t0 + milliseconds(2500), true, 100, &out);
  EXPECT_EQ(Order(out), std::vector<std::string>{"p0@0"});
  EXPECT_EQ(merge.released_early(), 1u);
}

TEST(EventTimeMergeTest, ARecordThatArrivedLongAgoWaitsOnlyForPartitionsThatJustRanDry) {
  EventTimeMerge merge(milliseconds(250), 1000);
  merge.AddPartition("p0");
  merge.AddPartition("quiet");
  const auto t0 = Clock::now();  // "quiet" has had nothing since just before
  // Read from a backlog: in Kafka for a minute already.
  merge.Add(Record("p0", 0, "2026-05-08T08:00:01.000Z"), t0 - std::chrono::seconds(60));
  std::vector<RawRecord> out;
  merge.Release(t0 + milliseconds(200), true, 100, &out);
  EXPECT_TRUE(out.empty());  // "quiet" may still have something
  merge.Release(t0 + milliseconds(260), true, 100, &out);
  EXPECT_EQ(Order(out), std::vector<std::string>{"p0@0"});
  // The next one from the backlog goes at once: "quiet" has been quiet for the wait.
  merge.Add(Record("p0", 1, "2026-05-08T08:00:02.000Z"), t0 - std::chrono::seconds(59));
  merge.Release(t0 + milliseconds(270), true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p0@0", "p0@1"}));
  // One just produced waits its own while: a late producer may still add to "quiet".
  merge.Add(Record("p0", 2, "2026-05-08T08:00:03.000Z"), t0 + milliseconds(270));
  merge.Release(t0 + milliseconds(400), true, 100, &out);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(merge.NextDeadline(), t0 + milliseconds(520));
}

TEST(EventTimeMergeTest, PastTheDeadlineEarlierRecordsOfOtherPartitionsGoFirst) {
  EventTimeMerge merge(milliseconds(250), 1000);
  for (const char* p : {"a", "b", "quiet"}) merge.AddPartition(p);
  const auto t0 = Clock::now();
  merge.Add(Record("a", 0, "2026-05-08T08:00:05.000Z"), t0);                      // read first
  merge.Add(Record("b", 0, "2026-05-08T08:00:01.000Z"), t0 + milliseconds(200));  // earlier
  std::vector<RawRecord> out;
  merge.Release(t0 + milliseconds(260), true, 100, &out);
  // a@0 is due; b@0 happened before it and goes first. b may have more to read now, earlier
  // than a@0: a@0 waits until b has been looked at again, and has had nothing for the wait.
  EXPECT_EQ(Order(out), (std::vector<std::string>{"b@0"}));
  merge.Release(t0 + milliseconds(261), true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"b@0"}));
  EXPECT_EQ(merge.NextDeadline(), t0 + milliseconds(510));
  merge.Release(t0 + milliseconds(510), true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"b@0", "a@0"}));
}

TEST(EventTimeMergeTest, APartitionKeepsItsKafkaOrderAndUnreadableTimesWaitForNobody) {
  EventTimeMerge merge = TwoPartitions(milliseconds(250), 1000);
  const auto t0 = Clock::now();
  // Out of time order within p0 (clock skew between gateways): Kafka's order wins.
  merge.Add(Record("p0", 0, "2026-05-08T08:00:05.000Z"), t0);
  merge.Add(Record("p0", 1, "2026-05-08T08:00:01.000Z"), t0);
  RawRecord bad;
  bad.bytes = "{not json";
  bad.where = {"p0", 2};
  merge.Add(bad, t0);
  merge.Add(Record("p1", 0, "2026-05-08T08:00:06.000Z"), t0);
  std::vector<RawRecord> out;
  merge.Release(t0, true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p0@0", "p0@1", "p0@2"}));
  // A malformed record on its own goes at once: it takes no time of its own.
  EventTimeMerge fresh = TwoPartitions(milliseconds(250), 1000);
  fresh.Add(bad, t0);
  std::vector<RawRecord> out2;
  fresh.Release(t0, true, 100, &out2);
  EXPECT_EQ(out2.size(), 1u);
}

TEST(EventTimeMergeTest, TheLimitAndTheCapKeepTheOrder) {
  EventTimeMerge merge = TwoPartitions(milliseconds(250), 3);
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) {
    merge.Add(Record("p0", i, "2026-05-08T08:00:0" + std::to_string(2 * i + 1) + ".000Z"), t0);
  }
  std::vector<RawRecord> out;
  merge.Release(t0, true, 100, &out);
  EXPECT_TRUE(out.empty());  // p1 has shown nothing; three held is not over the cap
  merge.Add(Record("p0", 3, "2026-05-08T08:00:08.000Z"), t0);
  merge.Release(t0, true, 100, &out);
  EXPECT_EQ(Order(out), std::vector<std::string>{"p0@0"});  // over the cap by one: one goes
  merge.Add(Record("p1", 0, "2026-05-08T08:00:04.000Z"), t0);
  merge.Add(Record("p1", 1, "2026-05-08T08:00:09.000Z"), t0);
  out.clear();
  merge.Release(t0, true, 2, &out);  // at most two
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p0@1", "p1@0"}));
  EXPECT_EQ(merge.held(), 3u);  // p0@2, p0@3, p1@1
}

TEST(EventTimeMergeTest, ARemovedPartitionsHeldRecordsAreCountedAndNoLongerWaitedFor) {
  EventTimeMerge merge = TwoPartitions(milliseconds(250), 1000);
  const auto t0 = Clock::now();
  merge.Add(Record("p0", 0, "2026-05-08T08:00:02.000Z"), t0);
  merge.Add(Record("p1", 0, "2026-05-08T08:00:01.000Z"), t0);
  merge.Add(Record("p1", 1, "2026-05-08T08:00:01.500Z"), t0);
  EXPECT_EQ(merge.RemovePartition("p1"), 2u);
  EXPECT_EQ(merge.held(), 1u);
  std::vector<RawRecord> out;
  merge.Release(t0, true, 100, &out);
  EXPECT_EQ(Order(out), std::vector<std::string>{"p0@0"});
}

TEST(EventTimeMergeTest, WithoutAWaitRecordsGoOnAsTheyCome) {
  EventTimeMerge merge = TwoPartitions(milliseconds(0), 1000);
  const auto t0 = Clock::now();
  std::vector<RawRecord> out;
  merge.Add(Record("p0", 0, "2026-05-08T08:00:03.000Z"), t0);
  merge.Release(t0, true, 100, &out);
  merge.Add(Record("p1", 0, "2026-05-08T08:00:01.000Z"), t0);
  merge.Release(t0, true, 100, &out);
  EXPECT_EQ(Order(out), (std::vector<std::string>{"p0@0", "p1@0"}));
}

}  // namespace
}  // namespace edi
