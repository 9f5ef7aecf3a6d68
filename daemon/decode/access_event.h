// AccessEvent: one EDI 2.0 API call, decoded from an access-log record (shared/EVENTS.md v1).
//
// The decoder fills every field it can know from the record alone. Parties that only the
// message's custody can tell ("from custody" in the route table) are left for the state stage:
// `parties_from_custody` is set and `parties` holds only what the record itself named.
// Plain value type; not synchronised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace edi {

using HerId = int64_t;

struct CommunicationParty;  // registry/registry.h
class Registry;

enum class ApiVersion : uint8_t { kV2, kV2vNext, kV3 };

enum class Action : uint8_t {
  kSend,
  kReadMetadata,
  kDownload,
  kReadStatus,
  kReadApprec,
  kApprecSend,
  kMarkDownloaded,
  kPoll,
  kConfigWrite,
  kConfigDelete,
  kPing,
  kUnknown,
};
constexpr int kActionCount = static_cast<int>(Action::kUnknown) + 1;

// Where a party of the call came from.
enum class PartySource : uint8_t {
  kRequestBody,  // request.senderHerId, receiverHerId, appRecSenderHerId, configurations[].herId
  kPath,         // v2 /read/{herId}, /apprec/{herId}
  kQuery,        // HerIds / ReceiverHerIds / receiverHerIds
  kCustody,      // filled by the state stage from what it saw of the message
};

std::string_view ActionName(Action a);  // "send", "mark_downloaded", ...
std::optional<Action> ActionFromName(std::string_view name);
std::string_view ApiVersionName(ApiVersion v);  // "2", "2-vNext", "3"
std::string_view PartySourceName(PartySource s);

// Owner actions (shared/DETECTIONS.md): the calls that show a client acting as a party's owner.
bool IsOwnerAction(Action a);
// Actions a reservation blocks for other clients.
bool IsLockBlockedAction(Action a);

struct ClientClaims {
  std::string client_id;
  std::string client_name;
  std::string tenancy;
  std::string orgnr_parent;
  std::string orgnr_child;
  std::string orgnr_supplier;
  std::optional<std::string> her_id_claim;  // raw herid claim: "0" or "123-456"
};

struct MshConfiguration {
  HerId her_id = 0;
  std::optional<bool> client_locked;
  std::optional<std::string> receive_notification_channel;
  std::optional<bool> receive_refused_message_notices;
};

// A message as listed by a polling response or described by a record's `message` block.
struct MessageInfo {
  std::string id;
  std::optional<HerId> sender_her_id;
  std::vector<HerId> receiver_her_ids;
  // receiverHerIds (the message's receivers) rather than a poll's receiverHerId (the one
  // receiver the poll was for)
  bool receivers_listed = false;
  std::string business_document_id;
  bool is_apprec = false;
};

struct PartyRef {
  HerId her_id = 0;
  PartySource source = PartySource::kRequestBody;
};

// What the registry and the call's claims say of one of its parties (the state's party facts
// that depend on nothing else), found ahead of the state stage: see LookUpParties
// (state/state.h).
struct PartyLookup {
  const CommunicationParty* party = nullptr;  // nullptr: not in the registry
  std::optional<bool> org_covered;            // the client's orgnrParent covers the party's org
  std::optional<bool> in_herid_claim;         // only when the claim is a list
  const std::string* declared_owner = nullptr;
};

struct AccessEvent {
  EventTime time = 0;
  std::string timestamp;  // as received
  std::string request_id;
  ApiVersion api = ApiVersion::kV3;
  std::string method;  // upper case
  std::string path;
  std::string query;
  std::string route;  // matched template, e.g. "/messages/{id}/downloaded"; "" when unknown
  Action action = Action::kUnknown;
  int status = 0;
  std::optional<int64_t> duration_ms;
  std::string source_system;
  std::string client_ip;
  ClientClaims client;

  std::vector<PartyRef> parties;
  bool parties_from_custody = false;  // the route's parties come from the message's custody
  // lookups[i] is parties[i]'s, found in `lookups_in` (none: nullptr); parties added later
  // (from custody) have none.
  const Registry* lookups_in = nullptr;
  std::vector<PartyLookup> lookups;
  std::string message_id;  // the {id} of the path, lower case

  // request body fields the gateway extracted
  std::optional<HerId> sender_her_id;
  std::vector<HerId> receiver_her_ids;
  std::optional<HerId> receiver_her_id;
  std::optional<HerId> apprec_sender_her_id;
  std::string apprec_status;
  std::vector<MshConfiguration> configurations;

  // response
  std::string response_id;
  // An apprec_send's own message: response.id when it is a UUID, in lower case (the event's
  // message_id is the message it answers); empty otherwise.
  std::string apprec_id;
  std::vector<MessageInfo> polled;  // response.messages

  std::optional<MessageInfo> message;  // the record's `message` block

  bool Succeeded() const { return status >= 200 && status < 300; }
  bool Denied() const { return status == 401 || status == 403 || status == 423; }

  // Back to a default AccessEvent, keeping the strings' and vectors' buffers for the next
  // record: the decoder reuses one event per slot of a batch.
  void Clear();
};

}  // namespace edi
