#include "detect/finding.h"

#include <cstdio>

namespace edi {
namespace {

// 64-bit FNV-1a (Fowler/Noll/Vo). Chosen because it is tiny, has no seed and no platform or
// library dependence, so an id computed today equals the id computed by any later build for the
// same input — ids are stored, sent to the alerts topic and compared across replays. It is not
// a cryptographic hash: ids identify findings, they do not authenticate them.
constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

void Mix(uint64_t* h, std::string_view bytes) {
  for (const char c : bytes) {
    *h ^= static_cast<unsigned char>(c);
    *h *= kFnvPrime;
  }
}

}  // namespace

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
  uint64_t h = kFnvOffsetBasis;
  Mix(&h, rule);
  Mix(&h, "\x1f");
  Mix(&h, request_id);
  Mix(&h, "\x1f");
  Mix(&h, std::to_string(time));
  Mix(&h, "\x1f");
  Mix(&h, std::to_string(her_id));
  Mix(&h, "\x1f");
  Mix(&h, message_id);
  char buf[24];
  std::snprintf(buf, sizeof buf, "f-%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace edi
