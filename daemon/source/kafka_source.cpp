#include "source/kafka_source.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace edi {
namespace {

using Clock = std::chrono::steady_clock;

// Properties the exactly-once design depends on; see kafka_source.h.
const std::set<std::string, std::less<>> kManagedConsumerProperties = {
    "bootstrap.servers",
    "metadata.broker.list",
    "group.id",
    "enable.auto.commit",
    "auto.commit.enable",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "partition.assignment.strategy",
};

// Properties the user may set within a range. The commit interval: 0 would switch the timed
// commits off (offsets reaching Kafka only at revocations), and a long one widens what a
// partition's next owner stores again after a crash.
constexpr std::array<KafkaPropertyRange, 1> kRangedConsumerProperties = {{
    {"auto.commit.interval.ms", 100, 60000, "ms: how often stored offsets go to Kafka"},
}};

// Repeated errors of one kind are logged once per interval; all are counted.
constexpr auto kErrorLogInterval = std::chrono::seconds(10);

// Events served from the consumer queue at a time, before records are read again.
constexpr int kEventsPerServe = 100;

}  // namespace

KafkaSource::KafkaSource(const KafkaSourceOptions& options, BatchStore* store)
    : options_(options),
      store_(store),
      merge_(options.reorder_wait, options.reorder_max_held > 0
                                       ? options.reorder_max_held
                                       : std::max<size_t>(4 * options.batch_size, 10000)),
      read_buffer_(kReadChunk),
      retry_delay_(options.retry_min) {
  batch_.reserve(options_.batch_size);
}

KafkaSource::~KafkaSource() {
  // Queue references go before the handle (librdkafka requires it), wake-ups before the pipe.
  partitions_.clear();
  consumer_queue_.reset();
  if (rk_ != nullptr && !closed_) {
    // Like a crash: whatever is not stored is read again by whoever gets the partitions.
    rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
  rk_.reset();
  for (int fd : wakeup_) {
    if (fd >= 0) ::close(fd);
  }
}

Result<KafkaConf> KafkaSource::MakeConf(const KafkaSourceOptions& options) {
  if (options.brokers.empty()) {
    return Status::InvalidArgument("kafka.brokers: no brokers configured");
  }
  if (options.topics.empty()) return Status::InvalidArgument("kafka.topics: no topics configured");
  if (options.group_id.empty()) return Status::InvalidArgument("kafka.group_id: empty");
  if (options.batch_size == 0) return Status::InvalidArgument("store.batch_size: must be >= 1");
  const std::vector<KafkaProperty> fixed = {
      {"bootstrap.servers", options.brokers, ""},
      {"group.id", options.group_id, ""},
      {"client.id", "edi-audit", ""},
      {"partition.assignment.strategy", "cooperative-sticky", ""},
      // librdkafka commits the offsets the source stores after each batch (rd_kafka_offsets_store)
      // on a timer whose ticks a rebalance skips (see kafka_source.h): a commit of ours could go
      // out with a generation a rebalance is replacing, and librdkafka before 2.10 answers the
      // broker's ILLEGAL_GENERATION by dropping the whole assignment as lost.
      {"enable.auto.commit", "true", ""},
      {"enable.auto.offset.store", "false", ""},
      {"enable.partition.eof", "false", ""},
      // An audit trail must not start at the end of a topic it has never read.
      {"auto.offset.reset", "earliest", ""},
      // Bounds librdkafka's prefetch, per partition (each has a queue of its own): with the
      // merge, the only record buffers besides the batch in hand.
      {"queued.max.messages.kbytes", "8192", ""},
      // A fetch for partitions at their end waits this long for records at the broker. Only one
      // fetch is under way per broker, so a partition that ran dry waits out such a fetch before
      // it is fetched again, while the merge waits for it (Kafka's default: 500 ms).
      {"fetch.wait.max.ms", "100", ""},
      // How often the stored offsets go to Kafka (lag tools; see kafka_source.h).
      {"auto.commit.interval.ms", "1000", ""},
      // Statistics, for whether any broker is reachable (/health, edi_audit_kafka_brokers_up).
      {"statistics.interval.ms", "5000", ""},
  };
  return MakeKafkaConf("consumer", fixed, options.properties, kManagedConsumerProperties,
                       kRangedConsumerProperties);
}

Status KafkaSource::CheckOptions(const KafkaSourceOptions& options) {
  return MakeConf(options).status();
}

Result<std::unique_ptr<KafkaSource>> KafkaSource::Create(const KafkaSourceOptions& options,
                                                         BatchStore* store) {
  auto conf = MakeConf(options);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaSource> source(new KafkaSource(options, store));
  if (Status s = source->Start(std::move(*conf)); !s.ok()) return s;
  return source;
}

Status KafkaSource::Start(KafkaConf conf) {
  if (::pipe2(wakeup_, O_NONBLOCK | O_CLOEXEC) != 0) {
    return Status::IOError(std::string("kafka consumer: cannot create a pipe: ") +
                           std::strerror(errno));
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), RebalanceTrampoline);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), CommitTrampoline);
  rd_kafka_conf_set_error_cb(conf.get(), ErrorTrampoline);
  rd_kafka_conf_set_stats_cb(conf.get(), StatsTrampoline);
  char err[512] = "";
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err, sizeof(err));
  if (rk == nullptr) return Status::InvalidArgument(std::string("kafka consumer: ") + err);
  conf.release();  // rd_kafka_new took it
  rk_.reset(rk);
  rd_kafka_poll_set_consumer(rk);
  consumer_queue_.reset(rd_kafka_queue_get_consumer(rk));
  rd_kafka_queue_io_event_enable(consumer_queue_.get(), wakeup_[1], "c", 1);
  KafkaPartitions topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
  for (const std::string& t : options_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics.get());
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument(std::string("kafka.topics: cannot subscribe: ") +
                                   rd_kafka_err2str(e));
  }
  spdlog::info("kafka: consumer group '{}' subscribing to {} at {}", options_.group_id,
               fmt::join(options_.topics, ","), options_.brokers);
  return Status::OK();
}

