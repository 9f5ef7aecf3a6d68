#include "sinks/kafka_alert_sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace edi {
namespace {

// Properties the idempotent, at-least-once delivery depends on.
const std::set<std::string, std::less<>> kManagedProducerProperties = {
    "bootstrap.servers",     "metadata.broker.list", "enable.idempotence", "acks",
    "request.required.acks", "transactional.id",
};

constexpr auto kErrorLogInterval = std::chrono::seconds(10);

}  // namespace

Result<KafkaConf> KafkaAlertSink::MakeConf(const KafkaAlertSinkOptions& options) {
  if (options.brokers.empty())
    return Status::InvalidArgument("kafka.brokers: no brokers configured");
  if (options.topic.empty()) return Status::InvalidArgument("kafka.alerts_topic: empty");
  if (!options.serialize) return Status::InvalidArgument("alerts sink: no finding serializer");
  const std::vector<KafkaProperty> fixed = {
      {"bootstrap.servers", options.brokers, ""},
      {"client.id", "edi-audit-alerts", ""},
      {"enable.idempotence", "true", ""},
      {"acks", "all", ""},
      {"linger.ms", "20", ""},
  };
  return MakeKafkaConf("producer", fixed, options.properties, kManagedProducerProperties);
}

Status KafkaAlertSink::CheckOptions(const KafkaAlertSinkOptions& options) {
  return MakeConf(options).status();
}

Result<std::unique_ptr<KafkaAlertSink>> KafkaAlertSink::Create(
    const KafkaAlertSinkOptions& options) {
  auto conf = MakeConf(options);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaAlertSink> sink(new KafkaAlertSink(options));
  rd_kafka_conf_set_opaque(conf->get(), sink.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), DeliveryTrampoline);
  rd_kafka_conf_set_error_cb(conf->get(), ErrorTrampoline);
  sink->conf_template_ = std::move(*conf);
  if (Status s = sink->StartProducer(); !s.ok()) return s;
  return sink;
}

KafkaAlertSink::~KafkaAlertSink() {
  closing_ = true;
  if (rk_ != nullptr) {
    // Undelivered findings stay undelivered in the database; delivery reports that would
    // arrive now must not touch a sink that is going away.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_.get(), 0);
    rk_.reset();
  }
}

Status KafkaAlertSink::StartProducer() {
  char err[512] = "";
  rd_kafka_conf_t* conf = rd_kafka_conf_dup(conf_template_.get());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka alerts producer: ") + err);
  }
  rk_.reset(rk);
  return Status::OK();
}

void KafkaAlertSink::Deliver(const std::vector<Finding>& findings) {
  for (const Finding& f : findings) {
    if (auto it = pending_.find(f.id); it != pending_.end()) {
      // In flight already. An escalated finding is a newer version: it replaces a payload
      // librdkafka does not hold, else it follows the one it holds.
      if (f.escalated) {
        Pending& p = it->second;
        (p.queued ? p.next_payload : p.payload) = options_.serialize(f);
      }
      continue;
    }
    if (pending_.size() >= options_.max_in_flight) {
      ++counters_.deferred;  // offered again from the database once the backlog drains
      continue;
    }
    Pending p;
    if (f.her_id != 0) p.key = std::to_string(f.her_id);
    p.payload = options_.serialize(f);
    auto [it, inserted] = pending_.emplace(f.id, std::move(p));
    ++counters_.offered;
    Produce(*it);
  }
}

void KafkaAlertSink::Produce(Entry& entry) {
  Pending& p = entry.second;
  if (p.attempts++ > 0) ++counters_.retries;
  // The payload is not copied: it lives in pending_ until the delivery report.
  rd_kafka_resp_err_t err;
  if (p.key.empty()) {
    err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                            RD_KAFKA_V_VALUE(p.payload.data(), p.payload.size()),
                            RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_OPAQUE(&entry), RD_KAFKA_V_END);
  } else {
    err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                            RD_KAFKA_V_KEY(p.key.data(), p.key.size()),
                            RD_KAFKA_V_VALUE(p.payload.data(), p.payload.size()),
                            RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_OPAQUE(&entry), RD_KAFKA_V_END);
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    p.queued = true;
    return;
  }
  ScheduleRetry(entry, rd_kafka_err2str(err));
}

