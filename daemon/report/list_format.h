// A list of records in the four report forms (table, json, jsonl, csv), from how one record
// looks in each: shared by the reports that have no form of their own.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "report/json_write.h"
#include "report/report.h"
#include "report/text_table.h"

namespace edi {

template <typename T>
struct ListForm {
  std::string_view empty;  // the table of no records, e.g. "no calls\n"
  std::span<const TableColumn> columns;
  std::vector<std::string> (*cells)(const T&);  // made with TableCell where text may be anything
  std::vector<std::string> csv_header;
  std::vector<std::string> (*csv)(const T&);
};

// `write_json(writer, item)` writes one record's JSON object (a generic lambda).
template <typename T, typename WriteJson>
std::string FormatList(std::span<const T> items, ReportFormat format, const ListForm<T>& form,
                       WriteJson write_json) {
  std::string out;
  switch (format) {
    case ReportFormat::kTable: {
      if (items.empty()) return std::string(form.empty);
      std::vector<std::vector<std::string>> rows;
      rows.reserve(items.size());
      for (const T& item : items) rows.push_back(form.cells(item));
      return FormatTextTable(form.columns, rows);
    }
    case ReportFormat::kJson:
      return JsonArray(items, write_json);
    case ReportFormat::kJsonl:
      for (const T& item : items) out += JsonCompact(item, write_json) + "\n";
      return out;
    case ReportFormat::kCsv:
      AppendCsvRecord(form.csv_header, &out);
      for (const T& item : items) AppendCsvRecord(form.csv(item), &out);
      return out;
  }
  return out;
}

}  // namespace edi
