// PartyFacts: everything the rules may ask about one (event, party) pair, computed from the
// state as it was just BEFORE the event, and the catalog of named fields over them.
//
// `edi-audit fields` prints the catalog. The rule engine resolves names to FieldIds at load; a
// FactsSource answers Get(id) with a switch, no lookups. Views in PartyFacts point into the
// event, the registry and the state's interned names: valid until the state sees the next
// event.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "decode/access_event.h"
#include "registry/registry.h"
#include "state/field.h"

namespace edi {

enum class Trigger : uint8_t {
  kCall,          // an API call, evaluated per party it acts for
  kLockInactive,  // event time passed a lock's inactivity limit (edi.stale-reservation)
};

// The name to show for a client id: the Address Registry's clients.jsonl, else the name its
// tokens gave; "" when neither is known.
class ClientNames {
 public:
  virtual ~ClientNames() = default;
  virtual std::string_view NameOf(std::string_view client_id) const = 0;
};

struct PartyFacts {
  Trigger trigger = Trigger::kCall;
  const ClientNames* names = nullptr;  // for the *_label fields; nullptr: no names known
  const AccessEvent* event = nullptr;
  std::string_view client_id;    // the acting client (the lock holder for kLockInactive)
  std::string_view client_name;  // "" when unknown
  bool learning_complete = false;

  // party.* (has_party false: the call names no party, or custody could not tell it)
  bool has_party = false;
  HerId her_id = 0;
  PartySource source = PartySource::kRequestBody;
  const CommunicationParty* party = nullptr;  // nullptr: not in the Address Registry
  std::optional<bool> org_covered;            // client's orgnrParent covers the party's org
  std::optional<bool> in_herid_claim;         // only when the claim is a list
  std::string_view lock_holder;               // "" = not locked
  EventTime lock_since = 0;
  EventTime lock_holder_last_activity = 0;
  uint32_t lock_denied_others = 0;
  std::optional<bool> lock_op;  // this call locks (true) or releases (false) the party
  std::string_view declared_owner, learned_owner, owner;
  std::string_view owner_source;    // "lock", "declared", "learned", "" = no owner
  bool pair_new = false;            // the client's first successful call for the party
  uint32_t client_new_parties = 0;  // parties new to the client in the sweep window, incl. this
  uint32_t party_clients = 0;  // distinct clients with owner actions in the shared window, incl.
  bool client_new_on_party = false;  // the client had no owner action in the shared window

  // msg.* (has_message false: the call concerns no message)
  bool has_message = false;
  bool custody_known = false;
  bool is_receiver = false;
  bool receivers_complete = false;  // all of the message's receivers are known
  bool is_apprec = false;
  bool downloaded_by_client = false;
  bool downloaded_by_other = false;
  bool marked_by_other = false;
  bool apprec_by_other = false;
  std::string_view other_downloader;
  std::string_view sender_client;
  HerId sender_her_id = 0;
  uint32_t receiver_count = 0;
};

// The field catalog over PartyFacts.
const FieldCatalog& FactsCatalog();

class FactsSource : public FieldSource {
 public:
  explicit FactsSource(const PartyFacts* f = nullptr) : f_(f) {}
  void Reset(const PartyFacts* f) { f_ = f; }
  FieldValue Get(FieldId id) const override;

 private:
  const PartyFacts* f_;
  mutable std::string labels_[3];  // the *_label values (client name and id)
};

}  // namespace edi
