#include "report/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/schema.h"
#include "common/time.h"
#include "report/report_fixtures.h"

namespace edi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Reads RFC 4180 CSV back into records, so quoting is checked by round trip.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.back().push_back(std::move(field));
      field.clear();
      records.emplace_back();
      ++i;
    } else {
      field.push_back(c);
    }
  }
  if (records.back().empty()) records.pop_back();
  return records;
}

TEST(ReportFormatTest, NamesParseAndUnknownNamesDoNot) {
  EXPECT_EQ(ParseReportFormat("table"), ReportFormat::kTable);
  EXPECT_EQ(ParseReportFormat("json"), ReportFormat::kJson);
  EXPECT_EQ(ParseReportFormat("jsonl"), ReportFormat::kJsonl);
  EXPECT_EQ(ParseReportFormat("csv"), ReportFormat::kCsv);
  EXPECT_EQ(ParseReportFormat("xml"), std::nullopt);
  EXPECT_EQ(ReportFormatName(ReportFormat::kJsonl), "jsonl");
}

TEST(TableTest, ShowsAHeaderAndOneLinePerFindingWithItsSummary) {
  const auto findings = SampleFindings();
  const auto lines = Lines(FormatFindings(findings, ReportFormat::kTable));
  ASSERT_EQ(lines.size(), 1 + findings.size());
  EXPECT_THAT(lines[0], HasSubstr("TIME"));
  EXPECT_THAT(lines[0], HasSubstr("SEVERITY"));
  EXPECT_THAT(lines[0], HasSubstr("SUMMARY"));
  EXPECT_THAT(lines[1], HasSubstr("Nursing EPJ Bergen sent for party 8142520 owned by client-a"));
  EXPECT_THAT(lines[1], HasSubstr("2026-05-08T08:32:15.310Z"));
  EXPECT_THAT(lines[1], HasSubstr("high"));
  EXPECT_THAT(lines[1], HasSubstr("edi.foreign-send"));
  EXPECT_THAT(lines[1], HasSubstr("8142520"));
}

TEST(TableTest, ColumnsLineUpEvenWithNonAsciiNames) {
  const auto lines = Lines(FormatFindings(SampleFindings(), ReportFormat::kTable));
  // The summary starts in the same display column on every line.
  auto summary_column = [](const std::string& line, const std::string& summary) {
    const size_t byte = line.rfind(summary);  // the summary is the last column
    size_t col = 0;
    for (size_t i = 0; i < byte; ++i) col += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    return col;
  };
  const size_t header = summary_column(lines[0], "SUMMARY");
  const auto findings = SampleFindings();
  for (size_t i = 0; i < findings.size(); ++i) {
    EXPECT_EQ(summary_column(lines[i + 1], findings[i].summary.substr(0, 10)), header) << i;
  }
}

TEST(TableTest, ShowsTheClientNameOrElseItsIdAndADashForNoParty) {
  const auto lines = Lines(FormatFindings(SampleFindings(), ReportFormat::kTable));
  EXPECT_THAT(lines[1], HasSubstr("Nursing EPJ Bergen"));
  EXPECT_THAT(lines[1], Not(HasSubstr("5b1c0e2a")));
  EXPECT_THAT(lines[2], HasSubstr("client-unnamed"));
  EXPECT_THAT(lines[2], HasSubstr(" - "));
}

TEST(TableTest, ControlCharactersCannotReachTheTerminal) {
  Finding f = SampleFindings()[0];
  f.client_name = "Evil\x1b[2J\nName";
  const std::string table = FormatFindings(std::vector<Finding>{f}, ReportFormat::kTable);
  EXPECT_EQ(table.find('\x1b'), std::string::npos);
  EXPECT_EQ(Lines(table).size(), 2u);
}

