// KafkaSource reading the partitions' own queues: which partition is read when, what a
// partition that ran dry tells the merge, hastening librdkafka's fetch of it, and waiting for
// the queues' wake-ups (see kafka_source.h).
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "common/fnv.h"
#include "source/kafka_source.h"

namespace edi {
namespace {

using Clock = std::chrono::steady_clock;

// How long a partition may be dry while Kafka has more of it before its fetch is hastened (a
// fetch already under way usually arrives sooner), and how long after that, with nothing come,
// the rest counts as records never delivered (transaction markers, aborted or uncommitted).
constexpr auto kHastenAfter = std::chrono::milliseconds(5);
constexpr auto kHastenedGrace = std::chrono::milliseconds(500);
constexpr auto kUnseenGrace = std::chrono::milliseconds(2000);
// How long going back to a partition's beginning may take (a topic created anew).
constexpr int kSeekTimeoutMs = 5000;
// The longest sleep between looks at the queues, should a wake-up be missed.
constexpr auto kMaxSleep = std::chrono::milliseconds(100);

int CeilMillis(Clock::duration d) {
  if (d <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::min<int64_t>(ms, 60000));
}

}  // namespace

size_t KafkaSource::ReadPartitions(bool* caught_up) {
  *caught_up = true;
  hasten_due_.reset();
  if (retrying_) return 0;
  // Each partition is read only when the merge holds none of its records, so this share keeps
  // the merge within its bound.
  const size_t want = std::clamp<size_t>(
      merge_.max_held() / std::max<size_t>(partitions_.size(), 1), 1, kReadChunk);
  const auto now = Clock::now();
  size_t read = 0;
  for (auto& [key, p] : partitions_) {
    if (p.queue == nullptr || merge_.held(p.source) > 0) continue;
    const ssize_t n = rd_kafka_consume_batch_queue(p.queue.get(), 0, read_buffer_.data(), want);
    if (n < 0) {
      HandleConsumerError(rd_kafka_last_error(), p.source + ": reading its queue failed");
      continue;
    }
    if (static_cast<size_t>(n) == want) *caught_up = false;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = read_buffer_[static_cast<size_t>(i)];
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        HandleMessage(m);
      } else {
        HandleRecord(m, &p);
        ++read;
      }
      rd_kafka_message_destroy(m);
    }
    if (n > 0) {
      p.dry_since.reset();
    } else {
      merge_.SetFetch(p.source, CheckDryPartition(&p, key, now));
    }
  }
  return read;
}

