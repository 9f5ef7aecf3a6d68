// The store's source positions: how far each input was read, and which record was stored from
// a position.
#include <sqlite3.h>

#include "common/fnv.h"
#include "store/store.h"

namespace edi {

Status Store::SetSourcePosition(const SourcePosition& p) {
  return set_position_.Bind(1, p.source).Bind(2, p.position).Run() == SQLITE_DONE
             ? Status::OK()
             : Status::IOError(LastError());
}

std::optional<int64_t> Store::GetSourcePosition(const std::string& source) {
  get_position_.Bind(1, source);
  std::optional<int64_t> result;
  if (get_position_.Step() == SQLITE_ROW) result = get_position_.ColumnInt(0);
  get_position_.Reset();
  return result;
}

std::optional<bool> Store::IsRecordStoredAt(const SourcePosition& p, std::string_view bytes,
                                            size_t full_size) {
  // A call: looked for among the newest events only (a rowid range, then a scan): the record
  // asked about is a source's last one stored, and an index on positions would cost every
  // insert for this one look at a start.
  constexpr int64_t kEventsLookedAt = 200000;
  Statement event(db_,
                  "SELECT e.content_hash FROM events e JOIN sources s USING (source_key) "
                  "WHERE e.event_id > (SELECT coalesce(max(event_id), 0) FROM events) - ?3 "
                  "AND s.source = ?1 AND e.position = ?2 ORDER BY e.event_id DESC LIMIT 1");
  if (!event.ok()) return std::nullopt;
  event.Bind(1, p.source).Bind(2, p.position).Bind(3, kEventsLookedAt);
  if (event.Step() == SQLITE_ROW) {
    if (event.ColumnIsNull(0)) return std::nullopt;  // stored before hashes were kept
    return static_cast<uint64_t>(event.ColumnInt(0)) == ContentHash64(bytes);
  }
  // A bad record: quarantined with a hash of all its bytes.
  Statement quarantined(
      db_, "SELECT record_hash, size FROM quarantine WHERE source = ?1 AND position = ?2");
  if (!quarantined.ok()) return std::nullopt;
  quarantined.Bind(1, p.source).Bind(2, p.position);
  bool any = false;
  while (quarantined.Step() == SQLITE_ROW) {
    if (quarantined.ColumnIsNull(0)) return std::nullopt;
    any = true;
    if (static_cast<uint64_t>(quarantined.ColumnInt(0)) == Fnv1a64(bytes) &&
        quarantined.ColumnInt(1) == static_cast<int64_t>(full_size)) {
      return true;
    }
  }
  if (any) return false;
  return std::nullopt;  // a duplicate of a record stored before: nothing says which it was
}

}  // namespace edi
