// Running one rule fixture case through the real pipeline, the way `replay` runs a file.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "commands/rule_fixtures.h"
#include "common/schema.h"
#include "decode/decoder.h"
#include "pipeline/pipeline.h"
#include "state/facts.h"
#include "store/store.h"

namespace edi {
namespace {

namespace fs = std::filesystem;

// A directory removed when it goes out of scope.
class TempDir {
 public:
  explicit TempDir(int n) {
    path_ = fs::temp_directory_path() /
            ("edi-rules-test-" + std::to_string(::getpid()) + "-" + std::to_string(n));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The registry directory of the case: the base directory as is, or a copy of it with the inline
// snapshot files written over it.
Result<std::string> RegistryDir(const RegistrySpec& spec, const fs::path& tmp) {
  if (spec.files.empty()) {
    if (spec.base_dir.empty()) return Status::InvalidArgument("the case has no registry");
    return spec.base_dir;
  }
  const fs::path dir = tmp / "registry";
  fs::create_directories(dir);
  if (!spec.base_dir.empty()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(spec.base_dir, ec)) {
      if (entry.path().extension() == ".jsonl") {
        fs::copy_file(entry.path(), dir / entry.path().filename(), ec);
      }
    }
    if (ec) return Status::IOError("registry " + spec.base_dir + ": " + ec.message());
  }
  for (const auto& [name, text] : spec.files) {
    std::ofstream out(dir / name, std::ios::trunc);
    out << text;
    if (!out) return Status::IOError("cannot write " + (dir / name).string());
  }
  return dir.string();
}

std::string Describe(const Finding& f) {
  std::string s = f.rule + "@" + f.request_id + "/" + std::string(SeverityName(f.severity));
  if (f.her_id != 0) s += " herId " + std::to_string(f.her_id);
  return s;
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : sep) + p;
  return s;
}

// "missing X, unexpected Y" over the findings of the run; "" when the case holds.
std::string Compare(const FixtureCase& c, const std::vector<Finding>& found) {
  std::vector<std::string> missing, unexpected;
  for (const FindingPattern& p : c.expect) {
    bool hit = false;
    std::string other_severity;
    for (const Finding& f : found) {
      if (p.Matches(f)) hit = true;
      if (f.rule == p.rule && f.request_id == p.request_id) {
        other_severity = std::string(SeverityName(f.severity));
      }
    }
    if (!hit) {
      missing.push_back(p.ToString() +
                        (other_severity.empty() ? "" : " (raised as " + other_severity + ")"));
    }
  }
  for (const FindingPattern& p : c.expect_not) {
    for (const Finding& f : found) {
      if (p.Matches(f)) unexpected.push_back(Describe(f));
    }
  }
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back("missing " + Join(missing, ", "));
  if (!unexpected.empty()) parts.push_back("unexpected " + Join(unexpected, ", "));
  return Join(parts, "; ");
}

CaseOutcome Failed(std::string why) {
  CaseOutcome o;
  o.detail = std::move(why);
  return o;
}

}  // namespace

FixtureRunner::FixtureRunner(std::vector<std::pair<std::string, std::string>> base_rules)
    : base_rules_(std::move(base_rules)) {}

CaseOutcome FixtureRunner::Run(const FixtureCase& c) {
  std::vector<std::pair<std::string, std::string>> rule_files;
  if (c.default_pack) rule_files = base_rules_;
  rule_files.insert(rule_files.end(), c.rules.begin(), c.rules.end());
  RuleEngine engine(&FactsCatalog());
  const LoadResult loaded = engine.ReloadFromStrings(rule_files);
  if (!loaded.ok()) {
    for (const LoadIssue& issue : loaded.issues) {
      if (issue.is_error()) return Failed("rules do not load: " + issue.ToString());
    }
  }
  const std::shared_ptr<const RuleSet> rules = engine.current();
  for (const auto* list : {&c.expect, &c.expect_not}) {
    for (const FindingPattern& p : *list) {
      if (!p.rule.empty() && p.rule != "*" && !rules->Find(p.rule)) {
        return Failed("line " + std::to_string(p.line) + ": no rule '" + p.rule + "' is loaded");
      }
    }
  }

  // A record the decoder refuses is a mistake in the fixture, not a finding: say why.
  auto decoder = Decoder::Create({});
  if (!decoder.ok()) return Failed(decoder.status().message());
  for (size_t i = 0; i < c.records.size(); ++i) {
    AccessEvent event;
    DecodeError error;
    if (!(*decoder)->Decode(c.records[i], &event, &error)) {
      return Failed("record " + std::to_string(i + 1) + " (" + c.request_ids[i] +
                    ") would be quarantined: " + std::string(QuarantineReasonName(error.reason)) +
                    ": " + error.detail);
    }
  }

  TempDir tmp(++runs_);
  auto registry_dir = RegistryDir(c.registry, tmp.path());
  if (!registry_dir.ok()) return Failed(registry_dir.status().message());
  auto registry = Registry::Load(*registry_dir, SchemaDir());
  if (!registry.ok()) return Failed("registry: " + registry.status().message());
  auto store = Store::Open((tmp.path() / "audit.db").string(), {});
  if (!store.ok()) return Failed(store.status().message());
  auto pipeline_decoder = Decoder::Create({});
  if (!pipeline_decoder.ok()) return Failed(pipeline_decoder.status().message());
  auto pipeline = Pipeline::Create(PipelineOptions{}, std::move(*pipeline_decoder), *registry,
                                   store->get(), &engine);
  if (!pipeline.ok()) return Failed(pipeline.status().message());

  std::vector<RawRecord> batch(c.records.size());
  for (size_t i = 0; i < c.records.size(); ++i) {
    batch[i].bytes = c.records[i];
    batch[i].full_size = c.records[i].size();
    batch[i].where = {"fixture:" + c.file, static_cast<int64_t>(i + 1)};
  }
  if (Status s = (*pipeline)->ProcessBatch(batch); !s.ok()) return Failed(s.message());

  CaseOutcome out;
  out.findings = (*pipeline)->batch_findings();
  out.detail = Compare(c, out.findings);
  out.passed = out.detail.empty();
  return out;
}

}  // namespace edi
