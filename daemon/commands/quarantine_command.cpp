// `edi-audit quarantine`: list the records that were quarantined, with their reasons, and
// print their bytes as received (capped as stored).
#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "commands/query_args.h"
#include "commands/read_only_db.h"
#include "common/sqlite_statement.h"
#include "common/time.h"
#include "decode/decoder.h"
#include "report/list_format.h"

namespace edi {
namespace {

struct QuarantineOptions {
  std::string db_path;
  std::vector<std::string> reasons;
  std::string source;
  std::string contains;
  std::string message;  // canonical, once checked
  size_t limit = 0;
  bool raw = false;
  std::string format = "table";
};

struct QuarantineRow {
  int64_t id = 0;
  EventTime received_at = 0;
  std::string source;
  int64_t position = 0;
  std::string reason;
  std::string detail;
  int64_t size = 0;
  std::string raw;  // as stored: the first max_quarantine_bytes of the record
};

template <typename W>
void WriteRow(W& w, const QuarantineRow& r) {
  w.StartObject();
  w.Key("id");
  w.Int64(r.id);
  w.Key("receivedAt");
  WriteJsonString(w, FormatRfc3339(r.received_at));
  w.Key("source");
  WriteJsonString(w, r.source);
  w.Key("position");
  w.Int64(r.position);
  w.Key("reason");
  WriteJsonString(w, r.reason);
  w.Key("detail");
  WriteJsonString(w, r.detail);
  w.Key("size");
  w.Int64(r.size);
  w.Key("kept");
  w.Int64(static_cast<int64_t>(r.raw.size()));
  w.EndObject();
}

const auto kWriteRow = [](auto& w, const QuarantineRow& r) { WriteRow(w, r); };

constexpr std::array<TableColumn, 8> kColumns = {{
    {"ID", true},
    {"RECEIVED", false},
    {"SOURCE", false},
    {"POSITION", true},
    {"REASON", false},
    {"SIZE", true},
    {"KEPT", true},
    {"DETAIL", false},
}};

const ListForm<QuarantineRow> kForm = {
    "no quarantined records\n",
    kColumns,
    [](const QuarantineRow& r) {
      return std::vector<std::string>{std::to_string(r.id),
                                      FormatRfc3339(r.received_at),
                                      TableCell(r.source),
                                      std::to_string(r.position),
                                      r.reason,
                                      std::to_string(r.size),
                                      std::to_string(r.raw.size()),
                                      TableCell(r.detail)};
    },
    {"id", "receivedAt", "source", "position", "reason", "detail", "size", "kept"},
    [](const QuarantineRow& r) {
      return std::vector<std::string>{std::to_string(r.id),
                                      FormatRfc3339(r.received_at),
                                      r.source,
                                      std::to_string(r.position),
                                      r.reason,
                                      r.detail,
                                      std::to_string(r.size),
                                      std::to_string(r.raw.size())};
    },
};

// "oversize, invalid_json, ...": every quarantine reason.
std::string ReasonNames() {
  std::string names;
  for (int i = 0; i < kQuarantineReasonCount; ++i) {
    names +=
        (i > 0 ? ", " : "") + std::string(QuarantineReasonName(static_cast<QuarantineReason>(i)));
  }
  return names;
}

int RunQuarantine(const QuarantineOptions& opt) {
  const std::optional<ReportFormat> format = ParseReportFormat(opt.format);
  if (!format) {
    std::fprintf(stderr, "edi-audit quarantine: unknown --format '%s'\n", opt.format.c_str());
    return 2;
  }
  for (const std::string& reason : opt.reasons) {
    bool known = false;
    for (int i = 0; i < kQuarantineReasonCount; ++i) {
      known |= QuarantineReasonName(static_cast<QuarantineReason>(i)) == reason;
    }
    if (!known) {
      std::fprintf(stderr, "edi-audit quarantine: --reason '%s' is not a reason; the reasons: %s\n",
                   reason.c_str(), ReasonNames().c_str());
      return 2;
    }
  }
  std::string message;
  if (!MessageIdArg("quarantine", opt.message, &message)) return 2;
  DbHandle db = OpenReadOnly(opt.db_path, "quarantine", 1);
  if (db == nullptr) return 1;
  // --contains in any case, Æ Ø Å and the accented letters too (SQLite's lower() is ASCII only);
  // --message in any form of the id.
  if (!AddQueryFunctions(db.get())) {
    std::fprintf(stderr, "edi-audit quarantine: %s\n", sqlite3_errmsg(db.get()));
    return 1;
  }
  // Filters as bound values; the newest N when limited (printed oldest first).
  std::string sql =
      "SELECT quarantine_id, received_at, source, position, reason, detail, size, raw "
      "FROM quarantine WHERE (?1 = '' OR source = ?1)"
      " AND (?30 = '' OR instr(fold_case(CAST(raw AS TEXT)), fold_case(?30)) > 0)"
      " AND (?31 = '' OR names_message(raw, ?31))";
  if (!opt.reasons.empty()) {
    sql += " AND reason IN (";
    for (size_t i = 0; i < opt.reasons.size(); ++i) {
      sql += (i > 0 ? ", ?" : "?") + std::to_string(i + 3);
    }
    sql += ")";
  }
  sql += opt.limit > 0 ? " ORDER BY quarantine_id DESC LIMIT ?2" : " ORDER BY quarantine_id";
  Statement st(db.get(), sql);
  if (!st.ok()) {
    std::fprintf(stderr, "edi-audit quarantine: %s: %s\n", opt.db_path.c_str(),
                 sqlite3_errmsg(db.get()));
    return 1;
  }
  st.Bind(1, opt.source);
  st.Bind(30, opt.contains);
  st.Bind(31, message);
  if (opt.limit > 0) st.Bind(2, static_cast<int64_t>(opt.limit));
  for (size_t i = 0; i < opt.reasons.size(); ++i) st.Bind(static_cast<int>(i + 3), opt.reasons[i]);
  std::vector<QuarantineRow> rows;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    QuarantineRow r;
    r.id = st.ColumnInt(0);
    r.received_at = st.ColumnInt(1);
    r.source = std::string(st.ColumnText(2));
    r.position = st.ColumnInt(3);
    r.reason = std::string(st.ColumnText(4));
    r.detail = std::string(st.ColumnText(5));
    r.size = st.ColumnInt(6);
    r.raw = std::string(st.ColumnBlob(7));
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) {
    std::fprintf(stderr, "edi-audit quarantine: %s: %s\n", opt.db_path.c_str(),
                 sqlite3_errmsg(db.get()));
    return 1;
  }
  if (opt.limit > 0) std::reverse(rows.begin(), rows.end());
  if (rows.empty() && !opt.source.empty()) {
    // Sources are named as stored (file:/absolute/path, kafka:TOPIC/PARTITION, stdin).
    std::fprintf(
        stderr, "edi-audit quarantine: no quarantined record has source '%s' (the sources: %s)\n",
        opt.source.c_str(),
        JoinedColumn(db.get(), "SELECT DISTINCT source FROM quarantine ORDER BY source").c_str());
  }
  if (opt.raw) {
    std::string out;
    size_t cut = 0;
    for (const QuarantineRow& r : rows) {
      out += r.raw + "\n";
      cut += static_cast<int64_t>(r.raw.size()) < r.size ? 1 : 0;
    }
    if (cut > 0) {
      std::fprintf(stderr,
                   "edi-audit quarantine: %zu of these records are cut short: only their first "
                   "store.max_quarantine_bytes were kept (SIZE against KEPT in the list)\n",
                   cut);
    }
    return WriteOutput("quarantine", out, /*flush=*/true) ? 0 : 1;
  }
  return WriteOutput("quarantine",
                     FormatList(std::span<const QuarantineRow>(rows), *format, kForm, kWriteRow),
                     /*flush=*/true)
             ? 0
             : 1;
}

}  // namespace

