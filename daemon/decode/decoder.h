// Decoder: access-log bytes -> AccessEvent, or a quarantine reason.
//
// RapidJSON parses the record and SchemaQuickCheck checks it against
// schemas/access-log.schema.json; a record the quick check cannot vouch for is parsed again by
// RapidJSON's schema validator, which decides and names the reason. Then the route table of
// shared/EVENTS.md maps (api version, method, path) to an action and the parties the call acts
// for. Anything the record itself cannot tell (parties "from custody") is left for the state
// stage.
//
// A Decoder keeps parse buffers between calls: one Decoder per thread. The loaded schema is
// shared and immutable.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/schema.h>

#include "common/status.h"
#include "decode/access_event.h"

namespace edi {

// Why a record was quarantined. The names are stable: they are stored and counted.
enum class QuarantineReason : uint8_t {
  kOversize,              // larger than the configured limit
  kInvalidJson,           // not parseable JSON
  kSchema,                // breaks access-log.schema.json (detail names the field)
  kBadTimestamp,          // well-formed pattern but not a real date/time
  kMalformedHerId,        // a HER-Id that is not a positive integer, in body, path or query
  kMalformedOrgnr,        // an organisation number that is not 9 digits
  kMalformedMessageId,    // a message id in the body that is not a UUID (a path's {id} that
                          // is not one matches no route: action unknown)
  kMalformedHerIdClaim,   // herIdClaim neither "0" nor a hyphen-separated list of HER-Ids
  kConflictingDuplicate,  // the requestId and timestamp of a stored call, but other bytes
  kTooManyParties,        // names more parties than decode.max_parties_per_call
  kDuplicateKey,          // an object the decoder reads names a key twice
};
constexpr int kQuarantineReasonCount = static_cast<int>(QuarantineReason::kDuplicateKey) + 1;
std::string_view QuarantineReasonName(QuarantineReason r);  // "invalid_json", ...

struct DecodeError {
  QuarantineReason reason = QuarantineReason::kInvalidJson;
  std::string detail;  // one precise sentence, e.g. "field '/status': above the maximum"
  // The record, read as far as its status, says the API call succeeded (2xx): the server did
  // what the call asked, and edi-audit did not audit it.
  bool call_succeeded = false;
};

struct DecoderOptions {
  size_t max_record_bytes = 1 << 20;  // 1 MiB
  std::string schema_dir;             // "" = SchemaDir()
  // A call naming more distinct parties is quarantined (oversize): each party is facts, rules
  // and often a finding of its own, so 65,000 HER-Ids in one query would be 65,000 findings.
  size_t max_parties_per_call = 1000;
  // Parse first and let SchemaQuickCheck vouch for the record; only what it cannot vouch for
  // goes through RapidJSON's validator. Off: every record through the validator (same results,
  // slower; for tests that compare the two).
  bool quick_schema_check = true;
};

class Decoder {
 public:
  // Loads the access-log schema. Fails with a message naming the schema file.
  static Result<std::unique_ptr<Decoder>> Create(const DecoderOptions& options);
  ~Decoder();

  // Decodes one record. Returns true and fills *event (all fields reset first), or returns
  // false and fills *error. Never throws; any bytes are acceptable input.
  bool Decode(std::string_view bytes, AccessEvent* event, DecodeError* error);

 private:
  struct Impl;
  explicit Decoder(std::unique_ptr<Impl> impl);
  bool FullyValidated(std::string_view bytes, DecodeError* error);
  bool DecodeRecord(std::string_view bytes, AccessEvent* event, DecodeError* error);
  std::unique_ptr<Impl> impl_;
};

// Route matching, exposed for tests and `edi-audit` diagnostics: sets event->route,
// event->action, event->message_id and the path/query parties. Returns false with *error set
// when a matched route carries a malformed id or HER-Id.
bool MatchRoute(AccessEvent* event, DecodeError* error);

// "3fa85f64-5717-4562-b3fc-2c963f66afa6" (any case).
bool IsUuid(std::string_view s);
// A message id as a path may carry it, in any form .NET parses a Guid from: also without
// dashes, in braces or parentheses, as a list of hex values, a group with '+' or '0x' in
// front, any case, white space around. Writes the canonical form (lower case, with dashes).
bool CanonicalUuid(std::string_view s, std::string* out);
// A HER-Id in text: a positive integer of at most 18 digits.
std::optional<HerId> ParseHerId(std::string_view s);
// A HER-Id in a path or query, as the server binds it: also with white space around, a '+'
// and leading zeros.
std::optional<HerId> ParseHerIdText(std::string_view s);
// The herid claim: "0" (whole organisation) or "123-456-789". Returns false when malformed.
bool IsValidHerIdClaim(std::string_view s);

}  // namespace edi
