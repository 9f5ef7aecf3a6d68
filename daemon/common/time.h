// Event time: milliseconds since the Unix epoch, UTC, taken from the records' `timestamp`.
//
// Windows, TTLs and "30 days inactive" use event time only, never the wall clock, so a replay of
// the same input gives the same results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edi {

using EventTime = int64_t;  // ms since 1970-01-01T00:00:00Z

constexpr EventTime kMillisPerSecond = 1000;
constexpr EventTime kMillisPerMinute = 60 * kMillisPerSecond;
constexpr EventTime kMillisPerHour = 60 * kMillisPerMinute;
constexpr EventTime kMillisPerDay = 24 * kMillisPerHour;

// Parses an RFC 3339 UTC timestamp: "YYYY-MM-DDTHH:MM:SS[.fff...]Z" (a 'z', a ' ' separator, or a
// "+00:00" offset are accepted too; fractions beyond milliseconds are truncated). Other offsets
// are converted to UTC. Returns nullopt for anything that is not a valid date and time.
std::optional<EventTime> ParseRfc3339(std::string_view text);

// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatRfc3339(EventTime t);

// This machine's clock in the same unit. Results never depend on it; it only tells an operator
// that records are dated ahead of it (a gateway's clock fault).
EventTime WallClockMillis();

// The longest duration ParseDuration accepts: 100,000 days (about 274 years), so that a time
// this far before or after any event time stays representable.
inline constexpr int64_t kMaxDuration = 100000LL * 86400000LL;
// Parses a duration such as "30d", "14d", "10m", "1h", "45s", "500ms". Returns nullopt if invalid
// or longer than kMaxDuration.
std::optional<EventTime> ParseDuration(std::string_view text);

}  // namespace edi