Status KafkaSource::Poll(std::chrono::milliseconds max_wait) {
  if (closed_) return Status::Unavailable("kafka: the consumer is closed");
  const auto deadline = Clock::now() + max_wait;
  while (fatal_.ok()) {
    // Wake-ups written from here on are for queues looked at below, or later.
    for (char sink[64]; ::read(wakeup_[0], sink, sizeof(sink)) > 0;) {
    }
    bool progress = ServeEvents();
    if (!fatal_.ok()) break;
    bool caught_up = true;
    progress |= ReadPartitions(&caught_up) > 0;
    auto now = Clock::now();
    progress |= ReleaseIntoBatch(now, caught_up);
    if (retrying_ ? now >= retry_at_ : BatchDue(now)) {
      TryStoreBatch();
      // Whatever arrived meanwhile is read before anything goes for having waited.
      progress = true;
      now = Clock::now();
    }
    if (now >= deadline) break;
    if (progress) continue;
    Clock::duration wait = deadline - now;
    if (retrying_) {
      wait = std::min(wait, retry_at_ - now);
    } else {
      if (!batch_.empty()) {
        wait = std::min<Clock::duration>(wait, batch_started_ + options_.batch_max_wait - now);
      }
      if (auto due = merge_.NextDeadline(); due && batch_.size() < options_.batch_size) {
        wait = std::min<Clock::duration>(wait, *due - now);
      }
      if (hasten_due_) wait = std::min<Clock::duration>(wait, *hasten_due_ - now);
    }
    WaitForWakeup(wait);
  }
  return fatal_;
}

bool KafkaSource::ServeEvents() {
  bool any = false;
  for (int i = 0; i < kEventsPerServe && fatal_.ok(); ++i) {
    // Rebalances run as callbacks in here; a record is only here if its partition is not read
    // from a queue of its own (an error of the consumer otherwise).
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), 0);
    if (m == nullptr) break;
    any = true;
    HandleMessage(m);
    rd_kafka_message_destroy(m);
  }
  return any;
}

bool KafkaSource::BatchDue(Clock::time_point now) const {
  return !batch_.empty() &&
         (batch_.size() >= options_.batch_size || now >= batch_started_ + options_.batch_max_wait);
}

void KafkaSource::HandleMessage(const rd_kafka_message_t* m) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    std::string text = rd_kafka_message_errstr(m);
    if (m->rkt != nullptr) {
      text = KafkaSourceName(rd_kafka_topic_name(m->rkt), m->partition) + ": " + text;
    }
    HandleConsumerError(m->err, text);
    return;
  }
  auto it = partitions_.find({rd_kafka_topic_name(m->rkt), m->partition});
  if (it == partitions_.end()) {
    ++counters_.dropped_unowned;  // revoked meanwhile: its next owner reads it
    return;
  }
  HandleRecord(m, &it->second);
}

