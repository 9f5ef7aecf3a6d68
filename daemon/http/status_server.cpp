#include "http/status_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace edi {
namespace {

// A request head (request line and headers) larger than this is answered 431 and closed.
constexpr size_t kMaxRequestHead = 8 * 1024;

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

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string Response(int status, std::string_view content_type, std::string_view body,
                     bool head_only, std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n" + std::string(extra_headers) + "\r\n";
  if (!head_only) out.append(body);
  return out;
}

constexpr std::string_view kText = "text/plain; charset=utf-8";

}  // namespace

// One client connection: its request head as read so far, then the response being written.
struct StatusServer::Connection {
  int fd = -1;
  std::chrono::steady_clock::time_point deadline;
  std::string in;
  std::string out;
  size_t written = 0;
  bool responding = false;
};

StatusServer::StatusServer(const StatusServerOptions& options) : options_(options) {}

Result<std::unique_ptr<StatusServer>> StatusServer::Start(const StatusServerOptions& options) {
  std::string host;
  int port = 0;
  if (!SplitListen(options.listen, &host, &port)) {
    return Status::InvalidArgument("http.listen '" + options.listen +
                                   "': must be HOST:PORT, e.g. 127.0.0.1:9464");
  }
  std::unique_ptr<StatusServer> s(new StatusServer(options));
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return Status::IOError("http.listen " + options.listen + ": cannot listen there: '" + host +
                           "' is no address of this machine (0.0.0.0 is every IPv4 address, :: "
                           "every IPv6 one)");
  }
  int err = 0;
  for (addrinfo* a = found; a != nullptr && s->listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    // SO_REUSEADDR only (a restart rebinds at once), not SO_REUSEPORT, with which a second
    // daemon on the same address would share the port instead of failing.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      err = errno;
      ::close(fd);
      continue;
    }
    s->listen_fd_ = fd;
  }
  ::freeaddrinfo(found);
  if (s->listen_fd_ < 0) {
    return Status::IOError("http.listen " + options.listen +
                           ": cannot listen there: " + std::strerror(err));
  }
  sockaddr_storage bound = {};
  socklen_t len = sizeof bound;
  if (::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
    s->port_ = bound.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::IOError(std::string("http: cannot make a pipe: ") + std::strerror(errno));
  }
  s->wake_read_ = wake[0];
  s->wake_write_ = wake[1];
  StatusServer* self = s.get();
  s->thread_ = std::thread([self] {
    self->Serve();
    self->ended_.store(true);
  });
  return s;
}

StatusServer::~StatusServer() {
  if (thread_.joinable()) {
    const char byte = 0;
    while (::write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_read_, wake_write_}) {
    if (fd >= 0) ::close(fd);
  }
}

