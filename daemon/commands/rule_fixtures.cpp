// Reading rule fixtures (rules/tests/README.md): layers of settings (included files, the
// fixture, the case), records written as YAML maps and turned into access-log JSON, and the
// expectations.
#include "commands/rule_fixtures.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "common/schema.h"
#include "common/time.h"

namespace edi {
namespace {

namespace fs = std::filesystem;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A mistake in a fixture; caught at LoadFixtureFile and returned as a Status.
struct FixtureError {
  int line;  // 1-based, 0 = the whole file
  std::string message;
};

[[noreturn]] void Fail(const YAML::Node& at, std::string message) {
  throw FixtureError{at.Mark().is_null() ? 0 : at.Mark().line + 1, std::move(message)};
}

// YAML lets a map repeat a key and keeps the last; in a fixture that is always a mistake.
void CheckNoDuplicateKeys(const YAML::Node& n) {
  if (n.IsSequence()) {
    for (const auto& item : n) CheckNoDuplicateKeys(item);
  } else if (n.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!seen.insert(kv.first.Scalar()).second) {
        Fail(kv.first, "key '" + kv.first.Scalar() + "' given twice");
      }
      CheckNoDuplicateKeys(kv.second);
    }
  }
}

const std::set<std::string> kRegistryFiles = {"communication-parties", "organizations", "owners",
                                              "reservations", "clients"};

// Settings that included files, the fixture and each case may give; later layers win.
struct Context {
  RegistrySpec registry;
  std::map<std::string, YAML::Node> tokens;  // short name -> the record's `client` object
  std::map<std::string, std::string> vars;   // `{NAME}` placeholders
  YAML::Node defaults = YAML::Load("{schemaVersion: 1, apiVersion: '3', method: GET, status: 200}");
  EventTime start = *ParseRfc3339("2026-05-04T08:00:00.000Z");
  std::vector<std::pair<std::string, std::string>> rules;
  bool default_pack = true;
};

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "90s", "5m", "2h", "31d", "500ms", "1d2h30m", or a number of milliseconds.
EventTime ParseDuration(const YAML::Node& n) {
  const std::string s = n.Scalar();
  int64_t total = 0;
  if (ParseInt(s, &total)) return total;
  size_t i = 0;
  if (s.empty()) Fail(n, "empty duration");
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    size_t k = j;
    while (k < s.size() && (s[k] < '0' || s[k] > '9')) ++k;
    int64_t v = 0;
    if (!ParseInt(std::string_view(s).substr(i, j - i), &v)) Fail(n, "bad duration '" + s + "'");
    const std::string unit = s.substr(j, k - j);
    const EventTime scale = unit == "ms"  ? 1
                            : unit == "s" ? kMillisPerSecond
                            : unit == "m" ? kMillisPerMinute
                            : unit == "h" ? kMillisPerHour
                            : unit == "d" ? kMillisPerDay
                                          : -1;
    if (scale < 0) Fail(n, "bad duration unit '" + unit + "' in '" + s + "' (ms, s, m, h, d)");
    total += v * scale;
    i = k;
  }
  return total;
}

// Replaces `{NAME}` (a var), `{i}` and `{i+K}` / `{i-K}` (the repetition index).
std::string Substitute(const YAML::Node& at, const std::string& text, const Context& ctx,
                       int64_t i) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    const std::string name = text.substr(open + 1, close - open - 1);
    int64_t k = 0;
    if (name == "i") {
      out += std::to_string(i);
    } else if (name.size() > 2 && name[0] == 'i' && (name[1] == '+' || name[1] == '-') &&
               ParseInt(std::string_view(name).substr(2), &k)) {
      out += std::to_string(name[1] == '+' ? i + k : i - k);
    } else if (auto it = ctx.vars.find(name); it != ctx.vars.end()) {
      out += it->second;
    } else {
      Fail(at, "unknown placeholder {" + name + "}");
    }
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

// YAML to JSON. A plain scalar is typed by its text (integer, true/false, null, else string); a
// quoted or block scalar is a string; `!int` and `!str` force the type.
void WriteJson(const YAML::Node& n, const Context& ctx, int64_t i, JsonWriter* w) {
  if (n.IsMap()) {
    w->StartObject();
    for (const auto& kv : n) {
      w->Key(Substitute(kv.first, kv.first.Scalar(), ctx, i).c_str());
      WriteJson(kv.second, ctx, i, w);
    }
    w->EndObject();
  } else if (n.IsSequence()) {
    w->StartArray();
    for (const auto& item : n) WriteJson(item, ctx, i, w);
    w->EndArray();
  } else if (n.IsScalar()) {
    const std::string s = Substitute(n, n.Scalar(), ctx, i);
    int64_t v = 0;
    const std::string& tag = n.Tag();
    if (tag == "!int") {
      if (!ParseInt(s, &v)) Fail(n, "!int value '" + s + "' is not an integer");
      w->Int64(v);
    } else if (tag != "?") {
      w->String(s.c_str());
    } else if (ParseInt(s, &v)) {
      w->Int64(v);
    } else if (s == "true" || s == "false") {
      w->Bool(s == "true");
    } else if (s == "null" || s == "~") {
      w->Null();
    } else {
      w->String(s.c_str());
    }
  } else {
    w->Null();
  }
}

// `over` on top of `base`: maps merge key by key, anything else replaces.
YAML::Node Merge(const YAML::Node& base, const YAML::Node& over) {
  if (!base.IsDefined() || base.IsNull() || !base.IsMap() || !over.IsMap()) {
    return YAML::Clone(over);
  }
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : over) {
    const std::string key = kv.first.Scalar();
    out[key] = Merge(out[key], kv.second);
  }
  return out;
}

