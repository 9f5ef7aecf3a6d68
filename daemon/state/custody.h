// Custody: what the daemon saw happen to each message — who sent it (client and sender
// party), its receivers, and per receiver which clients downloaded it, marked it downloaded and
// sent an apprec, with times (shared/DETECTIONS.md "Custody").
//
// Custody is *known* once the send, a poll response listing the message, or a record's
// `message` block was seen. The receivers are *complete* once a send or a list of them
// (receiverHerIds in a message block or a poll response) was seen; a poll response naming one
// receiverHerId tells only that one. A download seen while the receivers were unknown is kept
// with an unknown receiver and the top-level organisation the call came from (orgnrParent):
// it counts for the receivers that organisation covers, and, once the receivers are complete,
// for all of them when it covers none (as a download with known custody acts). Without an
// organisation it counts for every receiver. Entries not touched for the TTL are forgotten.
// Not thread-safe.
//
// Memory: a daemon keeps a month of messages, over a million of them, so an entry is one
// 64-byte slot of a dense array (its history varint-coded inside the slot, or in a heap block
// once it outgrows it) found through an open-addressing index of 4 bytes per slot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "decode/access_event.h"
#include "state/expiry_index.h"
#include "state/interner.h"

namespace edi {

// A message id (UUID) in 16 bytes.
struct MessageKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const MessageKey&) const = default;
  auto operator<=>(const MessageKey&) const = default;  // the order of ToString()
  static bool Parse(std::string_view uuid, MessageKey* out);
  std::string ToString() const;
};

enum class CustodyActKind : uint8_t { kDownload, kMarkDownloaded, kApprec };

// An organisation number (9 digits) as an integer; 0 = unknown.
using OrgNumber = uint64_t;
// "123456789" -> 123456789; 0 for anything but 9 digits.
OrgNumber ParseOrgNumber(std::string_view orgnr);

struct CustodyAct {
  ClientIdx client = kNoClient;
  CustodyActKind kind = CustodyActKind::kDownload;
  HerId receiver = 0;  // 0 = unknown receiver (download before custody was known)
  EventTime time = 0;
  OrgNumber org = 0;  // with an unknown receiver: the calling client's orgnrParent, if known
  // With an unknown receiver and an organisation: the client answered for a receiver known
  // then, so the act does not count for a receiver named later that is another client's.
  bool own_only = false;
  bool operator==(const CustodyAct&) const = default;
};

// Whether the organisation `org` (a top-level unit) covers party p in the registry.
using OrgCovers = std::function<bool(OrgNumber org, HerId p)>;
// Whose party p is, as seen from `client` for its act at `act_time`: kClients only on evidence
// the client had then (its herid claim list then, a lock it held since then, a declared
// ownership), kOthers when another client owns p.
enum class PartyOwner : uint8_t { kUnknown, kClients, kOthers };
using OwnerOf = std::function<PartyOwner(ClientIdx client, HerId p, EventTime act_time)>;

// One message's custody spelled out: what persistence writes and reads.
struct CustodyRecord {
  EventTime first_seen = 0;
  EventTime last_seen = 0;
  bool known = false;
  bool receivers_complete = false;
  bool is_apprec = false;
  ClientIdx sender_client = kNoClient;
  HerId sender = 0;  // 0 = unknown
  std::vector<HerId> receivers;
  std::vector<CustodyAct> acts;
  bool operator==(const CustodyRecord&) const = default;
};

// Where an entry is stored: the hour it was created in, and its message id.
struct CustodyRow {
  uint32_t bucket = 0;
  MessageKey key;
  auto operator<=>(const CustodyRow&) const = default;
};

// One message's custody, compact. Changed only through CustodyTable.
class MessageCustody {
 public:
  MessageCustody() = default;
  MessageCustody(MessageCustody&& o) noexcept;
  MessageCustody& operator=(MessageCustody&& o) noexcept;
  MessageCustody(const MessageCustody&) = delete;
  MessageCustody& operator=(const MessageCustody&) = delete;
  ~MessageCustody() { Release(); }

  const MessageKey& key() const { return key_; }
  // Minutes since the epoch of the event that created the entry (or as loaded): its row's bucket.
  uint32_t bucket() const { return bucket_; }
  EventTime first_seen() const;
  EventTime last_seen() const { return last_seen_; }
  bool known() const { return (flags_ & kKnown) != 0; }
  bool receivers_complete() const { return (flags_ & kReceiversComplete) != 0; }
  bool is_apprec() const { return (flags_ & kApprec) != 0; }
  ClientIdx sender_client() const;
  HerId sender() const;  // 0 = unknown
  std::vector<HerId> receivers() const;
  size_t receiver_count() const;

  bool IsReceiver(HerId p) const;
  // Did `client` perform `kind` for receiver p? An act with an unknown receiver counts as the
  // header says, `covers` telling which receivers its organisation covers and `owner` (if
  // given) whose they are: a download of a client's own copy (own-only, or by a client owning
  // a receiver) does not count for a receiver another client owns.
  bool Did(CustodyActKind kind, HerId p, ClientIdx client, const OrgCovers& covers,
           const OwnerOf& owner = nullptr) const;
  // Did anyone but `except` perform `kind` for receiver p? *who = the first such client.
  bool DidOther(CustodyActKind kind, HerId p, ClientIdx except, ClientIdx* who,
                const OrgCovers& covers, const OwnerOf& owner = nullptr) const;

  CustodyRecord Record() const;

 private:
  friend class CustodyTable;
  struct Head;  // the decoded start of the body

