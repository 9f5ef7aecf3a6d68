#include "state/facts.h"

namespace edi {
namespace {

enum F : FieldId {
  kTrigger,
  kRequestId,
  kTime,
  kApi,
  kMethod,
  kPath,
  kRoute,
  kAction,
  kStatus,
  kSuccess,
  kDenied,
  kOwnerAction,
  kLockBlockedAction,
  kPartyCount,
  kLearningComplete,
  kClientId,
  kClientName,
  kClientOrgnrParent,
  kClientOrgnrChild,
  kClientOrgnrSupplier,
  kClientTenancy,
  kClientHerIdClaim,
  kClientHerIdClaimKind,
  kClientNewParties,
  kPartyHerId,
  kPartySource,
  kPartyKnown,
  kPartyName,
  kPartyType,
  kPartyActive,
  kPartyOrgnr,
  kPartyTopOrgnr,
  kPartyOrgCovered,
  kPartyInHerIdClaim,
  kPartyLocked,
  kPartyLockHolder,
  kPartyLockHolderLabel,
  kPartyLockSince,
  kPartyLockHolderIsClient,
  kPartyLockInactiveMs,
  kPartyLockInactiveDays,
  kPartyLockDeniedOthers,
  kCfgLockOp,
  kPartyDeclaredOwner,
  kPartyLearnedOwner,
  kPartyOwner,
  kPartyOwnerLabel,
  kPartyOwnerSource,
  kPartyOwnerIsClient,
  kPartyPairNew,
  kPartyClients,
  kPartyClientNew,
  kMsgId,
  kMsgCustodyKnown,
  kMsgIsReceiver,
  kMsgIsApprec,
  kMsgSenderClient,
  kMsgSenderHerId,
  kMsgReceiverCount,
  kMsgDownloadedByClient,
  kMsgDownloadedByOther,
  kMsgDownloadedByAny,
  kMsgOtherDownloader,
  kMsgOtherDownloaderLabel,
  kMsgMarkedByOther,
  kMsgApprecByOther,
  kFieldCount
};

using T = FieldType;

std::vector<FieldDef> Defs() {
  std::vector<FieldDef> d(kFieldCount);
  auto def = [&](F id, const char* name, T type, const char* meaning) {
    d[id] = FieldDef{name, type, meaning, {}};
  };
  def(kTrigger, "evt.trigger", T::kString,
      "call (an API call) or lock_inactive (event time passed a lock's inactivity limit)");
  def(kRequestId, "evt.request_id", T::kString, "the record's requestId");
  def(kTime, "evt.time", T::kInt, "event time, ms since the epoch");
  def(kApi, "evt.api", T::kString, "API version: 2, 2-vNext or 3");
  def(kMethod, "evt.method", T::kString, "HTTP method");
  def(kPath, "evt.path", T::kString, "the raw path");
  def(kRoute, "evt.route", T::kString, "the matched route template (absent when unknown)");
  def(kAction, "evt.action", T::kString,
      "send, read_metadata, download, read_status, read_apprec, apprec_send, mark_downloaded, "
      "poll, config_write, config_delete, ping or unknown");
  def(kStatus, "evt.status", T::kInt, "HTTP status returned");
  def(kSuccess, "evt.success", T::kBool, "the call succeeded (2xx)");
  def(kDenied, "evt.denied", T::kBool, "the call was denied (401, 403 or 423)");
  def(kOwnerAction, "evt.owner_action", T::kBool,
      "the action is an owner action (send, download, mark_downloaded, apprec_send, "
      "config_write, config_delete, poll)");
  def(kLockBlockedAction, "evt.lock_blocked_action", T::kBool,
      "the action is one a lock blocks for other clients (send, mark_downloaded, apprec_send, "
      "config_write, config_delete)");
  def(kPartyCount, "evt.party_count", T::kInt, "how many parties the call acts for");
  def(kLearningComplete, "evt.learning_complete", T::kBool,
      "the learning period (from the first record) is over");
  def(kClientId, "client.id", T::kString,
      "the acting HelseID client_id (the lock holder for lock_inactive)");
  def(kClientName, "client.name", T::kString, "client_name claim");
  def(kClientOrgnrParent, "client.orgnr_parent", T::kString,
      "orgnr_parent claim: the delegating top-level unit");
  def(kClientOrgnrChild, "client.orgnr_child", T::kString, "orgnr_child claim");
  def(kClientOrgnrSupplier, "client.orgnr_supplier", T::kString, "orgnr_supplier claim");
  def(kClientTenancy, "client.tenancy", T::kString, "single-tenant or multi-tenant");
  def(kClientHerIdClaim, "client.herid_claim", T::kString, "the raw v2 herid claim");
  def(kClientHerIdClaimKind, "client.herid_claim_kind", T::kString,
      "none, whole_org (\"0\") or list");
  def(kClientNewParties, "client.new_parties_window", T::kInt,
      "parties new to the client within the sweep window, this one included");
  def(kPartyHerId, "party.her_id", T::kInt, "the HER-Id the call acts for");
  def(kPartySource, "party.source", T::kString,
      "where the party came from: request, path, query or custody");
  def(kPartyKnown, "party.known", T::kBool, "the HER-Id is in the Address Registry snapshot");
  def(kPartyName, "party.name", T::kString, "the party's name in the Address Registry");
  def(kPartyType, "party.type", T::kString, "Organization, Service or Person");
  def(kPartyActive, "party.active", T::kBool, "the party is active in the Address Registry");
  def(kPartyOrgnr, "party.orgnr", T::kString,
      "the party's organisation (its own, or its parent's for a Service/Person)");
  def(kPartyTopOrgnr, "party.top_orgnr", T::kString,
      "the top-level unit above the party's organisation");
  def(kPartyOrgCovered, "party.org_covered", T::kBool,
      "the client's orgnrParent is the party's organisation or above it (EDI 2.0's rule)");
  def(kPartyInHerIdClaim, "party.in_herid_claim", T::kBool,
      "the party is in the client's herid claim list (absent unless the claim is a list)");
  def(kPartyLocked, "party.locked", T::kBool, "the party is reserved (locked) to a client");
  def(kPartyLockHolder, "party.lock_holder", T::kString, "the client holding the lock");
  def(kPartyLockHolderLabel, "party.lock_holder_label", T::kString,
      "the lock holder as summaries name it: NAME (ID), or the id when no name is known "
      "(clients.jsonl, else its tokens' client_name)");
  def(kPartyLockSince, "party.lock_since", T::kInt, "when the lock was taken, ms");
  def(kPartyLockHolderIsClient, "party.lock_holder_is_client", T::kBool,
      "the acting client holds the lock (absent when unlocked)");
  def(kPartyLockInactiveMs, "party.lock_inactive_ms", T::kInt,
      "ms since the lock holder's last call for the party");
  def(kPartyLockInactiveDays, "party.lock_inactive_days", T::kInt,
      "whole days since the lock holder's last call for the party");
  def(kPartyLockDeniedOthers, "party.lock_denied_others", T::kInt,
      "calls of other clients denied on the party since the holder's last activity");
  def(kCfgLockOp, "cfg.lock_op", T::kString,
      "lock or unlock: what this configuration call does to the party's lock (absent: neither)");
  def(kPartyDeclaredOwner, "party.declared_owner", T::kString, "owner from owners.jsonl");
  def(kPartyLearnedOwner, "party.learned_owner", T::kString,
      "the client learned as owner from recent successful owner actions");
  def(kPartyOwner, "party.owner", T::kString,
      "the owner: lock holder, else declared owner, else learned owner");
  def(kPartyOwnerLabel, "party.owner_label", T::kString,
      "the owner as summaries name it: NAME (ID), or the id when no name is known");
  def(kPartyOwnerSource, "party.owner_source", T::kString, "lock, declared or learned");
  def(kPartyOwnerIsClient, "party.owner_is_client", T::kBool,
      "the acting client is the owner (absent when the party has no owner)");
  def(kPartyPairNew, "party.first_call_by_client", T::kBool,
      "the client never made a successful call for this party before");
  def(kPartyClients, "party.clients_window", T::kInt,
      "distinct clients with successful owner actions on the party while it was unlocked, in "
      "the shared window, this call included");
  def(kPartyClientNew, "party.client_new_in_window", T::kBool,
      "the client had no successful owner action on the party while it was unlocked in the "
      "shared window before");
  def(kMsgId, "msg.id", T::kString, "the message id");
  def(kMsgCustodyKnown, "msg.custody_known", T::kBool,
      "the message's send, a poll listing it or a message block was seen");
  def(kMsgIsReceiver, "msg.is_receiver", T::kBool,
      "the party is among the message's receivers (absent when custody or its receivers are "
      "unknown, or it is none of those known while not all are)");
  def(kMsgIsApprec, "msg.is_apprec", T::kBool, "the message is an application receipt");
  def(kMsgSenderClient, "msg.sender_client", T::kString, "the client that sent the message");
  def(kMsgSenderHerId, "msg.sender_her_id", T::kInt, "the message's sender party");
  def(kMsgReceiverCount, "msg.receiver_count", T::kInt, "how many receivers the message has");
  def(kMsgDownloadedByClient, "msg.downloaded_by_client", T::kBool,
      "the acting client downloaded the message for this party before");
  def(kMsgDownloadedByOther, "msg.downloaded_by_other", T::kBool,
      "another client downloaded the message for this party before");
  def(kMsgDownloadedByAny, "msg.downloaded_by_any", T::kBool,
      "some client downloaded the message for this party (absent when custody is unknown or "
      "the call names no party)");
  def(kMsgOtherDownloader, "msg.other_downloader", T::kString,
      "the other client that downloaded it for this party");
  def(kMsgOtherDownloaderLabel, "msg.other_downloader_label", T::kString,
      "the other downloader as summaries name it: NAME (ID), or the id when no name is known");
  def(kMsgMarkedByOther, "msg.marked_by_other", T::kBool,
      "another client marked it downloaded for this party");
  def(kMsgApprecByOther, "msg.apprec_by_other", T::kBool,
      "another client sent an apprec for it for this party");
  // The closed sets of values, so that rule files comparing with a value a field never takes
  // are warned about (W_UNKNOWN_VALUE).
  for (int a = 0; a < kActionCount; ++a) {
    d[kAction].values.emplace_back(ActionName(static_cast<Action>(a)));
  }
  for (auto v : {ApiVersion::kV2, ApiVersion::kV2vNext, ApiVersion::kV3}) {
    d[kApi].values.emplace_back(ApiVersionName(v));
  }
  for (auto v : {PartySource::kRequestBody, PartySource::kPath, PartySource::kQuery,
                 PartySource::kCustody}) {
    d[kPartySource].values.emplace_back(PartySourceName(v));
  }
  d[kTrigger].values = {"call", "lock_inactive"};
  d[kMethod].values = {"GET", "POST", "PUT", "DELETE", "PATCH"};  // the schema's, upper case
  d[kClientHerIdClaimKind].values = {"none", "whole_org", "list"};
  d[kPartyType].values = {"Organization", "Service", "Person"};
  d[kCfgLockOp].values = {"lock", "unlock"};
  d[kPartyOwnerSource].values = {"lock", "declared", "learned"};
  return d;
}

FieldValue Str(std::string_view s) { return s.empty() ? FieldValue::Absent() : FieldValue::Str(s); }
// The client `id` ("" when none) as summaries name it: "NAME (ID)", or the id alone when no
// name is known; written into *buf when it has a name.
FieldValue Label(const PartyFacts& f, std::string_view id, std::string* buf) {
  if (id.empty()) return FieldValue::Absent();
  const std::string_view name = f.names != nullptr ? f.names->NameOf(id) : std::string_view();
  if (name.empty()) return FieldValue::Str(id);
  buf->assign(name).append(" (").append(id).append(")");
  return FieldValue::Str(*buf);
}
FieldValue OptBool(const std::optional<bool>& b) {
  return b ? FieldValue::Bool(*b) : FieldValue::Absent();
}

std::string_view PartyTypeName(PartyType t) {
  switch (t) {
    case PartyType::kOrganization:
      return "Organization";
    case PartyType::kService:
      return "Service";
    case PartyType::kPerson:
      return "Person";
  }
  return "";
}

}  // namespace

const FieldCatalog& FactsCatalog() {
  static const FieldCatalog catalog(Defs());
  return catalog;
}

FieldValue FactsSource::Get(FieldId id) const {
  const PartyFacts& f = *f_;
  const AccessEvent& e = *f.event;
  const CommunicationParty* p = f.party;
  const bool m = f.has_message;
  const bool ck = m && f.custody_known;
  switch (static_cast<F>(id)) {
    case kTrigger:
      return FieldValue::Str(f.trigger == Trigger::kCall ? "call" : "lock_inactive");
    case kRequestId:
      return FieldValue::Str(e.request_id);
    case kTime:
      return FieldValue::Int(e.time);
    case kApi:
      return FieldValue::Str(ApiVersionName(e.api));
    case kMethod:
      return FieldValue::Str(e.method);
    case kPath:
      return FieldValue::Str(e.path);
    case kRoute:
      return Str(e.route);
    case kAction:
      return FieldValue::Str(ActionName(e.action));
    case kStatus:
      return FieldValue::Int(e.status);
    case kSuccess:
      return FieldValue::Bool(e.Succeeded());
    case kDenied:
      return FieldValue::Bool(e.Denied());
    case kOwnerAction:
      return FieldValue::Bool(IsOwnerAction(e.action));
    case kLockBlockedAction:
      return FieldValue::Bool(IsLockBlockedAction(e.action));
    case kPartyCount:
      return FieldValue::Int(static_cast<int64_t>(e.parties.size()));
    case kLearningComplete:
      return FieldValue::Bool(f.learning_complete);
    case kClientId:
      return Str(f.client_id);
    case kClientName:
      return Str(f.client_name);
    case kClientOrgnrParent:
      return Str(e.client.orgnr_parent);
    case kClientOrgnrChild:
      return Str(e.client.orgnr_child);
    case kClientOrgnrSupplier:
      return Str(e.client.orgnr_supplier);
    case kClientTenancy:
      return Str(e.client.tenancy);
    case kClientHerIdClaim:
      return e.client.her_id_claim ? FieldValue::Str(*e.client.her_id_claim) : FieldValue::Absent();
    case kClientHerIdClaimKind:
      return FieldValue::Str(!e.client.her_id_claim          ? "none"
                             : *e.client.her_id_claim == "0" ? "whole_org"
                                                             : "list");
    case kClientNewParties:
      return f.has_party ? FieldValue::Int(f.client_new_parties) : FieldValue::Absent();
    default:
      break;
  }
  if (id >= kPartyHerId && id < kMsgId && !f.has_party) return FieldValue::Absent();
  switch (static_cast<F>(id)) {
    case kPartyHerId:
      return FieldValue::Int(f.her_id);
    case kPartySource:
      return FieldValue::Str(PartySourceName(f.source));
    case kPartyKnown:
      return FieldValue::Bool(p != nullptr);
    case kPartyName:
      return p ? Str(p->name) : FieldValue::Absent();
    case kPartyType:
      return p ? FieldValue::Str(PartyTypeName(p->type)) : FieldValue::Absent();
    case kPartyActive:
      return p ? FieldValue::Bool(p->active) : FieldValue::Absent();
    case kPartyOrgnr:
      return p ? Str(p->orgnr) : FieldValue::Absent();
    case kPartyTopOrgnr:
      return p ? Str(p->top_orgnr) : FieldValue::Absent();
    case kPartyOrgCovered:
      return OptBool(f.org_covered);
    case kPartyInHerIdClaim:
      return OptBool(f.in_herid_claim);
    case kPartyLocked:
      return FieldValue::Bool(!f.lock_holder.empty());
    case kPartyLockHolder:
      return Str(f.lock_holder);
    case kPartyLockHolderLabel:
      return Label(f, f.lock_holder, &labels_[0]);
    case kPartyLockSince:
      return f.lock_holder.empty() ? FieldValue::Absent() : FieldValue::Int(f.lock_since);
    case kPartyLockHolderIsClient:
      return f.lock_holder.empty() ? FieldValue::Absent()
                                   : FieldValue::Bool(f.lock_holder == f.client_id);
    case kPartyLockInactiveMs:
      return f.lock_holder.empty() ? FieldValue::Absent()
                                   : FieldValue::Int(e.time - f.lock_holder_last_activity);
    case kPartyLockInactiveDays:
      return f.lock_holder.empty()
                 ? FieldValue::Absent()
                 : FieldValue::Int((e.time - f.lock_holder_last_activity) / kMillisPerDay);
    case kPartyLockDeniedOthers:
      return f.lock_holder.empty() ? FieldValue::Absent() : FieldValue::Int(f.lock_denied_others);
    case kCfgLockOp:
      return f.lock_op ? FieldValue::Str(*f.lock_op ? "lock" : "unlock") : FieldValue::Absent();
    case kPartyDeclaredOwner:
      return Str(f.declared_owner);
    case kPartyLearnedOwner:
      return Str(f.learned_owner);
    case kPartyOwner:
      return Str(f.owner);
    case kPartyOwnerLabel:
      return Label(f, f.owner, &labels_[1]);
    case kPartyOwnerSource:
      return Str(f.owner_source);
    case kPartyOwnerIsClient:
      return f.owner.empty() ? FieldValue::Absent() : FieldValue::Bool(f.owner == f.client_id);
    case kPartyPairNew:
      return FieldValue::Bool(f.pair_new);
    case kPartyClients:
      return FieldValue::Int(f.party_clients);
    case kPartyClientNew:
      return FieldValue::Bool(f.client_new_on_party);
    default:
      break;
  }
  if (!m) return FieldValue::Absent();
  switch (static_cast<F>(id)) {
    case kMsgId:
      return FieldValue::Str(e.message_id);
    case kMsgCustodyKnown:
      return FieldValue::Bool(f.custody_known);
    case kMsgIsReceiver:
      // A poll or message block that named no receiver leaves them unknown: not "not one";
      // nor is a party that is none of some receivers a poll named.
      return ck && f.has_party && f.receiver_count > 0 && (f.is_receiver || f.receivers_complete)
                 ? FieldValue::Bool(f.is_receiver)
                 : FieldValue::Absent();
    case kMsgIsApprec:
      return ck ? FieldValue::Bool(f.is_apprec) : FieldValue::Absent();
    case kMsgSenderClient:
      return Str(f.sender_client);
    case kMsgSenderHerId:
      return f.sender_her_id > 0 ? FieldValue::Int(f.sender_her_id) : FieldValue::Absent();
    case kMsgReceiverCount:
      return ck ? FieldValue::Int(f.receiver_count) : FieldValue::Absent();
    case kMsgDownloadedByClient:
      return FieldValue::Bool(f.downloaded_by_client);
    case kMsgDownloadedByOther:
      return FieldValue::Bool(f.downloaded_by_other);
    case kMsgDownloadedByAny:
      return ck && f.has_party ? FieldValue::Bool(f.downloaded_by_client || f.downloaded_by_other)
                               : FieldValue::Absent();
    case kMsgOtherDownloader:
      return Str(f.other_downloader);
    case kMsgOtherDownloaderLabel:
      return Label(f, f.other_downloader, &labels_[2]);
    case kMsgMarkedByOther:
      return FieldValue::Bool(f.marked_by_other);
    case kMsgApprecByOther:
      return FieldValue::Bool(f.apprec_by_other);
    default:
      return FieldValue::Absent();
  }
}

}  // namespace edi
