#include "store/store_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/sqlite_statement.h"
#include "store/migrations.h"

namespace edi {

std::optional<std::string> DirectoryProblem(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return "the directory " + dir.string() + " does not exist";
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return "the directory " + dir.string() + " cannot be written by this user (" +
           std::strerror(errno) + "): SQLite keeps its -wal and -shm files beside the database";
  }
  return std::nullopt;
}

std::optional<std::string> AccessProblem(const std::string& file, int mode) {
  struct stat st = {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  const int wanted = ((mode & 04) ? R_OK : 0) | ((mode & 02) ? W_OK : 0);
  if (::access(file.c_str(), wanted) == 0) return std::nullopt;
  const int e = errno;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return std::string(std::strerror(e)) + "; owner uid " + std::to_string(st.st_uid) + ", mode " +
         octal;
}

Status CheckSchema(sqlite3* db, const std::string& path, int64_t* version) {
  Statement read(db, "PRAGMA user_version");
  if (!read.ok() || read.Step() != SQLITE_ROW) {
    return Status::IOError(path + ": " + sqlite3_errmsg(db) + " (is it an SQLite database?)");
  }
  const int64_t current = read.ColumnInt(0);
  *version = current;
  const auto newest = static_cast<int64_t>(StoreMigrations().size());
  if (current > newest) {
    return Status::InvalidArgument(path + ": database schema version " + std::to_string(current) +
                                   " is newer than this edi-audit supports (" +
                                   std::to_string(newest) + ")");
  }
  if (current > 0 && !HasStoreTables(db)) {
    return Status::InvalidArgument(path + ": not an edi-audit database (schema version " +
                                   std::to_string(current) + ", but no edi-audit tables)");
  }
  if (current == 0) {
    // A new file, or someone else's database: refuse to write into foreign tables.
    Statement tables(db, "SELECT count(*) FROM sqlite_master");
    if (tables.ok() && tables.Step() == SQLITE_ROW && tables.ColumnInt(0) > 0) {
      return Status::InvalidArgument(path +
                                     ": not an edi-audit database (it has tables but no "
                                     "edi-audit schema version)");
    }
  }
  return Status::OK();
}

Status CheckDatabasePath(const std::string& path, std::string* what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return Status::InvalidArgument(path + ": is a directory, not a database file");
  }
  if (!fs::exists(path, ec)) {
    if (auto problem = DirectoryProblem(path))
      return Status::InvalidArgument(path + ": " + *problem);
    *what = "new, made at the start";
    return Status::OK();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (auto problem = AccessProblem(path + suffix)) {
      return Status::InvalidArgument(path + suffix + ": cannot be read and written by this user (" +
                                     *problem + ")");
    }
  }
  if (fs::file_size(path, ec) == 0) {
    *what = "empty, its schema made at the start";
    return Status::OK();
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  int64_t version = 0;
  Status s =
      rc != SQLITE_OK
          ? Status::InvalidArgument(path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)))
          : (sqlite3_busy_timeout(db, 5000), CheckSchema(db, path, &version));
  sqlite3_close(db);
  // A file that is no database stays so: a setup problem, not a failure a restart mends.
  if (!s.ok()) return Status::InvalidArgument(s.message());
  const auto newest = static_cast<int64_t>(StoreMigrations().size());
  *what = version < newest ? "schema version " + std::to_string(version) + ", migrated to " +
                                 std::to_string(newest) + " at the start"
                           : "schema version " + std::to_string(version);
  return Status::OK();
}

}  // namespace edi
