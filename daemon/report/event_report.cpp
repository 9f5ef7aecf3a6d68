#include "report/event_report.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <vector>

#include "report/json_write.h"
#include "report/list_format.h"
#include "report/text_table.h"

namespace edi {
namespace {

constexpr std::array<TableColumn, 8> kColumns = {{
    {"TIME", false},
    {"ACTION", false},
    {"STATUS", true},
    {"CLIENT", false},
    {"ORGNR", false},
    {"MESSAGE", false},
    {"PARTIES", false},
    {"REQUEST-ID", false},
}};

// {"query":[8142520,8142521],"custody":[8142530]} -> "8142520,8142521,8142530"; text that is not
// such an object is shown as stored.
std::string PartyList(const std::string& parties) {
  rapidjson::Document doc;
  doc.Parse(parties.data(), parties.size());
  if (doc.HasParseError() || !doc.IsObject()) return parties;
  std::string out;
  for (const auto& origin : doc.GetObject()) {
    if (!origin.value.IsArray()) continue;
    for (const auto& her_id : origin.value.GetArray()) {
      if (!her_id.IsInt64()) continue;
      if (!out.empty()) out.push_back(',');
      out += std::to_string(her_id.GetInt64());
    }
  }
  return out;
}

template <typename W>
void Parties(W& w, const std::string& parties) {
  rapidjson::Document doc;
  doc.Parse(parties.data(), parties.size());
  if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();
  doc.Accept(w);
}

template <typename W>
void WriteEvent(W& w, const EventRow& e) {
  w.StartObject();
  w.Key("eventId");
  w.Int64(e.event_id);
  w.Key("requestId");
  WriteJsonString(w, e.request_id);
  w.Key("time");
  WriteJsonString(w, FormatRfc3339(e.time));
  w.Key("api");
  WriteJsonString(w, e.api);
  w.Key("method");
  WriteJsonString(w, e.method);
  w.Key("route");
  WriteJsonStringOrNull(w, e.route);
  w.Key("action");
  WriteJsonString(w, e.action);
  w.Key("status");
  w.Int64(e.status);
  w.Key("durationMs");
  if (e.duration_ms) {
    w.Int64(*e.duration_ms);
  } else {
    w.Null();
  }
  w.Key("clientId");
  WriteJsonString(w, e.client_id);
  w.Key("clientName");
  WriteJsonStringOrNull(w, e.client_name);
  w.Key("orgnrParent");
  WriteJsonStringOrNull(w, e.orgnr_parent);
  w.Key("orgnrChild");
  WriteJsonStringOrNull(w, e.orgnr_child);
  w.Key("heridClaim");
  WriteJsonStringOrNull(w, e.herid_claim);
  w.Key("messageId");
  WriteJsonStringOrNull(w, e.message_id);
  w.Key("apprecId");
  WriteJsonStringOrNull(w, e.apprec_id);
  w.Key("parties");
  Parties(w, e.parties);
  w.Key("source");
  WriteJsonString(w, e.source);
  w.Key("position");
  w.Int64(e.position);
  w.EndObject();
}

const auto kWriteEvent = [](auto& w, const EventRow& e) { WriteEvent(w, e); };

}  // namespace

std::string FormatEvents(std::span<const EventRow> events, ReportFormat format) {
  std::string out;
  switch (format) {
    case ReportFormat::kTable: {
      if (events.empty()) return "no calls\n";
      std::vector<std::vector<std::string>> rows;
      rows.reserve(events.size());
      for (const EventRow& e : events) {
        rows.push_back({FormatRfc3339(e.time), TableCell(e.action), std::to_string(e.status),
                        TableCell(e.client_name.empty() ? e.client_id : e.client_name),
                        TableCell(e.orgnr_parent), TableCell(e.message_id),
                        TableCell(PartyList(e.parties)), TableCell(e.request_id)});
      }
      return FormatTextTable(kColumns, rows);
    }
    case ReportFormat::kJson:
      return JsonArray(events, kWriteEvent);
    case ReportFormat::kJsonl:
    case ReportFormat::kCsv:
      out = FormatEventsHead(format);
      for (const EventRow& e : events) out += FormatEventLine(e, format);
      return out;
  }
  return out;
}

std::string FormatEventsHead(ReportFormat format) {
  std::string out;
  if (format == ReportFormat::kCsv) {
    AppendCsvRecord({"eventId", "requestId", "time", "api", "method", "route", "action", "status",
                     "durationMs", "clientId", "clientName", "orgnrParent", "orgnrChild",
                     "heridClaim", "messageId", "apprecId", "parties", "source", "position"},
                    &out);
  }
  return out;
}

std::string FormatEventLine(const EventRow& e, ReportFormat format) {
  std::string out;
  if (format == ReportFormat::kCsv) {
    AppendCsvRecord(
        {std::to_string(e.event_id), e.request_id, FormatRfc3339(e.time), e.api, e.method, e.route,
         e.action, std::to_string(e.status), e.duration_ms ? std::to_string(*e.duration_ms) : "",
         e.client_id, e.client_name, e.orgnr_parent, e.orgnr_child, e.herid_claim, e.message_id,
         e.apprec_id, JsonCompact(e.parties, [](auto& w, const std::string& p) { Parties(w, p); }),
         e.source, std::to_string(e.position)},
        &out);
  } else {
    out = JsonCompact(e, kWriteEvent);
    out.push_back('\n');
  }
  return out;
}

void ClientActivity::Add(const EventRow& e) {
  if (calls == 0) {
    client_id = e.client_id;
    client_name = e.client_name;
    first = e.time;
  }
  ++calls;
  if (e.status >= 400) ++failed;
  first = std::min(first, e.time);
  last = std::max(last, e.time);
  ++actions[e.action];
  ++delegations[e.orgnr_parent];
}

namespace {

std::string Counts(const std::map<std::string, int64_t>& counts, char separator) {
  std::string out;
  for (const auto& [what, n] : counts) {
    if (!out.empty()) out.push_back(separator);
    out += (what.empty() ? "-" : what) + ":" + std::to_string(n);
  }
  return out;
}

template <typename W>
void WriteCounts(W& w, const std::map<std::string, int64_t>& counts) {
  w.StartObject();
  for (const auto& [what, n] : counts) {
    w.Key(what.data(), static_cast<rapidjson::SizeType>(what.size()));
    w.Int64(n);
  }
  w.EndObject();
}

template <typename W>
void WriteClientActivity(W& w, const ClientActivity& c) {
  w.StartObject();
  w.Key("clientId");
  WriteJsonString(w, c.client_id);
  w.Key("clientName");
  WriteJsonStringOrNull(w, c.client_name);
  w.Key("calls");
  w.Int64(c.calls);
  w.Key("failed");
  w.Int64(c.failed);
  w.Key("first");
  WriteJsonString(w, FormatRfc3339(c.first));
  w.Key("last");
  WriteJsonString(w, FormatRfc3339(c.last));
  w.Key("orgnrParents");
  WriteCounts(w, c.delegations);
  w.Key("actions");
  WriteCounts(w, c.actions);
  w.EndObject();
}

const auto kWriteActivity = [](auto& w, const ClientActivity& c) { WriteClientActivity(w, c); };

constexpr std::array<TableColumn, 8> kActivityColumns = {{
    {"CLIENT", false},
    {"CLIENT-ID", false},
    {"CALLS", true},
    {"FAILED", true},
    {"FIRST", false},
    {"LAST", false},
    {"ORGNR", false},
    {"ACTIONS", false},
}};

}  // namespace

std::string FormatClientActivity(std::span<const ClientActivity> clients, ReportFormat format) {
  static const ListForm<ClientActivity> kForm = {
      "no calls\n",
      kActivityColumns,
      [](const ClientActivity& c) {
        return std::vector<std::string>{TableCell(c.client_name),
                                        TableCell(c.client_id),
                                        std::to_string(c.calls),
                                        std::to_string(c.failed),
                                        FormatRfc3339(c.first),
                                        FormatRfc3339(c.last),
                                        TableCell(Counts(c.delegations, ' ')),
                                        TableCell(Counts(c.actions, ' '))};
      },
      {"clientId", "clientName", "calls", "failed", "first", "last", "orgnrParents", "actions"},
      [](const ClientActivity& c) {
        return std::vector<std::string>{c.client_id,
                                        c.client_name,
                                        std::to_string(c.calls),
                                        std::to_string(c.failed),
                                        FormatRfc3339(c.first),
                                        FormatRfc3339(c.last),
                                        Counts(c.delegations, ';'),
                                        Counts(c.actions, ';')};
      },
  };
  return FormatList(clients, format, kForm, kWriteActivity);
}

}  // namespace edi