EventTimeMerge::Fetch KafkaSource::CheckDryPartition(PartitionState* p, const PartitionKey& key,
                                                     Clock::time_point now) {
  using Fetch = EventTimeMerge::Fetch;
  if (!p->dry_since) p->dry_since = now;
  // The high watermark of the last fetch tells whether Kafka has more.
  int64_t low = -1, high = -1;
  if (p->next_offset < 0 ||
      rd_kafka_get_watermark_offsets(rk_.get(), key.first.c_str(), key.second, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high <= p->next_offset) {
    return Fetch::kUnknown;
  }
  if (p->hastened_at_offset == p->next_offset) {
    // A hastened fetch from here brought nothing: what lies between is never delivered.
    return now - p->hastened < kHastenedGrace ? Fetch::kBehind : Fetch::kUnknown;
  }
  // Started right after the last record of a transaction (a restart, a partition handed
  // over), the one offset left is its commit marker, which is never delivered.
  if (!p->seen && high == p->next_offset + 1 && now - *p->dry_since >= kHastenedGrace) {
    return Fetch::kUnknown;
  }
  // Nothing delivered for this long since the assignment although Kafka's high watermark is
  // ahead: the offsets left hold no records (an aborted transaction and its markers).
  if (!p->seen && now - *p->dry_since >= kUnseenGrace) return Fetch::kUnknown;
  // Hastened only once the start is settled (a record came): before, librdkafka may still be
  // resetting an offset that is out of range.
  if (p->seen) {
    const Clock::time_point due = *p->dry_since + kHastenAfter;
    if (now >= due) {
      HastenFetch(p, key, now);
    } else if (!hasten_due_ || due < *hasten_due_) {
      hasten_due_ = due;
    }
  }
  return Fetch::kBehind;
}

void KafkaSource::HastenFetch(PartitionState* p, const PartitionKey& key, Clock::time_point now) {
  // librdkafka (before 2.1) looks at a partition whose queue was full only once a second, so a
  // partition read faster than that runs dry while Kafka holds more of it. A seek to where
  // reading goes on next (everything before it was read) makes the fetcher fetch it at once; a
  // fetch response under way for it is dropped and fetched again. Once per offset.
  p->hastened_at_offset = p->next_offset;
  p->hastened = now;
  KafkaPartitions seek(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(seek.get(), key.first.c_str(), key.second)->offset =
      p->next_offset;
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_.get(), seek.get(), 0); e != nullptr) {
    spdlog::debug("kafka: {}: seek to fetch at once failed: {}", p->source,
                  rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
  ++counters_.fetches_hastened;
}

void KafkaSource::WaitForWakeup(Clock::duration wait) {
  pollfd fd{wakeup_[0], POLLIN, 0};
  ::poll(&fd, 1, CeilMillis(std::min<Clock::duration>(wait, kMaxSleep)));
}

void KafkaSource::HandleRecord(const rd_kafka_message_t* m, PartitionState* state) {
  PartitionState& p = *state;
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const int64_t appended = rd_kafka_message_timestamp(m, &type);
  // The record's time in Kafka, its size and its first bytes (where the record names its
  // requestId): the same when Kafka delivers a record again, not when another record took its
  // offset.
  const std::string_view payload(static_cast<const char*>(m->payload), m->len);
  const uint64_t fingerprint = ContentHash64(payload.substr(0, 256)) ^
                               (static_cast<uint64_t>(appended) * 0x9E3779B97F4A7C15ull) ^
                               (static_cast<uint64_t>(m->len) << 40);
  if (p.recent.empty()) p.recent.assign(kRecentOffsets, {-1, 0});
  auto& recent = p.recent[static_cast<uint64_t>(m->offset) % kRecentOffsets];
  if (p.rewound_from >= 0) {
    // Fetched before the seek back to the beginning: read again in order once it comes.
    if (m->offset > p.rewound_from) return;
    p.rewound_from = -1;
  }
  if (const int64_t check_at = std::exchange(p.check_at, -1); m->offset == check_at) {
    // The record this database stored last, read again: held here, reading goes on after it;
    // not, the topic was created anew meanwhile and its records took the old offsets: it is
    // read from its beginning, offsets going back (below).
    RawRecord r;
    r.bytes.assign(payload.substr(0, std::min(m->len, options_.max_record_bytes)));
    r.full_size = m->len;
    r.where = {p.source, m->offset};
    if (store_->HoldsRecord(r).value_or(true)) return;
    spdlog::warn(
        "kafka: {}: offset {} holds a record this database does not have, though it stored up "
        "to there (the topic created anew while the daemon was stopped?): reading the partition "
        "from its beginning",
        p.source, m->offset);
    KafkaPartitions seek(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(seek.get(), rd_kafka_topic_name(m->rkt), m->partition)
        ->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_.get(), seek.get(), kSeekTimeoutMs);
    if (e == nullptr && seek->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      p.rewound_from = m->offset;  // this record comes again with the rest
      return;
    }
    // Read from here on then, the offsets going back below: nothing is skipped but the start.
    spdlog::error("kafka: {}: cannot go back to the partition's beginning: {}", p.source,
                  e != nullptr ? rd_kafka_error_string(e) : rd_kafka_err2str(seek->elems[0].err));
    if (e != nullptr) rd_kafka_error_destroy(e);
  }
  if (p.next_offset >= 0 && m->offset < p.next_offset) {
    if (p.seen && m->offset >= p.first_read && recent.first == m->offset &&
        recent.second == fingerprint) {
      ++counters_.redelivered;  // read before (a fetch under way while seeking, say)
      return;
    }
    // Below where reading was to go on, and not the record read at this offset before in this
    // assignment: reading began again at the partition's beginning (auto.offset.reset, the
    // offset being out of range), and its offsets went back: the topic was created anew, or
    // its log truncated. Everything from here is read; records this database holds already are
    // recognised as duplicates. (A record read again more than kRecentOffsets offsets back is
    // taken for one of these, and stored as a duplicate.)
    spdlog::warn(
        "kafka: {}: offsets went back: reading starts at {}, below {} where this database "
        "stored up to (topic created anew, or its log truncated?)",
        p.source, m->offset, p.next_offset);
    ++counters_.offsets_went_back;
    p.commit_lower = true;
  }
  if (p.next_offset >= 0 && m->offset > p.next_offset) {
    int64_t low = -1, high = -1;
    const bool in_log =
        !p.seen &&
        rd_kafka_get_watermark_offsets(rk_.get(), rd_kafka_topic_name(m->rkt), m->partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        low >= 0 && low <= p.next_offset;
    if (in_log) {
      // Still in the partition's log but not delivered: the commit marker of the transaction
      // whose last record was stored here, or records of an aborted one.
      spdlog::debug("kafka: {}: offsets {}..{} hold no records (transaction markers?)", p.source,
                    p.next_offset, m->offset - 1);
    } else if (!p.seen) {
      // The start offset is gone from the broker: retention deleted records never stored here.
      spdlog::warn(
          "kafka: {}: offsets {}..{} are no longer in Kafka (retention?) and are not in "
          "the audit trail",
          p.source, p.next_offset, m->offset - 1);
    } else {
      // Compaction, transaction markers and aborted records leave gaps that hold no records.
      spdlog::debug("kafka: {}: offsets {}..{} absent", p.source, p.next_offset, m->offset - 1);
    }
  }
  if (!p.seen || m->offset < p.first_read) p.first_read = m->offset;
  p.seen = true;
  recent = {m->offset, fingerprint};
  RawRecord r;
  if (!spare_.empty()) {
    r = std::move(spare_.back());
    spare_.pop_back();
  }
  const size_t keep = std::min(m->len, options_.max_record_bytes);
  r.bytes.assign(static_cast<const char*>(m->payload), keep);
  r.full_size = m->len;
  r.where.source = p.source;
  r.where.position = m->offset;
  p.next_offset = m->offset + 1;
  // Its wait in the merge counts from when it arrived in Kafka, as far as the clocks tell.
  auto arrived = Clock::now();
  if (const EventTime wall = WallClockMillis();
      type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && appended < wall) {
    arrived -= std::chrono::milliseconds(wall - appended);
  }
  merge_.Add(std::move(r), arrived);
}

}  // namespace edi
