// The JSON forms of a finding: `json`, `jsonl` and the alerts-topic payload.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "report/formats.h"
#include "report/json_write.h"
#include "report/report.h"

namespace edi {
namespace {

template <typename W>
void Evidence(W& w, const std::string& evidence) {
  rapidjson::Document doc;
  if (evidence.empty()) {
    doc.SetObject();
  } else {
    doc.Parse(evidence.data(), evidence.size());
  }
  if (!doc.HasParseError() && doc.IsObject()) {
    doc.Accept(w);
    return;
  }
  w.StartObject();
  w.Key("text");
  WriteJsonString(w, evidence);
  w.EndObject();
}

// The key order is the record's order in shared/DETECTIONS.md.
template <typename W>
void WriteFinding(W& w, const Finding& f) {
  w.StartObject();
  w.Key("id");
  WriteJsonString(w, f.id);
  w.Key("rule");
  WriteJsonString(w, f.rule);
  w.Key("severity");
  WriteJsonString(w, SeverityName(f.severity));
  w.Key("time");
  WriteJsonString(w, FormatRfc3339(f.time));
  w.Key("requestId");
  WriteJsonString(w, f.request_id);
  w.Key("clientId");
  WriteJsonString(w, f.client_id);
  w.Key("clientName");
  WriteJsonStringOrNull(w, f.client_name);
  w.Key("herId");
  if (f.her_id != 0) {
    w.Int64(f.her_id);
  } else {
    w.Null();
  }
  w.Key("messageId");
  WriteJsonStringOrNull(w, f.message_id);
  w.Key("orgnrParent");
  WriteJsonStringOrNull(w, f.orgnr_parent);
  w.Key("partyTopOrgnr");
  WriteJsonStringOrNull(w, f.party_top_orgnr);
  w.Key("action");
  WriteJsonStringOrNull(w, f.action);
  w.Key("status");
  w.Int(f.status);
  w.Key("summary");
  WriteJsonString(w, f.summary);
  w.Key("tags");
  w.StartArray();
  for (const std::string& t : f.tags) WriteJsonString(w, t);
  w.EndArray();
  w.Key("occurrences");
  w.Uint64(f.occurrences);
  w.Key("lastSeen");
  WriteJsonString(w, FormatRfc3339(std::max(f.last_seen, f.time)));
  w.Key("evidence");
  Evidence(w, f.evidence);
  w.EndObject();
}

}  // namespace

std::string EvidenceJson(const std::string& evidence) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  Evidence(w, evidence);
  return {sb.GetString(), sb.GetSize()};
}

std::string FindingToJson(const Finding& f) {
  return JsonCompact(f, [](auto& w, const Finding& x) { WriteFinding(w, x); });
}

std::string FormatFindingsJson(std::span<const Finding> findings) {
  return JsonArray(findings, [](auto& w, const Finding& x) { WriteFinding(w, x); });
}

std::string FormatFindingsJsonl(std::span<const Finding> findings) {
  std::string out;
  for (const Finding& f : findings) {
    out += FindingToJson(f);
    out += '\n';
  }
  return out;
}

}  // namespace edi
