// Finding: what a rule raised for one (event, party) — the finding record of
// shared/DETECTIONS.md, stored in SQLite, printed by `edi-audit findings` and sent to the
// alerts topic. Plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"
#include "decode/access_event.h"
#include "detect/rules.h"

namespace edi {

struct Finding {
  std::string id;  // deterministic: the same input gives the same id (see FindingId)
  std::string rule;
  Severity severity = Severity::kInfo;
  EventTime time = 0;  // event time of the call that raised it
  std::string request_id;
  std::string client_id;
  std::string client_name;
  HerId her_id = 0;  // 0 when the finding names no party
  std::string message_id;
  std::string orgnr_parent;
  std::string party_top_orgnr;
  std::string action;
  int status = 0;
  std::string summary;
  std::vector<std::string> tags;
  uint64_t occurrences = 1;
  EventTime last_seen = 0;
  std::string evidence;    // a JSON object: the facts the rule used, field name -> value
  bool delivered = false;  // sent to the alerts topic
  // Not stored: set on the copy a batch hands on when a repeat raised an earlier finding's
  // severity (FindingTracker), so that it is delivered again but not counted as new.
  bool escalated = false;
  Severity escalated_from = Severity::kInfo;  // with `escalated`: the severity it had before
};

// "f-" + 16 hex digits of a 64-bit hash of (rule, requestId, event time, herId, messageId).
std::string FindingId(std::string_view rule, std::string_view request_id, EventTime time,
                      HerId her_id, std::string_view message_id);

}  // namespace edi
