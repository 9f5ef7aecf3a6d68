// Report: findings as text, for people (`table`) and programs (`json`, `jsonl`, `csv`) — the
// output of `edi-audit findings` and the payload of the alerts topic.
//
// The JSON form of a finding is the finding record of shared/DETECTIONS.md, described by
// schemas/finding.schema.json. Every key is always present, in this order:
//
//   {"id": "f-0123456789abcdef", "rule": "edi.foreign-send", "severity": "high",
//    "time": "2026-05-08T08:32:15.310Z", "requestId": "...", "clientId": "...",
//    "clientName": "..." | null, "herId": 8142520 | null, "messageId": "..." | null,
//    "orgnrParent": "..." | null, "partyTopOrgnr": "..." | null, "action": "send" | null,
//    "status": 201, "summary": "...", "tags": ["..."], "occurrences": 1,
//    "lastSeen": "2026-05-08T08:40:02.001Z", "evidence": {...}}
//
// Text the finding does not have (an empty string, HER-Id 0) is null. Times are RFC 3339 UTC
// with milliseconds. `evidence` is the stored JSON object; evidence that is not a JSON object
// is shown as {"text": "<as stored>"} so the output stays valid JSON.
//
// Stateless functions; safe to call from any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "detect/finding.h"

namespace edi {

enum class ReportFormat {
  // Aligned columns for a terminal: TIME SEVERITY RULE CLIENT HER-ID MESSAGE OCC SUMMARY.
  // CLIENT is the client's name, or its id when it has none; `-` marks an absent value;
  // control characters in any value are shown as spaces (a client name is attacker-chosen
  // text and must not move the cursor). An empty result prints "no findings".
  kTable,
  kJson,   // one JSON array of finding objects, indented
  kJsonl,  // one compact finding object per line (the alerts-topic payload)
  // RFC 4180: a header line of the JSON key names, CRLF line ends, fields quoted when they
  // contain a comma, quote, CR or LF (quotes doubled). tags are joined with ';', evidence is
  // compact JSON, absent values are empty fields.
  kCsv,
};

// "table", "json", "jsonl", "csv"; nullopt for anything else.
std::optional<ReportFormat> ParseReportFormat(std::string_view name);
std::string_view ReportFormatName(ReportFormat format);

// One finding as a compact JSON object, without a trailing newline.
std::string FindingToJson(const Finding& f);

// All of `findings`, in order, in `format`. Every line ends with a line end (CRLF for csv);
// no findings give "no findings" (table), "[]" (json), nothing (jsonl), the header (csv).
std::string FormatFindings(std::span<const Finding> findings, ReportFormat format);

}  // namespace edi
