// KafkaSource's side of the consumer group protocol: where an assigned partition starts, what
// happens before a revoked one is given up (see kafka_source.h, "Offsets and exactly once"),
// and leaving the group at shutdown.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <memory>
#include <thread>

#include "source/kafka_source.h"

namespace edi {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kCommittedTimeoutMs = 10000;
constexpr int kCommitAttempts = 3;

std::string OffsetText(int64_t offset) {
  return offset >= 0 ? std::to_string(offset) : std::string("none");
}

// Destroys a consumer handle, waiting at most `limit`: librdkafka 2.0 can hang for good
// destroying a consumer that had partitions of a topic deleted meanwhile (the topic created
// anew with fewer partitions). Past the limit the shutdown goes on without it; what was stored
// is stored and committed by then.
void DestroyWithin(rd_kafka_t* rk, int flags, std::chrono::milliseconds limit) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> destroyed = done->get_future();
  std::thread([rk, flags, done] {
    rd_kafka_destroy_flags(rk, flags);
    done->set_value();
  }).detach();
  if (destroyed.wait_for(limit) != std::future_status::ready) {
    spdlog::warn(
        "kafka: librdkafka did not finish closing the consumer within {} ms (a topic deleted "
        "while it was read?); exiting without waiting for it",
        limit.count());
  }
}

}  // namespace

void KafkaSource::OnAssign(rd_kafka_topic_partition_list_t* partitions) {
  // Kafka's committed offsets tell whether other instances stored records of a partition since
  // this database last did. Without them the database's positions alone decide.
  KafkaPartitions committed(rd_kafka_topic_partition_list_copy(partitions));
  const rd_kafka_resp_err_t committed_err =
      rd_kafka_committed(rk_.get(), committed.get(), kCommittedTimeoutMs);
  if (committed_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn(
        "kafka: cannot read the group's committed offsets ({}); starting from this "
        "database's positions",
        rd_kafka_err2str(committed_err));
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    const std::string source = KafkaSourceName(tp.topic, tp.partition);
    const std::optional<int64_t> stored = store_->StoredPosition(source);
    int64_t kafka = RD_KAFKA_OFFSET_INVALID;
    if (committed_err == RD_KAFKA_RESP_ERR_NO_ERROR && committed->elems[i].err == 0) {
      kafka = committed->elems[i].offset;
    }
    int64_t start = stored ? *stored + 1 : RD_KAFKA_OFFSET_INVALID;
    if (kafka >= 0 && kafka > start) start = kafka;
    // INVALID leaves the start to librdkafka: the committed offset, else auto.offset.reset.
    tp.offset = start;
    // A state left from before goes first: its queue reference's deleter would switch off the
    // wake-ups of the same queue set up below.
    partitions_.erase({tp.topic, tp.partition});
    // Its own queue, taken before the assignment: librdkafka then never forwards the
    // partition's records to the consumer queue, and the source decides when to read them.
    KafkaQueue queue(rd_kafka_queue_get_partition(rk_.get(), tp.topic, tp.partition));
    if (queue == nullptr) {
      fatal_ = Status::Unavailable("kafka: no queue for the assigned partition " + source);
      spdlog::critical("{}", fatal_.message());
      return;
    }
    rd_kafka_queue_forward(queue.get(), nullptr);
    rd_kafka_queue_io_event_enable(queue.get(), wakeup_[1], "p", 1);
    merge_.AddPartition(source);
    PartitionState& state = partitions_[{tp.topic, tp.partition}];
    // Starting after this database's last record, that record is the one to commit: a crash
    // can leave Kafka's committed offset behind it, and the partition's next owner must not
    // read the records between again because none arrived here since.
    const int64_t stored_here = stored && start == *stored + 1 ? *stored : -1;
    // That record is read again first, to check the topic is the one it was stored from, when
    // Kafka still has an offset there: a topic created anew with fewer records has none, and
    // starting after it is then out of range, which reads the partition from its beginning.
    int64_t check_at = -1;
    if (int64_t low = -1, high = -1;
        stored_here >= 0 &&
        rd_kafka_query_watermark_offsets(rk_.get(), tp.topic, tp.partition, &low, &high,
                                         kCommittedTimeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        low <= stored_here && stored_here < high) {
      check_at = stored_here;
      tp.offset = stored_here;
    }
    state = PartitionState{source,      start >= 0 ? start : -1,
                           stored_here, false,
                           -1,          std::move(queue),
                           {},          -1,
                           {},          {},
                           false,       check_at,
                           -1,          kafka >= 0 ? kafka : -1};
    if (stored && kafka >= 0 && kafka > *stored + 1) {
      // Normal when instances share the group; alone, the records between are not here (a
      // database restored from a backup, say) and Kafka may still hold them.
      spdlog::warn(
          "kafka: assigned {}: starting at {}, the group's committed offset; this database "
          "stored up to {}: offsets {}..{} are in another instance's database, or, with one "
          "instance, in none",
          source, start, *stored, *stored + 1, start - 1);
    } else {
      spdlog::info("kafka: assigned {}: starting at {} (stored here: {}, committed: {}){}", source,
                   start >= 0 ? std::to_string(start) : std::string("auto.offset.reset"),
                   stored ? std::to_string(*stored) : std::string("none"), OffsetText(kafka),
                   check_at >= 0 ? "; the record stored last is read again to check it" : "");
    }
  }
  if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_.get(), partitions); e != nullptr) {
    fatal_ = Status::Unavailable(std::string("kafka: cannot take the assigned partitions: ") +
                                 rd_kafka_error_string(e));
    spdlog::critical("{}", fatal_.message());
    rd_kafka_error_destroy(e);
    return;
  }
  counters_.assigned += static_cast<uint64_t>(partitions->cnt);
  // For librdkafka's next timed commit, as after each batch stored.
  std::vector<PartitionKey> keys;
  for (int i = 0; i < partitions->cnt; ++i) {
    keys.emplace_back(partitions->elems[i].topic, partitions->elems[i].partition);
  }
  HandOverStoredOffsets(keys);
}

