#include "http/status_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
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
  auto server = StatusServer::Start(Local(std::chrono::seconds(1)));
  ASSERT_TRUE(server.ok()) << server.status().message();
  httplib::Client client("127.0.0.1", (*server)->port());
  const auto published = std::chrono::steady_clock::now();
  (*server)->Publish("");
  auto res = client.Get("/health");
  ASSERT_TRUE(res);
  if (std::chrono::steady_clock::now() - published < std::chrono::milliseconds(900)) {
    EXPECT_EQ(res->status, 200) << res->body;  // asked in time (not so on a stalled machine)
  }
  // Nothing published since: /health turns 503 and says why.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((res = client.Get("/health")) && res->status == 200 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
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
  StatusServerOptions o = Local();
  // Were a worker to wait on an idle connection, it would wait this long: far beyond the
  // read timeout below, so such a wait fails the test instead of slowing it.
  o.request_timeout = std::chrono::seconds(120);
  auto server = StatusServer::Start(o);
  ASSERT_TRUE(server.ok());
  (*server)->Publish("");
  // Two clients that would keep their connections (the server has two workers).
  httplib::Client a("127.0.0.1", (*server)->port()), b("127.0.0.1", (*server)->port());
  a.set_keep_alive(true);
  b.set_keep_alive(true);
  ASSERT_TRUE(a.Get("/metrics"));
  ASSERT_TRUE(b.Get("/metrics"));
  httplib::Client health("127.0.0.1", (*server)->port());
  health.set_connection_timeout(30);
  health.set_read_timeout(30);
  auto res = health.Get("/health");
  ASSERT_TRUE(res) << "no answer while two connections were kept open: " << res.error();
  EXPECT_EQ(res->status, 200);
  auto stopped = std::async(std::launch::async, [&] { server->reset(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "the shutdown waits for the idle connections";
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// A raw client: connects, sends `text`, and returns what the server sent until it closed (or
// until `wait` passed).
std::string Exchange(int port, const std::string& text,
                     std::chrono::milliseconds wait = std::chrono::seconds(10)) {
  const int fd = Connect(port);
  if (!text.empty()) {
    EXPECT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  timeval tv = {static_cast<time_t>(wait.count() / 1000),
                static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return got;
}

// Connections that send nothing, or a byte now and then, are the cheapest way to silence a
// server: two of them took /health and /metrics down while they lasted. Now each connection
// has a time for its request, and at the limit the longest waiting one makes room.
TEST(StatusServer, ClientsThatSayNothingOrTrickleDoNotKeepHealthFromAnswering) {
  StatusServerOptions o = Local();
  o.request_timeout = std::chrono::seconds(3);
  o.max_connections = 8;
  auto server = StatusServer::Start(o);
  ASSERT_TRUE(server.ok());
  (*server)->Publish("");
  const int port = (*server)->port();
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(Connect(port));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    std::vector<int> slow = {Connect(port), Connect(port)};
    while (!stop.load()) {
      for (int fd : slow) ::send(fd, "G", 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    for (int fd : slow) ::close(fd);
  });
  const auto asked = std::chrono::steady_clock::now();
  const std::string answer = Exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("\r\n\r\nok\n"), std::string::npos) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(2));
  // A connection that said nothing is closed once its time is up.
  const int late = Connect(port);
  timeval tv = {20, 0};
  ::setsockopt(late, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte;
  const auto since = std::chrono::steady_clock::now();
  EXPECT_EQ(::recv(late, &byte, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - since, std::chrono::seconds(15));
  ::close(late);
  stop.store(true);
  trickle.join();
  for (int fd : idle) ::close(fd);
}

TEST(StatusServer, AnswersWhatIsNotAGetOfItsPathsPlainly) {
  auto server = StatusServer::Start(Local());
  ASSERT_TRUE(server.ok());
  (*server)->Publish("m 1\n");
  const int port = (*server)->port();
  EXPECT_EQ(Exchange(port, "BLAH\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(Exchange(port, "GET http://x/health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  const std::string post = Exchange(port, "POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405 ", 0), 0u) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos) << post;
  const std::string head = Exchange(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: 4\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << head;  // no body
  EXPECT_EQ(Exchange(port, "GET /metrics?x=1 HTTP/1.0\n\n").substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(Exchange(port, "GET /../etc/passwd HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
  const std::string big = "GET /health HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(Exchange(port, big).rfind("HTTP/1.1 431 ", 0), 0u);
}

}  // namespace
}  // namespace edi
