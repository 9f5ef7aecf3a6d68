// The store's source positions: how far each input was read, and what was quarantined from a
// position.
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

std::optional<bool> Store::IsQuarantinedAt(const SourcePosition& p, std::string_view bytes,
                                           size_t full_size) {
  Statement st(db_, "SELECT record_hash, size FROM quarantine WHERE source = ?1 AND position = ?2");
  if (!st.ok()) return std::nullopt;
  st.Bind(1, p.source).Bind(2, p.position);
  bool unknown = false;
  while (st.Step() == SQLITE_ROW) {
    if (st.ColumnIsNull(0)) {
      unknown = true;  // quarantined before records' hashes were kept
    } else if (static_cast<uint64_t>(st.ColumnInt(0)) == Fnv1a64(bytes) &&
               st.ColumnInt(1) == static_cast<int64_t>(full_size)) {
      return true;
    }
  }
  if (unknown) return std::nullopt;
  return false;
}

}  // namespace edi
