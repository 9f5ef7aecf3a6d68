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
// record at least as late (so nothing earlier can still come from it), or once any held record
// has waited `wait` and everything there was to read has been read (a partition that is quiet
// or lagging holds nobody up for longer: the earliest records go until that one has gone), or
// when more than `max_held` records wait. The second condition matters when the consumer
// itself was busy (a long transaction): records that arrived meanwhile are read before
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

  // `wait` zero: no merging, records go on as they come.
  EventTimeMerge(std::chrono::milliseconds wait, size_t max_held)
      : wait_(wait), max_held_(max_held) {}

  // A partition (by source name) is read from now on: its records are waited for.
  void AddPartition(const std::string& source);
  // The partition is no longer read; its held records are dropped and counted in the result.
  size_t RemovePartition(const std::string& source);

  // Takes a record of an added partition (`r.where.source`), read at `now`.
  void Add(RawRecord r, Clock::time_point now);
  // Moves the records that may go on at `now` to `out`, in event-time order, at most `limit`.
  // `caught_up`: nothing more is ready to be read for the partitions holding no records, so
  // records past their wait may go (until a partition runs empty here: it may have more).
  void Release(Clock::time_point now, bool caught_up, size_t limit, std::vector<RawRecord>* out);
  // Moves every held record to `out`, in event-time order (draining, handing partitions over).
  void ReleaseAll(std::vector<RawRecord>* out);

  size_t held() const { return held_; }
  // Records of one partition held.
  size_t held(std::string_view source) const;
  size_t max_held() const { return max_held_; }
  // Records that went on before every partition had caught up with them: for having waited
  // `wait`, or because more than `max_held` waited. Each may have overtaken an earlier record
  // of a partition that lagged.
  uint64_t released_early() const { return released_early_; }
  // When the oldest held record may go on regardless of the other partitions; nullopt if none.
  std::optional<Clock::time_point> NextDeadline() const;

 private:
  struct Held {
    RawRecord record;
    EventTime time;
    Clock::time_point read;
  };
  struct Partition {
    std::deque<Held> queue;
    // The latest event time read from the partition; nothing earlier is expected from it.
    EventTime latest = std::numeric_limits<EventTime>::min();
  };

  // The partition whose head is earliest; nullptr when nothing is held.
  Partition* Earliest();
  // Whether from's head may go; *early: only for having waited or for the cap.
  bool MayGo(const Partition& from, Clock::time_point now, bool caught_up, bool* early) const;
  void Pop(Partition* p, std::vector<RawRecord>* out);

  std::chrono::milliseconds wait_;
  size_t max_held_;
  std::map<std::string, Partition, std::less<>> partitions_;
  size_t held_ = 0;
  uint64_t released_early_ = 0;
};

}  // namespace edi
