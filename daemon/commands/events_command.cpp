// `edi-audit events`: the stored API calls, filtered by party, client, message and event time:
// who acted for a HER-Id, what a HelseID client did, what happened to a message.
//
// A reader beside the daemon, like `findings`: read-only, never migrating the database. The
// party and client filters go through the batched indexes (party_event_ids, client_event_ids)
// restricted to the hours of the time range, so a week of one party is a small read however
// large the database.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands/commands.h"
#include "commands/query_args.h"
#include "commands/read_only_db.h"
#include "common/sqlite_statement.h"
#include "decode/decoder.h"
#include "report/event_report.h"

namespace edi {
namespace {

// The schema version that has every column and index the query uses (orgnr_parent per call).
constexpr int kMinSchemaVersion = 7;
constexpr int64_t kHourMs = 3600000;
// Calls read at a time when they are written as they are read (jsonl, csv).
constexpr size_t kPage = 10000;

struct EventsOptions {
  std::string db_path;
  HerId her_id = 0;
  std::string client_id;
  std::string message_id;
  std::string request_id;
  std::vector<std::string> actions;
  std::string since;
  std::string until;
  size_t limit = 0;
  bool by_client = false;
  std::string format = "table";
};

struct EventsQuery {
  std::optional<HerId> her_id;
  // With --client: the keys of the clients it names (by id, else by name); empty: none does.
  std::optional<std::vector<int64_t>> client_keys;
  std::string message_id;
  // The database keeps apprec_send's own message ids (schema version 10 on): --message finds
  // the call that sent an apprec by the apprec's id too.
  bool apprec_ids = false;
  std::string request_id;
  std::vector<std::string> actions;  // any of them
  std::optional<EventTime> since, until;
  size_t limit = 0;
  // Read in pages (no --limit): the calls after (time, event id) `after`, at most `page` of them.
  std::optional<std::pair<EventTime, int64_t>> after;
  size_t page = 0;
};

std::string QuerySql(const EventsQuery& q) {
  std::string sql =
      "SELECT e.event_id, e.request_id, e.time, e.api, e.method, e.action, e.status, "
      "e.route, e.duration_ms, "
      "c.client_id, c.client_name, coalesce(e.orgnr_parent, c.orgnr_parent), e.orgnr_child, "
      "e.herid_claim, e.message_id, e.parties, s.source, e.position, " +
      std::string(q.apprec_ids ? "e.apprec_id " : "NULL ") +
      "FROM events e JOIN clients c USING (client_key) JOIN sources s USING (source_key) "
      "WHERE 1";
  // The indexes are per hour of event time: ?1 and ?2 bound their hours, ?3 and ?4 the times.
  const std::string hours = " AND hour >= ?1 AND hour <= ?2";
  if (q.since) sql += " AND e.time >= ?3";
  if (q.until) sql += " AND e.time < ?4";
  if (q.her_id) {
    sql +=
        " AND e.event_id IN (SELECT event_id FROM party_event_ids WHERE her_id = ?5" + hours + ")";
  }
  if (q.client_keys) {
    // One key bound as a value: SQLite then searches the view's (client, hour) rows for it,
    // where for a subquery it would read every client's.
    sql += " AND e.event_id IN (SELECT event_id FROM client_event_ids WHERE client_key ";
    if (q.client_keys->size() == 1) {
      sql += "= ?6";
    } else {
      sql += "IN (";
      for (size_t i = 0; i < q.client_keys->size(); ++i) {
        sql += (i > 0 ? ",?" : "?") + std::to_string(100 + i);
      }
      sql += ")";
    }
    sql += hours + ")";
  }
  if (!q.message_id.empty()) {
    sql += q.apprec_ids ? " AND (e.message_id = ?7 OR e.apprec_id = ?7)" : " AND e.message_id = ?7";
  }
  if (!q.request_id.empty()) {
    // The index is on (time, request id): the time range bounds the part read.
    sql +=
        " AND e.event_id IN (SELECT event_id FROM events INDEXED BY events_time_request "
        "WHERE time >= ?3 AND time < ?4 AND request_id = ?22)";
  }
  if (!q.actions.empty()) {
    sql += " AND e.action IN (";
    for (size_t i = 0; i < q.actions.size(); ++i) {
      sql += (i > 0 ? ",?" : "?") + std::to_string(50 + i);
    }
    sql += ")";
  }
  // With a limit, the newest N (printed oldest first).
  if (q.after) sql += " AND (e.time > ?20 OR (e.time = ?20 AND e.event_id > ?21))";
  sql += q.limit > 0 ? " ORDER BY e.time DESC, e.event_id DESC LIMIT ?8"
                     : " ORDER BY e.time, e.event_id";
  if (q.limit == 0 && q.page > 0) sql += " LIMIT ?9";
  return sql;
}

// Hands every call the query selects to `visit` as it is read: oldest first, or newest first with
// a limit. False (having said why) when the query fails or `visit` does.
bool Query(sqlite3* db, const EventsQuery& q, const std::function<bool(EventRow&&)>& visit) {
  if (q.client_keys && q.client_keys->empty()) return true;  // a client never seen made no calls
  Statement st(db, QuerySql(q));
  if (!st.ok()) {
    std::fprintf(stderr, "edi-audit events: %s\n", sqlite3_errmsg(db));
    return false;
  }
  // Event times may lie before 1970 (a gateway's clock fault: the schema takes any year); the
  // index's hour is time / kHourMs, rounded toward zero as SQLite and C++ divide.
  const EventTime since = q.since.value_or(INT64_MIN);
  const EventTime until = q.until.value_or(INT64_MAX);
  st.Bind(1, since / kHourMs)
      .Bind(2, until == INT64_MAX ? INT64_MAX
                                  : (std::max<EventTime>(until, INT64_MIN + 1) - 1) / kHourMs)
      .Bind(3, since)
      .Bind(4, until);
  if (q.her_id) st.Bind(5, static_cast<int64_t>(*q.her_id));
  if (q.client_keys) {
    if (q.client_keys->size() == 1) st.Bind(6, q.client_keys->front());
    for (size_t i = 0; q.client_keys->size() > 1 && i < q.client_keys->size(); ++i) {
      st.Bind(static_cast<int>(100 + i), (*q.client_keys)[i]);
    }
  }
  if (!q.message_id.empty()) st.Bind(7, q.message_id);
  if (!q.request_id.empty()) st.Bind(22, q.request_id);
  if (q.limit > 0) st.Bind(8, static_cast<int64_t>(q.limit));
  if (q.page > 0) st.Bind(9, static_cast<int64_t>(q.page));
  if (q.after) st.Bind(20, q.after->first).Bind(21, q.after->second);
  for (size_t i = 0; i < q.actions.size(); ++i) st.Bind(static_cast<int>(50 + i), q.actions[i]);
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    EventRow e;
    e.event_id = st.ColumnInt(0);
    e.request_id = st.ColumnText(1);
    e.time = st.ColumnInt(2);
    e.api = st.ColumnText(3);
    e.method = st.ColumnText(4);
    e.action = st.ColumnText(5);
    e.status = st.ColumnInt(6);
    e.client_id = st.ColumnText(9);
    e.client_name = st.ColumnText(10);
    e.orgnr_parent = st.ColumnText(11);
    e.orgnr_child = st.ColumnText(12);
    e.herid_claim = st.ColumnText(13);
    e.message_id = st.ColumnText(14);
    e.parties = st.ColumnText(15);
    e.source = st.ColumnText(16);
    e.position = st.ColumnInt(17);
    e.apprec_id = st.ColumnText(18);
    e.route = st.ColumnText(7);
    if (!st.ColumnIsNull(8)) e.duration_ms = st.ColumnInt(8);
    if (!visit(std::move(e))) return false;
  }
  if (rc != SQLITE_DONE) {
    std::fprintf(stderr, "edi-audit events: %s\n", sqlite3_errmsg(db));
    return false;
  }
  return true;
}

// Every call the query selects, into *out (emptied first).
bool QueryInto(sqlite3* db, const EventsQuery& q, std::vector<EventRow>* out) {
  out->clear();
  return Query(db, q, [out](EventRow&& e) {
    out->push_back(std::move(e));
    return true;
  });
}

// One count from `sql` with `text` bound as ?1; -1 when it cannot be read.
int64_t CountWith(sqlite3* db, const char* sql, const std::string& text) {
  Statement st(db, sql);
  if (!st.ok()) return -1;
  st.Bind(1, text);
  return st.Step() == SQLITE_ROW ? st.ColumnInt(0) : -1;
}

// What an answer leaves out or why it is empty, on stderr (the output stays what it is).
void Hints(sqlite3* db, const EventsOptions& opt, const EventsQuery& q, bool none) {
  if (q.client_keys && q.client_keys->empty()) {
    std::fprintf(stderr,
                 "edi-audit events: no client '%s' in this database, by id or by name; "
                 "`edi-audit events --db %s --by-client` lists those there are\n",
                 opt.client_id.c_str(), opt.db_path.c_str());
  } else if (q.client_keys && q.client_keys->size() > 1) {
    std::fprintf(stderr, "edi-audit events: %zu clients are named '%s': the calls of all\n",
                 q.client_keys->size(), opt.client_id.c_str());
  }
  if (none && q.her_id &&
      CountWith(db,
                "SELECT count(*) FROM (SELECT 1 FROM party_event_ids WHERE her_id = ?1 LIMIT 1)",
                std::to_string(*q.her_id)) == 0) {
    std::fprintf(stderr, "edi-audit events: HER-Id %llu occurs in no stored call\n",
                 static_cast<unsigned long long>(*q.her_id));
  }
  // Records quarantined are no calls, but they may be about the message or the party, or be
  // the request. A message id in any form (case, dashes, %2D, braces), anywhere (a path, a
  // body); a HER-Id as a number of its own; a requestId as a whole JSON string, exactly, not
  // as a part of another one.
  const std::string her_id = q.her_id ? std::to_string(*q.her_id) : std::string();
  for (const auto& [what, text, sql, option] :
       {std::tuple{"message", q.message_id,
                   "SELECT count(*) FROM quarantine WHERE names_message(raw, ?1)", "--message"},
        std::tuple{"HER-Id", her_id, "SELECT count(*) FROM quarantine WHERE names_her_id(raw, ?1)",
                   "--contains"},
        std::tuple{"request id", q.request_id,
                   "SELECT count(*) FROM quarantine WHERE instr(CAST(raw AS TEXT), "
                   "'\"' || ?1 || '\"') > 0",
                   "--contains"}}) {
    if (text.empty()) continue;
    const int64_t n = CountWith(db, sql, text);
    if (n > 0) {
      std::fprintf(stderr,
                   "edi-audit events: %lld quarantined record%s name%s %s %s, not listed here: "
                   "edi-audit quarantine --db %s %s %s\n",
                   static_cast<long long>(n), n == 1 ? "" : "s", n == 1 ? "s" : "", what,
                   text.c_str(), opt.db_path.c_str(), option, text.c_str());
    }
  }
}

int RunEvents(const EventsOptions& opt) {
  const std::optional<ReportFormat> format = ParseReportFormat(opt.format);
  if (!format) {
    std::fprintf(stderr, "edi-audit events: unknown --format '%s'\n", opt.format.c_str());
    return 2;
  }
  EventsQuery q;
  if (opt.her_id != 0) q.her_id = opt.her_id;
  if (!MessageIdArg("events", opt.message_id, &q.message_id)) return 2;
  q.request_id = opt.request_id;
  for (const std::string& action : opt.actions) {
    if (!ActionFromName(action)) {
      std::string known;
      for (int a = 0; a < kActionCount; ++a) {
        known += (a > 0 ? ", " : "") + std::string(ActionName(static_cast<Action>(a)));
      }
      std::fprintf(stderr, "edi-audit events: --action '%s' is not an action; the actions: %s\n",
                   action.c_str(), known.c_str());
      return 2;
    }
    if (std::find(q.actions.begin(), q.actions.end(), action) == q.actions.end()) {
      q.actions.push_back(action);
    }
  }
  q.limit = opt.limit;
  // Arguments first: a bad one is exit status 2 whatever the database.
  TimeArgs times;
  if (const int rc = ParseTimeArgs("events", opt.since, opt.until, &times); rc != 0) return rc;
  int64_t schema_version = 0;
  DbHandle db = OpenReadOnly(opt.db_path, "events", kMinSchemaVersion, &schema_version);
  if (db == nullptr) return 1;
  if (!AddQueryFunctions(db.get())) {
    std::fprintf(stderr, "edi-audit events: %s\n", sqlite3_errmsg(db.get()));
    return 1;
  }
  q.apprec_ids = schema_version >= 10;
  if (const int rc = ResolveTimeArgs("events", times, db.get(), &q.since, &q.until); rc != 0) {
    return rc;
  }
  if (!opt.client_id.empty()) {
    std::vector<ClientMatch> matches;
    if (!ResolveClient(db.get(), "events", opt.client_id, &matches)) return 1;
    q.client_keys.emplace();
    for (const ClientMatch& m : matches) q.client_keys->push_back(m.key);
  }
  bool none = true;  // no call selected
  auto write = [](std::string_view text) { return WriteOutput("events", text); };
  // JSON lines and CSV are written page by page: a whole database's calls never need to fit in
  // memory. The table (column widths), JSON (one array) and --limit (newest first, printed
  // oldest first) collect them; --by-client sums them as they are read.
  if (opt.by_client) {
    // Every call counts toward its client's line; --limit then keeps the clients that acted
    // last.
    q.limit = 0;
    std::map<std::string, ClientActivity> by_client;
    if (!Query(db.get(), q, [&](EventRow&& e) {
          by_client[e.client_id].Add(e);
          return true;
        })) {
      return 1;
    }
    none = by_client.empty();
    std::vector<ClientActivity> clients;
    for (auto& [id, c] : by_client) clients.push_back(std::move(c));
    if (opt.limit > 0 && clients.size() > opt.limit) {
      std::sort(clients.begin(), clients.end(),
                [](const ClientActivity& a, const ClientActivity& b) {
                  return a.last != b.last ? a.last > b.last : a.client_id < b.client_id;
                });
      clients.resize(opt.limit);
    }
    std::sort(clients.begin(), clients.end(), [](const ClientActivity& a, const ClientActivity& b) {
      return a.first != b.first ? a.first < b.first : a.client_id < b.client_id;
    });
    if (!write(FormatClientActivity(clients, *format))) return 1;
  } else if ((*format == ReportFormat::kJsonl || *format == ReportFormat::kCsv) && q.limit == 0) {
    // Page by page, each read whole before it is written: a reader that stops reading (a pager
    // left open) then holds no read transaction, which would keep the daemon's checkpoints from
    // finishing and its write-ahead log growing. Calls stored meanwhile join later pages.
    if (!write(FormatEventsHead(*format))) return 1;
    q.page = kPage;
    std::vector<EventRow> page;
    do {
      if (!QueryInto(db.get(), q, &page)) return 1;
      none = none && page.empty();
      std::string text;
      for (const EventRow& e : page) text += FormatEventLine(e, *format);
      if (!write(text)) return 1;
      if (!page.empty()) q.after = {page.back().time, page.back().event_id};
    } while (page.size() == kPage);
  } else {
    std::vector<EventRow> events;
    if (!QueryInto(db.get(), q, &events)) return 1;
    none = events.empty();
    if (q.limit > 0) std::reverse(events.begin(), events.end());
    if (!write(FormatEvents(events, *format))) return 1;
  }
  if (!WriteOutput("events", "", /*flush=*/true)) return 1;
  Hints(db.get(), opt, q, none);
  return 0;
}

}  // namespace

