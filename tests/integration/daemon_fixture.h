// The integration tests' shared setting: one real Kafka broker (tools/kafka/start.sh) and one
// generated traffic set per test process, and helpers to run edi-audit on them and check its
// databases.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "integration/daemon_process.h"
#include "integration/real_kafka.h"
#include "integration/traffic.h"

namespace edi::testing {

constexpr int kGeneratedRecords = 20000;

// The broker and the traffic, once per test process (a global test environment).
class KafkaEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           ("edi-it-" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    traffic_ = new Traffic(MakeTraffic(*dir_ + "/gen", kGeneratedRecords));
    // Restarted daemons wait for the killed one's session to expire: keep that short.
    setenv("EDI_KAFKA_EXTRA_CONFIG", "group.min.session.timeout.ms=1000", 1);
    kafka_ = new RealKafka();
    kafka_->Start();
  }
  void TearDown() override {
    kafka_->Stop();
    delete kafka_;
    delete traffic_;
    if (std::getenv("EDI_KEEP_TEST_DIR") == nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static std::string* dir_;
  static RealKafka* kafka_;
  static Traffic* traffic_;
};
inline std::string* KafkaEnvironment::dir_ = nullptr;
inline RealKafka* KafkaEnvironment::kafka_ = nullptr;
inline Traffic* KafkaEnvironment::traffic_ = nullptr;

// Helpers for tests that run edi-audit against the broker.
class DaemonTest : public ::testing::Test {
 public:
  static RealKafka* kafka() { return KafkaEnvironment::kafka_; }
  static const Traffic& traffic() { return *KafkaEnvironment::traffic_; }
  static const std::string& dir() { return *KafkaEnvironment::dir_; }

  // Creates `topic` and produces the traffic to it; returns where each record landed.
  std::vector<Produced> ProduceTraffic(const std::string& topic, size_t first, size_t count) {
    std::vector<Produced> records;
    std::vector<std::string> keys;
    for (size_t i = first; i < first + count; ++i) {
      records.push_back({traffic().values[i], -1, -1});
      keys.push_back(traffic().keys[i]);
    }
    kafka()->Produce(topic, &records, keys);
    return records;
  }

  // A config file for one daemon; `extra` is appended under `kafka:`.
  std::string WriteConfig(const std::string& name, const std::string& topic,
                          const std::string& group, const std::string& kafka_extra = "",
                          int batch_size = 500, const std::string& registry = "") {
    const std::string path = dir() + "/" + name + ".yaml";
    std::ofstream out(path);
    out << "registry: " << (registry.empty() ? traffic().registry_dir : registry) << "\n"
        << "database: " << Db(name) << "\n"
        << "log_level: info\n"
        << "decode:\n  max_record_bytes: 16384\n"
        << "store:\n  batch_size: " << batch_size << "\n"
        << "run:\n  batch_max_ms: 200\n"
        << "kafka:\n  brokers: " << kafka()->bootstrap() << "\n  topics: [" << topic << "]\n"
        << "  group_id: " << group << "\n"
        << "  consumer:\n    session.timeout.ms: 3000\n    heartbeat.interval.ms: 500\n"
        << kafka_extra;
    return path;
  }
  static std::string Db(const std::string& name) { return dir() + "/" + name + ".db"; }
  static std::string Log(const std::string& name) { return dir() + "/" + name + ".log"; }

  // Waits until the databases together hold `n` records (events + quarantine).
  static bool WaitForRecords(const std::vector<const AuditDb*>& dbs, int64_t n,
                             std::chrono::seconds timeout = std::chrono::seconds(90)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int64_t total = 0;
      for (const AuditDb* db : dbs) total += std::max<int64_t>(db->Records(), 0);
      if (total >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  // Every produced record is in exactly one database exactly once: as the event of its
  // requestId at its own partition and offset, or quarantined there. No requestId twice.
  void ExpectExactlyOnce(const std::vector<const AuditDb*>& dbs, const std::string& topic,
                         const std::vector<Produced>& produced, size_t first) {
    std::map<std::pair<std::string, int64_t>, int> seen;
    std::map<std::pair<std::string, int64_t>, std::string> event_at;
    std::set<std::pair<std::string, int64_t>> quarantined;
    std::map<std::string, int> request_seen;
    for (const AuditDb* db : dbs) {
      for (const auto& [rid, where] : db->Events()) {
        ++seen[where];
        event_at[where] = rid;
        ++request_seen[rid];
      }
      for (const auto& where : db->Quarantined()) {
        ++seen[where];
        quarantined.insert(where);
      }
    }
    int failures = 0;
    for (size_t i = 0; i < produced.size() && failures < 10; ++i) {
      const std::pair<std::string, int64_t> where{
          "kafka:" + topic + "/" + std::to_string(produced[i].partition), produced[i].offset};
      const size_t t = first + i;
      // A well-formed record quarantined is as wrong as one lost.
      const bool ok_kind = traffic().must_quarantine[t]
                               ? quarantined.contains(where)
                               : event_at[where] == traffic().request_ids[t];
      if (seen[where] != 1 || !ok_kind) {
        ++failures;
        ADD_FAILURE() << "record " << t << " at " << where.first << "@" << where.second
                      << " stored " << seen[where] << " times"
                      << (ok_kind ? "" : " (not as expected)");
      }
    }
    EXPECT_EQ(seen.size(), produced.size());
    for (const auto& [rid, n] : request_seen) {
      EXPECT_EQ(n, 1) << "requestId " << rid << " stored in " << n << " databases";
    }
  }
};

}  // namespace edi::testing