void StatusServer::Serve() {
  using Clock = std::chrono::steady_clock;
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  Clock::time_point accept_again;  // after running out of file descriptors
  // The connections still open when serving ends are closed with it.
  struct CloseAll {
    std::vector<Connection>& conns;
    ~CloseAll() {
      for (const Connection& c : conns) ::close(c.fd);
    }
  } close_all{conns};
  auto close_at = [&conns](size_t i) {
    // What the client sent beyond its request is read first: closing with unread bytes would
    // reset the connection, and the client might lose the answer.
    char sink[1024];
    for (int k = 0; k < 16 && ::recv(conns[i].fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++k) {
    }
    ::shutdown(conns[i].fd, SHUT_WR);
    ::close(conns[i].fd);
    conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (;;) {
    const Clock::time_point now = Clock::now();
    // Connections past their time are closed: a client gets `request_timeout` for its request
    // and as long again for reading the answer, however slowly it sends or reads.
    for (size_t i = conns.size(); i-- > 0;) {
      if (conns[i].deadline <= now) close_at(i);
    }
    fds.clear();
    fds.push_back({wake_read_, POLLIN, 0});
    const bool accepting = now >= accept_again;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    Clock::time_point next = now + std::chrono::seconds(1);
    for (const Connection& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
      next = std::min(next, c.deadline);
    }
    if (!accepting) next = std::min(next, accept_again);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(wait, 0) + 1));
    if (n < 0 && errno != EINTR) return;
    if (n <= 0) continue;
    if (fds[0].revents != 0) return;  // woken to stop
    // The connections polled are conns[0..polled) (accepting below appends to conns).
    const size_t polled = conns.size();
    for (size_t i = polled; i-- > 0;) {
      const short ev = fds[i + 2].revents;
      if (ev == 0) continue;
      Connection& c = conns[i];
      if (!c.responding && (ev & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got <= 0) {
          close_at(i);  // the client left before its request was whole
          continue;
        }
        c.in.append(buf, static_cast<size_t>(got));
        Respond(&c);
        if (!c.responding) continue;
      }
      if (c.responding) {
        while (c.written < c.out.size()) {
          const ssize_t put =
              ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
          if (put < 0) break;
          c.written += static_cast<size_t>(put);
        }
        if (c.written == c.out.size() || (errno != EAGAIN && errno != EINTR)) close_at(i);
      }
    }
    if (accepting && (fds[1].revents & POLLIN)) {
      for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            accept_again = Clock::now() + std::chrono::milliseconds(100);
          }
          break;  // EAGAIN: all taken; ECONNABORTED and the like: the client gave up
        }
        // At the limit the connection that has been waiting longest for its request goes: a
        // scraper sends its request at once, so connections held open by a client that sends
        // nothing (or a byte at a time) cannot keep /health and /metrics from answering.
        if (conns.size() >= options_.max_connections) {
          size_t oldest = conns.size();
          for (size_t i = 0; i < conns.size(); ++i) {
            if (!conns[i].responding &&
                (oldest == conns.size() || conns[i].deadline < conns[oldest].deadline)) {
              oldest = i;
            }
          }
          if (oldest == conns.size()) {  // all are being answered
            ::close(fd);
            continue;
          }
          close_at(oldest);
        }
        Connection c;
        c.fd = fd;
        c.deadline = Clock::now() + options_.request_timeout;
        conns.push_back(std::move(c));
      }
    }
  }
}

void StatusServer::Respond(Connection* c) const {
  const size_t end = c->in.find("\r\n\r\n");
  const size_t end_lf = c->in.find("\n\n");
  if (end == std::string::npos && end_lf == std::string::npos) {
    if (c->in.size() <= kMaxRequestHead) return;  // more to come
    c->out = Response(431, kText, "request head too large\n", false);
  } else {
    const std::string_view head(c->in);
    const std::string_view line = head.substr(0, head.find_first_of("\r\n"));
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target =
        sp2 == std::string_view::npos ? std::string_view() : line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version =
        sp2 == std::string_view::npos ? std::string_view() : line.substr(sp2 + 1);
    const bool head_only = method == "HEAD";
    if (target.empty() || target[0] != '/' || version.substr(0, 7) != "HTTP/1.") {
      c->out = Response(400, kText, "bad request\n", false);
    } else if (method != "GET" && !head_only) {
      c->out = Response(405, kText, "GET /metrics, GET /health\n", false, "Allow: GET, HEAD\r\n");
    } else {
      const std::string_view path = target.substr(0, target.find('?'));
      int status = 200;
      std::string body;
      std::string_view type = kText;
      if (path == "/metrics") {
        std::lock_guard<std::mutex> lock(mu_);
        if (published_) {
          body = metrics_;
          type = "text/plain; version=0.0.4; charset=utf-8";
        } else {
          status = 503;  // no counters yet: not an empty set of them
          body = "starting\n";
        }
      } else if (path == "/health") {
        Health(&status, &body);
      } else if (path == "/") {
        body = "edi-audit: GET /metrics (Prometheus), GET /health\n";
      } else {
        status = 404;
        body = "not found: GET /metrics, GET /health\n";
      }
      c->out = Response(status, type, body, head_only);
    }
  }
  c->in.clear();
  c->responding = true;
  c->deadline = std::chrono::steady_clock::now() + options_.request_timeout;
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
