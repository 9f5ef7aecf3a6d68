// Findings shared by the report and findings-command tests.
#pragma once

#include <vector>

#include "common/time.h"
#include "detect/finding.h"

namespace edi {

// [0] a full finding; [1] one without party, message, client name, tags or evidence;
// [2] one whose texts need CSV quoting, a non-ASCII name, and evidence that is not an object.
inline std::vector<Finding> SampleFindings() {
  const EventTime t0 = *ParseRfc3339("2026-05-08T08:32:15.310Z");
  std::vector<Finding> out(3);

  Finding& a = out[0];
  a.rule = "edi.foreign-send";
  a.severity = Severity::kHigh;
  a.time = t0;
  a.request_id = "0HN3K2Q7E5T1V:00000011";
  a.client_id = "5b1c0e2a-7d4f-4c1e-9a53-2f0d8e6b9c11";
  a.client_name = "Nursing EPJ Bergen";
  a.her_id = 8142520;
  a.orgnr_parent = "964338531";
  a.party_top_orgnr = "964338531";
  a.action = "send";
  a.status = 201;
  a.summary = "Nursing EPJ Bergen sent for party 8142520 owned by client-a";
  a.tags = {"interference", "owner"};
  a.occurrences = 3;
  a.last_seen = *ParseRfc3339("2026-05-08T08:40:00.001Z");
  a.evidence = R"({"party.owner":"client-a","evt.status":201})";
  a.id = FindingId(a.rule, a.request_id, a.time, a.her_id, a.message_id);

  Finding& b = out[1];
  b.rule = "edi.unknown-route";
  b.severity = Severity::kLow;
  b.time = t0 + kMillisPerMinute;
  b.last_seen = b.time;
  b.request_id = "req-unknown-route";
  b.client_id = "client-unnamed";
  b.orgnr_parent = "964338531";
  b.action = "unknown";
  b.status = 404;
  b.summary = "unknown route GET /v9/whatever";
  b.id = FindingId(b.rule, b.request_id, b.time, b.her_id, b.message_id);

  Finding& c = out[2];
  c.rule = "edi.acknowledged-without-download";
  c.severity = Severity::kCritical;
  c.time = t0 + 2 * kMillisPerMinute;
  c.last_seen = c.time;
  c.request_id = "req-3";
  c.client_id = "client-c";
  c.client_name = "Sykehuset Østfold, \"Kalnes\"";
  c.her_id = 8142521;
  c.message_id = "733be787-0f1e-4a8c-9f55-0a5c1b1d6a11";
  c.orgnr_parent = "983971709";
  c.party_top_orgnr = "983971709";
  c.action = "mark_downloaded";
  c.status = 204;
  c.summary = "He said \"no\", then,\nleft";
  c.tags = {"lost-message"};
  c.evidence = "[1, 2";
  c.id = FindingId(c.rule, c.request_id, c.time, c.her_id, c.message_id);
  return out;
}

}  // namespace edi
