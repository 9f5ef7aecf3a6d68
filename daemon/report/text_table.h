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

// A table cell: absent values (empty) as "-"; control characters (C0 with ESC, DEL, C1) and
// the bidirectional overrides and isolates as spaces: a client name is attacker-chosen text and
// must neither move the cursor nor reorder what is shown.
std::string TableCell(std::string_view s);

// A header line of the titles and one line per row, columns padded to their widest cell (in
// code points) and two spaces apart; the last column is not padded. Each row has one cell
// per column, already made with TableCell where the value may be anything.
std::string FormatTextTable(std::span<const TableColumn> columns,
                            const std::vector<std::vector<std::string>>& rows);

// One RFC 4180 record: fields quoted when they hold a comma, quote, CR or LF (quotes doubled),
// ended by CRLF.
void AppendCsvRecord(const std::vector<std::string>& fields, std::string* out);

}  // namespace edi
