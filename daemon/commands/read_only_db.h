// Opening the database for the commands that only read it (`findings`, `record`): read-only,
// beside a running daemon (WAL mode lets them read while it writes), never migrating it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/time.h"

namespace edi {

// Closes the connection when the command ends, whatever path it ends on.
struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// Opens `path` read-only and checks that it is an edi-audit database of at least schema
// `min_version`. Prints "edi-audit COMMAND: PATH: reason" and returns nullptr when it is not.
// Its schema version into *version when given.
DbHandle OpenReadOnly(const std::string& path, const char* command, int min_version,
                      int64_t* version = nullptr);

// The newest event time stored (nullopt when none is): `newest` the newest not after
// `not_after` (else the newest of all), `newest_of_all` the newest of all. Prints
// "edi-audit COMMAND: reason" and returns false when they cannot be read.
bool NewestEventTime(sqlite3* db, const char* command, EventTime not_after,
                     std::optional<EventTime>* newest, std::optional<EventTime>* newest_of_all);

}  // namespace edi