  static constexpr uint8_t kKnown = 1, kApprec = 2, kChanged = 4, kOnHeap = 8,
                           kReceiversComplete = 16;
  static constexpr size_t kInlineBytes = 32;

  const uint8_t* data() const { return (flags_ & kOnHeap) ? body_.heap.data : body_.bytes; }
  size_t size() const { return (flags_ & kOnHeap) ? body_.heap.size : inline_size_; }
  Head ParseHead() const;
  // Replaces times, flags (but kChanged) and body with `r`'s.
  void Assign(const CustodyRecord& r);
  void AppendAct(const CustodyAct& a);
  // Would learning this leave sender, sender client and receivers as they are?
  bool Knows(ClientIdx sender_client, std::optional<HerId> sender,
             const std::vector<HerId>& receivers) const;
  bool AnyAct(CustodyActKind kind, HerId p, ClientIdx client, bool others, ClientIdx* who,
              const OrgCovers& covers, const OwnerOf& owner) const;
  // Does client c's act at `t` with an unknown receiver, by organisation `org` (own-only or
  // not), stay off receiver p, as a download of c's own copy when p is another client's?
  static bool OwnCopyOnly(const Head& h, ClientIdx c, EventTime t, OrgNumber org, bool own_only,
                          HerId p, const OrgCovers& covers, const OwnerOf& owner);
  // Does an act of a client of `org`, receiver unknown when it was seen, count for party p?
  bool UnknownActCountsFor(const Head& h, OrgNumber org, HerId p, const OrgCovers& covers) const;
  void SetBody(const uint8_t* p, size_t n);
  void Append(const uint8_t* p, size_t n);
  // Room for n bytes of body, the current ones kept; moves the body to the heap when needed.
  uint8_t* Reserve(size_t n);
  void SetSize(size_t n);
  void Release();

  MessageKey key_;
  EventTime last_seen_ = 0;
  uint32_t bucket_ = 0;
  uint8_t flags_ = 0;
  uint8_t inline_size_ = 0;
  // The body: first_seen, sender client, sender, receivers, then the acts (custody.cpp).
  struct Heap {
    uint8_t* data;
    uint32_t size;
    uint32_t capacity;
  };
  union Body {
    uint8_t bytes[kInlineBytes];
    Heap heap;
  } body_{};
};
// Millions of messages are in custody at once: an entry stays one cache line.
static_assert(sizeof(MessageCustody) == 64);

class CustodyTable {
 public:
  // Entry pointers and references stay valid until the next Expire.
  MessageCustody* Find(const MessageKey& k);
  const MessageCustody* Find(const MessageKey& k) const;
  // Finds or creates the entry and marks it touched at `t`.
  MessageCustody& Touch(const MessageKey& k, EventTime t);
  // Merges what a send, poll response or message block says about the message;
  // `all_receivers` when `receivers` are all of them.
  void Learn(MessageCustody& m, ClientIdx sender_client, std::optional<HerId> sender,
             const std::vector<HerId>& receivers, bool all_receivers, bool is_apprec);
  void AddAct(MessageCustody& m, const CustodyAct& a);
  // Marks an existing entry seen at `t` (nothing for an unknown message).
  void Refresh(const MessageKey& k, EventTime t);
  // Forgets entries last seen before `cutoff`; returns how many.
  size_t Expire(EventTime cutoff);

  // Loading: sets an entry as stored (not a change).
  void Put(const MessageKey& k, uint32_t bucket, const CustodyRecord& r);
  // What changed since the last call: rows of forgotten entries, and rows of entries created
  // or changed (to write), each sorted. A row may be in both (forgotten, then created again).
  struct Changes {
    std::vector<CustodyRow> dropped;
    std::vector<CustodyRow> stored;
  };
  Changes TakeChanges();

  size_t size() const { return size_; }
  template <class F>
  void ForEach(F f) const {
    for (size_t pos = 0; pos < size_; ++pos) f(At(pos));
  }
  // The bucket of an entry created at `t`.
  static uint32_t BucketOf(EventTime t);

 private:
  static constexpr size_t kChunk = 1024;  // entries per allocation of the dense array
  static constexpr size_t kNone = ~size_t{0};

  MessageCustody& At(size_t pos) { return chunks_[pos / kChunk][pos % kChunk]; }
  const MessageCustody& At(size_t pos) const { return chunks_[pos / kChunk][pos % kChunk]; }
  size_t Pos(uint32_t slot_value) const { return (slot_value & ((1u << bits_) - 1)) - 1; }
  uint32_t Tag(uint64_t hash) const;
  size_t Lookup(const MessageKey& k, uint64_t hash) const;  // index slot, or kNone
  MessageCustody& Insert(const MessageKey& k, uint64_t hash);
  void Place(uint64_t hash, size_t pos);
  void EraseSlot(size_t slot);
  void Grow();
  void MarkChanged(MessageCustody& m);

  // The entries, densely in positions [0, size_), in chunks so that they never move as the
  // table grows (a forgotten entry's position is filled with the last one).
  std::vector<std::unique_ptr<MessageCustody[]>> chunks_;
  size_t size_ = 0;
  // Linear-probing index over 2^bits_ slots, at most 7/8 full. A slot holds 0 (empty) or
  // position + 1 in its low bits_ bits and, above them, the top bits of the key's hash, which
  // rule out most other keys without reading their entries.
  std::vector<uint32_t> index_;
  uint32_t bits_ = 0;
  ExpiryIndex<MessageKey> expiry_;
  std::vector<MessageKey> changed_;  // entries flagged kChanged (and some since forgotten)
  std::vector<CustodyRow> dropped_;
};

}  // namespace edi
