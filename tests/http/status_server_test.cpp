#include "http/status_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "http/metrics_text.h"

namespace edi {
namespace {

StatusServerOptions Local(std::chrono::milliseconds stale_after = std::chrono::seconds(30)) {
  StatusServerOptions o;
  o.listen = "127.0.0.1:0";
  o.stale_after = stale_after;
  return o;
}

TEST(MetricsText, WritesFamiliesWithHelpTypeAndEscapedLabels) {
  MetricsText m;
  m.Family("edi_audit_findings_total", "counter", "Findings,\nby rule.");
  m.Sample({{"rule", "edi.foreign-download"}, {"severity", "high"}}, uint64_t{3});
  m.Sample({{"rule", "a\"b\\c\nd"}}, uint64_t{1});
  m.Family("edi_audit_newest_event_time_seconds", "gauge", "Newest.");
  m.Sample(1777852804.478);
  EXPECT_EQ(m.text(),
            "# HELP edi_audit_findings_total Findings,\\nby rule.\n"
            "# TYPE edi_audit_findings_total counter\n"
            "edi_audit_findings_total{rule=\"edi.foreign-download\",severity=\"high\"} 3\n"
            "edi_audit_findings_total{rule=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP edi_audit_newest_event_time_seconds Newest.\n"
            "# TYPE edi_audit_newest_event_time_seconds gauge\n"
            "edi_audit_newest_event_time_seconds 1777852804.478\n");
}

TEST(StatusServer, ServesWhatWasPublishedLast) {
  auto server = StatusServer::Start(Local());
  ASSERT_TRUE(server.ok()) << server.status().message();
  httplib::Client client("127.0.0.1", (*server)->port());
  auto before = client.Get("/metrics");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);  // no counters yet: not an empty set of them
  EXPECT_EQ(before->body, "starting\n");
  (*server)->Publish("edi_audit_batches_total 1\n");
  (*server)->Publish("edi_audit_batches_total 2\n");
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "edi_audit_batches_total 2\n");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  auto missing = client.Get("/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(StatusServer, HealthSaysStartingThenOkThenTheProblem) {
  auto server = StatusServer::Start(Local());
  ASSERT_TRUE(server.ok()) << server.status().message();
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "starting\n");
  (*server)->Publish("");
  res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
  (*server)->Publish("", "storing a batch failed (it is retried): disk I/O error");
  res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "storing a batch failed (it is retried): disk I/O error\n");
}

TEST(StatusServer, HealthTurnsStalledWhenNothingIsPublished) {
  auto server = StatusServer::Start(Local(std::chrono::seconds(2)));
  ASSERT_TRUE(server.ok()) << server.status().message();
  httplib::Client client("127.0.0.1", (*server)->port());
  (*server)->Publish("");
  auto res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body.rfind("stalled: the daemon's loop has not run for ", 0), 0u) << res->body;
}

TEST(StatusServer, AnAddressInUseIsAClearError) {
  auto first = StatusServer::Start(Local());
  ASSERT_TRUE(first.ok());
  StatusServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = StatusServer::Start(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message().rfind("http.listen " + o.listen + ": cannot listen there", 0),
            0u)
      << second.status().message();
  o.listen = "no-port";
  auto bad = StatusServer::Start(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "http.listen 'no-port': must be HOST:PORT, e.g. 127.0.0.1:9464");
}

TEST(StatusServer, AClientKeepingItsConnectionOpenHoldsNeitherHealthNorTheShutdown) {
  auto server = StatusServer::Start(Local());
  ASSERT_TRUE(server.ok());
  (*server)->Publish("");
  // Two clients that would keep their connections (the server has two workers).
  httplib::Client a("127.0.0.1", (*server)->port()), b("127.0.0.1", (*server)->port());
  a.set_keep_alive(true);
  b.set_keep_alive(true);
  ASSERT_TRUE(a.Get("/metrics"));
  ASSERT_TRUE(b.Get("/metrics"));
  httplib::Client health("127.0.0.1", (*server)->port());
  health.set_read_timeout(10);
  const auto asked = std::chrono::steady_clock::now();
  auto res = health.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // Well below the 5 s a worker would wait on an idle keep-alive connection.
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(3));
  const auto stopping = std::chrono::steady_clock::now();
  server->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(3));
}

}  // namespace
}  // namespace edi
