// What keeps a database path from being used by a writer, told in words a person can act on:
// shared by Store::Open (which then fails with it) and `run --check` (which only reports it,
// making and changing nothing).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace edi {

// Why a writer cannot make the database `path` there: "the directory D does not exist", or
// "the directory D cannot be written by this user (...): ..."; nullopt when it can.
std::optional<std::string> DirectoryProblem(const std::string& path);

// Why this user may not read and write the existing `file`, naming its owner and mode
// ("Permission denied; owner uid 0, mode 0600"); nullopt when it may, or it is not there.
std::optional<std::string> AccessProblem(const std::string& file, int mode = 06);

// Reads the schema version of `db` (at `path`, for messages) into *version and refuses one
// newer than this build, or a database that is not edi-audit's (tables, but not its own).
Status CheckSchema(sqlite3* db, const std::string& path, int64_t* version);

// The path as a start would take it, making or changing nothing: a file this user may read and
// write (an edi-audit database of a schema this build reads, or empty), or a new one in a
// directory it may write. *what says which ("new, made at the start", "schema version 10").
Status CheckDatabasePath(const std::string& path, std::string* what);

}  // namespace edi
