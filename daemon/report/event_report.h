// Stored API calls as text: the output of `edi-audit events` (who acted for a party, what a
// client did, what happened to a message).
//
// The JSON form of a call; every key is always present, in this order:
//
//   {"eventId": 17, "requestId": "...", "time": "2026-05-08T08:32:15.310Z", "api": "3",
//    "method": "POST", "route": "/messages" | null, "action": "send", "status": 201,
//    "durationMs": 42 | null, "clientId": "...",
//    "clientName": "..." | null, "orgnrParent": "..." | null, "orgnrChild": "..." | null,
//    "heridClaim": "..." | null, "messageId": "..." | null,
//    "parties": {"request": [8142520]}, "source": "kafka:edi-access/3", "position": 1234}
//
// `route` is the matched route template (null for an unknown route); `parties` the stored JSON
// object (origin -> HER-Ids); text or numbers the call does not have are null. Stateless functions;
// safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "common/time.h"
#include "report/report.h"

namespace edi {

struct EventRow {
  int64_t event_id = 0;
  std::string request_id;
  EventTime time = 0;
  std::string api, method, route, action;
  int64_t status = 0;
  std::optional<int64_t> duration_ms;
  std::string client_id, client_name, orgnr_parent, orgnr_child, herid_claim, message_id;
  std::string apprec_id;  // an apprec_send's own message (the apprec), else empty
  std::string parties;    // JSON object, as stored
  std::string source;
  int64_t position = 0;
};

// Table: TIME ACTION STATUS CLIENT ORGNR MESSAGE PARTIES REQUEST-ID (CLIENT is the name, or the
// id without one; ORGNR the organisation the call acted for; PARTIES the HER-Ids without their
// origins); "no calls" when empty. json: an indented array; jsonl: one object per line; csv:
// a header of the JSON keys, then one record per call.
std::string FormatEvents(std::span<const EventRow> events, ReportFormat format);

// For output written as the calls are read (no table widths to know beforehand): what jsonl
// or csv print before the first call (the csv header; nothing for jsonl), and one call.
std::string FormatEventsHead(ReportFormat format);
std::string FormatEventLine(const EventRow& event, ReportFormat format);

// The calls of one client among those selected: `edi-audit events --by-client`.
struct ClientActivity {
  std::string client_id, client_name;
  int64_t calls = 0;
  int64_t failed = 0;  // status 400 or above (403 and 423: denied, locked)
  EventTime first = 0, last = 0;
  std::map<std::string, int64_t> actions;  // action -> calls
  // orgnrParent (the delegation a call acted under; a multi-tenant client has several) -> calls
  std::map<std::string, int64_t> delegations;

  void Add(const EventRow& e);
};

// Table: CLIENT CLIENT-ID CALLS FAILED FIRST LAST ORGNR ("944100001:18 921500001:2") ACTIONS
// ("download:3 send:1"); "no calls" when empty. json/jsonl: {"clientId", "clientName", "calls",
// "failed", "first", "last", "orgnrParents": {"944100001": 18, ...}, "actions": {"download": 3,
// ...}}; csv: those keys, the maps as "download:3;send:1".
std::string FormatClientActivity(std::span<const ClientActivity> clients, ReportFormat format);

}  // namespace edi