std::string JsonLines(const YAML::Node& n, const Context& ctx) {
  if (n.IsScalar()) return n.Scalar();  // raw JSON lines
  if (!n.IsSequence()) Fail(n, "a snapshot is a list of objects or a block of JSON lines");
  std::string out;
  for (const auto& item : n) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    WriteJson(item, ctx, 0, &w);
    out += sb.GetString();
    out += "\n";
  }
  return out;
}

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
      ctx->registry.files[key + ".jsonl"] = JsonLines(kv.second, *ctx);
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
bool ApplySetting(const std::string& key, const YAML::Node& v, const fs::path& dir,
                  Context* ctx) {
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
    ctx->defaults.reset(Merge(ctx->defaults, v));
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
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw FixtureError{0, "include " + path + ": " + e.what()};
  }
  const fs::path dir = fs::path(path).parent_path();
  try {
    CheckNoDuplicateKeys(root);
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

// One record map (after defaults) as JSON, with its time and request id filled in.
std::string RecordJson(YAML::Node rec, const Context& ctx, EventTime t, int64_t i, int seq,
                       std::string* request_id) {
  for (const char* k : {"at", "after", "repeat", "every"}) rec.remove(k);
  if (rec["client"] && rec["client"].IsScalar()) {
    auto it = ctx.tokens.find(rec["client"].Scalar());
    if (it == ctx.tokens.end()) Fail(rec["client"], "unknown token '" + rec["client"].Scalar() + "'");
    rec["client"] = YAML::Clone(it->second);
  }
  if (!rec["timestamp"]) rec["timestamp"] = FormatRfc3339(t);
  if (!rec["requestId"]) rec["requestId"] = "r" + std::to_string(seq);
  *request_id = Substitute(rec["requestId"], rec["requestId"].Scalar(), ctx, i);
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  WriteJson(rec, ctx, i, &w);
  return sb.GetString();
}

void AddRecords(const YAML::Node& list, const Context& ctx, FixtureCase* c) {
  if (!list.IsSequence()) Fail(list, "records: a list");
  EventTime t = ctx.start;
  bool first = true;
  for (const auto& item : list) {
    if (item.IsScalar()) {  // a raw JSON record, used as written
      c->records.push_back(item.Scalar());
      rapidjson::Document d;
      d.Parse(item.Scalar().c_str());
      const bool has_id = !d.HasParseError() && d.IsObject() && d.HasMember("requestId") &&
                          d["requestId"].IsString();
      c->request_ids.push_back(has_id ? d["requestId"].GetString() : "");
      first = false;
      continue;
    }
    if (!item.IsMap()) Fail(item, "a record is a map or a JSON string");
    if (item["at"]) {
      t = ctx.start + ParseDuration(item["at"]);
    } else if (item["after"]) {
      t += ParseDuration(item["after"]);
    } else if (!first) {
      t += kMillisPerSecond;
    }
    first = false;
    const int64_t repeat = item["repeat"] ? item["repeat"].as<int64_t>() : 1;
    const EventTime every = item["every"] ? ParseDuration(item["every"]) : kMillisPerSecond;
    if (repeat < 1 || repeat > 100000) Fail(item["repeat"], "repeat: 1 to 100000");
    const YAML::Node rec = Merge(ctx.defaults, item);
    for (int64_t i = 0; i < repeat; ++i) {
      const EventTime ti = t + i * every;
      std::string id;
      c->records.push_back(
          RecordJson(YAML::Clone(rec), ctx, ti, i, static_cast<int>(c->records.size()) + 1, &id));
      c->request_ids.push_back(id);
    }
    t += (repeat - 1) * every;
    if (rec["timestamp"]) {
      if (auto explicit_time = ParseRfc3339(rec["timestamp"].Scalar())) t = *explicit_time;
    }
  }
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

FixtureCase ParseCase(const YAML::Node& n, const fs::path& dir, Context ctx,
                      const std::string& file, const std::string& fallback_name) {
  FixtureCase c;
  c.file = file;
  c.line = n.Mark().line + 1;
  c.name = n["name"] ? n["name"].Scalar() : fallback_name;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (key == "name" || key == "records" || key == "expect" || key == "expect_not" ||
        key == "cases" || key == "include" || key == "desc") {
      continue;
    }
    if (!ApplySetting(key, kv.second, dir, &ctx)) Fail(kv.first, "unknown key '" + key + "'");
  }
  if (!n["records"]) Fail(n, "case '" + c.name + "' has no records");
  AddRecords(n["records"], ctx, &c);
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
    const YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) throw FixtureError{1, "a fixture file is a map"};
    CheckNoDuplicateKeys(root);
    Context ctx;
    if (root["include"]) {
      for (const std::string& p : IncludePaths(root["include"], dir)) ApplyIncludeFile(p, &ctx, 0);
    }
    if (root["records"]) {  // a file that is one case
      out.push_back(ParseCase(root, dir, ctx, path, stem));
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
    int n = 0;
    for (const auto& c : root["cases"]) {
      if (!c.IsMap()) Fail(c, "a case is a map");
      out.push_back(ParseCase(c, dir, ctx, path, stem + " #" + std::to_string(++n)));
    }
  } catch (const FixtureError& e) {
    return Status::InvalidArgument(path + (e.line > 0 ? ":" + std::to_string(e.line) : "") +
                                   ": " + e.message);
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