void KafkaSource::OnRevoke(rd_kafka_topic_partition_list_t* partitions) {
  const bool lost = rd_kafka_assignment_lost(rk_.get()) != 0;
  std::vector<PartitionKey> keys;
  std::set<std::string> sources;
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = partitions->elems[i];
    keys.emplace_back(tp.topic, tp.partition);
    sources.insert(KafkaSourceName(tp.topic, tp.partition));
  }
  if (lost) {
    // Another instance may already be reading these partitions from the group's committed
    // offset: storing them here as well would store them twice across the two databases.
    DropRecords(sources, &counters_.dropped_lost);
    spdlog::warn(
        "kafka: {} partitions lost (evicted from the group, e.g. after an outage "
        "longer than session.timeout.ms); their next owner reads the unstored records",
        partitions->cnt);
  } else {
    // Finish the in-flight batch (records the merge released, in event-time order), then tell
    // the next owner where it ends. What the merge still holds of these partitions is not
    // stored here: released now it would go ahead of earlier records of other partitions not
    // read yet; the next owner reads it from the offset committed. Partitions kept keep theirs.
    if (!batch_.empty()) TryStoreBatch();
    if (!batch_.empty()) DropRecords(sources, &counters_.dropped_unowned);
    CommitSync(keys);
  }
  // Records still in a partition's queue are not stored here; its next owner reads them.
  for (const PartitionKey& k : keys) partitions_.erase(k);
  size_t left = 0;  // waiting in the merge for event-time order: not stored here
  for (const std::string& source : sources) left += merge_.RemovePartition(source);
  if (left > 0) {
    counters_.dropped_unowned += left;
    spdlog::info(
        "kafka: {} records waiting for event-time order were not stored here; {} reads "
        "them from the offset committed",
        left, closed_ ? "the next start" : "the partitions' next owner");
  }
  counters_.revoked += static_cast<uint64_t>(partitions->cnt);
  if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_.get(), partitions); e != nullptr) {
    spdlog::error("kafka: giving up partitions failed: {}", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
  spdlog::info("kafka: {} {} partition{}: {}", lost ? "lost" : "revoked", partitions->cnt,
               partitions->cnt == 1 ? "" : "s", fmt::join(sources, ", "));
}

void KafkaSource::CommitSync(const std::vector<PartitionKey>& keys) {
  // Partitions whose position the group's committed offset is already at need no commit (no
  // wait for an unreachable coordinator when nothing was stored since the assignment).
  std::vector<PartitionKey> due;
  for (const PartitionKey& k : keys) {
    const auto it = partitions_.find(k);
    if (it != partitions_.end() && it->second.stored >= 0 &&
        it->second.stored + 1 == it->second.committed) {
      continue;
    }
    due.push_back(k);
  }
  KafkaPartitions offsets = StoredOffsets(due);
  if (offsets == nullptr) return;  // nothing stored during this assignment
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  // Closing, a failed attempt means the coordinator is unreachable: retrying only delays exit.
  const int attempts = closed_ ? 1 : kCommitAttempts;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    err = rd_kafka_commit(rk_.get(), offsets.get(), 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (const PartitionKey& k : due) {
        if (auto it = partitions_.find(k); it != partitions_.end() && it->second.stored >= 0) {
          it->second.committed = it->second.stored + 1;
        }
      }
      return;
    }
    ++counters_.commit_failures;
    spdlog::warn(
        "kafka: committing offsets before giving up partitions failed (attempt {} of "
        "{}): {}",
        attempt, attempts, rd_kafka_err2str(err));
  }
  for (int i = 0; i < offsets->cnt; ++i) {
    ++counters_.handed_over_uncommitted;
    spdlog::error(
        "kafka: {} handed over without its committed offset {}: its next owner may "
        "store records again that this database already holds",
        KafkaSourceName(offsets->elems[i].topic, offsets->elems[i].partition),
        offsets->elems[i].offset);
  }
}

