// EventTimeMerge: the records of several partitions, handed on in event-time order.
//
// Kafka keeps order within a partition only. Producers key records by the acting HER-Id, so
// one message's calls can still lie in different partitions (the send acts for the sender,
// the download for a receiver), and a consumer reads partitions in chunks: without merging,
// a mark can reach the state before the download that preceded it, and the state would
// report a message acknowledged without download that was downloaded.
//
// Each partition's records wait in a queue of their own, in the order Kafka gave them. The
// queue head with the earliest event time goes on once every other partition has shown a
// record at least as late (so nothing earlier can still come from it), or when more than
// `max_held` records wait, or once everything there was to read has been read and both the
// oldest held record has waited `wait` and the partitions holding the head up have had nothing
// for `wait` (a quiet partition holds nobody up for longer: the earliest records go until one
// of those partitions runs empty here). A partition known to have records still to fetch
// (behind its end in Kafka, e.g. while a backlog is read and the fetcher is busy with other
// partitions) is waited for ten times as long, since its next record may well be earlier.
// A record's wait counts from when it arrived in Kafka (at the latest when it was read): a
// record of a backlog has waited long since, and only the partitions that hold it up and just
// ran dry are waited for. "Everything there was to read has been read" matters when the
// consumer itself was busy (a long transaction): records that arrived meanwhile are read before
// anything goes on for having waited. A partition's records leave in their Kafka order, so the
// offset of the last record handed on is a safe position to resume from: everything after it is
// either still held here or not yet read.
//
// Records whose event time cannot be read (they will be quarantined) take the latest time of
// their partition, so they neither jump ahead nor hold anything up.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "pipeline/pipeline.h"

namespace edi {

// The record's top-level "timestamp" as event time, without parsing the whole record; nullopt
// when it has none that parses.
std::optional<EventTime> PeekEventTime(std::string_view record);

class EventTimeMerge {
 public:
  using Clock = std::chrono::steady_clock;

  // What the reader knows of a partition that has nothing to read just now.
  enum class Fetch {
    kUnknown,  // maybe more to come: waited for `wait`
    kBehind,   // Kafka has records of it not yet fetched: waited for 10 * `wait`
  };

  // `wait` zero: no merging, records go on as they come.
  EventTimeMerge(std::chrono::milliseconds wait, size_t max_held)
      : wait_(wait), max_held_(max_held) {}

  // A partition (by source name) is read from now on: its records are waited for.
  void AddPartition(const std::string& source);
  // The partition is no longer read; its held records are dropped and counted in the result.
  size_t RemovePartition(const std::string& source);

  // What is known of the partition's records in Kafka; back to kUnknown when one is added.
  void SetFetch(std::string_view source, Fetch fetch);

  // Takes a record of an added partition (`r.where.source`) that arrived at `arrived` (in Kafka,
  // or when it was read if that is not known).
  void Add(RawRecord r, Clock::time_point arrived);
  // Moves the records that may go on at `now` to `out`, in event-time order, at most `limit`.
  // `caught_up`: nothing is ready to be read of the partitions holding no records, so records
  // past their wait may go (until a partition runs empty here: it may have more to read).
  void Release(Clock::time_point now, bool caught_up, size_t limit, std::vector<RawRecord>* out);

  size_t held() const { return held_; }
  // Records of one partition held.
  size_t held(std::string_view source) const;
  size_t max_held() const { return max_held_; }
  // Records that went on before every partition had caught up with them while one of those
  // had records still to fetch (Fetch::kBehind), or because more than `max_held` waited: each
  // may have overtaken an earlier record of a partition that lagged.
  uint64_t released_early() const { return released_early_; }
  // Records that went on ahead of partitions with nothing to read and nothing known of them:
  // in order unless a producer was late by more than `wait`.
  uint64_t released_past_quiet() const { return released_past_quiet_; }
  // When the earliest held record may go on regardless of the partitions holding it up;
  // nullopt if none is held.
  std::optional<Clock::time_point> NextDeadline() const;

 private:
  struct Held {
    RawRecord record;
    EventTime time;
    Clock::time_point arrived;
  };
  struct Partition {
    std::deque<Held> queue;
    // The latest event time read from the partition; nothing earlier is expected from it.
    EventTime latest = std::numeric_limits<EventTime>::min();
    // Since when nothing of it is held (it was added, or its last held record went on).
    Clock::time_point empty_since;
    Fetch fetch = Fetch::kUnknown;  // see SetFetch
  };

  // The partition whose head is earliest; nullptr when nothing is held.
  Partition* Earliest();
  const Partition* Earliest() const;
  // Whether `other` holds up from's head: nothing as late has been read from it.
  bool Blocks(const Partition& other, const Partition& from) const;
  // When from's head may go regardless of the partitions holding it up.
  std::optional<Clock::time_point> Due(const Partition& from) const;
  // Whether from's head may go, and if so, for which reason.
  enum class Go { kNo, kInOrder, kPastQuiet, kEarly };
  Go MayGo(const Partition& from, Clock::time_point now, bool caught_up) const;
  // Whether a partition holding up from's head has records still to fetch.
  bool Lagging(const Partition& from) const;
  void Pop(Partition* p, Clock::time_point now, std::vector<RawRecord>* out);

  std::chrono::milliseconds wait_;
  size_t max_held_;
  std::map<std::string, Partition, std::less<>> partitions_;
  size_t held_ = 0;
  uint64_t released_early_ = 0;
  uint64_t released_past_quiet_ = 0;
};

}  // namespace edi
