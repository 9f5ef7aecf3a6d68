// The edi-audit binary as a child process (started, signalled, killed, waited for), and
// read-only views of the SQLite database it writes, read while it runs (WAL mode allows it).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace edi::testing {

// Starts `program` (found on PATH when it has no slash) with `args` (args[0] is its name),
// stdout and stderr appended to `log`, in this environment plus `extra_env` ("NAME=value").
// Everything the child needs is built before fork: the child of a process with threads only
// execs.
inline pid_t SpawnLogged(const std::string& program, const std::vector<std::string>& args,
                         const std::string& log, const std::vector<std::string>& extra_env = {}) {
  std::vector<char*> argv, env;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execvpe(program.c_str(), argv.data(), env.data());
    _exit(127);
  }
  return pid;
}

class DaemonProcess {
 public:
  DaemonProcess(std::string config_path, std::string log_path)
      : config_(std::move(config_path)), log_(std::move(log_path)) {}
  ~DaemonProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // `edi-audit run --config CONFIG`, stdout and stderr appended to the log file; `extra_env`
  // ("NAME=value") is added to the environment it inherits.
  void Start(const std::vector<std::string>& extra_env = {}) {
    pid_ = SpawnLogged(EDI_BINARY, {"edi-audit", "run", "--config", config_}, log_, extra_env);
  }
  void Signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  // The exit code (or 128 + signal), nullopt when still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }
  // SIGTERM, then the exit code.
  std::optional<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    Signal(SIGTERM);
    return Wait(timeout);
  }
  void Kill() {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  // Waits until the log holds `text` more often than `seen_before` times.
  bool WaitForLog(const std::string& text, int seen_before,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Count(Log(), text) > seen_before) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // The port its http.listen bound (a configured port 0 picks a free one; the log names it),
  // or -1 when it did not say so within the timeout.
  int HttpPort(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    const std::string said = "http: serving /metrics and /health on ";
    if (!WaitForLog(said, 0, timeout)) return -1;
    const std::string log = Log();
    const size_t line = log.find(said);
    const size_t colon = log.rfind(':', log.find('\n', line));
    return std::atoi(log.c_str() + colon + 1);
  }
  static int Count(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
      ++n;
    }
    return n;
  }
  bool running() const { return pid_ > 0; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string config_;
  std::string log_;
  pid_t pid_ = -1;
};

// A read-only connection; every method returns empty results while the file does not exist.
class AuditDb {
 public:
  explicit AuditDb(std::string path) : path_(std::move(path)) {}

  // events + quarantine rows, or -1 when the database cannot be read yet.
  int64_t Records() const {
    int64_t n = -1;
    Query("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM quarantine)",
          [&](sqlite3_stmt* st) { n = sqlite3_column_int64(st, 0); });
    return n;
  }
  // requestId -> (source, position) of every stored event.
  std::map<std::string, std::pair<std::string, int64_t>> Events() const {
    std::map<std::string, std::pair<std::string, int64_t>> out;
    Query("SELECT request_id, source, position FROM events JOIN sources USING (source_key)",
          [&](sqlite3_stmt* st) {
            out[Text(st, 0)] = {Text(st, 1), sqlite3_column_int64(st, 2)};
          });
    return out;
  }
  std::set<std::pair<std::string, int64_t>> Quarantined() const {
    std::set<std::pair<std::string, int64_t>> out;
    Query("SELECT source, position FROM quarantine",
          [&](sqlite3_stmt* st) { out.emplace(Text(st, 0), sqlite3_column_int64(st, 1)); });
    return out;
  }
  // Pairs of calls of one source stored in another order than their offsets, among the calls
  // stored after event `after`.
  int64_t StoredOutOfOffsetOrder(int64_t after) const {
    int64_t n = -1;
    const std::string sql =
        "SELECT count(*) FROM events a JOIN events b ON a.source_key = b.source_key "
        "AND a.position < b.position AND a.event_id > b.event_id WHERE a.event_id > " +
        std::to_string(after) + " AND b.event_id > " + std::to_string(after);
    Query(sql.c_str(), [&](sqlite3_stmt* st) { n = sqlite3_column_int64(st, 0); });
    return n;
  }
  // Quarantined records by reason.
  std::map<std::string, int64_t> QuarantineReasons() const {
    std::map<std::string, int64_t> out;
    Query("SELECT reason, count(*) FROM quarantine GROUP BY reason",
          [&](sqlite3_stmt* st) { out[Text(st, 0)] = sqlite3_column_int64(st, 1); });
    return out;
  }
  std::map<std::string, int64_t> Positions() const {
    std::map<std::string, int64_t> out;
    Query("SELECT source, position FROM source_positions",
          [&](sqlite3_stmt* st) { out[Text(st, 0)] = sqlite3_column_int64(st, 1); });
    return out;
  }
  // finding id -> its rule, HER-Id, occurrences and event times, as one comparable line.
  std::map<std::string, std::string> FindingSummaries() const {
    std::map<std::string, std::string> out;
    Query(
        "SELECT id, rule || ' ' || coalesce(her_id, '-') || ' x' || occurrences || ' ' || "
        "time || '..' || last_seen FROM findings",
        [&](sqlite3_stmt* st) { out[Text(st, 0)] = Text(st, 0) + " " + Text(st, 1); });
    return out;
  }
  // finding id -> delivered flag.
  std::map<std::string, int> Findings() const {
    std::map<std::string, int> out;
    Query("SELECT id, delivered FROM findings",
          [&](sqlite3_stmt* st) { out[Text(st, 0)] = sqlite3_column_int(st, 1); });
    return out;
  }
  // (rule, severity name) -> how many findings.
  std::map<std::pair<std::string, std::string>, int64_t> FindingCounts() const {
    std::map<std::pair<std::string, std::string>, int64_t> out;
    Query("SELECT rule, severity, count(*) FROM finding_view GROUP BY rule, severity",
          [&](sqlite3_stmt* st) {
            out[{Text(st, 0), Text(st, 1)}] = sqlite3_column_int64(st, 2);
          });
    return out;
  }

 private:
  template <typename F>
  void Query(const char* sql, F&& row) const {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) row(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  static std::string Text(sqlite3_stmt* st, int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
    return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(st, i));
  }

  std::string path_;
};

}  // namespace edi::testing
