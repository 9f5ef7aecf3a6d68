// Arguments of the reading commands (`findings`, `events`).
//
// --since/--until: an RFC 3339 time, a date
// (midnight UTC) or a duration such as 7d, 12h or 30m back from the newest event time in the
// database, so that the same database always gives the same answer.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/time.h"

namespace edi {

struct TimeArg {
  std::optional<EventTime> absolute;
  std::optional<EventTime> back;  // a duration back from the newest event time
};

// nullopt when `text` is none of the three.
std::optional<TimeArg> ParseTimeArg(const std::string& text);

// Parses --since and --until of `command` into *since / *until (absent when empty) and, when
// either is a duration, resolves it against the newest event time, which `newest` reads (only
// then; nullopt for an empty database; false when it cannot be read, having said why). Prints
// "edi-audit COMMAND: ..." and returns 2 for an argument that is none of the three or a --since
// not before --until, 1 when `newest` fails, 0 otherwise.
int ResolveTimeArgs(const char* command, const std::string& since_text,
                    const std::string& until_text,
                    const std::function<bool(std::optional<EventTime>*)>& newest,
                    std::optional<EventTime>* since, std::optional<EventTime>* until);

// --message: a UUID in any case, folded to the lower case the decoder stores. Prints
// "edi-audit COMMAND: ..." and returns false when `text` is not one; empty stays empty.
bool MessageIdArg(const char* command, const std::string& text, std::string* out);

}  // namespace edi
