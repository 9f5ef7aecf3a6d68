// A librdkafka mock cluster for fault-injection tests (brokers down, request errors), with
// helpers to produce records, read a group's committed offsets and read a topic back. The mock
// keeps only a few MB per partition: tests keep their topics small.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace edi::testing {

// Kafka protocol API keys used with rd_kafka_mock_push_request_errors.
constexpr int16_t kApiProduce = 0;
constexpr int16_t kApiOffsetCommit = 8;

struct ConsumedMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
};

class MockKafka {
 public:
  explicit MockKafka(int brokers = 3) : brokers_(brokers) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (owner_ == nullptr) throw std::runtime_error(err);
    cluster_ = rd_kafka_mock_cluster_new(owner_, brokers);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~MockKafka() {
    if (producer_ != nullptr) rd_kafka_destroy(producer_);
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

  void CreateTopic(const std::string& topic, int partitions) {
    rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  }
  void SetAllBrokers(bool up) {
    for (int id = 1; id <= brokers_; ++id) {
      if (up) {
        rd_kafka_mock_broker_set_up(cluster_, id);
      } else {
        rd_kafka_mock_broker_set_down(cluster_, id);
      }
    }
  }

  // Produces to an explicit partition (-1: by key) and waits until the cluster has it.
  void Produce(const std::string& topic, int32_t partition, const std::string* value,
               const std::string& key = "") {
    rd_kafka_t* p = Producer();
    void* data = value == nullptr ? nullptr : const_cast<char*>(value->data());
    const size_t size = value == nullptr ? 0 : value->size();
    const void* key_data = key.empty() ? nullptr : key.data();
    const int32_t part = partition < 0 ? RD_KAFKA_PARTITION_UA : partition;
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(part),
                          RD_KAFKA_V_KEY(key_data, key.size()), RD_KAFKA_V_VALUE(data, size),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(e));
  }
  // `count` records spread round-robin over `partitions`, values "record-<first+i>".
  void ProduceNumbered(const std::string& topic, int partitions, int first, int count) {
    for (int i = first; i < first + count; ++i) {
      std::string v = "record-" + std::to_string(i);
      Produce(topic, i % partitions, &v);
    }
    Flush();
  }
  void Flush() {
    if (rd_kafka_flush(Producer(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("mock produce did not complete");
    }
  }

  // The group's committed offset per partition (absent: none committed).
  std::map<int32_t, int64_t> Committed(const std::string& group, const std::string& topic,
                                       int partitions) {
    char err[512];
    rd_kafka_conf_t* conf = BaseConf();
    rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof(err));
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; ++i) rd_kafka_topic_partition_list_add(l, topic.c_str(), i);
    std::map<int32_t, int64_t> out;
    if (rd_kafka_committed(c, l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < l->cnt; ++i) {
        if (l->elems[i].offset >= 0) out[l->elems[i].partition] = l->elems[i].offset;
      }
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    return out;
  }

  // Everything in the topic, read until `expected` messages arrived or `timeout` passed.
  std::vector<ConsumedMessage> ReadAll(const std::string& topic, int partitions, size_t expected,
                                       std::chrono::seconds timeout = std::chrono::seconds(20)) {
    char err[512];
    rd_kafka_conf_t* conf = BaseConf();
    rd_kafka_conf_set(conf, "group.id", "mock-reader", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; ++i) {
      rd_kafka_topic_partition_list_add(l, topic.c_str(), i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    std::vector<ConsumedMessage> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ConsumedMessage cm;
        cm.partition = m->partition;
        cm.offset = m->offset;
        if (m->key != nullptr) cm.key.emplace(static_cast<const char*>(m->key), m->key_len);
        if (m->payload != nullptr) cm.value.assign(static_cast<const char*>(m->payload), m->len);
        out.push_back(std::move(cm));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return out;
  }

 private:
  rd_kafka_conf_t* BaseConf() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    return conf;
  }
  rd_kafka_t* Producer() {
    if (producer_ == nullptr) {
      char err[512];
      rd_kafka_conf_t* conf = BaseConf();
      rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
      producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
      if (producer_ == nullptr) throw std::runtime_error(err);
    }
    return producer_;
  }

  int brokers_;
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace edi::testing
