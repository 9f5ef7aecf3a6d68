// KafkaClient: what the Kafka consumer (source/) and the alerts producer (sinks/) share — owning
// handles for librdkafka objects, configuration from user properties with errors that name the
// config file line, and librdkafka's own log lines routed to spdlog.
//
// Plain functions and RAII types; a handle is used as librdkafka allows (see rdkafka.h).
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace edi {

// One librdkafka property from the config file (`kafka.consumer.*`, `kafka.producer.*`).
struct KafkaProperty {
  std::string name;   // "ssl.ca.location"
  std::string value;  // as written; librdkafka parses it
  std::string where;  // "FILE:LINE" for messages; may be empty
};

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct KafkaPartitionsDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
// A queue reference (a partition's, the consumer's). An IO wake-up set on the queue is switched
// off first: librdkafka keeps the queue after the reference, and must not write to a descriptor
// the application closes.
struct KafkaQueueDeleter {
  void operator()(rd_kafka_queue_t* q) const {
    rd_kafka_queue_io_event_enable(q, -1, nullptr, 0);
    rd_kafka_queue_destroy(q);
  }
};
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;
using KafkaPartitions = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaPartitionsDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaQueueDeleter>;

// Sets one property. On failure: InvalidArgument "WHERE: kafka.<role>.NAME: <librdkafka's
// reason>" (role is "consumer" or "producer"), e.g. for a property librdkafka does not know.
Status SetKafkaProperty(rd_kafka_conf_t* conf, std::string_view role, const KafkaProperty& p);

// A property the user may set, but only to a whole number in [min, max]: outside it the
// delivery guarantees would not hold.
struct KafkaPropertyRange {
  std::string_view name;
  int64_t min = 0, max = 0;
  std::string_view meaning;  // for the message: "how often stored offsets go to Kafka"
};

// A configuration with `fixed` applied first and then the user's `properties`. A user property
// named in `managed` is refused (edi-audit sets it itself, and a different value would break
// the delivery guarantees), and one named in `ranges` outside its range; the message says why.
// Routes librdkafka's log lines to spdlog.
Result<KafkaConf> MakeKafkaConf(std::string_view role, const std::vector<KafkaProperty>& fixed,
                                const std::vector<KafkaProperty>& properties,
                                const std::set<std::string, std::less<>>& managed,
                                std::span<const KafkaPropertyRange> ranges = {});

// "kafka:TOPIC/PARTITION", the source name of a record in source_positions and events.
std::string KafkaSourceName(std::string_view topic, int32_t partition);

// True for errors librdkafka recovers from by itself (broker down, transport, timeouts): they
// are logged and counted, never fatal.
bool IsTransientKafkaError(rd_kafka_resp_err_t err);

}  // namespace edi
