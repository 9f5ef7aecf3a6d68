#include "commands/read_only_db.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/sqlite_statement.h"
#include "store/migrations.h"

namespace edi {

DbHandle OpenReadOnly(const std::string& path, const char* command, int min_version,
                      int64_t* schema_version) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::fprintf(stderr, "edi-audit %s: %s: no such database file\n", command, path.c_str());
    return nullptr;
  }
  if (std::filesystem::is_directory(path, ec)) {
    std::fprintf(stderr, "edi-audit %s: %s: is a directory, not a database file\n", command,
                 path.c_str());
    return nullptr;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    // SQLite says "unable to open database file" for a file this user may not read, too.
    const std::string why = ::access(path.c_str(), R_OK) != 0
                                ? std::strerror(errno)
                                : (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    std::fprintf(stderr, "edi-audit %s: %s: cannot open database: %s\n", command, path.c_str(),
                 why.c_str());
    return nullptr;
  }
  sqlite3_busy_timeout(raw, 5000);
  Statement version(raw, "PRAGMA user_version");
  if (!version.ok() || version.Step() != SQLITE_ROW) {
    // A database in WAL mode is read through its -shm file, which a reader may have to create.
    const bool readonly = (sqlite3_extended_errcode(raw) & 0xff) == SQLITE_READONLY ||
                          (sqlite3_extended_errcode(raw) & 0xff) == SQLITE_CANTOPEN;
    std::fprintf(stderr, "edi-audit %s: %s: %s (%s)\n", command, path.c_str(), sqlite3_errmsg(raw),
                 readonly ? "reading a database in WAL mode needs its -wal and -shm files, or a "
                            "directory this user can create them in"
                          : "is it an SQLite database?");
    return nullptr;
  }
  const int64_t v = version.ColumnInt(0);
  if (schema_version != nullptr) *schema_version = v;
  version = {};
  if (v == 0 || !HasStoreTables(raw)) {
    std::fprintf(stderr, "edi-audit %s: %s: not an edi-audit database\n", command, path.c_str());
    return nullptr;
  }
  if (v < min_version) {
    std::fprintf(stderr,
                 "edi-audit %s: %s: schema version %lld is older than this command reads; run "
                 "this edi-audit's daemon or replay on it once to migrate it\n",
                 command, path.c_str(), static_cast<long long>(v));
    return nullptr;
  }
  if (const auto newest = static_cast<int64_t>(StoreMigrations().size()); v > newest) {
    std::fprintf(stderr,
                 "edi-audit %s: %s: schema version %lld is newer than this edi-audit reads (%lld); "
                 "use the edi-audit that wrote it\n",
                 command, path.c_str(), static_cast<long long>(v), static_cast<long long>(newest));
    return nullptr;
  }
  return db;
}

bool NewestEventTime(sqlite3* db, const char* command, EventTime not_after,
                     std::optional<EventTime>* newest, std::optional<EventTime>* newest_of_all) {
  // Findings outlive the events they were raised on only when a database was pruned by hand.
  Statement query(db,
                  "SELECT coalesce((SELECT max(time) FROM events WHERE time <= ?1), "
                  "(SELECT max(last_seen) FROM findings WHERE last_seen <= ?1)), "
                  "coalesce((SELECT max(time) FROM events), "
                  "(SELECT max(last_seen) FROM findings))");
  if (!query.ok() || query.Bind(1, not_after).Step() != SQLITE_ROW) {
    std::fprintf(stderr, "edi-audit %s: %s\n", command, sqlite3_errmsg(db));
    return false;
  }
  auto column = [&query](int i) {
    return query.ColumnIsNull(i) ? std::nullopt : std::optional<EventTime>(query.ColumnInt(i));
  };
  *newest_of_all = column(1);
  *newest = column(0) ? column(0) : *newest_of_all;
  return true;
}

}  // namespace edi
