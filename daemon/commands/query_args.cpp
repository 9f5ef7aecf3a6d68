#include "commands/query_args.h"

#include <cctype>
#include <cstdio>

#include "commands/read_only_db.h"
#include "common/sqlite_statement.h"
#include "decode/decoder.h"

namespace edi {

namespace {

std::optional<TimeArgs::Arg> ParseTimeArg(const std::string& text) {
  if (auto t = ParseRfc3339(text)) return TimeArgs::Arg{t, std::nullopt};
  if (text.size() == 10) {  // YYYY-MM-DD: midnight UTC
    if (auto t = ParseRfc3339(text + "T00:00:00Z")) return TimeArgs::Arg{t, std::nullopt};
  }
  // A date and time without an offset is UTC; seconds may be left out.
  if (text.size() > 10 && (text[10] == 'T' || text[10] == 't' || text[10] == ' ')) {
    std::string utc = text;
    utc[10] = 'T';
    if (utc.size() == 16) utc += ":00";  // YYYY-MM-DDTHH:MM
    if (auto t = ParseRfc3339(utc + "Z")) return TimeArgs::Arg{t, std::nullopt};
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
  std::optional<EventTime> newest;
  if (((args.since && args.since->back) || (args.until && args.until->back)) &&
      !NewestEventTime(db, command, &newest)) {
    return 1;
  }
  // An empty database has no newest time, and nothing for the filter to select.
  auto resolve = [&](const std::optional<TimeArgs::Arg>& a) -> std::optional<EventTime> {
    if (!a) return std::nullopt;
    return a->back ? newest.value_or(0) - *a->back : a->absolute;
  };
  *since = resolve(args.since);
  *until = resolve(args.until);
  if (*since && *until && **since >= **until) {
    std::fprintf(stderr,
                 "edi-audit %s: --since %s is not before --until %s: nothing lies between\n",
                 command, FormatRfc3339(**since).c_str(), FormatRfc3339(**until).c_str());
    return 2;
  }
  return 0;
}

bool MessageIdArg(const char* command, const std::string& text, std::string* out) {
  out->clear();
  if (text.empty() || CanonicalUuid(text, out)) return true;
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