void KafkaSource::DropRecords(const std::set<std::string>& sources, uint64_t* counter) {
  const size_t before = batch_.size();
  std::erase_if(batch_, [&](const RawRecord& r) { return sources.contains(r.where.source); });
  size_t dropped = before - batch_.size();
  // Nothing left to retry: reading goes on at once.
  if (batch_.empty()) retrying_ = false;
  for (const std::string& source : sources) dropped += merge_.RemovePartition(source);
  *counter += dropped;
  if (dropped > 0) {
    spdlog::warn(
        "kafka: {} records of partitions given up were not stored here; their next "
        "owner reads them",
        dropped);
  }
}

Status KafkaSource::Close() {
  if (closed_) return Status::OK();
  Status result;
  // The in-flight batch is stored. Records the merge still holds for event-time order are not:
  // they are read again at the next start (the offsets committed are those stored), in order.
  const uint64_t batches_before = counters_.batches;
  if (!batch_.empty()) TryStoreBatch();
  if (!batch_.empty()) {
    result = Status::IOError("kafka: " + std::to_string(batch_.size()) +
                             " records could not be stored before shutdown; they are read again "
                             "at the next start");
  }
  // Revokes every partition through OnRevoke (which commits the stored offsets synchronously)
  // and leaves the group, for at most close_timeout: an unreachable coordinator would otherwise
  // hold the shutdown for a whole session timeout.
  closed_ = true;
  // librdkafka requires the queue references gone before closing; what is in the partition
  // queues is read again at the next start (or by the partitions' next owner).
  for (auto& [key, state] : partitions_) state.queue.reset();
  consumer_queue_.reset();
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_.get());
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(rk_.get(), queue); e != nullptr) {
    spdlog::warn("kafka: leaving the consumer group failed: {}", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
  const auto deadline = Clock::now() + options_.close_timeout;
  while (rd_kafka_consumer_closed(rk_.get()) == 0 && Clock::now() < deadline) {
    // Events, not callbacks: the queue may also carry records fetched meanwhile, which are
    // dropped here (the partitions' next owner reads them).
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 100);
    if (ev == nullptr) continue;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
      RebalanceTrampoline(rk_.get(), rd_kafka_event_error(ev),
                          rd_kafka_event_topic_partition_list(ev), this);
    } else if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_ERROR) {
      HandleConsumerError(rd_kafka_event_error(ev), rd_kafka_event_error_string(ev));
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(queue);
  // Giving the partitions up tries the batch once more (OnRevoke): stored then, nothing is
  // left to read again.
  if (!result.ok() && batch_.empty() && counters_.batches > batches_before) {
    spdlog::info("kafka: the last batch was stored on a second attempt while leaving the group");
    result = Status::OK();
  }
  if (rd_kafka_consumer_closed(rk_.get()) == 0) {
    spdlog::warn(
        "kafka: leaving the consumer group did not finish within {} ms (broker "
        "unreachable?); the group notices when the session times out",
        options_.close_timeout.count());
    DestroyWithin(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE, options_.close_timeout);
    return result;
  }
  DestroyWithin(rk_.release(), 0, options_.close_timeout);
  return result;
}

}  // namespace edi
