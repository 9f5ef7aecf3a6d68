// The text forms of findings: `table` for people, `csv` for spreadsheets; and the dispatch.
#include "report/report.h"

#include <algorithm>
#include <array>
#include <vector>

#include "report/formats.h"
#include "report/text_table.h"

namespace edi {
namespace {

constexpr std::array<std::string_view, 4> kFormatNames = {"table", "json", "jsonl", "csv"};

// The last column (the summary) is not padded: it is as long as it is.
constexpr std::array<TableColumn, 8> kTableColumns = {{
    {"TIME", false},
    {"SEVERITY", false},
    {"RULE", false},
    {"CLIENT", false},
    {"HER-ID", true},
    {"MESSAGE", false},
    {"OCC", true},
    {"SUMMARY", false},
}};

std::vector<std::string> TableRow(const Finding& f) {
  return {FormatRfc3339(f.time),
          std::string(SeverityName(f.severity)),
          TableCell(f.rule),
          TableCell(f.client_name.empty() ? f.client_id : f.client_name),
          f.her_id != 0 ? std::to_string(f.her_id) : "-",
          TableCell(f.message_id),
          std::to_string(f.occurrences),
          TableCell(f.summary)};
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
  std::vector<std::vector<std::string>> rows;
  rows.reserve(findings.size());
  for (const Finding& f : findings) rows.push_back(TableRow(f));
  return FormatTextTable(kTableColumns, rows);
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
