// The binary as a user runs it: a shell command's exit status and output, and a fixture with a
// directory of its own per test.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace edi_cli {

struct Output {
  int status = -1;
  std::string out;
};

inline Output Sh(const std::string& cmd) {
  Output r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class ReplayCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("edi-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // The line of examples/access-log.jsonl with this requestId ("" if none).
  static std::string ExampleRecord(const std::string& request_id) {
    std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"requestId\":\"" + request_id + "\"") != std::string::npos) return line;
    }
    return "";
  }
  std::string Replay(const std::string& db) {
    return std::string(EDI_BINARY) +
           " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
           " " EDI_SOURCE_DIR "/examples/access-log.jsonl " EDI_SOURCE_DIR
           "/examples/access-log-malformed.jsonl";
  }
  std::filesystem::path dir_;
};

}  // namespace edi_cli
