// Config: the daemon's YAML configuration file (schemas/config.schema.json documents it).
//
// Every key has a default, so an empty file is a valid configuration. Unknown keys and bad
// values are errors that name the file, the line and the key: a typo never silently falls back
// to a default. Plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace edi {

struct Config {
  std::string registry_dir;  // reference snapshots
  std::string database;      // SQLite file
  std::string log_level = "info";
  std::vector<std::string> rules;  // rule files, in order

  // A librdkafka property passed through as written (`kafka.consumer.*`, `kafka.producer.*`);
  // librdkafka itself judges names and values when the client is created.
  struct KafkaProperty {
    std::string name;
    std::string value;
    std::string where;  // "FILE:LINE", for messages
  };

  struct {
    std::string brokers;              // bootstrap servers, "host:port,host:port"
    std::vector<std::string> topics;  // access-log topics to consume
    std::string group_id = "edi-audit";
    std::string alerts_topic;  // findings are produced here; empty = no alerts topic
    std::vector<KafkaProperty> consumer;
    std::vector<KafkaProperty> producer;
  } kafka;

  struct {
    size_t batch_max_ms = 500;  // a batch is stored at most this long after its first record
    // A record waits at most this long for the other partitions to reach its event time
    // (0: records are processed in the order Kafka delivers them).
    size_t reorder_ms = 250;
    // /health reports a problem once no Kafka broker has been reachable this long.
    size_t kafka_unreachable_ms = 60000;
  } run;

  struct {
    // "HOST:PORT" where `run` serves GET /metrics and GET /health; empty: not served.
    std::string listen;
  } http;

  // Reconstruction (shared/DETECTIONS.md): all durations in event time.
  struct {
    EventTime learn_window = 14 * kMillisPerDay;
    size_t learn_min_actions = 20;
    double learn_min_share = 0.8;
    EventTime learning_period = 7 * kMillisPerDay;
    EventTime sweep_window = 10 * kMillisPerMinute;
    EventTime shared_window = 7 * kMillisPerDay;
    EventTime stale_lock_after = 30 * kMillisPerDay;
    EventTime ttl = 30 * kMillisPerDay;
  } state;

  struct {
    EventTime repeat_window = kMillisPerHour;
  } findings;

  struct {
    size_t max_record_bytes = 1 << 20;
    size_t max_parties_per_call = 1000;
  } decode;

  struct {
    size_t batch_size = 5000;
    bool keep_raw_records = true;
    size_t max_quarantine_bytes = 64 * 1024;
  } store;
};

// Parses `path`. On failure: InvalidArgument "FILE:LINE: key 'store.batch_size': ...".
Result<Config> LoadConfig(const std::string& path);
// Parses YAML text (`name` is used in messages).
Result<Config> ParseConfig(const std::string& text, const std::string& name);

}  // namespace edi
