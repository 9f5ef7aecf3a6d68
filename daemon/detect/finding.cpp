#include "detect/finding.h"

#include <cstdio>

#include "common/fnv.h"

namespace edi {

// The hashed text is
//   rule 0x1F requestId 0x1F decimal(event time) 0x1F decimal(herId) 0x1F messageId
// The 0x1F (ASCII unit separator) between fields keeps ("ab", "c") and ("a", "bc") apart; it
// does not occur in rule ids, request ids or message ids. One rule fires at most once per
// (event, party), and an event is identified by its requestId and time (as the store tells
// events apart: a requestId used again by a later call is another event), so these five fields
// name exactly one finding. Changing this text changes the ids of new findings: treat it as a
// stored format. (Earlier ids hashed no event time; findings stored with them keep them.)
std::string FindingId(std::string_view rule, std::string_view request_id, EventTime time,
                      HerId her_id, std::string_view message_id) {
  const std::string at = std::to_string(time), party = std::to_string(her_id);
  uint64_t h = Fnv1a64(rule);
  for (const std::string_view field :
       {request_id, std::string_view(at), std::string_view(party), message_id}) {
    h = Fnv1a64(field, Fnv1a64("\x1f", h));
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "f-%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace edi
