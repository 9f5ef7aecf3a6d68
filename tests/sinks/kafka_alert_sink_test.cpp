// KafkaAlertSink against librdkafka's mock cluster: findings arrive once each, keyed by HER-Id,
// through produce errors and a broker outage, and the delivered callback names each once.
#include "sinks/kafka_alert_sink.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <map>

#include "source/mock_kafka.h"

namespace edi {
namespace {

using std::chrono::milliseconds;
using testing::MockKafka;

constexpr char kTopic[] = "edi-alerts";

Finding MakeFinding(int n, HerId her_id) {
  Finding f;
  f.id = "f-" + std::to_string(1000 + n);
  f.rule = "edi.test";
  f.her_id = her_id;
  f.summary = "finding " + std::to_string(n);
  return f;
}

// A stand-in for report's FindingToJson: the sink only needs some text per finding.
std::string TestJson(const Finding& f) {
  return "{\"id\":\"" + f.id + "\",\"summary\":\"" + f.summary + "\"}";
}

class KafkaAlertSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    kafka_.CreateTopic(kTopic, 3);
  }

  std::unique_ptr<KafkaAlertSink> Start(std::vector<KafkaProperty> extra = {}) {
    KafkaAlertSinkOptions o;
    o.brokers = kafka_.bootstrap();
    o.topic = kTopic;
    o.properties = {{"log_level", "2", ""}};
    for (auto& p : extra) o.properties.push_back(p);
    o.serialize = TestJson;
    o.on_delivered = [this](const std::vector<std::string>& ids) {
      for (const auto& id : ids) ++delivered_[id];
    };
    o.retry_min = milliseconds(100);
    o.retry_max = milliseconds(400);
    auto sink = KafkaAlertSink::Create(o);
    EXPECT_TRUE(sink.ok()) << sink.status().message();
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  bool PollUntilDelivered(KafkaAlertSink* sink, size_t n,
                          milliseconds timeout = milliseconds(20000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (delivered_.size() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      sink->Poll();
      std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
  }

  MockKafka kafka_;
  std::map<std::string, int> delivered_;
};

TEST_F(KafkaAlertSinkTest, ProducesEachFindingAsJsonKeyedByItsHerId) {
  auto sink = Start();
  sink->Deliver({MakeFinding(1, 8142520), MakeFinding(2, 8142530), MakeFinding(3, 0)});
  ASSERT_TRUE(PollUntilDelivered(sink.get(), 3));
  EXPECT_EQ(sink->in_flight(), 0u);

  auto messages = kafka_.ReadAll(kTopic, 3, 3);
  ASSERT_EQ(messages.size(), 3u);
  std::map<std::string, testing::ConsumedMessage> by_value;
  for (auto& m : messages) by_value[m.value] = m;
  const auto& first = by_value.at(TestJson(MakeFinding(1, 8142520)));
  ASSERT_TRUE(first.key.has_value());
  EXPECT_EQ(*first.key, "8142520");
  EXPECT_EQ(*by_value.at(TestJson(MakeFinding(2, 8142530))).key, "8142530");
  // A finding that names no party has no key.
  EXPECT_FALSE(by_value.at(TestJson(MakeFinding(3, 0))).key.has_value());
  for (const auto& [id, n] : delivered_) EXPECT_EQ(n, 1) << id;
}

TEST_F(KafkaAlertSinkTest, AFindingOfferedAgainWhileInFlightIsSentOnce) {
  auto sink = Start();
  const Finding f = MakeFinding(1, 8142520);
  sink->Deliver({f});
  sink->Deliver({f});
  ASSERT_TRUE(PollUntilDelivered(sink.get(), 1));
  EXPECT_EQ(sink->counters().offered, 1u);
  EXPECT_EQ(kafka_.ReadAll(kTopic, 3, 2, std::chrono::seconds(3)).size(), 1u);
}

// A repeat raised the finding's severity while its first version was in flight: the new
// version is sent after it, and the finding is reported delivered once, when that arrived.
TEST_F(KafkaAlertSinkTest, AnEscalatedFindingOfferedWhileInFlightIsSentAfterIt) {
  auto sink = Start();
  Finding f = MakeFinding(1, 8142520);
  sink->Deliver({f});
  f.summary = "finding 1, raised to critical";
  f.escalated = true;
  sink->Deliver({f});
  ASSERT_TRUE(PollUntilDelivered(sink.get(), 1));
  EXPECT_EQ(sink->in_flight(), 0u);
  auto messages = kafka_.ReadAll(kTopic, 3, 3, std::chrono::seconds(3));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].value, TestJson(MakeFinding(1, 8142520)));
  EXPECT_EQ(messages[1].value, TestJson(f));  // same key, same partition: in this order
  EXPECT_EQ(delivered_.at(f.id), 1);
  // Offered once more as it is now (say, after a restart), it is sent once more.
  sink->Deliver({f});
  ASSERT_TRUE(PollUntilDelivered(sink.get(), 1));
  sink->Flush(std::chrono::seconds(5));
  EXPECT_EQ(delivered_.at(f.id), 2);
}

TEST_F(KafkaAlertSinkTest, ProduceErrorsAreRetriedWithoutDuplicates) {
  auto sink = Start();
  rd_kafka_mock_push_request_errors(
      kafka_.cluster(), testing::kApiProduce, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  std::vector<Finding> findings;
  for (int i = 0; i < 20; ++i) findings.push_back(MakeFinding(i, 8142500 + i));
  sink->Deliver(findings);
  ASSERT_TRUE(PollUntilDelivered(sink.get(), 20));
  auto messages = kafka_.ReadAll(kTopic, 3, 21, std::chrono::seconds(3));
  EXPECT_EQ(messages.size(), 20u);
  for (const auto& [id, n] : delivered_) EXPECT_EQ(n, 1) << id;
}

TEST_F(KafkaAlertSinkTest, DeliveriesThatTimeOutDuringAnOutageAreCountedAndRetried) {
  auto sink = Start({{"message.timeout.ms", "1000", ""}});
  kafka_.SetAllBrokers(false);
  sink->Deliver({MakeFinding(1, 8142520), MakeFinding(2, 8142521)});
  // Until a delivery has timed out (message.timeout.ms), however slow the machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (sink->counters().delivery_failures == 0 && std::chrono::steady_clock::now() < deadline) {
    sink->Poll();
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_GT(sink->counters().delivery_failures, 0u);
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(sink->Flush(milliseconds(10)), 2u);  // still undelivered
  kafka_.SetAllBrokers(true);
  ASSERT_TRUE(PollUntilDelivered(sink.get(), 2));
  EXPECT_GT(sink->counters().retries, 0u);
  EXPECT_EQ(kafka_.ReadAll(kTopic, 3, 3, std::chrono::seconds(3)).size(), 2u);
}

TEST_F(KafkaAlertSinkTest, TheIdempotentProducerCannotBeSwitchedOff) {
  KafkaAlertSinkOptions o;
  o.brokers = kafka_.bootstrap();
  o.topic = kTopic;
  o.serialize = TestJson;
  o.properties = {{"enable.idempotence", "false", "edi-audit.yaml:31"}};
  auto sink = KafkaAlertSink::Create(o);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("edi-audit.yaml:31: kafka.producer.enable.idempotence"),
            std::string::npos)
      << sink.status().message();

  o.properties = {{"linger.msec", "5", "edi-audit.yaml:32"}};
  sink = KafkaAlertSink::Create(o);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("edi-audit.yaml:32: kafka.producer.linger.msec"),
            std::string::npos)
      << sink.status().message();
}

}  // namespace
}  // namespace edi
