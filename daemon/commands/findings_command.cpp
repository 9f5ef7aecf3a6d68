// `edi-audit findings`: list stored findings, filtered, as a table, JSON, JSON lines or CSV.
//
// A reader beside the daemon: it opens the database read-only (WAL mode lets it read while the
// daemon writes) and never migrates or changes it.
#include <sqlite3.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "commands/read_only_db.h"
#include "common/time.h"
#include "decode/decoder.h"
#include "report/report.h"
#include "store/finding_store.h"

namespace edi {
namespace {

struct FindingsOptions {
  std::string db_path;
  std::string since;
  std::string until;
  std::string rule;
  std::string severity;
  HerId her_id = 0;
  std::string client_id;
  std::string message_id;
  size_t limit = 0;
  std::string format = "table";
};

// A --since/--until argument: an absolute time, or a duration back from the newest event time.
struct TimeArg {
  std::optional<EventTime> absolute;
  std::optional<EventTime> back;
};

std::optional<TimeArg> ParseTimeArg(const std::string& text) {
  if (auto t = ParseRfc3339(text)) return TimeArg{t, std::nullopt};
  if (text.size() == 10) {  // YYYY-MM-DD: midnight UTC
    if (auto t = ParseRfc3339(text + "T00:00:00Z")) return TimeArg{t, std::nullopt};
  }
  if (auto d = ParseDuration(text)) return TimeArg{std::nullopt, d};
  return std::nullopt;
}

int RunFindings(const FindingsOptions& opt) {
  FindingQuery q;
  std::optional<TimeArg> since, until;
  if (!opt.since.empty() && !(since = ParseTimeArg(opt.since))) {
    std::fprintf(stderr,
                 "edi-audit findings: --since '%s' is neither an RFC 3339 time, a date nor a "
                 "duration such as 7d (up to 100000d)\n",
                 opt.since.c_str());
    return 2;
  }
  if (!opt.until.empty() && !(until = ParseTimeArg(opt.until))) {
    std::fprintf(stderr,
                 "edi-audit findings: --until '%s' is neither an RFC 3339 time, a date nor a "
                 "duration such as 7d (up to 100000d)\n",
                 opt.until.c_str());
    return 2;
  }
  const std::optional<ReportFormat> format = ParseReportFormat(opt.format);
  if (!format) {
    std::fprintf(stderr, "edi-audit findings: unknown --format '%s'\n", opt.format.c_str());
    return 2;
  }
  if (!opt.severity.empty()) {
    q.min_severity = ParseSeverity(opt.severity);
    if (!q.min_severity) {
      std::fprintf(stderr, "edi-audit findings: unknown --severity '%s'\n", opt.severity.c_str());
      return 2;
    }
  }
  q.rule = opt.rule;
  if (opt.her_id != 0) q.her_id = opt.her_id;
  q.client_id = opt.client_id;
  // Message ids are stored in lower case, as the decoder folds them.
  for (const char c : opt.message_id) {
    q.message_id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!q.message_id.empty() && !IsUuid(q.message_id)) {
    std::fprintf(stderr, "edi-audit findings: --message '%s' is not a message id (a UUID)\n",
                 opt.message_id.c_str());
    return 2;
  }
  q.limit = opt.limit;

  DbHandle db = OpenReadOnly(opt.db_path, "findings", 2);
  if (!db) return 1;
  auto store = FindingStore::Open(db.get());
  if (!store.ok()) {
    std::fprintf(stderr, "edi-audit findings: %s\n", store.status().message().c_str());
    return 1;
  }
  if ((since && since->back) || (until && until->back)) {
    std::optional<EventTime> newest;
    if (Status s = (*store)->NewestEventTime(&newest); !s.ok()) {
      std::fprintf(stderr, "edi-audit findings: %s\n", s.message().c_str());
      return 1;
    }
    // An empty database has no newest time, and no findings for the filter to select.
    const EventTime anchor = newest.value_or(0);
    if (since && since->back) since->absolute = anchor - *since->back;
    if (until && until->back) until->absolute = anchor - *until->back;
  }
  if (since) q.since = since->absolute;
  if (until) q.until = until->absolute;
  if (q.since && q.until && *q.since >= *q.until) {
    std::fprintf(stderr,
                 "edi-audit findings: --since %s is not before --until %s: no finding can be "
                 "first seen in between\n",
                 FormatRfc3339(*q.since).c_str(), FormatRfc3339(*q.until).c_str());
    return 2;
  }

  std::vector<Finding> findings;
  if (Status s = (*store)->Query(q, &findings); !s.ok()) {
    std::fprintf(stderr, "edi-audit findings: %s\n", s.message().c_str());
    return 1;
  }
  const std::string out = FormatFindings(findings, *format);
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "edi-audit findings: cannot write the output\n");
    return 1;
  }
  return 0;
}

}  // namespace

void AddFindingsCommand(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<FindingsOptions>();
  CLI::App* cmd = app.add_subcommand("findings", "List stored findings, newest last");
  cmd->add_option("--db", opt->db_path, "SQLite database to read (opened read-only)")->required();
  cmd->add_option("--since", opt->since,
                  "only findings first seen at or after T (RFC 3339, YYYY-MM-DD, or a duration "
                  "such as 7d: see below)");
  cmd->add_option("--until", opt->until, "only findings first seen before T (as --since)");
  cmd->add_option("--rule", opt->rule, "only this rule id, e.g. edi.foreign-send");
  cmd->add_option("--severity", opt->severity,
                  "only this severity and more severe: info, low, medium, high, critical")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  cmd->add_option("--her-id", opt->her_id, "only findings naming this party (HER-Id)")
      ->check(kPositiveInteger);
  cmd->add_option("--client", opt->client_id, "only findings naming this client id");
  cmd->add_option("--message", opt->message_id,
                  "only findings about this message id (a UUID, in any case)");
  cmd->add_option("--limit", opt->limit, "at most N findings: the newest N, printed oldest first")
      ->check(kPositiveInteger);
  cmd->add_option("--format", opt->format, "table (default), json, jsonl or csv")
      ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
  cmd->footer(
      "Times are EVENT times (the records' timestamps), never the wall clock. A duration such as "
      "7d, 12h\nor 30m given to --since/--until counts back from the newest event time in the "
      "database, so the\nsame database always gives the same answer: --since 1h lists the last "
      "hour of recorded traffic.\n--since is inclusive, --until exclusive; both compare the time "
      "a finding was first raised.\nExit status: 0 listed (possibly none), 1 the database cannot "
      "be read, 2 bad arguments.");
  cmd->callback([opt, exit_code]() { *exit_code = RunFindings(*opt); });
}

}  // namespace edi
