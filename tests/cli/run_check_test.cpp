// `edi-audit run --check`: what a start would refuse of a configuration, found without starting
// (no database made, no broker asked), and what it would use when it would start.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_fixture.h"

namespace edi_cli {
namespace {

class RunCheck : public ReplayCli {
 protected:
  // A configuration of the example registry and `db`, with `extra` appended; its path (a file
  // of its own for each).
  std::string Config(const std::string& db, const std::string& extra = "") {
    const std::string path =
        (dir_ / ("edi-audit-" + std::to_string(++configs_) + ".yaml")).string();
    std::ofstream(path) << "registry: " EDI_SOURCE_DIR "/examples/registry\ndatabase: " << db
                        << "\nkafka:\n  brokers: 127.0.0.1:1\n  topics: [edi-access-log]\n"
                        << extra;
    return path;
  }
  Output Check(const std::string& config) {
    return Sh(std::string(EDI_BINARY) + " run --check --config " + config);
  }
  int configs_ = 0;
};

TEST_F(RunCheck, AUsableConfigurationIsSaidSoWithWhatAStartWouldUseAndNothingIsMade) {
  const std::string db = (dir_ / "audit.db").string();
  const Output fresh =
      Check(Config(db, "  alerts_topic: edi-alerts\nhttp: {listen: 127.0.0.1:9464}\n"));
  EXPECT_EQ(fresh.status, 0) << fresh.out;
  EXPECT_NE(fresh.out.find("edi-audit-1.yaml: usable\n"), std::string::npos) << fresh.out;
  EXPECT_NE(fresh.out.find("database  " + db + " (new, made at the start)"), std::string::npos)
      << fresh.out;
  EXPECT_NE(fresh.out.find("(20 parties, 11 organisations)"), std::string::npos) << fresh.out;
  EXPECT_NE(fresh.out.find("alerts to edi-alerts"), std::string::npos) << fresh.out;
  EXPECT_NE(fresh.out.find("127.0.0.1:9464 (not bound by --check)"), std::string::npos)
      << fresh.out;
  EXPECT_FALSE(std::filesystem::exists(db));
  // An existing database is named with its schema version, and left as it was.
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const auto size = std::filesystem::file_size(db);
  const Output existing = Check(Config(db));
  EXPECT_EQ(existing.status, 0) << existing.out;
  EXPECT_NE(existing.out.find("database  " + db + " (schema version "), std::string::npos)
      << existing.out;
  EXPECT_EQ(std::filesystem::file_size(db), size);
}

TEST_F(RunCheck, WhatAStartWouldRefuseIsNamedWithExitStatusTwo) {
  const std::string db = (dir_ / "audit.db").string();
  std::ofstream(dir_ / "not-a-db") << "not a database\n";
  std::ofstream(dir_ / "broken.yaml") << "- rule: local.x\n  condition: evt.nosuch\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Config((dir_ / "missing-dir" / "audit.db").string()), "missing-dir does not exist"},
      {Config((dir_ / "not-a-db").string()), "(is it an SQLite database?)"},
      {Config(dir_.string()), "is a directory, not a database file"},
      {Config(db, "  consumer:\n    fetch.wait.max.mz: 5\n"),
       "kafka.consumer.fetch.wait.max.mz: No such configuration property"},
      {Config(db, "rules: [" + (dir_ / "broken.yaml").string() + "]\n"),
       "the rule files do not load"},
  };
  for (const auto& [config, said] : cases) {
    const Output r = Check(config);
    EXPECT_EQ(r.status, 2) << said << "\n" << r.out;
    EXPECT_NE(r.out.find(said), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(": usable"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(db));
}

}  // namespace
}  // namespace edi_cli
