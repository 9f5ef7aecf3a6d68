// KafkaAlertSink: findings produced as JSON to the alerts topic, keyed by the finding's HER-Id
// (no key when it names no party), so that all alerts about one party stay in order on one
// partition.
//
// The producer is idempotent (`enable.idempotence=true`): librdkafka's own retries never write
// a finding twice or out of order within a producer session. A finding whose delivery still
// fails (message timeout, broker refused) is counted and produced again after a backoff that
// doubles from retry_min to retry_max, until it is delivered or the process ends — it then stays
// undelivered in the database and is sent after the restart. A request that timed out may have
// been written all the same: delivery is at least once (the finding's id tells a repeat). A fatal
// idempotence error (the producer's sequence state is broken) replaces the producer and retries
// what was in flight.
//
// See finding_sink.h for the delivery contract and threading.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "sinks/finding_sink.h"
#include "source/kafka_client.h"

namespace edi {

struct KafkaAlertSinkOptions {
  std::string brokers;
  std::string topic;
  std::vector<KafkaProperty> properties;  // kafka.producer.*, applied over the defaults
  // The message value for a finding: its JSON object (report's FindingToJson).
  std::function<std::string(const Finding&)> serialize;
  FindingsDeliveredFn on_delivered;  // may be empty
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{60000};
  size_t max_in_flight = 50000;
};

struct AlertSinkCounters {
  uint64_t offered = 0;            // findings taken for delivery (repeats of in-flight excluded)
  uint64_t delivered = 0;          // acknowledged by the broker
  uint64_t delivery_failures = 0;  // attempts that failed (each retried)
  uint64_t retries = 0;            // attempts after the first
  uint64_t deferred = 0;           // not taken: over max_in_flight (still undelivered in SQLite)
  uint64_t producer_errors = 0;    // broker/transport errors librdkafka reported
  uint64_t producer_restarts = 0;  // producers replaced after a fatal error
};

class KafkaAlertSink : public FindingSink {
 public:
  // Fails with InvalidArgument naming the config line for an unknown or managed librdkafka
  // property, or with a missing broker list, topic or serializer.
  static Result<std::unique_ptr<KafkaAlertSink>> Create(const KafkaAlertSinkOptions& options);
  // What Create refuses of `options` (the same messages), without creating anything.
  static Status CheckOptions(const KafkaAlertSinkOptions& options);
  ~KafkaAlertSink() override;

  void Deliver(const std::vector<Finding>& findings) override;
  void Poll() override;
  size_t Flush(std::chrono::milliseconds timeout) override;
  size_t in_flight() const override { return pending_.size(); }

  const AlertSinkCounters& counters() const { return counters_; }

 private:
  static Result<KafkaConf> MakeConf(const KafkaAlertSinkOptions& options);
  using Clock = std::chrono::steady_clock;
  struct Pending {
    std::string key;      // HER-Id as text, or empty
    std::string payload;  // referenced (not copied) by librdkafka while queued
    int attempts = 0;
    bool queued = false;  // handed to librdkafka, waiting for its delivery report
    // A newer version of the finding (a repeat raised its severity) offered while this one
    // was queued: sent once this one is delivered, and only then is the finding delivered.
    std::string next_payload;
  };
  using Entry = std::unordered_map<std::string, Pending>::value_type;

  explicit KafkaAlertSink(const KafkaAlertSinkOptions& options) : options_(options) {}
  Status StartProducer();
  void Produce(Entry& entry);
  void ScheduleRetry(Entry& entry, const char* reason);
  void ProduceDueRetries();
  void ReportDelivered();
  void ReplaceProducerIfFatal();

  static void DeliveryTrampoline(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void ErrorTrampoline(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  KafkaAlertSinkOptions options_;
  KafkaConf conf_template_;  // a copy for replacing the producer
  KafkaHandle rk_;
  // Node-based: an Entry's address is the message opaque and stays valid until it is erased.
  std::unordered_map<std::string, Pending> pending_;
  std::multimap<Clock::time_point, std::string> retry_queue_;
  std::vector<std::string> delivered_;
  Clock::time_point last_error_logged_;
  bool closing_ = false;
  AlertSinkCounters counters_;
};

}  // namespace edi
