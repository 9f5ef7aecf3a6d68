// Arguments of the reading commands (`findings`, `events`).
//
// --since/--until: an RFC 3339 time, a date
// (midnight UTC) or a duration such as 7d, 12h or 30m back from the newest event time in the
// database, so that the same database always gives the same answer.
#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace edi {

// --since and --until as given: each absent, a time, or a duration back from the newest event.
struct TimeArgs {
  struct Arg {
    std::optional<EventTime> absolute;
    std::optional<EventTime> back;
  };
  std::optional<Arg> since, until;
};

// Parses --since and --until of `command` (empty: absent). Prints "edi-audit COMMAND: ..." and
// returns 2 for one that is none of the three, 0 otherwise.
int ParseTimeArgs(const char* command, const std::string& since, const std::string& until,
                  TimeArgs* out);

// The times `args` stand for in `db`: a duration counts back from its newest event time (zero
// for an empty database). Prints "edi-audit COMMAND: ..." and returns 2 for a --since not
// before --until, 1 when the newest event time cannot be read, 0 otherwise.
int ResolveTimeArgs(const char* command, const TimeArgs& args, sqlite3* db,
                    std::optional<EventTime>* since, std::optional<EventTime>* until);

// --message: a UUID in any form a path may hold it (case, dashes or none, braces, parentheses,
// percent-encoded), as the lower-case dashed form the decoder stores. Prints
// "edi-audit COMMAND: ..." and returns false when `text` is not one; empty stays empty.
bool MessageIdArg(const char* command, const std::string& text, std::string* out);

// `text` in lower case for comparing names and free text: ASCII and the Latin-1 letters of UTF-8
// (Æ Ø Å and the accented ones), which SQLite's NOCASE and lower() leave as they are.
std::string FoldCase(std::string_view text);

// Whether `text` names message `message_id` (a UUID) in any form its digits may take: upper or
// lower case, with or without dashes, percent-encoded dashes (%2D), in braces.
bool NamesMessage(std::string_view text, std::string_view message_id);

// Whether `text` holds the HER-Id `her_id` (its decimal digits) as a number of its own, not
// within a longer run of digits.
bool NamesHerId(std::string_view text, std::string_view her_id);

// Makes FoldCase, NamesMessage and NamesHerId available to SQL on `db` as fold_case(text),
// names_message(text, message_id) and names_her_id(text, her_id). False when SQLite refuses.
bool AddQueryFunctions(sqlite3* db);

// A client a --client argument names.
struct ClientMatch {
  int64_t key = 0;  // clients.client_key
  std::string id;   // clients.client_id
};

// The clients `client` names in `db`: its id as stored, else in another case, else a name its
// tokens gave (any of them, in any case; several clients may bear one). Prints "edi-audit COMMAND:
// ..." and returns false when the query fails; an empty *out is no such client.
bool ResolveClient(sqlite3* db, const char* command, const std::string& client,
                   std::vector<ClientMatch>* out);

// Writes `text` to standard output (and flushes it with `flush`). Prints "edi-audit COMMAND:
// cannot write the output" and returns false when it cannot: a closed pipe, a full disk.
bool WriteOutput(const char* command, std::string_view text, bool flush = false);

// The first column of every row `sql` gives, joined with ", "; "none" for no rows. For the
// hints that name what does exist when a filter matched nothing.
std::string JoinedColumn(sqlite3* db, const char* sql);

}  // namespace edi
