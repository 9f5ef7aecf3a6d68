// FindingStore: the `findings` table (schema migration 2) — write side for the pipeline, read
// side for repeat tracking after a restart and for `edi-audit findings`.
//
// A FindingStore works on a connection it does not own: the Store's (the writes then belong to
// the store's open batch transaction, so findings commit or roll back with the events that
// raised them), or a reader's own read-only connection (Query, Load*). Each finding is one row
// whose columns are the Finding fields; times are INTEGER ms of event time, `tags` a JSON array,
// `evidence` a JSON object, empty text and a zero HER-Id are stored as NULL. The view
// `finding_view` shows the same rows with RFC 3339 times and severity names for sqlite3 users.
//
// Used by one thread at a time; the connection must outlive the FindingStore.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "detect/finding.h"
#include "detect/finding_tracker.h"
#include "store/store.h"

namespace edi {

// What `Query` returns. Every filter that is set must hold (AND).
struct FindingQuery {
  std::optional<EventTime> since;  // last_seen >= since (repeated or escalated then counts)
  std::optional<EventTime> until;  // time < until
  std::string rule;                // exact rule id; empty = any
  // Minimum severity: `high` selects high and critical, as an operator asking for "high"
  // findings expects. Unset = all.
  std::optional<Severity> min_severity;
  std::optional<HerId> her_id;
  std::vector<std::string> client_ids;  // any of these, exact; empty = any
  std::string message_id;               // exact; empty = any
  // At most this many findings: the NEWEST `limit` ones (like `tail`), still returned oldest
  // first. 0 = no limit.
  size_t limit = 0;
};

class FindingStore {
 public:
  // Prepares the statements on `db`. Fails (Corruption, naming the reason) when the database
  // has no findings table of this shape, e.g. one not yet migrated to schema version 2.
  static Result<std::unique_ptr<FindingStore>> Open(sqlite3* db);

  // Stores a new finding (undelivered, whatever f.delivered says) with its repeat key. A
  // finding whose id is already stored is left as it is and *inserted (if given) is false:
  // the same input replayed gives the same ids, and it must not count twice.
  Status Insert(const Finding& f, std::string_view repeat_key, bool* inserted = nullptr);
  // Records a repeat on a stored finding. NotFound when no finding has that id.
  Status UpdateRepeat(std::string_view id, uint64_t occurrences, EventTime last_seen);
  // Records a repeat that raised a stored finding's severity: its severity, occurrences,
  // last_seen, evidence and summary as `f` has them now, and not delivered (it is sent to the
  // alerts topic again). NotFound when no finding has f.id.
  Status UpdateEscalated(const Finding& f);
  // Marks findings as sent to the alerts topic; unknown ids are ignored.
  Status MarkDelivered(const std::vector<std::string>& ids);

  // Findings not yet sent to the alerts topic, oldest first (to resend after a restart).
  Status LoadUndelivered(std::vector<Finding>* out);
  // Findings with since <= time <= not_after, oldest first, with their repeat keys:
  // FindingTracker::Restore.
  Status LoadRecent(EventTime since, EventTime not_after, std::vector<KeyedFinding>* out);

  // The latest event time of any finding or repeat (the latest last_seen) not after
  // `not_after`: where the repeat tracker stood (FindingTracker's now), which findings dated
  // after its clock limit did not move. nullopt without findings.
  Status LatestSeen(EventTime not_after, std::optional<EventTime>* out);

  // The findings `q` selects, ordered by (time, id). Query calls `visit` once per finding in
  // that order and stops early when it returns false; the vector form collects them.
  Status Query(const FindingQuery& q, const std::function<bool(const Finding&)>& visit);
  Status Query(const FindingQuery& q, std::vector<Finding>* out);

  // The last SQLite error on the connection.
  std::string LastError() const;

 private:
  explicit FindingStore(sqlite3* db) : db_(db) {}
  Status Prepare();
  // Steps `st` (selecting the columns in finding_store.cpp's order) and hands each row to
  // `visit` with its repeat key, until the rows end or `visit` returns false.
  Status ReadRows(Statement& st, const std::function<bool(Finding&&, std::string&&)>& visit);

  sqlite3* db_;
  Statement insert_, update_repeat_, update_escalated_, mark_delivered_, load_undelivered_,
      load_recent_, latest_seen_;
};

}  // namespace edi