void AddQuarantineCommand(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<QuarantineOptions>();
  CLI::App* cmd = app.add_subcommand(
      "quarantine", "List the records that were quarantined (bad input), with their reasons");
  cmd->add_option("--db", opt->db_path, "SQLite database to read (opened read-only)")->required();
  cmd->add_option("--reason", opt->reasons,
                  "only records quarantined for this reason; repeatable: " + ReasonNames())
      ->check(kNonEmpty);
  cmd->add_option("--source", opt->source,
                  "only records from this input, as the table names it: file:/ABSOLUTE/PATH, "
                  "kafka:TOPIC/PARTITION or stdin")
      ->check(kNonEmpty);
  cmd->add_option("--contains", opt->contains,
                  "only records whose kept bytes contain this text, in any case: a message id, a "
                  "requestId, a HER-Id")
      ->check(kNonEmpty);
  cmd->add_option("--message", opt->message,
                  "only records naming this message id in any form (case, dashes or none, %2D, "
                  "braces), given in any of them")
      ->check(kNonEmpty);
  cmd->add_option("--limit", opt->limit, "at most N records: the latest N, printed oldest first")
      ->transform(kPositiveInteger);
  CLI::Option* raw =
      cmd->add_flag("--raw", opt->raw,
                    "print the records' bytes as kept (up to store.max_quarantine_bytes each), one "
                    "per line, instead of the list");
  cmd->add_option("--format", opt->format, "table (default), json, jsonl or csv")
      ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}))
      ->excludes(raw);
  cmd->footer(
      "A record that is not JSON, breaks the schema, names a party, organisation or message in a\n"
      "malformed way, is too large, or has a stored call's requestId and timestamp but other\n"
      "bytes (conflicting_duplicate) is kept here instead of being stored as a call: SIZE is\n"
      "its full size, KEPT the bytes kept (capped by store.max_quarantine_bytes). RECEIVED is\n"
      "the wall-clock time it was read.\n"
      "Exit status: 0 listed (possibly none), 1 the database cannot be read, 2 bad arguments.");
  cmd->callback([opt, exit_code]() { *exit_code = RunQuarantine(*opt); });
}

}  // namespace edi
