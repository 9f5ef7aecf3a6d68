// The SQLite schema as a list of forward migrations: migration i takes the database from
// user_version i to i+1. Appending is the only allowed change; a shipped migration is never
// edited, so every database can be brought forward.
#pragma once

#include <sqlite3.h>

#include <string_view>
#include <vector>

namespace edi {

const std::vector<std::string_view>& StoreMigrations();

// Whether a database with a schema version has edi-audit's tables (every version has `events`
// and `source_positions`): another application's SQLite file may set user_version too.
bool HasStoreTables(sqlite3* db);

}  // namespace edi
