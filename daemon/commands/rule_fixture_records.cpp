// Fixture records: YAML maps with defaults, tokens, placeholders and compact times, written
// out as access-log JSON (rules/tests/README.md "Records").
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

#include "commands/rule_fixture_parse.h"

namespace edi::fixture {

void Fail(const YAML::Node& at, std::string message) {
  throw FixtureError{at.Mark().is_null() ? 0 : at.Mark().line + 1, std::move(message)};
}

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// *out is left alone unless all of `s` is an integer.
bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  *out = v;
  return true;
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
    int64_t part = 0;
    if (__builtin_mul_overflow(v, scale, &part) || __builtin_add_overflow(total, part, &total)) {
      Fail(n, "duration '" + s + "' is too long");
    }
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

// One record map (after defaults) as JSON, with its time and request id filled in.
std::string RecordJson(YAML::Node rec, const Context& ctx, EventTime t, int64_t i, int seq,
                       std::string* request_id) {
  for (const char* k : {"at", "after", "repeat", "every"}) rec.remove(k);
  if (rec["client"] && rec["client"].IsScalar()) {
    auto it = ctx.tokens.find(rec["client"].Scalar());
    if (it == ctx.tokens.end()) {
      Fail(rec["client"], "unknown token '" + rec["client"].Scalar() + "'");
    }
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

}  // namespace

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
    try {
      for (int64_t i = 0; i < repeat; ++i) {
        const EventTime ti = t + i * every;
        std::string id;
        c->records.push_back(
            RecordJson(YAML::Clone(rec), ctx, ti, i, static_cast<int>(c->records.size()) + 1, &id));
        c->request_ids.push_back(id);
      }
    } catch (const FixtureError& e) {  // merged nodes lose their marks: name the record
      Fail(item, e.message);
    }
    t += (repeat - 1) * every;
    if (rec["timestamp"]) {
      if (auto explicit_time = ParseRfc3339(rec["timestamp"].Scalar())) t = *explicit_time;
    }
  }
}

}  // namespace edi::fixture
