// Stopping a replay: SIGINT (Ctrl-C) or SIGTERM ends it once the batch being stored is stored,
// with the summary of what was, and the same command again goes on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_fixture.h"

namespace {

using edi_cli::ReplayCli;
using edi_cli::Sh;

std::vector<std::string> ExampleLines() {
  std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  return lines;
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The writing end of the named pipe the replay `pid` reads, once it opened it; -1 when it
// ended before that (a wait that would otherwise never end).
int OpenWriter(const std::string& fifo, pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    int status = 0;
    if (errno != ENXIO || ::waitpid(pid, &status, WNOHANG) != 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

class ReplaySignal : public ReplayCli,
                     public ::testing::WithParamInterface<std::pair<int, const char*>> {};

// A summary line's figure ("  stored   12"); -1 when there is none.
long long Figure(const std::string& summary, const std::string& label) {
  std::istringstream in(summary);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find_first_not_of(' ');
    if (at == std::string::npos || line.compare(at, label.size(), label) != 0) continue;
    const std::string rest = line.substr(at + label.size());
    if (rest.find_first_not_of(' ') == std::string::npos || rest[0] != ' ') continue;
    return std::stoll(rest);
  }
  return -1;
}

// The replay reads a pipe (a named one, so the test says when records come; it is read a
// mebibyte at a time): the first records are stored, the signal comes, and the replay stops
// with the next batch, without waiting for the end of its input.
TEST_P(ReplaySignal, StopsOnceTheBatchBeingStoredIsStoredAndSaysWhatWas) {
  const auto [signo, name] = GetParam();
  const std::string fifo = (dir_ / "in.jsonl").string(), db = (dir_ / "a.db").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    (void)!std::freopen((dir_ / "out").c_str(), "w", stdout);
    (void)!std::freopen((dir_ / "err").c_str(), "w", stderr);
    ::execl(EDI_BINARY, EDI_BINARY, "replay", "-q", "--no-findings", "--batch-size", "10",
            "--registry", EDI_SOURCE_DIR "/examples/registry", "--db", db.c_str(), fifo.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::vector<std::string> lines = ExampleLines();
  const int fd = OpenWriter(fifo, pid);
  ASSERT_GE(fd, 0) << ReadAll(dir_ / "err");
  // The example lines over and over (again and again the same records: duplicates after the
  // first time), until at least `bytes` are written.
  // A write fails (EPIPE) once the replay stopped reading.
  ::signal(SIGPIPE, SIG_IGN);
  size_t next = 0, written = 0;
  auto write_bytes = [&](size_t bytes) {
    for (size_t n = 0; n < bytes; next = (next + 1) % lines.size()) {
      const std::string& l = lines[next];
      if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) return false;
      n += l.size();
      ++written;
    }
    return true;
  };
  ASSERT_TRUE(write_bytes(3 << 19));  // a mebibyte read and stored, half of the next waiting
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(::kill(pid, signo), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Completes the second mebibyte: its first batch is the last one stored, and the replay stops
  // reading before the writing is done.
  EXPECT_FALSE(write_bytes(4 << 20));
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::waitpid(pid, &status, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool stopped = ::waitpid(pid, &status, WNOHANG) != 0;
  ::close(fd);
  if (!stopped) {
    ::waitpid(pid, &status, 0);
    FAIL() << "the replay did not stop before the end of its input: " << ReadAll(dir_ / "err");
  }
  const std::string out = ReadAll(dir_ / "out"), err = ReadAll(dir_ / "err");
  ASSERT_TRUE(WIFEXITED(status)) << err;
  EXPECT_EQ(WEXITSTATUS(status), 128 + signo) << err;
  EXPECT_NE(err.find("stopping once the batch being stored is stored"), std::string::npos) << err;
  EXPECT_NE(err.find(std::string("stopped by ") + name), std::string::npos) << err;
  EXPECT_EQ(out.rfind("replay stopped after ", 0), 0u) << out;  // not "replayed": not all of it
  const long long read = Figure(out, "records read");
  EXPECT_GT(read, static_cast<long long>(lines.size())) << out;
  EXPECT_LT(read, static_cast<long long>(written)) << out;
  const long long stored = Figure(out, "stored");
  EXPECT_GT(stored, 0) << out;

  // The example file itself again: what was stored is skipped, the rest stored, as much in all
  // as a replay of it into a new database stores.
  const std::string all = EDI_SOURCE_DIR "/examples/access-log.jsonl";
  auto replay = [&](const std::string& into) {
    return Sh(std::string(EDI_BINARY) +
              " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
              into + " " + all);
  };
  const auto again = replay(db), fresh = replay((dir_ / "b.db").string());
  ASSERT_EQ(again.status, 0) << again.out;
  ASSERT_EQ(fresh.status, 0) << fresh.out;
  EXPECT_EQ(Figure(again.out, "duplicates (already stored)"), stored) << again.out;
  EXPECT_EQ(stored + Figure(again.out, "stored"), Figure(fresh.out, "stored")) << again.out;
}

// A producer piping into the replay is often stopped by the same signal: the input's end that
// follows is no sign it was whole, and the replay still says it was stopped. A second signal,
// of either kind, ends it at once while it waits for more input.
TEST_F(ReplayCli, AnInputEndingAfterTheSignalIsStillAStopAndASecondSignalEndsItAtOnce) {
  ::signal(SIGPIPE, SIG_IGN);
  const std::string fifo = (dir_ / "in.jsonl").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::string> lines = ExampleLines();
  auto start = [&](const std::string& db, int* fd) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      (void)!std::freopen((dir_ / "out").c_str(), "w", stdout);
      (void)!std::freopen((dir_ / "err").c_str(), "w", stderr);
      ::execl(EDI_BINARY, EDI_BINARY, "replay", "-q", "--no-findings", "--registry",
              EDI_SOURCE_DIR "/examples/registry", "--db", db.c_str(), fifo.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    *fd = OpenWriter(fifo, pid);
    EXPECT_GE(*fd, 0) << ReadAll(dir_ / "err");
    for (const std::string& l : lines) (void)!::write(*fd, l.data(), l.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // waiting for more
    return pid;
  };
  int fd = -1, status = 0;
  pid_t pid = start((dir_ / "a.db").string(), &fd);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::close(fd);  // the producer ended by the same Ctrl-C
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  const std::string err = ReadAll(dir_ / "err");
  ASSERT_TRUE(WIFEXITED(status)) << err;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT) << err;
  EXPECT_NE(err.find("stopped by SIGINT"), std::string::npos) << err;
  EXPECT_EQ(Figure(ReadAll(dir_ / "out"), "records read"), static_cast<long long>(lines.size()));

  pid = start((dir_ / "b.db").string(), &fd);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  pid_t ended = 0;
  while ((ended = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::close(fd);
  if (ended == 0) ::waitpid(pid, &status, 0);
  EXPECT_EQ(ended, pid) << "a second signal of the other kind did not end the replay";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
}

INSTANTIATE_TEST_SUITE_P(Signals, ReplaySignal,
                         ::testing::Values(std::make_pair(SIGINT, "SIGINT"),
                                           std::make_pair(SIGTERM, "SIGTERM")),
                         [](const auto& info) { return std::string(info.param.second); });

}  // namespace
