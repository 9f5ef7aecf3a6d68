// `edi-audit rules check|list|test`: validate rule files, list their rules, and run the rule
// fixtures (rules/tests/) through the real pipeline.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "commands/commands.h"
#include "commands/rule_fixtures.h"
#include "commands/wiring.h"
#include "common/schema.h"
#include "common/yaml_document.h"
#include "detect/rules.h"
#include "state/facts.h"

namespace edi {
namespace {

namespace fs = std::filesystem;

// Every severity each rule can be given, read from the files (the last definition or
// `severity` override of a rule wins). The compiled RuleSet keeps only the default severity.
std::map<std::string, std::vector<Severity>> RuleSeverities(
    const std::vector<std::pair<std::string, std::string>>& files) {
  std::map<std::string, std::vector<Severity>> out;
  for (const auto& [name, text] : files) {
    YAML::Node root;
    try {
      root = LoadOneYamlDocument(text);
    } catch (const YAML::Exception&) {
      continue;  // the loader reports it
    }
    if (!root.IsSequence()) continue;
    for (const auto& item : root) {
      if (!item.IsMap() || !item["rule"] || !item["severity"]) continue;
      std::vector<Severity> sev;
      const YAML::Node& s = item["severity"];
      auto add = [&sev](const YAML::Node& n) {
        if (!n.IsScalar()) return;
        auto v = ParseSeverity(n.Scalar());
        if (v && std::find(sev.begin(), sev.end(), *v) == sev.end()) sev.push_back(*v);
      };
      if (s.IsScalar()) add(s);
      if (s.IsSequence()) {
        for (const auto& c : s) add(c.IsMap() ? (c["severity"] ? c["severity"] : c["default"]) : c);
      }
      if (!sev.empty()) out[item["rule"].Scalar()] = sev;
    }
  }
  return out;
}

// The files' texts; one that cannot be read is named under `command` ("rules test"), or left
// for the rule loader to report when `command` is null.
std::vector<std::pair<std::string, std::string>> ReadAll(const std::vector<std::string>& files,
                                                         bool* ok, const char* command) {
  std::vector<std::pair<std::string, std::string>> out;
  *ok = true;
  for (const std::string& f : files) {
    std::string text;
    if (Status s = ReadFile(f, &text); !s.ok()) {
      if (command != nullptr)
        std::fprintf(stderr, "edi-audit %s: %s\n", command, s.message().c_str());
      *ok = false;
    }
    out.emplace_back(f, std::move(text));
  }
  return out;
}

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

int RunCheck(const std::vector<std::string>& args, bool strict) {
  const auto expanded = ExpandRuleList(args, "the rules given");
  if (!expanded.ok()) {
    std::fprintf(stderr, "edi-audit rules check: %s\n", expanded.status().message().c_str());
    return 2;
  }
  const std::vector<std::string>& files = *expanded;
  const LoadResult r = LoadRules(files, FactsCatalog());
  for (const LoadIssue& issue : r.issues) std::printf("%s\n", issue.ToString().c_str());
  size_t rules = 0, enabled = 0;
  if (r.ok()) {
    rules = r.rules->rules().size();
    enabled = r.rules->enabled_count();
  }
  // Files that load but enable nothing are refused by replay and run (and a daemon refusing
  // its rules does not start): an error here too, so that a check in CI stops them. Check the
  // files replay and run are given (the shipped pack and one's own), not an own file alone.
  const bool none_enabled = r.ok() && enabled == 0;
  if (none_enabled) {
    std::printf(
        "error: no rule is enabled: replay and run refuse rule files that detect nothing "
        "(check the set they load: the shipped pack and your files, in order)\n");
  }
  const size_t errors = r.error_count() + (none_enabled ? 1 : 0);
  const size_t warnings = r.warning_count();
  std::printf("%s: %s (%zu enabled), %s, %s\n", Plural(files.size(), "file").c_str(),
              Plural(rules, "rule").c_str(), enabled, Plural(errors, "error").c_str(),
              Plural(warnings, "warning").c_str());
  if (errors > 0) return 1;
  return strict && warnings > 0 ? 1 : 0;
}

std::string SeverityText(const RuleInfo& info,
                         const std::map<std::string, std::vector<Severity>>& severities) {
  auto it = severities.find(info.id);
  if (it == severities.end()) return std::string(SeverityName(info.default_severity));
  std::string s;
  for (Severity v : it->second) s += (s.empty() ? "" : "/") + std::string(SeverityName(v));
  return s;
}

int RunList(const std::vector<std::string>& args) {
  const auto expanded = ExpandRuleList(args, "the rules given");
  if (!expanded.ok()) {
    std::fprintf(stderr, "edi-audit rules list: %s\n", expanded.status().message().c_str());
    return 2;
  }
  const std::vector<std::string>& files = *expanded;
  bool read_ok = true;
  const auto texts = ReadAll(files, &read_ok, nullptr);  // LoadRules names a file it cannot read
  const LoadResult r = LoadRules(files, FactsCatalog());
  if (!r.ok()) {
    std::fputs(r.ToString().c_str(), stderr);
    std::fprintf(stderr, "edi-audit rules list: the rule files do not load\n");
    return 1;
  }
  const auto severities = RuleSeverities(texts);
  size_t id_w = 2, sev_w = 8;
  for (const RuleInfo& info : r.rules->rules()) {
    id_w = std::max(id_w, info.id.size());
    sev_w = std::max(sev_w, SeverityText(info, severities).size());
  }
  std::printf("%-*s  %-*s  %-7s  %s\n", static_cast<int>(id_w), "id", static_cast<int>(sev_w),
              "severity", "enabled", "desc");
  for (const RuleInfo& info : r.rules->rules()) {
    std::string desc = info.desc;
    std::replace(desc.begin(), desc.end(), '\n', ' ');
    while (!desc.empty() && desc.back() == ' ') desc.pop_back();
    std::printf("%-*s  %-*s  %-7s  %s\n", static_cast<int>(id_w), info.id.c_str(),
                static_cast<int>(sev_w), SeverityText(info, severities).c_str(),
                info.enabled ? "yes" : "no", desc.c_str());
  }
  return 0;
}

// Rules of the base files that lack a firing case for one of their severities, or a case that
// names them in expect_not. Returns the number of gaps printed.
size_t ReportCoverage(const RuleSet& rules,
                      const std::map<std::string, std::vector<Severity>>& severities,
                      const std::vector<FixtureCase>& cases) {
  std::map<std::string, std::set<Severity>> fired;
  std::set<std::string> silent;
  for (const FixtureCase& c : cases) {
    if (!c.default_pack || !c.rules.empty()) continue;  // the base rules as shipped only
    for (const FindingPattern& p : c.expect) {
      if (p.severity) fired[p.rule].insert(*p.severity);
    }
    for (const FindingPattern& p : c.expect_not) silent.insert(p.rule);
  }
  size_t gaps = 0;
  for (const RuleInfo& info : rules.rules()) {
    if (!info.enabled) continue;
    std::vector<Severity> want = {info.default_severity};
    if (auto it = severities.find(info.id); it != severities.end()) want = it->second;
    for (Severity s : want) {
      if (fired[info.id].count(s) == 0) {
        std::printf("coverage: %s has no case expecting it at severity %s\n", info.id.c_str(),
                    std::string(SeverityName(s)).c_str());
        ++gaps;
      }
    }
    if (silent.count(info.id) == 0) {
      std::printf("coverage: %s has no case where it must stay silent\n", info.id.c_str());
      ++gaps;
    }
  }
  return gaps;
}

struct TestOptions {
  std::vector<std::string> paths;
  std::vector<std::string> rule_files;
  bool verbose = false;
  bool require_coverage = false;
};

int RunTest(const TestOptions& opt) {
  std::vector<std::string> paths = opt.paths;
  if (paths.empty()) {
    paths.push_back((fs::path(DefaultRuleFile()).parent_path() / "tests").string());
  }
  for (std::string& p : paths) {
    std::error_code ec;  // a rules directory stands for its tests/ folder: `rules test rules/`
    if (fs::is_directory(p, ec) && fs::is_directory(fs::path(p) / "tests", ec)) {
      p = (fs::path(p) / "tests").string();
    }
  }
  const auto expanded = ExpandRulePaths(paths, true);
  if (!expanded.ok()) {
    std::fprintf(stderr, "edi-audit rules test: %s\n", expanded.status().message().c_str());
    return 2;
  }
  const std::vector<std::string>& files = *expanded;
  // Base rule files or directories of them, as replay --rules takes them.
  const auto base_expanded = ExpandRulePaths(opt.rule_files, false);
  if (!base_expanded.ok()) {
    std::fprintf(stderr, "edi-audit rules test: %s\n", base_expanded.status().message().c_str());
    return 2;
  }
  const std::vector<std::string>& base_files = *base_expanded;
  bool read_ok = true;
  auto base = ReadAll(base_files, &read_ok, "rules test");
  if (!read_ok) return 1;
  const LoadResult base_loaded = LoadRulesFromStrings(base, FactsCatalog());
  if (!base_loaded.ok()) {
    std::fputs(base_loaded.ToString().c_str(), stderr);
    std::fprintf(stderr, "edi-audit rules test: the base rule files do not load\n");
    return 1;
  }
  const auto severities = RuleSeverities(base);
  FixtureRunner runner(std::move(base));
  size_t passed = 0, failed = 0;
  std::vector<FixtureCase> all;
  for (const std::string& file : files) {
    auto cases = LoadFixtureFile(file);
    if (!cases.ok()) {
      std::printf("FAIL %s: %s\n", file.c_str(), cases.status().message().c_str());
      ++failed;
      continue;
    }
    const std::string stem = fs::path(file).stem().string();
    for (const FixtureCase& c : *cases) {
      const CaseOutcome o = runner.Run(c);
      const std::string name = stem + ": " + c.name;
      if (o.passed) {
        std::printf("PASS %s\n", name.c_str());
        ++passed;
      } else {
        std::printf("FAIL %s: %s\n", name.c_str(), o.detail.c_str());
        ++failed;
      }
      if (opt.verbose || !o.passed) {
        for (const Finding& f : o.findings) {
          std::printf("    found %s@%s/%s herId %lld client %s\n", f.rule.c_str(),
                      f.request_id.c_str(), std::string(SeverityName(f.severity)).c_str(),
                      static_cast<long long>(f.her_id), f.client_id.c_str());
        }
      }
    }
    all.insert(all.end(), cases->begin(), cases->end());
  }
  size_t gaps = 0;
  if (opt.require_coverage) gaps = ReportCoverage(*base_loaded.rules, severities, all);
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed > 0 || gaps > 0 || passed == 0 ? 1 : 0;
}

}  // namespace

void AddRulesCommand(CLI::App& app, int* exit_code) {
  CLI::App* rules = app.add_subcommand("rules", "Check, list and test detection rule files");
  rules->require_subcommand(1);

  auto check_files = std::make_shared<std::vector<std::string>>();
  auto strict = std::make_shared<bool>(false);
  CLI::App* check = rules->add_subcommand(
      "check", "Load rule files and print every error and warning (file:line:col: CODE: message)");
  check->add_option(
      "files", *check_files,
      "rule files or directories (their *.yaml and *.yml in name order), loaded in order; "
      "default: the shipped edi-default.yaml");
  check->add_flag("--strict", *strict, "exit 1 on warnings too");
  check->footer(
      "Exit status: 0 the files load (warnings allowed unless --strict), 1 errors, 2 a directory "
      "without\n*.yaml or *.yml files.");
  check->callback([=]() { *exit_code = RunCheck(*check_files, *strict); });

  auto list_files = std::make_shared<std::vector<std::string>>();
  CLI::App* list = rules->add_subcommand("list",
                                         "List the rules of rule files: id, severity, "
                                         "enabled, description");
  list->add_option("files", *list_files, "rule files or directories; default: the shipped pack");
  list->footer(
      "Exit status: 0 listed, 1 the files do not load (the errors are printed), 2 a directory "
      "without\n*.yaml or *.yml files.");
  list->callback([=]() { *exit_code = RunList(*list_files); });

  auto opt = std::make_shared<TestOptions>();
  CLI::App* test = rules->add_subcommand(
      "test",
      "Run rule fixtures (rules/tests/README.md) through the pipeline and compare findings");
  test->add_option(
      "fixtures", opt->paths,
      "fixture files or directories (their *.yaml and *.yml not starting with '_'; a directory "
      "with a tests/ folder stands for that folder); default: the tests/ folder "
      "beside the shipped rules");
  test->add_option(
          "--rules", opt->rule_files,
          "a base rule file, or a directory of *.yaml or *.yml rule files, each fixture runs "
          "with; repeatable (default: the shipped edi-default.yaml)")
      ->allow_extra_args(false)  // one path per --rules: the fixtures follow as positionals
      ->check(CLI::ExistingPath);
  test->add_flag("-v,--verbose", opt->verbose, "print the findings of every case");
  test->add_flag("--require-coverage", opt->require_coverage,
                 "fail unless every enabled base rule has a case expecting each of its severities "
                 "and a case where it must stay silent");
  test->footer(
      "Exit status: 0 every case passed, 1 a case failed, a fixture or base rule file does not "
      "load, no case\nran, or --require-coverage found a gap; 2 a directory without *.yaml or "
      "*.yml fixture "
      "files.");
  test->callback([=]() { *exit_code = RunTest(*opt); });
}

}  // namespace edi
