#include "decode/access_event.h"

#include <array>

namespace edi {
namespace {
constexpr std::array<std::string_view, kActionCount> kActionNames = {
    "send",        "read_metadata",   "download", "read_status",  "read_apprec",
    "apprec_send", "mark_downloaded", "poll",     "config_write", "config_delete",
    "ping",        "unknown",
};
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
  static_assert(sizeof(void*) != 8 || sizeof(AccessEvent) == 928,
                "AccessEvent::Clear must reset every field");
  time = 0;
  timestamp.clear();
  request_id.clear();
  api = ApiVersion::kV3;
  method.clear();
  path.clear();
  query.clear();
  route.clear();
  action = Action::kUnknown;
  status = 0;
  duration_ms.reset();
  source_system.clear();
  client_ip.clear();
  client.client_id.clear();
  client.client_name.clear();
  client.tenancy.clear();
  client.orgnr_parent.clear();
  client.orgnr_child.clear();
  client.orgnr_supplier.clear();
  client.her_id_claim.reset();
  parties.clear();
  parties_from_custody = false;
  lookups_in = nullptr;
  lookups.clear();
  message_id.clear();
  sender_her_id.reset();
  receiver_her_ids.clear();
  receiver_her_id.reset();
  apprec_sender_her_id.reset();
  apprec_status.clear();
  configurations.clear();
  response_id.clear();
  polled.clear();
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
