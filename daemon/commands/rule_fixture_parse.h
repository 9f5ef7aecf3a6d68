// Internal to the rule fixture reader (rule_fixtures.cpp, rule_fixture_records.cpp): the
// settings a fixture's layers build up, and turning YAML records into access-log JSON.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "commands/rule_fixtures.h"
#include "common/time.h"

namespace edi::fixture {

// A mistake in a fixture; thrown inside the reader, returned by LoadFixtureFile as a Status.
struct FixtureError {
  int line;  // 1-based, 0 = the whole file
  std::string message;
};

// Throws a FixtureError at `at`'s line.
[[noreturn]] void Fail(const YAML::Node& at, std::string message);

// Settings that included files, the fixture and each case may give; later layers win. Nodes
// are replaced by rebinding (reset), never assigned through, so that a copied Context never
// writes into its parent's nodes.
struct Context {
  RegistrySpec registry;
  std::map<std::string, YAML::Node> tokens;  // short name -> the record's `client` object
  std::map<std::string, std::string> vars;   // `{NAME}` placeholders
  YAML::Node defaults = YAML::Load("{schemaVersion: 1, apiVersion: '3', method: GET, status: 200}");
  EventTime start = *ParseRfc3339("2026-05-04T08:00:00.000Z");
  std::vector<std::pair<std::string, std::string>> rules;
  bool default_pack = true;
};

// `over` on top of `base`: maps merge key by key, anything else replaces. Returns new nodes.
YAML::Node Merge(const YAML::Node& base, const YAML::Node& over);

// A snapshot written inline (a list of maps, or a block of JSON lines) as JSON lines.
std::string JsonLines(const YAML::Node& n, const Context& ctx);

// Appends the records of a case's `records:` list, with their request ids, to *c.
void AddRecords(const YAML::Node& list, const Context& ctx, FixtureCase* c);

}  // namespace edi::fixture
