// StatusServer: the daemon's HTTP endpoint (`http.listen`), for Prometheus and for health checks.
//
//   GET /metrics  the metrics the daemon published last, in Prometheus' text format (503
//                 "starting" before the first)
//   GET /health   200 "ok" while the daemon publishes at least every `stale_after` and reports
//                 no problem; 503 with the reason otherwise ("starting", a problem the daemon
//                 reported, or how long it has been silent)
//
// The server answers on a thread of its own, one poll loop for every connection, and never
// calls into the daemon: the daemon's thread hands it the metrics text after each round of its
// loop (Publish), so a scrape neither waits for a batch nor sees one half counted. Each
// connection carries one request and has `request_timeout` to send it (and as long to read
// the answer), however slowly it trickles; at `max_connections` the one that has waited
// longest for its request is dropped for a new one. So clients that connect and say nothing,
// or a byte at a time, neither keep /health and /metrics from answering nor use up the
// process's file descriptors.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace edi {

struct StatusServerOptions {
  std::string listen;  // HOST:PORT ([::1]:PORT for IPv6); port 0 picks a free one
  std::chrono::milliseconds stale_after{30000};
  // How long a connection may take to send its request, and then to read the answer.
  std::chrono::milliseconds request_timeout{5000};
  size_t max_connections = 128;
};

class StatusServer {
 public:
  // Binds and starts serving; fails naming the address when it cannot listen there.
  static Result<std::unique_ptr<StatusServer>> Start(const StatusServerOptions& options);
  ~StatusServer();  // stops serving

  // The metrics to serve from now on, and the daemon's problem ("" when healthy).
  void Publish(std::string metrics, std::string problem = {});
  // The port it listens on.
  int port() const { return port_; }
  // False once the server stopped by itself (a poll error).
  bool serving() const { return !ended_.load(); }

 private:
  struct Connection;
  explicit StatusServer(const StatusServerOptions& options);
  void Serve();  // the serving thread, until woken through wake_write_
  // Once c's request head is whole (or too large): the answer to write, c responding.
  void Respond(Connection* c) const;
  void Health(int* status, std::string* body) const;

  StatusServerOptions options_;
  int listen_fd_ = -1;
  int wake_read_ = -1, wake_write_ = -1;  // a byte written ends Serve
  std::thread thread_;
  std::atomic<bool> ended_{false};  // the serving thread has returned
  int port_ = 0;
  mutable std::mutex mu_;
  std::string metrics_;                                 // guarded by mu_
  std::string problem_;                                 // guarded by mu_
  bool published_ = false;                              // guarded by mu_
  std::chrono::steady_clock::time_point last_publish_;  // guarded by mu_
};

}  // namespace edi
