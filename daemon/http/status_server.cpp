#include "http/status_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace edi {
namespace {

// "127.0.0.1:9464" -> ("127.0.0.1", 9464); "[::1]:9464" -> ("::1", 9464).
bool SplitListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int p = 0;
  for (size_t i = colon + 1; i < listen.size(); ++i) {
    if (listen[i] < '0' || listen[i] > '9' || p > 65535) return false;
    p = p * 10 + (listen[i] - '0');
  }
  if (p > 65535) return false;
  *port = p;
  return true;
}

}  // namespace

StatusServer::StatusServer(const StatusServerOptions& options)
    : options_(options), server_(std::make_unique<httplib::Server>()) {}

Result<std::unique_ptr<StatusServer>> StatusServer::Start(const StatusServerOptions& options) {
  std::string host;
  int port = 0;
  if (!SplitListen(options.listen, &host, &port)) {
    return Status::InvalidArgument("http.listen '" + options.listen +
                                   "': must be HOST:PORT, e.g. 127.0.0.1:9464");
  }
  std::unique_ptr<StatusServer> s(new StatusServer(options));
  httplib::Server& svr = *s->server_;
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // One request per connection: a worker never idles in a keep-alive wait, so a client that
  // keeps its connection open neither holds /health up nor delays the shutdown.
  svr.set_keep_alive_max_count(1);
  svr.set_keep_alive_timeout(options.idle_timeout.count());
  // SO_REUSEADDR only (a restart rebinds at once): cpp-httplib's default adds SO_REUSEPORT,
  // with which a second daemon on the same address would share the port instead of failing.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  StatusServer* self = s.get();
  svr.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(self->mu_);
    if (!self->published_) {  // no counters yet: not an empty set of them
      res.status = 503;
      res.set_content("starting\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_content(self->metrics_, "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/health", [self](const httplib::Request&, httplib::Response& res) {
    int status = 200;
    std::string body;
    self->Health(&status, &body);
    res.status = status;
    res.set_content(body, "text/plain; charset=utf-8");
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("edi-audit: GET /metrics (Prometheus), GET /health\n",
                    "text/plain; charset=utf-8");
  });
  errno = 0;
  const bool bound =
      port == 0 ? (port = svr.bind_to_any_port(host)) > 0 : svr.bind_to_port(host, port);
  if (!bound) {
    const int err = errno;
    // Without an errno the host did not resolve to an address of this machine.
    return Status::IOError("http.listen " + options.listen + ": cannot listen there" +
                           (err != 0 ? std::string(": ") + std::strerror(err)
                                     : std::string(": '") + host +
                                           "' is no address of this machine (0.0.0.0 is every "
                                           "IPv4 address, :: every IPv6 one)"));
  }
  s->port_ = port;
  s->thread_ = std::thread([self] {
    self->server_->listen_after_bind();
    self->ended_.store(true);
  });
  return s;
}

StatusServer::~StatusServer() {
  if (!thread_.joinable()) return;
  // stop() only ends a server that is running: wait until it runs (its thread sets that first
  // thing) or its thread has ended.
  while (!server_->is_running() && !ended_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
  thread_.join();
}

void StatusServer::Publish(std::string metrics, std::string problem) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_ = std::move(metrics);
  problem_ = std::move(problem);
  published_ = true;
  last_publish_ = std::chrono::steady_clock::now();
}

void StatusServer::Health(int* status, std::string* body) const {
  std::lock_guard<std::mutex> lock(mu_);
  *status = 503;
  if (!published_) {
    *body = "starting\n";
    return;
  }
  const auto silent = std::chrono::steady_clock::now() - last_publish_;
  if (silent > options_.stale_after) {
    *body = "stalled: the daemon's loop has not run for " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
            " s\n";
    return;
  }
  if (!problem_.empty()) {
    *body = problem_ + "\n";
    return;
  }
  *status = 200;
  *body = "ok\n";
}

}  // namespace edi
