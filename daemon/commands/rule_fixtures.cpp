// Reading rule fixtures (rules/tests/README.md): layers of settings (included files, the
// fixture, the case) and the expectations. Records are in rule_fixture_records.cpp.
#include <filesystem>
#include <set>

#include "commands/rule_fixture_parse.h"
#include "commands/rule_fixtures.h"
#include "common/schema.h"
#include "common/yaml_document.h"

namespace edi {
namespace {

namespace fs = std::filesystem;
using fixture::Context;
using fixture::Fail;
using fixture::FixtureError;

const std::set<std::string> kRegistryFiles = {"communication-parties", "organizations", "owners",
                                              "reservations", "clients"};

void ApplyRegistry(const YAML::Node& n, const fs::path& dir, Context* ctx) {
  if (n.IsScalar()) {
    ctx->registry = RegistrySpec{(dir / n.Scalar()).lexically_normal().string(), {}};
    return;
  }
  if (!n.IsMap()) Fail(n, "registry: a directory or a map of snapshot files");
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (key == "base") {
      ctx->registry.base_dir = (dir / kv.second.Scalar()).lexically_normal().string();
    } else if (kRegistryFiles.count(key) > 0) {
      ctx->registry.files[key + ".jsonl"] = fixture::JsonLines(kv.second, *ctx);
    } else {
      Fail(kv.first, "registry: unknown snapshot '" + key +
                         "' (communication-parties, organizations, owners, reservations, "
                         "clients or base)");
    }
  }
}

void ApplyRules(const YAML::Node& n, const fs::path& dir, Context* ctx) {
  if (!n.IsSequence()) Fail(n, "rules: a list of rule files or {name, yaml} maps");
  ctx->rules.clear();
  for (const auto& item : n) {
    if (item.IsScalar()) {
      const std::string path = (dir / item.Scalar()).lexically_normal().string();
      std::string text;
      if (Status s = ReadFile(path, &text); !s.ok()) Fail(item, s.message());
      ctx->rules.emplace_back(path, std::move(text));
    } else if (item.IsMap() && item["yaml"]) {
      const std::string name = item["name"] ? item["name"].Scalar() : "inline.yaml";
      ctx->rules.emplace_back(name, item["yaml"].Scalar());
    } else {
      Fail(item, "rules: each item is a file path or {name, yaml}");
    }
  }
}

std::vector<std::string> IncludePaths(const YAML::Node& n, const fs::path& dir) {
  std::vector<std::string> out;
  if (n.IsScalar()) out.push_back((dir / n.Scalar()).string());
  if (n.IsSequence()) {
    for (const auto& item : n) out.push_back((dir / item.Scalar()).string());
  }
  if (out.empty()) Fail(n, "include: a file or a list of files");
  return out;
}

// Applies the settings keys of `n`; returns false for a key that is not a setting.
bool ApplySetting(const std::string& key, const YAML::Node& v, const fs::path& dir, Context* ctx) {
  if (key == "registry") {
    ApplyRegistry(v, dir, ctx);
  } else if (key == "tokens") {
    if (!v.IsMap()) Fail(v, "tokens: a map of short name -> client object");
    // Rebinding (not assigning) keeps a copied Context from writing through shared nodes.
    for (const auto& kv : v) {
      ctx->tokens.erase(kv.first.Scalar());
      ctx->tokens.emplace(kv.first.Scalar(), YAML::Clone(kv.second));
    }
  } else if (key == "vars") {
    if (!v.IsMap()) Fail(v, "vars: a map of name -> text");
    for (const auto& kv : v) ctx->vars[kv.first.Scalar()] = kv.second.Scalar();
  } else if (key == "defaults") {
    if (!v.IsMap()) Fail(v, "defaults: a map of record fields");
    ctx->defaults.reset(fixture::Merge(ctx->defaults, v));
  } else if (key == "start") {
    auto t = ParseRfc3339(v.Scalar());
    if (!t) Fail(v, "start: an RFC 3339 time such as 2026-05-04T08:00:00.000Z");
    ctx->start = *t;
  } else if (key == "rules") {
    ApplyRules(v, dir, ctx);
  } else if (key == "default_pack") {
    ctx->default_pack = v.as<bool>();
  } else {
    return false;
  }
  return true;
}

void ApplyIncludeFile(const std::string& path, Context* ctx, int depth) {
  if (depth > 4) throw FixtureError{0, "include: nested too deeply at " + path};
  YAML::Node root;
  try {
    root = LoadOneYamlDocumentFile(path);
  } catch (const YAML::BadFile&) {
    throw FixtureError{0, "include " + path + ": cannot be read (no such file, or not readable)"};
  } catch (const YAML::Exception& e) {
    throw FixtureError{0, "include " + path + ": " + e.what()};
  }
  const fs::path dir = fs::path(path).parent_path();
  try {
    if (root["include"]) {
      for (const std::string& p : IncludePaths(root["include"], dir)) {
        ApplyIncludeFile(p, ctx, depth + 1);
      }
    }
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (key != "include" && !ApplySetting(key, kv.second, dir, ctx)) {
        Fail(kv.first, "unknown setting '" + key + "'");
      }
    }
  } catch (const FixtureError& e) {
    throw FixtureError{0, path + ":" + std::to_string(e.line) + ": " + e.message};
  }
}

