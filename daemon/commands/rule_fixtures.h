// Rule fixtures: the test cases `edi-audit rules test` runs. A fixture is a YAML file holding a
// small registry, a sequence of access-log records, and the findings that must and must not
// appear when those records go through the real pipeline (decode -> state -> detect -> store).
// The format is documented in rules/tests/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "detect/finding.h"
#include "detect/rules.h"

namespace edi {

// A finding a case expects or forbids. Unset members match anything.
struct FindingPattern {
  std::string rule;  // "" or "*": any rule (only in expect_not)
  std::string request_id;
  std::optional<Severity> severity;
  std::optional<int64_t> her_id;
  std::string client_id;
  int line = 0;  // where the pattern is written in the fixture

  bool Matches(const Finding& f) const;
  // "edi.foreign-send@r3/high" (the members that are set).
  std::string ToString() const;
};

// The reference snapshots of a case: a snapshot directory, files written inline, or both (an
// inline file replaces the directory's file of the same name).
struct RegistrySpec {
  std::string base_dir;                      // "" = none
  std::map<std::string, std::string> files;  // "owners.jsonl" -> JSON lines
};

struct FixtureCase {
  std::string file;  // the fixture file
  std::string name;
  int line = 0;
  RegistrySpec registry;
  bool default_pack = true;  // load the base rule files before `rules`
  std::vector<std::pair<std::string, std::string>> rules;  // extra rule files: (name, YAML)
  std::vector<std::string> records;                        // JSON, in order
  std::vector<std::string> request_ids;                    // of `records`, "" when unknown
  std::vector<FindingPattern> expect, expect_not;
};

// Reads every case of one fixture file. Fails with a message naming the file and line.
Result<std::vector<FixtureCase>> LoadFixtureFile(const std::string& path);

struct CaseOutcome {
  bool passed = false;
  std::string detail;             // why it failed: "missing X, unexpected Y", or an error
  std::vector<Finding> findings;  // every new finding of the run
};

// Rule sets shared by the cases that add no rule files of their own.
class FixtureRunner {
 public:
  // `base_rules` are (name, YAML text) loaded before each case's own rule files.
  explicit FixtureRunner(std::vector<std::pair<std::string, std::string>> base_rules);

  // Runs the case's records through a fresh pipeline (temporary registry directory and SQLite
  // database, removed afterwards) and compares the new findings with the expectations.
  CaseOutcome Run(const FixtureCase& c);

 private:
  std::vector<std::pair<std::string, std::string>> base_rules_;
  int runs_ = 0;
};

}  // namespace edi