void KafkaAlertSink::ScheduleRetry(Entry& entry, const char* reason) {
  Pending& p = entry.second;
  p.queued = false;
  ++counters_.delivery_failures;
  auto delay = options_.retry_min;
  for (int i = 1; i < p.attempts && delay < options_.retry_max; ++i) delay *= 2;
  delay = std::min(delay, options_.retry_max);
  retry_queue_.emplace(Clock::now() + delay, entry.first);
  const auto now = Clock::now();
  if (now - last_error_logged_ >= kErrorLogInterval) {
    last_error_logged_ = now;
    spdlog::warn(
        "alerts: delivering finding {} to {} failed: {} (attempt {}, retrying in {} ms; "
        "{} failures so far)",
        entry.first, options_.topic, reason, p.attempts, delay.count(),
        counters_.delivery_failures);
  }
}

void KafkaAlertSink::ProduceDueRetries() {
  const auto now = Clock::now();
  while (!retry_queue_.empty() && retry_queue_.begin()->first <= now) {
    std::string id = std::move(retry_queue_.begin()->second);
    retry_queue_.erase(retry_queue_.begin());
    auto it = pending_.find(id);
    if (it != pending_.end() && !it->second.queued) Produce(*it);
  }
}

void KafkaAlertSink::ReportDelivered() {
  if (delivered_.empty()) return;
  std::vector<std::string> ids;
  ids.swap(delivered_);
  if (options_.on_delivered) options_.on_delivered(ids);
}

void KafkaAlertSink::Poll() {
  rd_kafka_poll(rk_.get(), 0);
  ReplaceProducerIfFatal();
  ProduceDueRetries();
  ReportDelivered();
}

size_t KafkaAlertSink::Flush(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pending_.empty()) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    rd_kafka_poll(rk_.get(), static_cast<int>(std::min<int64_t>(wait.count(), 100)));
    ReplaceProducerIfFatal();
    ProduceDueRetries();
    ReportDelivered();
  }
  ReportDelivered();
  return pending_.size();
}

void KafkaAlertSink::ReplaceProducerIfFatal() {
  char text[512] = "";
  const rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk_.get(), text, sizeof(text));
  if (fatal == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  spdlog::error(
      "alerts: the idempotent producer failed fatally ({}: {}); replacing it and "
      "retrying {} findings in flight",
      rd_kafka_err2name(fatal), text, pending_.size());
  // Purged messages come back through delivery reports as failures and are retried.
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_.get(), 0);
  for (auto& entry : pending_) {
    if (entry.second.queued) ScheduleRetry(entry, "producer replaced");
  }
  rk_.reset();
  ++counters_.producer_restarts;
  if (Status s = StartProducer(); !s.ok()) {
    spdlog::critical("alerts: {}", s.message());  // the same config worked at startup
  }
}

void KafkaAlertSink::DeliveryTrampoline(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaAlertSink*>(opaque);
  auto* entry = static_cast<Entry*>(m->_private);
  if (self->closing_ || entry == nullptr || !entry->second.queued) return;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    Pending& p = entry->second;
    if (!p.next_payload.empty()) {
      // Its newer version goes next (produced from Poll, not from inside this report).
      p.payload = std::move(p.next_payload);
      p.next_payload.clear();
      p.queued = false;
      p.attempts = 0;
      self->retry_queue_.emplace(Clock::now(), entry->first);
      return;
    }
    ++self->counters_.delivered;
    self->delivered_.push_back(entry->first);
    self->pending_.erase(entry->first);
    return;
  }
  self->ScheduleRetry(*entry, rd_kafka_err2str(m->err));
}

void KafkaAlertSink::ErrorTrampoline(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaAlertSink*>(opaque);
  ++self->counters_.producer_errors;
  const auto now = Clock::now();
  if (now - self->last_error_logged_ < kErrorLogInterval) return;
  self->last_error_logged_ = now;
  spdlog::warn("alerts: {} ({}; librdkafka retries by itself, {} errors so far)", reason,
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
               self->counters_.producer_errors);
}

}  // namespace edi
