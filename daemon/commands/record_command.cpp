// `edi-audit record`: print stored records exactly as they were received.
//
// Each stored call keeps the record it came from (unless `store.keep_raw_records: false`),
// compressed per batch; this reads them back by event id (event_view.event_id) or requestId.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "commands/read_only_db.h"
#include "common/sqlite_statement.h"
#include "store/store.h"

namespace edi {
namespace {

struct RecordOptions {
  std::string db_path;
  std::vector<int64_t> event_ids;
  std::vector<std::string> request_ids;
};

int RunRecord(const RecordOptions& opt) {
  if (opt.event_ids.empty() && opt.request_ids.empty()) {
    std::fprintf(stderr, "edi-audit record: give --event-id or --request-id\n");
    return 2;
  }
  DbHandle db = OpenReadOnly(opt.db_path, "record", 4);
  if (db == nullptr) return 1;
  std::vector<int64_t> ids = opt.event_ids;
  bool all_found = true;
  for (const std::string& request : opt.request_ids) {
    // requestIds are indexed after the event time: this reads that index, not the table.
    Statement st(
        db.get(),
        "SELECT event_id FROM events INDEXED BY events_time_request WHERE request_id = ?1");
    st.Bind(1, request);
    bool found = false;
    const size_t before = ids.size();
    while (st.Step() == SQLITE_ROW) {
      ids.push_back(st.ColumnInt(0));
      found = true;
    }
    std::sort(ids.begin() + static_cast<std::ptrdiff_t>(before), ids.end());
    if (!found) {
      // A record that was quarantined is no stored event: point there.
      Statement q(db.get(),
                  "SELECT quarantine_id, reason FROM quarantine WHERE instr(raw, ?1) > 0 "
                  "ORDER BY quarantine_id LIMIT 1");
      const std::string quoted = "\"" + request + "\"";
      std::string where;
      if (q.ok() && q.BindBlob(1, quoted).Step() == SQLITE_ROW) {
        where = " (a quarantined record names it: id " + std::to_string(q.ColumnInt(0)) + ", " +
                std::string(q.ColumnText(1)) + "; edi-audit quarantine lists it)";
      }
      std::fprintf(stderr, "edi-audit record: no stored event has requestId '%s'%s\n",
                   request.c_str(), where.c_str());
      all_found = false;
    }
  }
  for (int64_t id : ids) {
    auto record = ReadStoredRecord(db.get(), id);
    if (!record.ok()) {
      std::fprintf(stderr, "edi-audit record: %s: %s\n", opt.db_path.c_str(),
                   record.status().message().c_str());
      all_found = false;
      continue;
    }
    std::fwrite(record->data(), 1, record->size(), stdout);
    std::fputc('\n', stdout);
  }
  return all_found ? 0 : 1;
}

}  // namespace

void AddRecordCommand(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<RecordOptions>();
  CLI::App* cmd = app.add_subcommand("record", "Print stored records exactly as received");
  cmd->add_option("--db", opt->db_path, "SQLite database to read (opened read-only)")->required();
  cmd->add_option("--event-id", opt->event_ids, "the event's id (events.event_id); repeatable")
      ->transform(kPositiveInteger);
  cmd->add_option("--request-id", opt->request_ids,
                  "every stored event with this requestId; repeatable")
      ->check(kNonEmpty);
  cmd->footer(
      "Prints one record per line (JSON lines), event ids first, then requestIds.\n"
      "What was made of a call (action, parties, client, message) is `edi-audit events --db DB\n"
      "--request-id ID`; why a record was refused, `edi-audit quarantine --db DB --contains ID`.\n"
      "Exit status: 0 all printed, 1 something was not found or not kept (the message says "
      "which), 2 bad arguments.");
  cmd->callback([opt, exit_code]() { *exit_code = RunRecord(*opt); });
}

}  // namespace edi
