// KafkaSource: access-log records from Kafka topics, consumed in a consumer group, handed on in
// batches to a BatchStore that stores each batch together with its offsets in ONE transaction.
//
// Offsets and exactly once. The offsets that count are the ones the BatchStore keeps (SQLite's
// source_positions: per "kafka:TOPIC/PARTITION" the offset of the last record stored). Kafka's
// committed offsets are a copy for lag tools and for handing partitions between instances:
//
//  - After each stored batch its offsets (+1) are handed to librdkafka, which commits them to
//    Kafka every `auto.commit.interval.ms` (edi-audit's default: 1 s; 100 ms to 60 s accepted),
//    skipping the ticks that fall in a rebalance; a failed commit is counted and logged, never
//    retried: the next supersedes it. A commit that went out during a rebalance could fail with
//    ILLEGAL_GENERATION, which makes librdkafka before 2.10 drop the whole assignment as lost:
//    the partitions' next owner would then store again what this instance had stored since the
//    last commit. (At a revocation librdkafka also commits the offsets of the partitions given
//    up, the same ones the synchronous commit below sends.)
//  - On assignment a partition starts at max(stored + 1, Kafka committed). A restarted
//    instance thus continues after its own last transaction (a crash between the SQLite commit
//    and the Kafka commit re-reads nothing), and an instance that held the partition earlier
//    skips what other instances stored since. With neither, librdkafka's `auto.offset.reset`
//    decides (edi-audit's default: earliest). Starting after its own last record, the source
//    reads that record again first (when Kafka still has it): when the BatchStore holds no such
//    record, the topic was created anew while the daemon was stopped (its records took the old
//    offsets), and the partition is read from its beginning; the records after it fetched
//    before the seek are dropped, to be read in their order.
//  - On revocation the in-flight batch is stored first, then the offsets of the revoked
//    partitions are committed to Kafka synchronously, and only then are the partitions given
//    up. The next owner (another instance, with its own database) starts at exactly the
//    offset after the last record this instance stored: nothing lost, nothing stored twice.
//  - Kafka is only ever committed after the records are stored, so a committed offset never
//    runs ahead of a database: what an instance stored but had not yet committed to Kafka can
//    at worst be read again by the next owner, never skipped. That window only opens when
//    partitions are *lost* (the group evicted this instance, e.g. after a network partition
//    longer than session.timeout.ms; the in-flight batch is then dropped unstored, the new
//    owner reads it) or when the synchronous commit at revocation fails; both are logged with
//    the partitions. A single instance is exactly once regardless: its own positions win.
//  - A database restored from an older backup resumes at the group's committed offset, not
//    at its own older positions (to re-read, reset the group's offsets or use a new group).
//  - Records Kafka delivers twice within one assignment (below the next expected offset) are
//    skipped and counted; requestId deduplication in the store is the last line of defence.
//
// Records of different partitions enter batches in event-time order (EventTimeMerge): one
// message's calls may be spread over partitions, and the state must see them in the order
// they happened. Each assigned partition is read from a queue of its own (librdkafka's
// partition queue, not forwarded to the consumer queue), and only when the merge holds none of
// its records: the source, not the order of fetch responses, decides which partition is read
// next. A partition that is ahead in event time is thus left in librdkafka's queue, whose
// fetcher stops when that queue is full, while the partitions behind are fetched and read;
// catching up on a backlog keeps the order as well as reading live traffic does. A record waits
// for a partition that has nothing to read at most `reorder_wait`, or ten times as long while
// Kafka has records of that partition not yet fetched (its high watermark, as of the last fetch,
// is beyond the next offset), counted from when the record arrived in Kafka (its timestamp) and
// from when the partition ran dry. librdkafka 2.0 looks at a partition whose queue was full only
// once a second; one that runs dry with more in Kafka is fetched at once instead (a seek to its
// next offset, once per offset, after 5 ms dry).
//
// Batches end at `batch_size` records or `batch_max_wait` after their first record. Nothing
// is dropped: empty records (tombstones) and records over `max_record_bytes` (kept capped, with
// their full size) go to the BatchStore like any other, which quarantines them.
//
// Back-pressure: the source runs on the caller's thread and reads only as fast as batches are
// stored; besides the batch in hand the only buffers are librdkafka's partition queues, each
// bounded by `queued.max.messages.kbytes` (edi-audit's default: 8 MiB per partition), and the
// merge (at most `reorder_max_held` records). When a batch cannot be stored, reading stops (the
// partition queues fill up and librdkafka stops fetching; heartbeats and rebalances are still
// served) and the batch is retried with backoff.
//
// Broker outages are logged (warn), counted and survived: librdkafka reconnects by itself.
//
// Not thread-safe: one thread calls Poll and Close, and the BatchStore is called on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "pipeline/pipeline.h"
#include "source/event_time_merge.h"
#include "source/kafka_client.h"

