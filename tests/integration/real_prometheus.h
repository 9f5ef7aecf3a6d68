// A real Prometheus server (Debian's `prometheus`, installed by tools/setup.sh) for integration
// tests: it scrapes edi-audit's /metrics and evaluates the shipped alerting rules; the test asks
// its HTTP API what it saw. Plus the HTTP and port helpers such tests need.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "integration/daemon_process.h"

namespace edi::testing {

// A port nothing listens on right now, on 127.0.0.1.
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error("no free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

// GET http://127.0.0.1:port/path: (status, body), nullopt when nothing answers.
inline std::optional<std::pair<int, std::string>> HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get(path.c_str());
  if (!res) return std::nullopt;
  return std::make_pair(res->status, res->body);
}

// The value of the sample `line_start` ("name{labels}" as written) in Prometheus text.
inline std::optional<double> MetricValue(const std::string& text, const std::string& line_start) {
  size_t at = 0;
  while ((at = text.find(line_start + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::stod(text.substr(at + line_start.size() + 1));
    }
    at += line_start.size();
  }
  return std::nullopt;
}

class RealPrometheus {
 public:
  // Scrapes 127.0.0.1:target_port as job "edi-audit" every second and evaluates `rule_file`
  // every second; its data and log go under `dir`.
  RealPrometheus(const std::string& dir, int target_port, const std::string& rule_file)
      : dir_(dir), port_(FreePort()) {
    std::ofstream(dir + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "rule_files: ['" << rule_file << "']\n"
        << "scrape_configs:\n  - job_name: edi-audit\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << target_port << "']\n";
  }
  ~RealPrometheus() { Stop(); }
  RealPrometheus(const RealPrometheus&) = delete;
  RealPrometheus& operator=(const RealPrometheus&) = delete;

  // Starts it and waits until its API answers; throws with its log when it does not. The
  // port chosen free may be taken by another process before Prometheus binds it: it is then
  // started again on another.
  void Start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt > 0) port_ = FreePort();
      pid_ = SpawnLogged("prometheus",
                         {"prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                          "--storage.tsdb.path=" + dir_ + "/prometheus-data",
                          "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
                         dir_ + "/prometheus.log");
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (std::chrono::steady_clock::now() < deadline) {
        auto ready = HttpGet(port_, "/-/ready");
        if (ready && ready->first == 200) return;
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ > 0 || Log().find("address already in use") == std::string::npos) break;
    }
    throw std::runtime_error("prometheus did not start:\n" + Log());
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (waitpid(pid_, nullptr, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_ = -1;
  }

  // The instant query's result vector, as (labels as JSON, value); empty when none or on error.
  std::vector<std::pair<std::string, double>> Query(const std::string& expr) const {
    std::vector<std::pair<std::string, double>> out;
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(5);
    auto res = client.Get("/api/v1/query", httplib::Params{{"query", expr}}, httplib::Headers{});
    if (!res || res->status != 200) return out;
    rapidjson::Document d;
    d.Parse(res->body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("data")) return out;
    const auto& result = d["data"]["result"];
    if (!result.IsArray()) return out;
    for (const auto& r : result.GetArray()) {
      std::string labels;
      for (const auto& m : r["metric"].GetObject()) {
        labels += std::string(m.name.GetString()) + "=" + m.value.GetString() + ",";
      }
      out.emplace_back(labels, std::stod(r["value"][1].GetString()));
    }
    return out;
  }
  // Polls `expr` until it has a result or `timeout` passes.
  std::vector<std::pair<std::string, double>> WaitFor(const std::string& expr,
                                                      std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto r = Query(expr);
      if (!r.empty() || std::chrono::steady_clock::now() > deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  std::string Log() const {
    std::ifstream in(dir_ + "/prometheus.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace edi::testing
