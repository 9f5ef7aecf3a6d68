#include "decode/access_event.h"

#include <array>

namespace edi {
namespace {
constexpr std::array<std::string_view, kActionCount> kActionNames = {
    "send",        "read_metadata",   "download", "read_status",  "read_apprec",
    "apprec_send", "mark_downloaded", "poll",     "config_write", "config_delete",
    "ping",        "unknown",
};
// Empties a string or vector for reuse, keeping its buffer unless a rare large record grew it:
// every slot of a batch would otherwise keep the largest it ever held.
template <typename T>
void Empty(T* v) {
  constexpr size_t kKeepBytes = 512;
  if (v->capacity() * sizeof(typename T::value_type) > kKeepBytes) {
    T().swap(*v);
  } else {
    v->clear();
  }
}

}  // namespace

std::string_view ActionName(Action a) { return kActionNames[static_cast<size_t>(a)]; }

std::optional<Action> ActionFromName(std::string_view name) {
  for (size_t i = 0; i < kActionNames.size(); ++i) {
    if (kActionNames[i] == name) return static_cast<Action>(i);
  }
  return std::nullopt;
}

std::string_view ApiVersionName(ApiVersion v) {
  switch (v) {
    case ApiVersion::kV2:
      return "2";
    case ApiVersion::kV2vNext:
      return "2-vNext";
    case ApiVersion::kV3:
      return "3";
  }
  return "?";
}

std::string_view PartySourceName(PartySource s) {
  switch (s) {
    case PartySource::kRequestBody:
      return "request";
    case PartySource::kPath:
      return "path";
    case PartySource::kQuery:
      return "query";
    case PartySource::kCustody:
      return "custody";
  }
  return "?";
}

bool IsOwnerAction(Action a) {
  switch (a) {
    case Action::kSend:
    case Action::kDownload:
    case Action::kMarkDownloaded:
    case Action::kApprecSend:
    case Action::kConfigWrite:
    case Action::kConfigDelete:
    case Action::kPoll:
      return true;
    default:
      return false;
  }
}

void AccessEvent::Clear() {
  // A field added to AccessEvent must be reset here too; the size check below is a reminder.
  static_assert(sizeof(void*) != 8 || sizeof(AccessEvent) == 968,
                "AccessEvent::Clear must reset every field");
  time = 0;
  Empty(&timestamp);
  Empty(&request_id);
  api = ApiVersion::kV3;
  Empty(&method);
  Empty(&path);
  Empty(&query);
  Empty(&route);
  action = Action::kUnknown;
  status = 0;
  duration_ms.reset();
  Empty(&source_system);
  Empty(&client_ip);
  Empty(&client.client_id);
  Empty(&client.client_name);
  Empty(&client.tenancy);
  Empty(&client.orgnr_parent);
  Empty(&client.orgnr_child);
  Empty(&client.orgnr_supplier);
  client.her_id_claim.reset();
  Empty(&parties);
  parties_from_custody = false;
  lookups_in = nullptr;
  Empty(&lookups);
  Empty(&message_id);
  sender_her_id.reset();
  Empty(&receiver_her_ids);
  receiver_her_id.reset();
  apprec_sender_her_id.reset();
  Empty(&apprec_status);
  Empty(&configurations);
  Empty(&response_id);
  Empty(&apprec_id);
  Empty(&polled);
  message.reset();
}

bool IsLockBlockedAction(Action a) {
  switch (a) {
    case Action::kSend:
    case Action::kMarkDownloaded:
    case Action::kApprecSend:
    case Action::kConfigWrite:
    case Action::kConfigDelete:
      return true;
    default:
      return false;
  }
}

}  // namespace edi
