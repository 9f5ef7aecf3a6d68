// Custody: what the daemon saw happen to each message — who sent it (client and sender
// party), its receivers, and per receiver which clients downloaded it, marked it downloaded and
// sent an apprec, with times (shared/DETECTIONS.md "Custody").
//
// Custody is *known* once the send, a poll response listing the message, or a record's
// `message` block was seen. Downloads seen while the receivers were unknown are kept with an
// unknown receiver and count for every receiver (they cannot be attributed more precisely).
// Entries not touched for the TTL are forgotten. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "decode/access_event.h"
#include "state/interner.h"

namespace edi {

// A message id (UUID) in 16 bytes.
struct MessageKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const MessageKey&) const = default;
  static bool Parse(std::string_view uuid, MessageKey* out);
  std::string ToString() const;
};
struct MessageKeyHash {
  size_t operator()(const MessageKey& k) const { return k.hi * 0x9E3779B97F4A7C15ull ^ k.lo; }
};

enum class CustodyActKind : uint8_t { kDownload, kMarkDownloaded, kApprec };

struct CustodyAct {
  ClientIdx client = kNoClient;
  CustodyActKind kind = CustodyActKind::kDownload;
  HerId receiver = 0;  // 0 = unknown receiver (download before custody was known)
  EventTime time = 0;
};

struct MessageCustody {
  EventTime first_seen = 0;
  EventTime last_seen = 0;
  bool known = false;
  bool is_apprec = false;
  ClientIdx sender_client = kNoClient;
  HerId sender = 0;  // 0 = unknown
  std::vector<HerId> receivers;
  std::vector<CustodyAct> acts;

  bool IsReceiver(HerId p) const;
  // Did `client` (or, with kNoClient, anyone but `except`) perform `kind` for receiver p?
  bool Did(CustodyActKind kind, HerId p, ClientIdx client) const;
  bool DidOther(CustodyActKind kind, HerId p, ClientIdx except, ClientIdx* who) const;
};

class CustodyTable {
 public:
  MessageCustody* Find(const MessageKey& k);
  const MessageCustody* Find(const MessageKey& k) const;
  // Finds or creates the entry and marks it touched at `t`.
  MessageCustody& Touch(const MessageKey& k, EventTime t);
  // Merges what a send, poll response or message block says about the message.
  void Learn(MessageCustody& m, ClientIdx sender_client, std::optional<HerId> sender,
             const std::vector<HerId>& receivers, bool is_apprec);
  // Forgets entries last seen before `cutoff`; appends their keys to *expired.
  void Expire(EventTime cutoff, std::vector<MessageKey>* expired);

  size_t size() const { return messages_.size(); }
  const std::unordered_map<MessageKey, MessageCustody, MessageKeyHash>& all() const {
    return messages_;
  }
  void Put(const MessageKey& k, MessageCustody m) { messages_[k] = std::move(m); }
  void Erase(const MessageKey& k) { messages_.erase(k); }

 private:
  std::unordered_map<MessageKey, MessageCustody, MessageKeyHash> messages_;
};

}  // namespace edi