namespace edi {

// Where a KafkaSource's batches go.
class BatchStore {
 public:
  virtual ~BatchStore() = default;
  // Stores the batch and the highest position per source in one transaction. On failure
  // nothing of it is stored and the source will offer the same records again.
  virtual Status StoreBatch(const std::vector<RawRecord>& batch) = 0;
  // The last position stored for `source`, nullopt when none is.
  virtual std::optional<int64_t> StoredPosition(const std::string& source) = 0;
  // Whether the database holds record `r` already (stored, a duplicate of a stored one, or
  // quarantined from its position); nullopt when nothing tells.
  virtual std::optional<bool> HoldsRecord(const RawRecord& r) {
    (void)r;
    return std::nullopt;
  }
};

struct KafkaSourceOptions {
  std::string brokers;              // bootstrap.servers
  std::vector<std::string> topics;  // subscribed; must exist (auto-creation is off)
  std::string group_id;
  std::vector<KafkaProperty> properties;  // kafka.consumer.*, applied over the defaults
  size_t batch_size = 5000;
  std::chrono::milliseconds batch_max_wait{500};
  size_t max_record_bytes = 1 << 20;
  // Records of different partitions go into batches in event-time order: a record waits until
  // every assigned partition has shown one at least as late, for at most this long (zero: no
  // waiting, Kafka's order). See event_time_merge.h.
  std::chrono::milliseconds reorder_wait{250};
  // Records the merge holds at most; zero: max(4 * batch_size, 10,000).
  size_t reorder_max_held = 0;
  // Retry delays for a batch the BatchStore refused: doubling from min to max.
  std::chrono::milliseconds retry_min{200};
  std::chrono::milliseconds retry_max{30000};
  // How long Close may take to leave the group before it gives up (the batch is stored first).
  std::chrono::milliseconds close_timeout{10000};
};

struct KafkaSourceCounters {
  uint64_t records = 0;            // handed to the BatchStore in stored batches
  uint64_t batches = 0;            // stored batches
  uint64_t store_failures = 0;     // StoreBatch attempts that failed
  uint64_t redelivered = 0;        // records Kafka delivered again, skipped
  uint64_t offsets_went_back = 0;  // assignments that began below the stored position
  uint64_t dropped_unowned = 0;  // records of partitions no longer assigned (the owner reads them)
  uint64_t dropped_lost = 0;     // unstored records of lost partitions (the new owner reads them)
  uint64_t commit_failures = 0;  // Kafka offset commits that failed (harmless; counted)
  // Partitions given up although committing their offsets failed: the next owner reads from
  // the older committed offset, and may store again what this database holds.
  uint64_t handed_over_uncommitted = 0;
  uint64_t consumer_errors = 0;   // broker/transport/consumer errors librdkafka reported
  uint64_t assigned = 0;          // partitions assigned, over time
  uint64_t revoked = 0;           // partitions revoked or lost, over time
  uint64_t pauses = 0;            // times reading stopped for back-pressure (a refused batch)
  uint64_t fetches_hastened = 0;  // partitions that ran dry with more in Kafka, fetched at once
  // Records that went into a batch before every partition had caught up with their event time
  // while one of those had records still to fetch (after 10 * reorder_wait): the order may be
  // off (see event_time_merge.h).
  uint64_t merged_early = 0;
  // Records that went on ahead of partitions with nothing to read (after reorder_wait).
  uint64_t merged_past_quiet = 0;
};

class KafkaSource {
 public:
  // Creates the consumer and subscribes. Fails with InvalidArgument naming the config line for
  // an unknown or managed librdkafka property, or a missing broker list, topic or group.
  // `store` must outlive the source.
  // What Create refuses of `options` (the same messages), without creating anything: for a
  // start that checks its whole configuration before it makes a database.
  static Status CheckOptions(const KafkaSourceOptions& options);
  static Result<std::unique_ptr<KafkaSource>> Create(const KafkaSourceOptions& options,
                                                     BatchStore* store);
  // Destroys the consumer without storing the batch in hand or leaving the group cleanly
  // (like a crash: nothing is lost, the records are read again). Call Close to drain.
  ~KafkaSource();

