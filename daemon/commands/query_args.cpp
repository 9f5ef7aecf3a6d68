#include "commands/query_args.h"

#include <cctype>
#include <chrono>
#include <cstdio>

#include "commands/read_only_db.h"
#include "common/sqlite_statement.h"
#include "decode/decoder.h"
#include "decode/server_text.h"

namespace edi {

namespace {

// Event times are whole milliseconds: a bound given finer (12:00:00.0005) is the next one, so
// that `--since` (inclusive) and `--until` (exclusive) leave out and take in what they say.
std::optional<EventTime> ParseBound(const std::string& text) {
  std::optional<EventTime> t = ParseRfc3339(text);
  if (!t || text.size() < 20 || text[19] != '.') return t;
  size_t i = 20;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) ++i;
  for (size_t d = 23; d < i; ++d) {
    if (text[d] != '0') return *t + 1;
  }
  return t;
}

std::optional<TimeArgs::Arg> ParseTimeArg(const std::string& text) {
  if (auto t = ParseBound(text)) return TimeArgs::Arg{t, std::nullopt};
  if (text.size() == 10) {  // YYYY-MM-DD: midnight UTC
    if (auto t = ParseRfc3339(text + "T00:00:00Z")) return TimeArgs::Arg{t, std::nullopt};
  }
  // A date and time without an offset is UTC; seconds may be left out, with an offset too.
  if (text.size() > 10 && (text[10] == 'T' || text[10] == 't' || text[10] == ' ')) {
    std::string t = text;
    t[10] = 'T';
    if (t.size() == 16 ||
        (t.size() > 16 && std::string_view("Zz+-").find(t[16]) != std::string_view::npos)) {
      t.insert(16, ":00");  // THH:MM, then the end or an offset
    }
    if (auto parsed = ParseBound(t)) return TimeArgs::Arg{parsed, std::nullopt};
    if (auto parsed = ParseBound(t + "Z")) return TimeArgs::Arg{parsed, std::nullopt};
  }
  if (auto d = ParseDuration(text)) return TimeArgs::Arg{std::nullopt, d};
  return std::nullopt;
}

}  // namespace

int ParseTimeArgs(const char* command, const std::string& since, const std::string& until,
                  TimeArgs* out) {
  for (auto [text, name, arg] :
       {std::tuple{&since, "--since", &out->since}, std::tuple{&until, "--until", &out->until}}) {
    if (text->empty()) continue;
    *arg = ParseTimeArg(*text);
    if (!*arg) {
      std::fprintf(stderr,
                   "edi-audit %s: %s '%s' is neither an RFC 3339 time, a date nor a duration "
                   "such as 7d (up to 100000d)\n",
                   command, name, text->c_str());
      return 2;
    }
  }
  return 0;
}