bool KafkaSource::ReleaseIntoBatch(Clock::time_point now, bool caught_up) {
  // A refused batch is retried as it was; the records read meanwhile wait in the merge.
  if (retrying_ || batch_.size() >= options_.batch_size || merge_.held() == 0) return false;
  const size_t before = batch_.size();
  merge_.Release(now, caught_up, options_.batch_size - batch_.size(), &batch_);
  if (before == 0 && !batch_.empty()) batch_started_ = now;
  return batch_.size() > before;
}

void KafkaSource::HandleConsumerError(rd_kafka_resp_err_t err, const std::string& text) {
  ++counters_.consumer_errors;
  char fatal_text[512] = "";
  if (rd_kafka_resp_err_t f = rd_kafka_fatal_error(rk_.get(), fatal_text, sizeof(fatal_text));
      f != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fatal_ = Status::Unavailable(std::string("kafka consumer: fatal error ") +
                                 rd_kafka_err2name(f) + ": " + fatal_text);
    spdlog::critical("{}", fatal_.message());
    return;
  }
  const auto now = Clock::now();
  if (err == last_error_ && now - last_error_logged_ < kErrorLogInterval) {
    spdlog::debug("kafka: {}", text);
    return;
  }
  last_error_ = err;
  last_error_logged_ = now;
  if (IsTransientKafkaError(err)) {
    spdlog::warn("kafka: {} ({}; librdkafka retries by itself, {} errors so far)", text,
                 rd_kafka_err2name(err), counters_.consumer_errors);
  } else {
    spdlog::error("kafka: {} ({})", text, rd_kafka_err2name(err));
  }
}

Status KafkaSource::TryStoreBatch() {
  if (batch_.empty()) {
    retrying_ = false;
    return Status::OK();
  }
  Status s = store_->StoreBatch(batch_);
  if (!s.ok()) {
    ++counters_.store_failures;
    if (!retrying_) ++counters_.pauses;
    retry_delay_ = retrying_ ? std::min(retry_delay_ * 2, options_.retry_max) : options_.retry_min;
    retrying_ = true;
    retry_at_ = Clock::now() + retry_delay_;
    spdlog::error("storing a batch of {} records failed; reading stopped, retrying in {} ms: {}",
                  batch_.size(), retry_delay_.count(), s.message());
    return s;
  }
  // Each partition's last record in the batch (its records keep their order in Kafka): after
  // its offsets went back (the topic created anew), the lower offsets are where it stands.
  std::map<std::string, int64_t> last;
  for (const RawRecord& r : batch_) last[r.where.source] = r.where.position;
  std::vector<PartitionKey> keys;
  for (auto& [key, state] : partitions_) {
    auto it = last.find(state.source);
    if (it == last.end()) continue;
    state.stored = it->second;
    keys.push_back(key);
  }
  counters_.records += batch_.size();
  ++counters_.batches;
  for (RawRecord& r : batch_) {
    if (spare_.size() >= options_.batch_size) break;
    if (r.bytes.capacity() > kSpareBytes) continue;
    spare_.push_back(std::move(r));
  }
  batch_.clear();
  if (retrying_) {
    spdlog::info("storing succeeded again ({} failed attempts so far); reading resumed",
                 counters_.store_failures);
    retrying_ = false;
  }
  HandOverStoredOffsets(keys);
  // A partition whose offsets went back: committed with each batch for the rest of its
  // assignment, as the timed commits only ever raise a committed offset.
  std::vector<PartitionKey> lowered;
  for (const PartitionKey& k : keys) {
    if (partitions_.at(k).commit_lower) lowered.push_back(k);
  }
  if (KafkaPartitions offsets = StoredOffsets(lowered); offsets != nullptr) {
    if (rd_kafka_resp_err_t e = rd_kafka_commit(rk_.get(), offsets.get(), 1);
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka: committing the offsets of partitions whose offsets went back: {}",
                   rd_kafka_err2str(e));
    }
  }
  return Status::OK();
}

void KafkaSource::HandOverStoredOffsets(const std::vector<PartitionKey>& keys) {
  // For librdkafka's next commit (see Create); the database holds the offsets that count.
  if (KafkaPartitions offsets = StoredOffsets(keys); offsets != nullptr) {
    if (rd_kafka_resp_err_t e = rd_kafka_offsets_store(rk_.get(), offsets.get());
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::debug("kafka: offsets not handed to librdkafka for committing: {}",
                    rd_kafka_err2str(e));
    }
  }
}