  // Consumes for up to `max_wait`, storing every batch that is full or due (and retrying a
  // refused one when its backoff has passed). Returns non-OK only for a fatal consumer error
  // (the instance cannot continue, e.g. fenced by another instance with its group.instance.id).
  Status Poll(std::chrono::milliseconds max_wait);

  // Drains: stores the batch in hand, commits the stored offsets to Kafka synchronously and
  // leaves the group (revoking all partitions). Non-OK when the batch could not be stored
  // (its records are read again on the next start) or leaving failed; the source is unusable
  // afterwards either way.
  Status Close();

  KafkaSourceCounters counters() const {
    KafkaSourceCounters c = counters_;
    c.merged_early = merge_.released_early();
    c.merged_past_quiet = merge_.released_past_quiet();
    return c;
  }
  // Records consumed but not yet stored (in the batch, or waiting for other partitions).
  size_t pending_records() const { return batch_.size() + merge_.held(); }
  // Partitions currently assigned, as source names.
  std::vector<std::string> assigned_sources() const;
  // Per assigned partition whose position and high watermark are known: the records Kafka holds
  // beyond the next offset to read (as of librdkafka's last fetch; no broker round trip). A
  // transactional producer's last commit marker counts as one.
  struct PartitionLag {
    std::string topic;
    int32_t partition = 0;
    int64_t records = 0;
  };
  std::vector<PartitionLag> Lags() const;

  // The brokers librdkafka holds a connection to, from its statistics (every
  // statistics.interval.ms, 5 s unless configured); -1 before the first statistics, or when
  // they are switched off (0).
  int brokers_up() const { return brokers_up_; }
  // Since when no broker has been reachable, as of the statistics; nullopt while one is, or
  // when nothing is known.
  std::optional<std::chrono::steady_clock::time_point> unreachable_since() const {
    return unreachable_since_;
  }

 private:
  using PartitionKey = std::pair<std::string, int32_t>;
  struct PartitionState {
    std::string source;        // kafka:TOPIC/PARTITION
    int64_t next_offset = -1;  // next offset expected; -1 until known
    int64_t stored = -1;       // last offset stored during this assignment; -1 none
    bool seen = false;         // a record arrived during this assignment
    int64_t first_read = -1;   // the lowest offset read during this assignment; -1 none
    KafkaQueue queue;          // the partition's own queue; null once given up
    // Since when its queue has had nothing to read; nullopt while it has.
    std::optional<std::chrono::steady_clock::time_point> dry_since;
    // The offset and time of the last hastened fetch (see HastenFetch); -1 none.
    int64_t hastened_at_offset = -1;
    std::chrono::steady_clock::time_point hastened;
    // What was read at the most recent offsets (offset, fingerprint), by offset modulo the
    // size: tells a record read again from another one at an offset read before (the topic
    // created anew while it was read). Empty until the first record.
    std::vector<std::pair<int64_t, uint64_t>> recent;
    // Its offsets went back: each position stored is committed at once, as the timed commits
    // never lower a committed offset.
    bool commit_lower = false;
    // The offset of the last record this database stored, read again first to check that it
    // is still that record; -1 once checked, or when reading starts elsewhere.
    int64_t check_at = -1;
    // Reading went back to the beginning from this offset (the check found another record):
    // records after it, fetched before, are dropped until one from the beginning comes; -1.
    int64_t rewound_from = -1;
    // The group's committed offset as this source knows it (read at the assignment, or
    // committed by CommitSync); -1 unknown. A partition whose stored position it already
    // covers has nothing to commit when it is given up.
    int64_t committed = -1;
  };
  static constexpr size_t kRecentOffsets = 8192;

  // Records read from one partition queue at a time.
  static constexpr size_t kReadChunk = 1000;