TEST(TableTest, C1ControlsAndBidiOverridesCannotReachTheTerminalEither) {
  Finding f = SampleFindings()[0];
  // U+009B (CSI to some terminals) and U+202E (right-to-left override); U+00E6 is kept.
  f.client_name =
      "Evil\xC2\x9B"
      "2J \xE2\x80\xAE"
      "gnp.exe Bj\xC3\xA6rn";
  const std::string table = FormatFindings(std::vector<Finding>{f}, ReportFormat::kTable);
  EXPECT_EQ(table.find("\xC2\x9B"), std::string::npos) << table;
  EXPECT_EQ(table.find("\xE2\x80\xAE"), std::string::npos) << table;
  EXPECT_THAT(table, HasSubstr("Evil 2J  gnp.exe Bj\xC3\xA6rn"));
}

TEST(TableTest, NoFindingsSaysSo) {
  EXPECT_EQ(FormatFindings({}, ReportFormat::kTable), "no findings\n");
}

TEST(JsonTest, EveryFindingValidatesAgainstTheFindingSchema) {
  auto schema = LoadSchema(EDI_SOURCE_DIR "/schemas", "finding.schema.json");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const std::string text = FormatFindings(SampleFindings(), ReportFormat::kJson);
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  ASSERT_FALSE(doc.HasParseError()) << text;
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), SampleFindings().size());
  for (const auto& item : doc.GetArray()) {
    rapidjson::SchemaValidator validator(*(*schema)->compiled);
    rapidjson::Document one;
    one.CopyFrom(item, one.GetAllocator());
    EXPECT_TRUE(one.Accept(validator)) << DescribeViolation(**schema, validator, one).detail << "\n"
                                       << FindingToJson(SampleFindings()[0]);
  }
}

TEST(JsonTest, TheSchemaRejectsAFindingWithAMissingOrExtraKey) {
  auto schema = LoadSchema(EDI_SOURCE_DIR "/schemas", "finding.schema.json");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto valid = [&](const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    rapidjson::SchemaValidator validator(*(*schema)->compiled);
    return doc.Accept(validator);
  };
  std::string json = FindingToJson(SampleFindings()[0]);
  ASSERT_TRUE(valid(json));
  std::string missing = json;
  missing.replace(missing.find("\"summary\""), 9, "\"summery\"");
  EXPECT_FALSE(valid(missing));
  std::string bad_time = json;
  bad_time.replace(bad_time.find(".310Z"), 5, "Z");
  EXPECT_FALSE(valid(bad_time));
}

TEST(JsonTest, KeysAreExactlyTheFindingRecordInItsOrder) {
  const std::string json = FindingToJson(SampleFindings()[0]);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_TRUE(doc.IsObject());
  std::vector<std::string> keys;
  for (const auto& m : doc.GetObject()) keys.emplace_back(m.name.GetString());
  EXPECT_THAT(keys,
              ElementsAre("id", "rule", "severity", "time", "requestId", "clientId", "clientName",
                          "herId", "messageId", "orgnrParent", "partyTopOrgnr", "action", "status",
                          "summary", "tags", "occurrences", "lastSeen", "evidence"));
  EXPECT_EQ(doc["herId"].GetInt64(), 8142520);
  EXPECT_EQ(std::string(doc["lastSeen"].GetString()), "2026-05-08T08:40:00.001Z");
  EXPECT_EQ(doc["occurrences"].GetUint64(), 3u);
  ASSERT_TRUE(doc["evidence"].IsObject());
  EXPECT_EQ(std::string(doc["evidence"]["party.owner"].GetString()), "client-a");
}

TEST(JsonTest, WhatAFindingDoesNotHaveIsNull) {
  const std::string json = FindingToJson(SampleFindings()[1]);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  EXPECT_TRUE(doc["herId"].IsNull());
  EXPECT_TRUE(doc["messageId"].IsNull());
  EXPECT_TRUE(doc["clientName"].IsNull());
  EXPECT_TRUE(doc["evidence"].IsObject());
}

TEST(JsonTest, EvidenceThatIsNotAnObjectStaysValidJson) {
  const std::string json = FindingToJson(SampleFindings()[2]);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_EQ(std::string(doc["evidence"]["text"].GetString()), "[1, 2");
}

TEST(JsonTest, NoFindingsIsAnEmptyArray) {
  EXPECT_EQ(FormatFindings({}, ReportFormat::kJson), "[]\n");
}

