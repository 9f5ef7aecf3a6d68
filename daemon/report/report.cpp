// The text forms of findings: `table` for people, `csv` for spreadsheets; and the dispatch.
#include "report/report.h"

#include <algorithm>
#include <array>
#include <vector>

#include "report/formats.h"

namespace edi {
namespace {

constexpr std::array<std::string_view, 4> kFormatNames = {"table", "json", "jsonl", "csv"};

// Display width of UTF-8 text: one column per code point (continuation bytes take none).
// Good enough for the Latin, Norwegian and Sami names the registry holds.
size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A table cell: absent values as "-", control characters (ESC included) as spaces.
std::string Cell(std::string_view s) {
  if (s.empty()) return "-";
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

enum class Align { kLeft, kRight };

struct Column {
  std::string_view title;
  Align align;
};

// The last column (the summary) is not padded: it is as long as it is.
constexpr std::array<Column, 8> kTableColumns = {{
    {"TIME", Align::kLeft},
    {"SEVERITY", Align::kLeft},
    {"RULE", Align::kLeft},
    {"CLIENT", Align::kLeft},
    {"HER-ID", Align::kRight},
    {"MESSAGE", Align::kLeft},
    {"OCC", Align::kRight},
    {"SUMMARY", Align::kLeft},
}};
using Row = std::array<std::string, kTableColumns.size()>;

Row TableRow(const Finding& f) {
  return {FormatRfc3339(f.time),
          std::string(SeverityName(f.severity)),
          Cell(f.rule),
          Cell(f.client_name.empty() ? f.client_id : f.client_name),
          f.her_id != 0 ? std::to_string(f.her_id) : "-",
          Cell(f.message_id),
          std::to_string(f.occurrences),
          Cell(f.summary)};
}

void AppendRow(const Row& row, const std::array<size_t, kTableColumns.size()>& widths,
               std::string* out) {
  for (size_t i = 0; i < row.size(); ++i) {
    const bool last = i + 1 == row.size();
    const size_t pad = widths[i] - DisplayWidth(row[i]);
    if (kTableColumns[i].align == Align::kRight) out->append(pad, ' ');
    out->append(row[i]);
    if (last) break;
    if (kTableColumns[i].align == Align::kLeft) out->append(pad, ' ');
    out->append("  ");
  }
  out->push_back('\n');
}

// An RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled.
void AppendCsvField(std::string_view s, std::string* out) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (const char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvRecord(const std::vector<std::string>& fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCsvField(fields[i], out);
  }
  out->append("\r\n");
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& t : tags) {
    if (!out.empty()) out.push_back(';');
    out += t;
  }
  return out;
}

}  // namespace

std::optional<ReportFormat> ParseReportFormat(std::string_view name) {
  for (size_t i = 0; i < kFormatNames.size(); ++i) {
    if (kFormatNames[i] == name) return static_cast<ReportFormat>(i);
  }
  return std::nullopt;
}

std::string_view ReportFormatName(ReportFormat format) {
  return kFormatNames[static_cast<size_t>(format)];
}

std::string FormatFindingsTable(std::span<const Finding> findings) {
  if (findings.empty()) return "no findings\n";
  std::vector<Row> rows;
  rows.reserve(findings.size() + 1);
  Row header;
  for (size_t i = 0; i < header.size(); ++i) header[i] = kTableColumns[i].title;
  rows.push_back(std::move(header));
  for (const Finding& f : findings) rows.push_back(TableRow(f));
  std::array<size_t, kTableColumns.size()> widths{};
  for (const Row& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  std::string out;
  for (const Row& row : rows) AppendRow(row, widths, &out);
  return out;
}

std::string FormatFindingsCsv(std::span<const Finding> findings) {
  std::string out;
  AppendCsvRecord({"id", "rule", "severity", "time", "requestId", "clientId", "clientName", "herId",
                   "messageId", "orgnrParent", "partyTopOrgnr", "action", "status", "summary",
                   "tags", "occurrences", "lastSeen", "evidence"},
                  &out);
  for (const Finding& f : findings) {
    AppendCsvRecord(
        {f.id, f.rule, std::string(SeverityName(f.severity)), FormatRfc3339(f.time), f.request_id,
         f.client_id, f.client_name, f.her_id != 0 ? std::to_string(f.her_id) : "", f.message_id,
         f.orgnr_parent, f.party_top_orgnr, f.action, std::to_string(f.status), f.summary,
         JoinTags(f.tags), std::to_string(f.occurrences),
         FormatRfc3339(std::max(f.last_seen, f.time)), EvidenceJson(f.evidence)},
        &out);
  }
  return out;
}

std::string FormatFindings(std::span<const Finding> findings, ReportFormat format) {
  switch (format) {
    case ReportFormat::kTable:
      return FormatFindingsTable(findings);
    case ReportFormat::kJson:
      return FormatFindingsJson(findings);
    case ReportFormat::kJsonl:
      return FormatFindingsJsonl(findings);
    case ReportFormat::kCsv:
      return FormatFindingsCsv(findings);
  }
  return {};
}

}  // namespace edi