int ResolveTimeArgs(const char* command, const TimeArgs& args, sqlite3* db,
                    std::optional<EventTime>* since, std::optional<EventTime>* until) {
  // Durations count back from the newest event time, leaving out records dated over a day
  // after this machine's clock (a gateway's clock fault), as event time did when they came.
  const EventTime ahead = WallClockMillis() + kMillisPerDay;
  std::optional<EventTime> newest, newest_of_all;
  if (((args.since && args.since->back) || (args.until && args.until->back)) &&
      !NewestEventTime(db, command, ahead, &newest, &newest_of_all)) {
    return 1;
  }
  if (newest_of_all && *newest_of_all > ahead) {
    std::fprintf(stderr,
                 "edi-audit %s: note: events dated over a day after this machine's clock are "
                 "stored, up to %s (edi-audit events --since %s lists them); durations count "
                 "back from %s\n",
                 command, FormatRfc3339(*newest_of_all).c_str(), FormatRfc3339(ahead).c_str(),
                 *newest == *newest_of_all ? "it (no event is dated before the clock)"
                                           : FormatRfc3339(*newest).c_str());
  }
  // An empty database has no newest time, and nothing for the filter to select.
  auto resolve = [&](const std::optional<TimeArgs::Arg>& a) -> std::optional<EventTime> {
    if (!a) return std::nullopt;
    return a->back ? newest.value_or(0) - *a->back : a->absolute;
  };
  *since = resolve(args.since);
  *until = resolve(args.until);
  if (*since && *until && **since >= **until) {
    // A duration as given ("1d"), with the time it stands for when the database has events.
    auto show = [&newest](const TimeArgs::Arg& a, EventTime t) {
      if (!a.back) return FormatRfc3339(t);
      const EventTime back = *a.back;
      std::string text;
      for (const auto& [unit, ms] :
           {std::pair{"d", kMillisPerDay}, std::pair{"h", kMillisPerHour},
            std::pair{"m", kMillisPerMinute}, std::pair{"s", EventTime{1'000}}}) {
        if (back % ms == 0) {
          text = std::to_string(back / ms) + unit;
          break;
        }
      }
      if (text.empty()) text = std::to_string(back) + "ms";
      return newest ? text + " (" + FormatRfc3339(t) + ")" : text;
    };
    std::fprintf(stderr,
                 "edi-audit %s: --since %s is not before --until %s: nothing lies between\n",
                 command, show(*args.since, **since).c_str(), show(*args.until, **until).c_str());
    return 2;
  }
  return 0;
}

namespace {

// The lower case of a Latin-1 Supplement or Latin Extended-A letter (U+00C0..U+017F: Æ Ø Å,
// the accented letters, and the Sami Á Č Đ Ŋ Š Ŧ Ž); other code points as they are.
uint32_t LowerLatin(uint32_t cp) {
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp == 0x178) return 0xFF;  // Ÿ
  const bool even_upper =
      (cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
  const bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
  if ((even_upper && cp % 2 == 0) || (odd_upper && cp % 2 == 1)) return cp + 1;
  return cp;
}

}  // namespace

// `text` in lower case for comparing names: ASCII and the Latin letters of UTF-8 up to U+017F
// (Æ Ø Å, the accented ones, the Sami letters), which SQLite's NOCASE and lower() leave as
// they are. Each letter keeps its length in bytes (two).
std::string FoldCase(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c >= 'A' && c <= 'Z') {
      out[i] = static_cast<char>(c + 32);
    } else if (c >= 0xC3 && c <= 0xC5 && i + 1 < out.size()) {
      const auto d = static_cast<unsigned char>(out[i + 1]);
      if ((d & 0xC0) != 0x80) continue;  // not UTF-8: left as it is
      const uint32_t lower = LowerLatin((c & 0x1Fu) << 6 | (d & 0x3Fu));
      out[i] = static_cast<char>(0xC0 | lower >> 6);
      out[i + 1] = static_cast<char>(0x80 | (lower & 0x3F));
      ++i;
    }
  }
  return out;
}

namespace {

void FoldCaseSql(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  if (text == nullptr) {
    sqlite3_result_null(ctx);
    return;
  }
  const std::string folded =
      FoldCase(std::string_view(text, static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
  sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}

void NamesMessageSql(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* text = static_cast<const char*>(sqlite3_value_blob(argv[0]));
  const size_t text_size = static_cast<size_t>(sqlite3_value_bytes(argv[0]));
  const auto* id = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (text == nullptr || id == nullptr) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const std::string_view message(id, static_cast<size_t>(sqlite3_value_bytes(argv[1])));
  sqlite3_result_int(ctx, NamesMessage(std::string_view(text, text_size), message) ? 1 : 0);
}

void NamesHerIdSql(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* text = static_cast<const char*>(sqlite3_value_blob(argv[0]));
  const size_t text_size = static_cast<size_t>(sqlite3_value_bytes(argv[0]));
  const auto* id = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (text == nullptr || id == nullptr) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const std::string_view her_id(id, static_cast<size_t>(sqlite3_value_bytes(argv[1])));
  sqlite3_result_int(ctx, NamesHerId(std::string_view(text, text_size), her_id) ? 1 : 0);
}

}  // namespace

bool NamesHerId(std::string_view text, std::string_view her_id) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (her_id.empty()) return false;
  for (size_t at = text.find(her_id); at != std::string_view::npos;
       at = text.find(her_id, at + 1)) {
    const size_t end = at + her_id.size();
    if ((at == 0 || !digit(text[at - 1])) && (end == text.size() || !digit(text[end]))) {
      return true;
    }
  }
  return false;
}

bool NamesMessage(std::string_view text, std::string_view message_id) {
  std::string want;  // the id's 32 hex digits, lower case
  for (char c : message_id) {
    if (const int v = HexValue(c); v >= 0) want += "0123456789abcdef"[v];
  }
  if (want.size() != 32) return false;
  // The text's runs of hex digits in lower case, joined across '-' and "%2D" (the forms a
  // UUID's groups are separated by); anything else ends a run ("%7B", a brace, a slash). The
  // id is named by a run that is exactly it, not by one that holds it among more digits.
  std::string run;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : '\0';
    if (const int v = HexValue(c); v >= 0) {
      run += "0123456789abcdef"[v];
      continue;
    }
    if (c == '-') continue;
    const bool escape =
        c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0;
    if (escape && text[i + 1] == '2' && (text[i + 2] == 'D' || text[i + 2] == 'd')) {
      i += 2;
      continue;
    }
    if (run == want) return true;
    run.clear();
    if (escape) i += 2;
  }
  return false;
}

bool AddQueryFunctions(sqlite3* db) {
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  return sqlite3_create_function_v2(db, "fold_case", 1, kFlags, nullptr, FoldCaseSql, nullptr,
                                    nullptr, nullptr) == SQLITE_OK &&
         sqlite3_create_function_v2(db, "names_message", 2, kFlags, nullptr, NamesMessageSql,
                                    nullptr, nullptr, nullptr) == SQLITE_OK &&
         sqlite3_create_function_v2(db, "names_her_id", 2, kFlags, nullptr, NamesHerIdSql, nullptr,
                                    nullptr, nullptr) == SQLITE_OK;
}

bool ResolveClient(sqlite3* db, const char* command, const std::string& client,
                   std::vector<ClientMatch>* out) {
  out->clear();
  std::string folded = FoldCase(client);
  // A name as a table column cut it (ending in …) stands for the names it begins.
  constexpr std::string_view kEllipsis = "\u2026";
  const bool cut = folded.size() > kEllipsis.size() && folded.ends_with(kEllipsis);
  if (cut) folded.resize(folded.size() - kEllipsis.size());
  auto matches = [&](std::string_view name) {
    const std::string n = FoldCase(name);
    return cut ? n.starts_with(folded) : n == folded;
  };
  // Every name its tokens gave (schema 9 on), else the first one; and the names and ids
  // findings gave it (clients.jsonl's name; a lock holder from reservations.jsonl that never
  // called has no key: 0).
  Statement names_kept(db, "SELECT 1 FROM sqlite_master WHERE name = 'client_names'");
  const bool all_names = names_kept.ok() && names_kept.Step() == SQLITE_ROW;
  const std::string by_id =
      "SELECT client_key, client_id, client_id FROM clients WHERE client_id = ?1 COLLATE X "
      "UNION SELECT 0, client_id, client_id FROM findings WHERE client_id = ?1 COLLATE X "
      "AND client_id NOT IN (SELECT client_id FROM clients) ORDER BY 3";
  auto collate = [&by_id](const char* how) {
    std::string sql = by_id;
    for (size_t at; (at = sql.find("COLLATE X")) != std::string::npos;) {
      sql.replace(at, 9, std::string("COLLATE ") + how);
    }
    return sql;
  };
  const std::string finding_names =
      " UNION SELECT coalesce(c.client_key, 0), f.client_name, f.client_id FROM (SELECT "
      "DISTINCT client_id, client_name FROM findings WHERE coalesce(client_name, '') <> '') f "
      "LEFT JOIN clients c USING (client_id) ORDER BY 3";
  const std::string queries[] = {
      collate("BINARY"), collate("NOCASE"),
      (all_names ? std::string("SELECT n.client_key, n.name, c.client_id FROM client_names n "
                               "JOIN clients c USING (client_key)")
                 : std::string("SELECT client_key, client_name, client_id FROM clients")) +
          finding_names};
  for (const std::string& q : queries) {
    const char* sql = q.c_str();
    const bool by_name = &q == &queries[2];
    Statement st(db, sql);
    if (!st.ok()) {
      std::fprintf(stderr, "edi-audit %s: %s\n", command, sqlite3_errmsg(db));
      return false;
    }
    if (!by_name) st.Bind(1, client);
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      const bool again = !out->empty() && out->back().id == st.ColumnText(2);  // another name
      if ((!by_name || matches(st.ColumnText(1))) && !again) {
        out->push_back({st.ColumnInt(0), std::string(st.ColumnText(2))});
      }
    }
    if (rc != SQLITE_DONE) {
      std::fprintf(stderr, "edi-audit %s: %s\n", command, sqlite3_errmsg(db));
      return false;
    }
    if (!out->empty()) return true;
  }
  return true;
}

bool MessageIdArg(const char* command, const std::string& text, std::string* out) {
  out->clear();
  if (text.empty() || CanonicalUuid(text, out)) return true;
  // As a path holds it (copied from a record): %2D for a dash, %7B for a brace.
  if (text.find('%') != std::string::npos &&
      CanonicalUuid(PercentDecode(text, PercentDecoding::kPath), out)) {
    return true;
  }
  std::fprintf(stderr, "edi-audit %s: --message '%s' is not a message id (a UUID)\n", command,
               text.c_str());
  return false;
}

bool WriteOutput(const char* command, std::string_view text, bool flush) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
      (!flush || std::fflush(stdout) == 0)) {
    return true;
  }
  std::fprintf(stderr, "edi-audit %s: cannot write the output\n", command);
  return false;
}

std::string JoinedColumn(sqlite3* db, const char* sql) {
  std::string joined;
  Statement st(db, sql);
  while (st.ok() && st.Step() == SQLITE_ROW) {
    joined += (joined.empty() ? "" : ", ") + std::string(st.ColumnText(0));
  }
  return joined.empty() ? "none" : joined;
}

}  // namespace edi