std::string ClientIdOf(const YAML::Node& v, const Context& ctx) {
  auto it = ctx.tokens.find(v.Scalar());
  if (it != ctx.tokens.end() && it->second["clientId"]) return it->second["clientId"].Scalar();
  return v.Scalar();
}

FindingPattern ParsePattern(const YAML::Node& n, const Context& ctx, bool expect) {
  if (!n.IsMap()) Fail(n, "a finding pattern is a map {rule, requestId, severity, ...}");
  FindingPattern p;
  p.line = n.Mark().line + 1;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "rule") {
      p.rule = v.Scalar();
    } else if (key == "requestId") {
      p.request_id = v.Scalar();
    } else if (key == "severity") {
      p.severity = ParseSeverity(v.Scalar());
      if (!p.severity) Fail(v, "unknown severity '" + v.Scalar() + "'");
    } else if (key == "herId") {
      p.her_id = v.as<int64_t>();
    } else if (key == "clientId" || key == "client") {
      p.client_id = ClientIdOf(v, ctx);
    } else {
      Fail(kv.first, "unknown key '" + key + "' (rule, requestId, severity, herId, client)");
    }
  }
  if (expect && (p.rule.empty() || p.rule == "*" || p.request_id.empty())) {
    Fail(n, "expect: each item needs a rule and a requestId");
  }
  if (!expect && p.rule.empty() && p.request_id.empty() && !p.her_id && p.client_id.empty()) {
    Fail(n, "expect_not: an empty pattern; write {rule: '*'} to forbid every finding");
  }
  return p;
}

void CheckRequestIds(const YAML::Node& at, const FixtureCase& c) {
  for (const auto* list : {&c.expect, &c.expect_not}) {
    for (const FindingPattern& p : *list) {
      if (p.request_id.empty()) continue;
      bool found = false;
      for (const std::string& id : c.request_ids) found = found || id == p.request_id;
      if (!found) {
        throw FixtureError{p.line, "no record of the case has requestId '" + p.request_id + "'"};
      }
    }
  }
  if (c.expect.empty() && c.expect_not.empty()) Fail(at, "a case needs expect or expect_not");
}

