// A real single-node Kafka broker for integration tests, started and stopped with the project's
// own scripts (tools/kafka/start.sh, stop.sh), plus a producer that records where each record
// landed and a reader for topics.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace edi::testing {

// Where the broker put one produced record.
struct Produced {
  std::string value;
  int32_t partition = -1;  // where it went; produced there when set beforehand, else by key
  int64_t offset = -1;
};

struct TopicRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
};

class RealKafka {
 public:
  // Runs tools/kafka/start.sh; throws with its output when the broker does not come up.
  // Started again after Pause, it is the same broker: same data, same port.
  void Start() {
    const std::string cmd = std::string(EDI_SOURCE_DIR) + "/tools/kafka/start.sh " +
                            (dir_.empty() ? "" : "'" + dir_ + "'") + " 2>&1";
    FILE* out = popen(cmd.c_str(), "r");
    if (out == nullptr) throw std::runtime_error("cannot run " + cmd);
    std::string text;
    char line[4096];
    while (std::fgets(line, sizeof(line), out) != nullptr) {
      std::string l(line);
      text += l;
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
      if (l.rfind("EDI_KAFKA_DIR=", 0) == 0) dir_ = l.substr(14);
      if (l.rfind("EDI_KAFKA_BOOTSTRAP=", 0) == 0) bootstrap_ = l.substr(20);
    }
    if (pclose(out) != 0 || dir_.empty() || bootstrap_.empty()) {
      throw std::runtime_error("tools/kafka/start.sh failed:\n" + text);
    }
  }
  // Stops the broker and keeps its data (a broker outage); Start brings it back.
  void Pause() {
    const std::string cmd =
        std::string(EDI_SOURCE_DIR) + "/tools/kafka/stop.sh '" + dir_ + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("stopping the broker failed");
  }
  void Stop() {
    if (dir_.empty()) return;
    const std::string cmd =
        std::string(EDI_SOURCE_DIR) + "/tools/kafka/stop.sh '" + dir_ + "' --clean >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "stopping the broker failed\n");
    dir_.clear();
  }
  const std::string& bootstrap() const { return bootstrap_; }