void AddEventsCommand(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<EventsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "events",
      "List stored API calls: who acted for a party, what a client did, a message's calls");
  cmd->add_option("--db", opt->db_path, "SQLite database to read (opened read-only)")->required();
  cmd->add_option(
         "--her-id", opt->her_id,
         "only calls that acted for this party (HER-Id), however the call named it: in the "
         "request body, the path or the query, or through a message in its custody (a call on "
         "a message keeps the receivers known when it was made: --message lists a call made "
         "before this one was known)")
      ->transform(kPositiveInteger);
  cmd->add_option("--client", opt->client_id,
                  "only calls of this HelseID client: its client id, or else a name its tokens "
                  "gave (any of them, any case; all clients of that name; a name the table cut "
                  "with … matches the names it begins)")
      ->check(kNonEmpty);
  cmd->add_option("--message", opt->message_id,
                  "only calls on this message id (a UUID, in any form a path may hold it: case, "
                  "dashes or none, braces, %2D)")
      ->check(kNonEmpty);
  cmd->add_option("--request-id", opt->request_id,
                  "only the call with this requestId (and its duplicates under other times)")
      ->check(kNonEmpty);
  std::string actions;
  for (int a = 0; a < kActionCount; ++a) {
    actions += (a > 0 ? ", " : "") + std::string(ActionName(static_cast<Action>(a)));
  }
  cmd->add_option("--action", opt->actions,
                  "only calls of this action; repeatable, for any of several: " + actions);
  cmd->add_option("--since", opt->since,
                  "only calls at or after T (RFC 3339, YYYY-MM-DD, or a duration such as 7d: "
                  "see below)")
      ->check(kNonEmpty);
  cmd->add_option("--until", opt->until, "only calls before T (as --since)")->check(kNonEmpty);
  cmd->add_option("--limit", opt->limit,
                  "at most N calls: the newest N, printed oldest first; with --by-client, at most "
                  "N clients: those whose last call is newest")
      ->transform(kPositiveInteger);
  cmd->add_flag("--by-client", opt->by_client,
                "one line per client instead of one per call: its calls, failed calls (status 400 "
                "or above), first and last, calls per delegation (orgnrParent: a multi-tenant "
                "client acts under several) and per action");
  cmd->add_option("--format", opt->format, "table (default), json, jsonl or csv")
      ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
  cmd->footer(
      "Filters combine: --her-id 8142520 --client ID --since 7d is what that client did for that\n"
      "party in the last week; --her-id 8142520 --since 7d --by-client, who acted for it.\n"
      "Times are EVENT times (the records' timestamps), never the wall clock; a duration counts\n"
      "back from the newest event time in the database. Dates and times without an offset are\n"
      "UTC (2026-05-11 is midnight UTC; 2026-05-11T08:00:00+02:00 names Norwegian summer time).\n"
      "--since is inclusive, --until exclusive. Calls are listed oldest first; --by-client\n"
      "lists clients by their first call.\n"
      "Message ids are indexed after the event time: --message without --since reads the whole\n"
      "message index (10M calls: 0.2 s cached, 3.6 s cold); give --since when you can.\n"
      "A poll whose response listed a message is not a call on it (it has no message id): the\n"
      "polls for a receiver are --her-id H --action poll.\n"
      "Exit status: 0 listed (possibly none), 1 the database cannot be read, 2 bad arguments.");
  cmd->callback([opt, exit_code]() { *exit_code = RunEvents(*opt); });
}

}  // namespace edi