// `n` is an item of `cases:`, or the whole file when it is one case (is_root: its include was
// applied already).
FixtureCase ParseCase(const YAML::Node& n, const fs::path& dir, Context ctx,
                      const std::string& file, const std::string& fallback_name, bool is_root) {
  FixtureCase c;
  c.file = file;
  c.line = n.Mark().line + 1;
  c.name = n["name"] ? n["name"].Scalar() : fallback_name;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (key == "name" || key == "records" || key == "expect" || key == "expect_not" ||
        key == "desc" || (is_root && key == "include")) {
      continue;
    }
    if (!ApplySetting(key, kv.second, dir, &ctx)) Fail(kv.first, "unknown key '" + key + "'");
  }
  if (!n["records"]) Fail(n, "case '" + c.name + "' has no records");
  fixture::AddRecords(n["records"], ctx, &c);
  if (n["expect"]) {
    for (const auto& p : n["expect"]) c.expect.push_back(ParsePattern(p, ctx, true));
  }
  if (n["expect_not"]) {
    for (const auto& p : n["expect_not"]) c.expect_not.push_back(ParsePattern(p, ctx, false));
  }
  CheckRequestIds(n, c);
  c.registry = ctx.registry;
  c.rules = ctx.rules;
  c.default_pack = ctx.default_pack;
  return c;
}

}  // namespace

Result<std::vector<FixtureCase>> LoadFixtureFile(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  const std::string stem = fs::path(path).stem().string();
  std::vector<FixtureCase> out;
  try {
    const YAML::Node root = LoadOneYamlDocumentFile(path);
    if (!root.IsMap()) throw FixtureError{1, "a fixture file is a map"};
    Context ctx;
    if (root["include"]) {
      for (const std::string& p : IncludePaths(root["include"], dir)) ApplyIncludeFile(p, &ctx, 0);
    }
    if (root["records"]) {  // a file that is one case
      out.push_back(ParseCase(root, dir, ctx, path, stem, true));
      return out;
    }
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (key == "include" || key == "cases" || key == "desc") continue;
      if (!ApplySetting(key, kv.second, dir, &ctx)) {
        Fail(kv.first, "unknown key '" + key + "' (a fixture has cases: or records:)");
      }
    }
    if (!root["cases"] || !root["cases"].IsSequence()) Fail(root, "no cases: list");
    if (root["cases"].size() == 0) Fail(root["cases"], "cases: is empty: a fixture needs a case");
    int n = 0;
    for (const auto& c : root["cases"]) {
      if (!c.IsMap()) Fail(c, "a case is a map");
      out.push_back(ParseCase(c, dir, ctx, path, stem + " #" + std::to_string(++n), false));
      for (size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i].name == out.back().name)
          Fail(c, "a second case named '" + out.back().name + "'");
      }
    }
  } catch (const FixtureError& e) {
    return Status::InvalidArgument(path + (e.line > 0 ? ":" + std::to_string(e.line) : "") + ": " +
                                   e.message);
  } catch (const YAML::BadFile& e) {
    // "bad file: NAME", of the fixture or a file it includes.
    std::string what = e.msg;
    if (what.rfind("bad file: ", 0) == 0) what = what.substr(10);
    return Status::InvalidArgument(path + ": cannot read " + what);
  } catch (const YAML::BadConversion& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) +
                                   ": a value of the wrong kind (text where a number, a list or a "
                                   "map belongs, or the other way round)");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  return out;
}

bool FindingPattern::Matches(const Finding& f) const {
  if (!rule.empty() && rule != "*" && rule != f.rule) return false;
  if (!request_id.empty() && request_id != f.request_id) return false;
  if (severity && *severity != f.severity) return false;
  if (her_id && *her_id != f.her_id) return false;
  if (!client_id.empty() && client_id != f.client_id) return false;
  return true;
}

std::string FindingPattern::ToString() const {
  std::string s = rule.empty() ? "*" : rule;
  if (!request_id.empty()) s += "@" + request_id;
  if (severity) s += "/" + std::string(SeverityName(*severity));
  if (her_id) s += " herId " + std::to_string(*her_id);
  if (!client_id.empty()) s += " client " + client_id;
  return s;
}

}  // namespace edi