  void CreateTopic(const std::string& name, int partitions) {
    rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, {});
    char err[512];
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(name.c_str(), partitions, 1, err, sizeof(err));
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &topic, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    std::string failure;
    if (ev == nullptr) {
      failure = "timed out";
    } else {
      size_t n = 0;
      const rd_kafka_topic_result_t** results =
          rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
      if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_event_error_string(ev);
      } else if (n != 1 || rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = n == 1 ? rd_kafka_topic_result_error_string(results[0]) : "no result";
      }
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(topic);
    rd_kafka_destroy(rk);
    if (!failure.empty()) throw std::runtime_error("creating topic " + name + ": " + failure);
  }

  // Deletes a topic and waits until the broker no longer lists it.
  void DeleteTopic(const std::string& name) {
    rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, {});
    rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &topic, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    std::string failure = ev == nullptr ? "timed out" : "";
    if (ev != nullptr) {
      size_t n = 0;
      const rd_kafka_topic_result_t** results =
          rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
      if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_event_error_string(ev);
      } else if (n != 1 || rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = n == 1 ? rd_kafka_topic_result_error_string(results[0]) : "no result";
      }
      rd_kafka_event_destroy(ev);
    }
    // Deleting is asynchronous on the broker: wait until the metadata no longer has it.
    for (int i = 0; i < 300 && failure.empty(); ++i) {
      const rd_kafka_metadata_t* md = nullptr;
      if (rd_kafka_metadata(rk, 1, nullptr, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      bool listed = false;
      for (int t = 0; t < md->topic_cnt; ++t) listed = listed || name == md->topics[t].topic;
      rd_kafka_metadata_destroy(md);
      if (!listed) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(topic);
    rd_kafka_destroy(rk);
    if (!failure.empty()) throw std::runtime_error("deleting topic " + name + ": " + failure);
  }

  // Deletes a partition's records before `offset` (its log then starts there), as retention
  // does.
  void DeleteRecordsBefore(const std::string& topic, int32_t partition, int64_t offset) {
    rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, {});
    rd_kafka_topic_partition_list_t* before = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(before, topic.c_str(), partition)->offset = offset;
    rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(before);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteRecords(rk, &del, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    std::string failure = ev == nullptr ? "timed out" : "";
    if (ev != nullptr) {
      if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_event_error_string(ev);
      } else {
        const rd_kafka_topic_partition_list_t* r =
            rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        if (r == nullptr || r->cnt != 1 || r->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          failure = r == nullptr || r->cnt != 1 ? "no result" : rd_kafka_err2str(r->elems[0].err);
        }
      }
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteRecords_destroy(del);
    rd_kafka_topic_partition_list_destroy(before);
    rd_kafka_destroy(rk);
    if (!failure.empty()) throw std::runtime_error("deleting records of " + topic + ": " + failure);
  }

  // Produces `records` (nullopt value: a tombstone) with their keys, in order, and fills in
  // where each landed. Throws if any delivery fails.
  void Produce(const std::string& topic, std::vector<Produced>* records,
               const std::vector<std::string>& keys) {
    rd_kafka_t* rk = NewClient(
        RD_KAFKA_PRODUCER,
        {{"linger.ms", "20"}, {"enable.idempotence", "true"}, {"message.max.bytes", "4000000"}},
        /*dr=*/true);
    for (size_t i = 0; i < records->size(); ++i) {
      Produced& r = (*records)[i];
      const std::string& key = keys[i];
      void* value = r.value == kTombstone ? nullptr : const_cast<char*>(r.value.data());
      const size_t size = r.value == kTombstone ? 0 : r.value.size();
      const void* key_data = key.empty() ? nullptr : key.data();
      while (true) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic.c_str()),
            RD_KAFKA_V_PARTITION(r.partition >= 0 ? r.partition : RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_KEY(key_data, key.size()), RD_KAFKA_V_VALUE(value, size),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&r), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(rd_kafka_err2str(e));
        rd_kafka_poll(rk, 50);
      }
      rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    rd_kafka_destroy(rk);
    for (const Produced& r : *records) {
      if (r.offset < 0) throw std::runtime_error("a produced record was not delivered");
    }
  }

  // Produces `values` to one partition in one committed transaction: the broker appends a
  // commit marker after them, an offset that is never delivered to a consumer.
  void ProduceInTransaction(const std::string& topic, int32_t partition,
                            const std::vector<std::string>& values, bool abort = false) {
    rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", "edi-test-" + topic}});
    auto check = [&](rd_kafka_error_t* e) {
      if (e == nullptr) return;
      const std::string text = rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
      rd_kafka_destroy(rk);
      throw std::runtime_error("transaction: " + text);
    };
    check(rd_kafka_init_transactions(rk, 60000));
    check(rd_kafka_begin_transaction(rk));
    for (const std::string& v : values) {
      if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        check(rd_kafka_error_new(RD_KAFKA_RESP_ERR__FAIL, "producing failed"));
      }
    }
    if (abort) {
      check(rd_kafka_flush(rk, 60000) == RD_KAFKA_RESP_ERR_NO_ERROR
                ? nullptr
                : rd_kafka_error_new(RD_KAFKA_RESP_ERR__FAIL, "flushing failed"));
      check(rd_kafka_abort_transaction(rk, 60000));
    } else {
      check(rd_kafka_commit_transaction(rk, 60000));
    }
    rd_kafka_destroy(rk);
  }

  // Everything in `topic` (assigned directly, no group) until `expected` records or `quiet`
  // without a new one.
  std::vector<TopicRecord> ReadAll(const std::string& topic, int partitions, size_t expected,
                                   std::chrono::milliseconds quiet = std::chrono::seconds(5)) {
    rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER, {{"enable.auto.commit", "false"}});
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; ++i) {
      rd_kafka_topic_partition_list_add(l, topic.c_str(), i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    std::vector<TopicRecord> out;
    auto last = std::chrono::steady_clock::now();
    while (out.size() < expected && std::chrono::steady_clock::now() - last < quiet) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        TopicRecord r;
        r.partition = m->partition;
        r.offset = m->offset;
        if (m->key != nullptr) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
        if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
        out.push_back(std::move(r));
        last = std::chrono::steady_clock::now();
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
  }

  // The value standing for "no value" in Produce.
  static inline const std::string kTombstone = std::string("\0tombstone", 10);

 private:
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* r = static_cast<Produced*>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      r->partition = m->partition;
      r->offset = m->offset;
    }
  }

  rd_kafka_t* NewClient(rd_kafka_type_t type,
                        const std::vector<std::pair<std::string, std::string>>& props,
                        bool dr = false) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), err, sizeof(err));
    if (type == RD_KAFKA_CONSUMER) rd_kafka_conf_set(conf, "group.id", "reader", err, sizeof(err));
    for (const auto& [k, v] : props) {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        throw std::runtime_error(err);
      }
    }
    if (dr) rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (rk == nullptr) throw std::runtime_error(err);
    return rk;
  }

  std::string dir_;
  std::string bootstrap_;
};

}  // namespace edi::testing