TEST(JsonlTest, OneCompactObjectPerLineAsOnTheAlertsTopic) {
  const auto findings = SampleFindings();
  const auto lines = Lines(FormatFindings(findings, ReportFormat::kJsonl));
  ASSERT_EQ(lines.size(), findings.size());
  for (size_t i = 0; i < findings.size(); ++i) EXPECT_EQ(lines[i], FindingToJson(findings[i]));
}

TEST(CsvTest, QuotesCommasQuotesAndNewlinesSoTheyReadBack) {
  const auto findings = SampleFindings();
  const std::string csv = FormatFindings(findings, ReportFormat::kCsv);
  EXPECT_THAT(csv, HasSubstr("\r\n"));
  EXPECT_THAT(csv, HasSubstr("\"He said \"\"no\"\", then,\nleft\""));
  const auto records = ParseCsv(csv);
  ASSERT_EQ(records.size(), 1 + findings.size());
  EXPECT_EQ(records[0][0], "id");
  EXPECT_EQ(records[0][13], "summary");
  EXPECT_EQ(records[0][17], "evidence");
  for (const auto& r : records) EXPECT_EQ(r.size(), 18u);
  EXPECT_EQ(records[3][13], findings[2].summary);
  EXPECT_EQ(records[3][6], findings[2].client_name);
  EXPECT_EQ(records[1][14], "interference;owner");
  EXPECT_EQ(records[2][7], "");  // no party
}

TEST(CsvTest, CellsASpreadsheetWouldRunAsFormulasAreWrittenAsText) {
  auto findings = SampleFindings();
  findings[0].client_name = "=HYPERLINK(\"http://evil.example\";\"Havsund\")";
  findings[0].request_id = "@SUM(1+2)";
  findings[1].client_name = "-2+3";
  findings[1].request_id = "+47";  // a number stays a number
  const auto records = ParseCsv(FormatFindings(findings, ReportFormat::kCsv));
  ASSERT_EQ(records.size(), 1 + findings.size());
  EXPECT_EQ(records[1][6], "'" + findings[0].client_name);
  EXPECT_EQ(records[1][4], "'@SUM(1+2)");
  EXPECT_EQ(records[2][6], "'-2+3");
  EXPECT_EQ(records[2][4], "+47");
  EXPECT_EQ(records[2][8], findings[1].message_id);  // other cells untouched
}

// A CSV file is looked at with cat and less too: no ESC, C1 or bidi control reaches them.
TEST(CsvTest, TerminalControlsAreSpacesLineBreaksStay) {
  auto findings = SampleFindings();
  findings[0].client_name = "Evil\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07 \xE2\x80\xAEname\nnext";
  const std::string csv = FormatFindings(findings, ReportFormat::kCsv);
  EXPECT_EQ(csv.find('\x1b'), std::string::npos);
  EXPECT_EQ(csv.find('\x07'), std::string::npos);
  EXPECT_EQ(csv.find("\xE2\x80\xAE"), std::string::npos);
  const auto records = ParseCsv(csv);
  ASSERT_EQ(records.size(), 1 + findings.size());
  EXPECT_EQ(records[1][6], "Evil ]0;pwned  ]52;c;cHduZWQ=   name\nnext");
}

// A 100 KB client name is cut in the table (the full one is in json and csv), not padding
// every row to its width.
TEST(TableTest, ALongCellIsCutNotWideningEveryRow) {
  auto findings = SampleFindings();
  findings[0].client_name = std::string(100000, 'L');
  const std::string table = FormatFindings(findings, ReportFormat::kTable);
  for (const std::string& line : Lines(table)) EXPECT_LT(line.size(), 2000u) << line.substr(0, 200);
  EXPECT_THAT(table, HasSubstr(std::string(79, 'L') + "\u2026 "));
  EXPECT_EQ(table.find(std::string(80, 'L')), std::string::npos);
}

TEST(CsvTest, PlainFieldsAreNotQuoted) {
  const std::string csv = FormatFindings(SampleFindings(), ReportFormat::kCsv);
  EXPECT_THAT(csv, HasSubstr(",edi.foreign-send,high,2026-05-08T08:32:15.310Z,"));
}

}  // namespace
}  // namespace edi