  KafkaSource(const KafkaSourceOptions& options, BatchStore* store);
  Status Start(KafkaConf conf);

  static void RebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void CommitTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t* offsets, void* opaque);
  static void ErrorTrampoline(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static int StatsTrampoline(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  void HandleStats(std::string_view json);

  // kafka_source.cpp: the batch loop.
  // Serves the consumer queue: rebalances and errors. Whether anything was there.
  bool ServeEvents();
  void HandleMessage(const rd_kafka_message_t* m);
  void HandleConsumerError(rd_kafka_resp_err_t err, const std::string& text);
  // Moves the records the merge lets go into the batch, up to the batch size; whether any went.
  bool ReleaseIntoBatch(std::chrono::steady_clock::time_point now, bool caught_up);
  bool BatchDue(std::chrono::steady_clock::time_point now) const;
  // One attempt to store the batch in hand; on success hands its offsets to librdkafka for the
  // next timed commit, on failure stops reading and schedules a retry.
  Status TryStoreBatch();
  // Offsets (stored + 1) of `keys` that were stored during their current assignment.
  KafkaPartitions StoredOffsets(const std::vector<PartitionKey>& keys) const;
  static Result<KafkaConf> MakeConf(const KafkaSourceOptions& options);
  // Hands the stored offsets of `keys` to librdkafka for its next timed commit.
  void HandOverStoredOffsets(const std::vector<PartitionKey>& keys);

  // kafka_read.cpp: reading the partitions' own queues.
  // Reads the partitions the merge holds no records of, and tells the merge what is known of
  // those still without records. `*caught_up`: none of them has more to read just now.
  // Returns the number of records read.
  size_t ReadPartitions(bool* caught_up);
  // Checks a record's offset and hands it to the merge.
  void HandleRecord(const rd_kafka_message_t* m, PartitionState* p);
  // What Kafka has of a partition that has nothing to read just now; hastens its fetch when
  // it has run dry with more in Kafka.
  EventTimeMerge::Fetch CheckDryPartition(PartitionState* p, const PartitionKey& key,
                                          std::chrono::steady_clock::time_point now);
  // Makes librdkafka fetch the partition at once, from the next offset.
  void HastenFetch(PartitionState* p, const PartitionKey& key,
                   std::chrono::steady_clock::time_point now);
  // Waits for a partition queue or the consumer queue to receive something, at most `wait`.
  void WaitForWakeup(std::chrono::steady_clock::duration wait);

  // kafka_rebalance.cpp: the group's assignment changes.
  void OnAssign(rd_kafka_topic_partition_list_t* partitions);
  void OnRevoke(rd_kafka_topic_partition_list_t* partitions);
  void CommitSync(const std::vector<PartitionKey>& keys);
  void DropRecords(const std::set<std::string>& sources, uint64_t* counter);

  KafkaSourceOptions options_;
  BatchStore* store_;
  KafkaHandle rk_;
  KafkaQueue consumer_queue_;  // for its wake-ups; rd_kafka_consumer_poll serves it
  // Written by librdkafka when a queue receives something: [0] is read, [1] written.
  int wakeup_[2] = {-1, -1};
  std::map<PartitionKey, PartitionState> partitions_;
  EventTimeMerge merge_;
  std::vector<rd_kafka_message_t*> read_buffer_;
  // When a partition that ran dry with more in Kafka is to have its fetch hastened.
  std::optional<std::chrono::steady_clock::time_point> hasten_due_;
  std::vector<RawRecord> batch_;
  // Records of stored batches, emptied, for the next ones to be read into: their buffers
  // (up to kSpareBytes) are reused rather than allocated again for every record.
  std::vector<RawRecord> spare_;
  static constexpr size_t kSpareBytes = 4096;
  std::chrono::steady_clock::time_point batch_started_;
  bool retrying_ = false;  // a refused batch is in hand; nothing is read
  std::chrono::steady_clock::time_point retry_at_;
  std::chrono::milliseconds retry_delay_;
  Status fatal_;
  bool closed_ = false;
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::chrono::steady_clock::time_point last_error_logged_;
  int brokers_up_ = -1;
  std::optional<std::chrono::steady_clock::time_point> unreachable_since_;
  KafkaSourceCounters counters_;  // merged_* are the merge's
};

}  // namespace edi
