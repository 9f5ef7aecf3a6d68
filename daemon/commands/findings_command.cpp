// `edi-audit findings`: list stored findings, filtered, as a table, JSON, JSON lines or CSV.
//
// A reader beside the daemon: it opens the database read-only (WAL mode lets it read while the
// daemon writes) and never migrates or changes it.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "commands/query_args.h"
#include "commands/read_only_db.h"
#include "common/sqlite_statement.h"
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

// A --rule that no stored finding has may be a typo (foreign-send for edi.foreign-send): says
// so on stderr, with the rule ids that do have findings.
void NoteUnknownRule(sqlite3* db, const std::string& rule) {
  Statement any(db, "SELECT 1 FROM findings WHERE rule = ?1 LIMIT 1");
  if (!any.ok() || any.Bind(1, rule).Step() == SQLITE_ROW) return;
  std::fprintf(stderr,
               "edi-audit findings: no stored finding has rule '%s' (the rules with findings: "
               "%s)\n",
               rule.c_str(),
               JoinedColumn(db, "SELECT DISTINCT rule FROM findings ORDER BY rule").c_str());
}

int RunFindings(const FindingsOptions& opt) {
  FindingQuery q;
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
  if (!MessageIdArg("findings", opt.message_id, &q.message_id)) return 2;
  q.limit = opt.limit;

  // Arguments first: a bad one is exit status 2 whatever the database.
  TimeArgs times;
  if (const int rc = ParseTimeArgs("findings", opt.since, opt.until, &times); rc != 0) return rc;
  DbHandle db = OpenReadOnly(opt.db_path, "findings", 2);
  if (db == nullptr) return 1;
  if (const int rc = ResolveTimeArgs("findings", times, db.get(), &q.since, &q.until); rc != 0) {
    return rc;
  }
  // --client as `events` reads it: the id, else in another case, else the client's name. A
  // lock holder that made no stored call is in no `clients` row: its exact id counts too.
  std::vector<ClientMatch> clients;
  if (!opt.client_id.empty()) {
    if (!ResolveClient(db.get(), "findings", opt.client_id, &clients)) return 1;
    for (const ClientMatch& c : clients) q.client_ids.push_back(c.id);
    if (std::find(q.client_ids.begin(), q.client_ids.end(), opt.client_id) == q.client_ids.end()) {
      q.client_ids.push_back(opt.client_id);
    }
  }
  auto store = FindingStore::Open(db.get());
  if (!store.ok()) {
    std::fprintf(stderr, "edi-audit findings: %s\n", store.status().message().c_str());
    return 1;
  }

  std::vector<Finding> findings;
  if (Status s = (*store)->Query(q, &findings); !s.ok()) {
    std::fprintf(stderr, "edi-audit findings: %s\n", s.message().c_str());
    return 1;
  }
  if (findings.empty() && !opt.rule.empty()) NoteUnknownRule(db.get(), opt.rule);
  if (!opt.client_id.empty() && clients.empty() && findings.empty()) {
    std::fprintf(stderr,
                 "edi-audit findings: no client '%s' in this database, by id or by name; "
                 "`edi-audit events --db %s --by-client` lists those there are\n",
                 opt.client_id.c_str(), opt.db_path.c_str());
  } else if (clients.size() > 1) {
    std::fprintf(stderr, "edi-audit findings: %zu clients are named '%s': the findings of all\n",
                 clients.size(), opt.client_id.c_str());
  }
  return WriteOutput("findings", FormatFindings(findings, *format), /*flush=*/true) ? 0 : 1;
}

}  // namespace

void AddFindingsCommand(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<FindingsOptions>();
  CLI::App* cmd = app.add_subcommand("findings", "List stored findings, newest last");
  cmd->add_option("--db", opt->db_path, "SQLite database to read (opened read-only)")->required();
  cmd->add_option("--since", opt->since,
                  "only findings seen at or after T: first raised, repeated or raised in "
                  "severity then (RFC 3339, YYYY-MM-DD, or a duration such as 7d: see below)")
      ->check(kNonEmpty);
  cmd->add_option("--until", opt->until, "only findings first seen before T (as --since)")
      ->check(kNonEmpty);
  cmd->add_option("--rule", opt->rule, "only this rule id, e.g. edi.foreign-send")
      ->check(kNonEmpty);
  cmd->add_option("--severity", opt->severity,
                  "only this severity and more severe: info, low, medium, high, critical")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  cmd->add_option("--her-id", opt->her_id, "only findings naming this party (HER-Id)")
      ->transform(kPositiveInteger);
  cmd->add_option("--client", opt->client_id,
                  "only findings naming this HelseID client: its client id, or else a name its "
                  "tokens gave (any of them, any case; all clients of that name; a name the "
                  "table cut with … matches the names it begins)")
      ->check(kNonEmpty);
  cmd->add_option("--message", opt->message_id,
                  "only findings about this message id (a UUID, in any form a path may hold it: "
                  "case, dashes or none, braces, %2D)")
      ->check(kNonEmpty);
  cmd->add_option("--limit", opt->limit, "at most N findings: the newest N, printed oldest first")
      ->transform(kPositiveInteger);
  cmd->add_option("--format", opt->format, "table (default), json, jsonl or csv")
      ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
  cmd->footer(
      "Times are EVENT times (the records' timestamps), never the wall clock. A duration such as "
      "7d, 12h\nor 30m given to --since/--until counts back from the newest event time in the "
      "database, so the\nsame database always gives the same answer: --since 1h lists the last "
      "hour of recorded traffic.\nDates and times without an offset are UTC (2026-05-11 is "
      "midnight UTC).\n--since is inclusive and compares the time a finding was last seen (a "
      "finding first raised\nearlier but repeated or raised to critical in the window is in "
      "it; TIME shows when it was first\nraised); --until is exclusive and compares the time "
      "it was first raised.\nExit status: 0 listed (possibly none), 1 the database cannot "
      "be read, 2 bad arguments.");
  cmd->callback([opt, exit_code]() { *exit_code = RunFindings(*opt); });
}

}  // namespace edi