KafkaPartitions KafkaSource::StoredOffsets(const std::vector<PartitionKey>& keys) const {
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(keys.size())));
  for (const PartitionKey& k : keys) {
    auto it = partitions_.find(k);
    if (it == partitions_.end() || it->second.stored < 0) continue;
    rd_kafka_topic_partition_list_add(list.get(), k.first.c_str(), k.second)->offset =
        it->second.stored + 1;
  }
  if (list->cnt == 0) return nullptr;
  return list;
}

std::vector<std::string> KafkaSource::assigned_sources() const {
  std::vector<std::string> out;
  for (const auto& [key, state] : partitions_) out.push_back(state.source);
  return out;
}

std::vector<KafkaSource::PartitionLag> KafkaSource::Lags() const {
  std::vector<PartitionLag> out;
  for (const auto& [key, state] : partitions_) {
    int64_t low = -1, high = -1;
    if (state.next_offset < 0 ||
        rd_kafka_get_watermark_offsets(rk_.get(), key.first.c_str(), key.second, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    out.push_back({key.first, key.second, std::max<int64_t>(high - state.next_offset, 0)});
  }
  return out;
}

// librdkafka calls these on the thread that polls (Poll or Close), with the source as opaque.
void KafkaSource::RebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                      rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->OnAssign(partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    self->OnRevoke(partitions);
  } else {
    // The group state is unknown: give everything up unstored, as if lost, and rejoin.
    spdlog::error("kafka: rebalance failed: {}; dropping the assignment", rd_kafka_err2str(err));
    std::set<std::string> all;
    for (const auto& [key, state] : self->partitions_) all.insert(state.source);
    self->DropRecords(all, &self->counters_.dropped_lost);
    self->partitions_.clear();
    rd_kafka_assign(rk, nullptr);
  }
}

void KafkaSource::CommitTrampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && offsets != nullptr && i < offsets->cnt;
       ++i) {
    err = offsets->elems[i].err;
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  ++self->counters_.commit_failures;
  const auto now = Clock::now();
  if (now - self->last_error_logged_ >= kErrorLogInterval) {
    self->last_error_logged_ = now;
    spdlog::warn(
        "kafka: offset commit failed: {} ({} so far; harmless: the database holds the offsets, "
        "the next commit catches up)",
        rd_kafka_err2str(err), self->counters_.commit_failures);
  }
}

void KafkaSource::ErrorTrampoline(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  self->HandleConsumerError(static_cast<rd_kafka_resp_err_t>(err), reason);
}

int KafkaSource::StatsTrampoline(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  static_cast<KafkaSource*>(opaque)->HandleStats(std::string_view(json, json_len));
  return 0;  // librdkafka frees the text
}

void KafkaSource::HandleStats(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return;
  const auto brokers = d.FindMember("brokers");
  if (brokers == d.MemberEnd() || !brokers->value.IsObject()) return;
  // The brokers learned from the cluster's metadata, or until there are any the configured
  // (bootstrap) addresses; librdkafka's internal and logical ones (the group coordinator's
  // alias) are no connections of their own. A bootstrap address and the broker learned behind
  // it are one broker.
  int learned = 0, learned_up = 0, configured_up = 0;
  for (const auto& b : brokers->value.GetObject()) {
    if (!b.value.IsObject()) continue;
    const auto source = b.value.FindMember("source");
    const auto state = b.value.FindMember("state");
    if (source == b.value.MemberEnd() || state == b.value.MemberEnd() ||
        !source->value.IsString() || !state->value.IsString()) {
      continue;
    }
    const std::string_view src(source->value.GetString(), source->value.GetStringLength());
    const bool is_up =
        std::string_view(state->value.GetString(), state->value.GetStringLength()) == "UP";
    if (src == "learned") {
      ++learned;
      learned_up += is_up ? 1 : 0;
    } else if (src == "configured") {
      configured_up += is_up ? 1 : 0;
    }
  }
  const int up = learned > 0 ? learned_up : configured_up;
  brokers_up_ = up;
  if (up > 0) {
    unreachable_since_.reset();
  } else if (!unreachable_since_) {
    unreachable_since_ = Clock::now();
  }
}

}  // namespace edi
