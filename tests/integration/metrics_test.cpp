// `edi-audit run` as operations see it: /metrics scraped by a real Prometheus that evaluates the
// shipped alerting rules, /health, and the readiness, reload, watchdog and stopping messages
// systemd gets on its notification socket.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/un.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "integration/daemon_fixture.h"
#include "integration/real_prometheus.h"

namespace edi::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class MetricsTest : public DaemonTest {
 protected:
  // Waits until GET /metrics answers with metrics (503 "starting" before); its body.
  static std::string Metrics(int port) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = HttpGet(port, "/metrics"); r && r->first == 200 && !r->second.empty()) {
        return r->second;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return "";
  }
  // Every edi_audit_findings_total sample, as (rule, severity) -> value.
  static std::map<std::pair<std::string, std::string>, int64_t> FindingTotals(
      const AuditDb& db, const std::string& metrics) {
    std::map<std::pair<std::string, std::string>, int64_t> out;
    for (const auto& [key, n] : db.FindingCounts()) {
      const std::string line =
          "edi_audit_findings_total{rule=\"" + key.first + "\",severity=\"" + key.second + "\"}";
      if (auto v = MetricValue(metrics, line)) out[key] = static_cast<int64_t>(*v);
    }
    return out;
  }
};

TEST_F(MetricsTest, PrometheusScrapesTheDaemonAndAlertsOnItsCriticalFindings) {
  kafka()->CreateTopic("access-metrics", 4);
  const std::string config = WriteConfig("metrics", "access-metrics", "audit-metrics");
  std::ofstream(config, std::ios::app) << "http:\n  listen: 127.0.0.1:0\n";
  DaemonProcess daemon(config, Log("metrics"));
  const double started_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  daemon.Start();
  const int port = daemon.HttpPort();
  ASSERT_GT(port, 0) << daemon.Log();
  ASSERT_FALSE(Metrics(port).empty()) << daemon.Log();
  RealPrometheus prometheus(dir(), port,
                            std::string(EDI_SOURCE_DIR) + "/rules/prometheus/edi-audit-alerts.yml");
  prometheus.Start();
  // Scraped before any traffic: the counters' rise is what the rules see.
  ASSERT_FALSE(prometheus.WaitFor("up{job=\"edi-audit\"} == 1", seconds(30)).empty())
      << prometheus.Log();

  const auto produced = ProduceTraffic("access-metrics", 0, traffic().values.size());
  AuditDb db(Db("metrics"));
  ASSERT_TRUE(WaitForRecords({&db}, static_cast<int64_t>(produced.size()))) << daemon.Log();
  const auto in_db = db.FindingCounts();
  int64_t critical = 0;
  for (const auto& [key, n] : in_db) critical += key.second == "critical" ? n : 0;
  ASSERT_GT(critical, 0) << "the generated traffic has no critical incident";

  // /metrics says what the database holds: every record, every finding by rule and severity.
  std::string metrics;
  auto records = [&] {
    return MetricValue(metrics, "edi_audit_records_total{outcome=\"stored\"}").value_or(0) +
           MetricValue(metrics, "edi_audit_records_total{outcome=\"quarantined\"}").value_or(0);
  };
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  do {
    std::this_thread::sleep_for(milliseconds(300));
    metrics = Metrics(port);
  } while (
      (FindingTotals(db, metrics) != in_db || records() != static_cast<double>(produced.size())) &&
      std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(FindingTotals(db, metrics), in_db) << metrics;
  EXPECT_EQ(records(), static_cast<double>(produced.size())) << metrics;
  EXPECT_EQ(MetricValue(metrics, "edi_audit_kafka_partitions"), 4.0) << metrics;
  EXPECT_GT(MetricValue(metrics, "edi_audit_database_wal_bytes").value_or(0), 0.0) << metrics;
  EXPECT_GT(MetricValue(metrics, "edi_audit_newest_event_time_seconds").value_or(0), 1.7e9);
  for (const auto& [key, n] : in_db) {  // raised by this daemon, just now
    const std::string labels = "{rule=\"" + key.first + "\",severity=\"" + key.second + "\"}";
    EXPECT_GE(MetricValue(metrics, "edi_audit_last_finding_time_seconds" + labels).value_or(0),
              started_at)
        << labels;
  }
  // When each reason last quarantined a record: just now, for the reasons the traffic has.
  const auto quarantined = db.QuarantineReasons();
  ASSERT_FALSE(quarantined.empty()) << "the generated traffic has no bad record";
  for (const auto& [reason, n] : quarantined) {
    const std::string labels = "{reason=\"" + reason + "\"}";
    EXPECT_EQ(MetricValue(metrics, "edi_audit_quarantined_total" + labels), static_cast<double>(n));
    EXPECT_GE(MetricValue(metrics, "edi_audit_last_quarantine_time_seconds" + labels).value_or(0),
              started_at)
        << labels;
  }
  if (!quarantined.contains("too_many_parties")) {  // a reason not met: no time
    EXPECT_FALSE(
        MetricValue(metrics, "edi_audit_last_quarantine_time_seconds{reason=\"too_many_parties\"}"))
        << metrics;
  }
  auto health = HttpGet(port, "/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->first, 200);
  EXPECT_EQ(health->second, "ok\n");

  // Prometheus has the same totals, and the shipped rule alerts on the critical findings.
  const auto summed = prometheus.WaitFor(
      "sum(edi_audit_findings_total{severity=\"critical\"}) == " + std::to_string(critical),
      seconds(30));
  EXPECT_FALSE(summed.empty()) << prometheus.Log();
  // One alert per rule with critical findings, and only those.
  std::set<std::string> critical_rules, alerted_rules;
  for (const auto& [key, n] : in_db) {
    if (key.second == "critical") critical_rules.insert("rule=" + key.first + ",");
  }
  const auto alert_deadline = std::chrono::steady_clock::now() + seconds(30);
  while (alerted_rules != critical_rules && std::chrono::steady_clock::now() < alert_deadline) {
    std::this_thread::sleep_for(milliseconds(250));
    alerted_rules.clear();
    for (const auto& [labels, value] :
         prometheus.Query("ALERTS{alertname=\"EdiAuditCriticalFinding\",alertstate=\"firing\"}")) {
      const size_t at = labels.find("rule=");
      if (at != std::string::npos) {
        alerted_rules.insert(labels.substr(at, labels.find(',', at) + 1 - at));
      }
    }
  }
  EXPECT_EQ(alerted_rules, critical_rules) << prometheus.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();

  // A restarted daemon counts from 0, with a series for every enabled rule and severity.
  DaemonProcess again(config, Log("metrics-again"));
  again.Start();
  const int port_again = again.HttpPort();  // port 0 again: another one
  ASSERT_GT(port_again, 0) << again.Log();
  metrics = Metrics(port_again);
  EXPECT_EQ(MetricValue(metrics, "edi_audit_records_total{outcome=\"stored\"}"), 0.0) << metrics;
  for (const auto& [key, n] : in_db) {
    const std::string labels = "{rule=\"" + key.first + "\",severity=\"" + key.second + "\"}";
    EXPECT_EQ(MetricValue(metrics, "edi_audit_findings_total" + labels), 0.0) << labels;
    EXPECT_FALSE(MetricValue(metrics, "edi_audit_last_finding_time_seconds" + labels)) << labels;
  }
  for (const auto& [reason, n] : quarantined) {
    const std::string labels = "{reason=\"" + reason + "\"}";
    EXPECT_FALSE(MetricValue(metrics, "edi_audit_last_quarantine_time_seconds" + labels)) << labels;
  }
  ASSERT_EQ(again.Stop(), 0) << again.Log();
}

// The sum of every partition's edi_audit_kafka_lag_records, nullopt when there is none.
std::optional<double> TotalLag(const std::string& metrics) {
  std::optional<double> total;
  for (size_t at = metrics.find("\nedi_audit_kafka_lag_records{"); at != std::string::npos;
       at = metrics.find("\nedi_audit_kafka_lag_records{", at + 1)) {
    const size_t value = metrics.find("} ", at);
    total = total.value_or(0) + std::stod(metrics.substr(value + 2));
  }
  return total;
}

TEST_F(MetricsTest, ADatabaseThatCannotBeWrittenShowsInHealthAndMetricsUntilItCanAgain) {
  kafka()->CreateTopic("access-blocked", 2);
  const std::string config = WriteConfig("blocked", "access-blocked", "audit-blocked");
  std::ofstream(config, std::ios::app) << "http:\n  listen: 127.0.0.1:0\n";
  DaemonProcess daemon(config, Log("blocked"));
  daemon.Start();
  const int port = daemon.HttpPort();
  ASSERT_GT(port, 0) << daemon.Log();
  ASSERT_TRUE(daemon.WaitForLog("kafka: assigned", 0)) << daemon.Log();
  std::string metrics = Metrics(port);
  EXPECT_EQ(HttpGet(port, "/health"), std::make_pair(200, std::string("ok\n")));

  // Another writer holds the database: every batch fails (after SQLite's busy timeout).
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(Db("blocked").c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto produced = ProduceTraffic("access-blocked", 0, traffic().values.size());
  std::optional<std::pair<int, std::string>> health;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  do {
    std::this_thread::sleep_for(milliseconds(200));
    health = HttpGet(port, "/health");
  } while ((!health || health->first == 200) && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->first, 503);
  EXPECT_EQ(health->second.rfind("storing a batch failed (it is retried): ", 0), 0u)
      << health->second;
  EXPECT_NE(health->second.find("database is locked"), std::string::npos) << health->second;
  metrics = Metrics(port);
  EXPECT_GE(MetricValue(metrics, "edi_audit_batch_failures_total").value_or(0), 1.0) << metrics;
  EXPECT_GT(MetricValue(metrics, "edi_audit_kafka_pending_records").value_or(0), 0.0) << metrics;
  EXPECT_GT(TotalLag(metrics).value_or(0), 0.0) << metrics;  // reading stopped

  // Released: the retried batches go in, nothing lost, and the daemon is healthy again.
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  AuditDb db(Db("blocked"));
  ASSERT_TRUE(WaitForRecords({&db}, static_cast<int64_t>(produced.size()))) << daemon.Log();
  const auto healthy_by = std::chrono::steady_clock::now() + seconds(10);
  do {
    std::this_thread::sleep_for(milliseconds(200));
    health = HttpGet(port, "/health");
    metrics = Metrics(port);
  } while ((!health || health->first != 200 || TotalLag(metrics) != 0.0) &&
           std::chrono::steady_clock::now() < healthy_by);
  EXPECT_EQ(health->first, 200) << health->second;
  EXPECT_EQ(TotalLag(metrics), 0.0) << metrics;
  EXPECT_EQ(MetricValue(metrics, "edi_audit_kafka_pending_records"), 0.0) << metrics;
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  ExpectExactlyOnce({&db}, "access-blocked", produced, 0);
}

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    std::filesystem::remove(path);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("cannot bind " + path);
    }
  }
  ~NotifySocket() { close(fd_); }
  // Collects messages until one contains `text` or `timeout` passes; whether one did.
  bool WaitFor(const std::string& text, milliseconds timeout = seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        const std::string m(buf, static_cast<size_t>(n));
        messages_.push_back(m);
        if (m.find(text) != std::string::npos) return true;
      } else {
        std::this_thread::sleep_for(milliseconds(10));
      }
    }
    return false;
  }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST_F(MetricsTest, TheDaemonTellsSystemdWhenItIsReadyReloadingAliveAndStopping) {
  kafka()->CreateTopic("access-notify", 1);
  NotifySocket notify(dir() + "/notify.sock");
  DaemonProcess daemon(WriteConfig("notify", "access-notify", "audit-notify"), Log("notify"));
  // A keep-alive every 200 ms.
  daemon.Start({"NOTIFY_SOCKET=" + dir() + "/notify.sock", "WATCHDOG_USEC=400000"});
  ASSERT_TRUE(notify.WaitFor("READY=1")) << daemon.Log();
  EXPECT_NE(notify.messages().back().find("STATUS=consuming"), std::string::npos);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(notify.WaitFor("WATCHDOG=1", seconds(5)));
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(notify.WaitFor("RELOADING=1")) << daemon.Log();
  ASSERT_TRUE(notify.WaitFor("READY=1")) << daemon.Log();
  daemon.Signal(SIGTERM);
  ASSERT_TRUE(notify.WaitFor("STOPPING=1")) << daemon.Log();
  EXPECT_EQ(daemon.Wait(seconds(60)), 0) << daemon.Log();
}

}  // namespace
}  // namespace edi::testing
