#include "report/text_table.h"

#include <algorithm>

#include "common/utf8.h"

namespace edi {
namespace {

// Display width of UTF-8 text: one column per code point (continuation bytes take none).
// Good enough for the Latin, Norwegian and Sami names the registry holds.
size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A column other than the last is at most this wide: a cell wider than it (a client name of
// 100 KB is the caller's to choose) is cut, ending in "…", rather than widening every row.
constexpr size_t kMaxColumnWidth = 80;

// `cell` cut to kMaxColumnWidth code points, the last of them "…"; as it is when it fits.
std::string_view Clipped(std::string_view cell, std::string* buffer) {
  if (DisplayWidth(cell) <= kMaxColumnWidth) return cell;
  size_t points = 0, end = 0;
  for (; end < cell.size(); ++end) {
    if ((static_cast<unsigned char>(cell[end]) & 0xC0) == 0x80) continue;
    if (++points == kMaxColumnWidth) break;  // the start of the code point "…" replaces
  }
  buffer->assign(cell.substr(0, end)).append("\u2026");
  return *buffer;
}

void AppendRow(std::span<const TableColumn> columns, std::span<const std::string> row,
               const std::vector<size_t>& widths, std::string* out) {
  std::string buffer;
  for (size_t i = 0; i < columns.size(); ++i) {
    const bool last = i + 1 == columns.size();
    std::string_view cell = i < row.size() ? std::string_view(row[i]) : "-";
    if (!last) cell = Clipped(cell, &buffer);
    const size_t pad = widths[i] - DisplayWidth(cell);
    if (columns[i].right_aligned) out->append(pad, ' ');
    out->append(cell);
    if (last) break;
    if (!columns[i].right_aligned) out->append(pad, ' ');
    out->append("  ");
  }
  out->push_back('\n');
}

// A spreadsheet reads a cell starting with = + - @ (or a tab or carriage return before them)
// as a formula: log text such as a client name is the attacker's, so such a cell gets a leading
// apostrophe, which spreadsheets show as text. Numbers (-1, +47) stay as they are.
bool LooksLikeFormula(std::string_view s) {
  if (s.empty() || std::string_view("=+-@\t\r").find(s[0]) == std::string_view::npos) {
    return false;
  }
  size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return true;
    }
  }
  return !digits;
}

void AppendCsvField(std::string_view raw, std::string* out) {
  // Without control characters but line breaks and tabs (quoted, they are data): a CSV file is
  // read in terminals too (cat, less), where ESC sequences would set the title or the clipboard.
  const std::string clean = WithoutControls(raw, true);
  const std::string_view s = clean;
  const bool formula = LooksLikeFormula(raw) || LooksLikeFormula(s);
  if (!formula && s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  if (formula) out->push_back('\'');
  for (const char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::string TableCell(std::string_view s) { return s.empty() ? "-" : WithoutControls(s); }

std::string LogText(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out = WithoutControls(Utf8Prefix(s, kMax));
  if (s.size() > kMax) out += "...";
  return out;
}

std::string WithoutControls(std::string_view s, bool keep_line_breaks) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    const auto next = [&](size_t k) {
      return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
    };
    if (keep_line_breaks && (u == '\n' || u == '\r' || u == '\t')) {
      out.push_back(s[i]);
    } else if (u < 0x20 || u == 0x7F) {  // C0 controls, ESC among them, and DEL
      out.push_back(' ');
    } else if (u == 0xC2 && next(1) >= 0x80 && next(1) <= 0x9F) {
      out.push_back(' ');  // C1 controls (U+0080..U+009F; U+009B is CSI to some terminals)
      ++i;
    } else if (u == 0xE2 && next(1) == 0x80 && next(2) >= 0xAA && next(2) <= 0xAE) {
      out.push_back(' ');  // bidirectional embeddings and overrides (U+202A..U+202E)
      i += 2;
    } else if (u == 0xE2 && next(1) == 0x81 && next(2) >= 0xA6 && next(2) <= 0xA9) {
      out.push_back(' ');  // bidirectional isolates (U+2066..U+2069)
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string FormatTextTable(std::span<const TableColumn> columns,
                            const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(columns.size());
  std::vector<std::string> header;
  for (size_t i = 0; i < columns.size(); ++i) {
    header.emplace_back(columns[i].title);
    widths[i] = DisplayWidth(columns[i].title);
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      const size_t w = i < row.size() ? DisplayWidth(row[i]) : 1;
      widths[i] = std::max(widths[i], i + 1 < columns.size() ? std::min(w, kMaxColumnWidth) : w);
    }
  }
  std::string out;
  AppendRow(columns, header, widths, &out);
  for (const auto& row : rows) AppendRow(columns, row, widths, &out);
  return out;
}

void AppendCsvRecord(const std::vector<std::string>& fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCsvField(fields[i], out);
  }
  out->append("\r\n");
}

}  // namespace edi
