// Text output shared by the reports: aligned table columns for a terminal and RFC 4180 CSV.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edi {

struct TableColumn {
  std::string_view title;
  bool right_aligned = false;
};

// `s` with its control characters (C0 with ESC, CR and LF, DEL, C1) and the bidirectional
// overrides and isolates as spaces: a client name or requestId is attacker-chosen text and
// must neither move the cursor, forge a line nor reorder what is shown. With
// `keep_line_breaks`, LF, CR and tab stay (CSV quotes them).
std::string WithoutControls(std::string_view s, bool keep_line_breaks = false);

// A table cell: absent values (empty) as "-", else WithoutControls.
std::string TableCell(std::string_view s);

// Text from the input (a requestId) for a log line: WithoutControls, at most 200 bytes and
// "..." when longer.
std::string LogText(std::string_view s);

// A header line of the titles and one line per row, columns padded to their widest cell (in
// code points) and two spaces apart; the last column is not padded, the others are at most
// 80 code points wide (a longer cell is cut, ending in "…"). Each row has one cell per
// column, already made with TableCell where the value may be anything.
std::string FormatTextTable(std::span<const TableColumn> columns,
                            const std::vector<std::vector<std::string>>& rows);

// One RFC 4180 record: fields without control characters other than line breaks and tabs
// (WithoutControls), quoted when they hold a comma, quote, CR or LF (quotes doubled), ended by
// CRLF.
void AppendCsvRecord(const std::vector<std::string>& fields, std::string* out);

}  // namespace edi
