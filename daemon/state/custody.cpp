// MessageKey and the compact form of MessageCustody (CustodyTable is in custody_table.cpp).
#include "state/custody.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace edi {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The body of an entry, in LEB128 varints:
//
//   first_seen - start of the bucket's minute (zigzag)
//   sender client, sender, receiver count, receivers...
//   per act: client << 2 | kind, receiver code, time - first_seen (zigzag)
//
// The receiver code is 0 for an unknown receiver, 2 followed by the calling organisation's
// number for an unknown receiver with a known organisation, 3 + i for receivers[i] (receivers
// are only ever appended, so i stays valid), and 1 followed by the HER-Id for another party. Time
// differences wrap around in 64 bits, so every time is kept exactly however far apart. A
// message sent to one party, downloaded and marked downloaded within the hour takes about 25
// bytes and stays inside the entry.
constexpr uint64_t kCodeUnknown = 0, kCodeOther = 1, kCodeUnknownOrg = 2, kCodeReceiver = 3;
// An unknown-organisation act's operand: the organisation number (9 digits), plus this for an
// own-only act.
constexpr uint64_t kOwnOnlyOperand = 1'000'000'000;
constexpr size_t kMaxVarint = 10;
constexpr size_t kMaxAct = 4 * kMaxVarint;

uint64_t Zig(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t Unzig(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }
uint64_t Delta(EventTime t, EventTime base) {
  return Zig(static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(base)));
}
EventTime Undelta(uint64_t d, EventTime base) {
  return static_cast<EventTime>(static_cast<uint64_t>(base) + static_cast<uint64_t>(Unzig(d)));
}
EventTime BucketStart(uint32_t bucket) { return static_cast<EventTime>(bucket) * kMillisPerMinute; }

struct Out {
  uint8_t* p;
  void U(uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<uint8_t>(v);
  }
};

struct In {
  const uint8_t* p;
  const uint8_t* end;
  bool more() const { return p < end; }
  uint64_t U() {
    uint64_t v = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  }
};

void EncodeAct(Out* out, EventTime first_seen, uint64_t receiver_code, const CustodyAct& a) {
  out->U(static_cast<uint64_t>(a.client) << 2 | static_cast<uint64_t>(a.kind));
  if (a.receiver == 0 && a.org != 0) {
    out->U(kCodeUnknownOrg);
    out->U(a.org + (a.own_only ? kOwnOnlyOperand : 0));
  } else if (a.receiver == 0) {
    out->U(kCodeUnknown);
  } else if (receiver_code != 0) {
    out->U(receiver_code);
  } else {
    out->U(kCodeOther);
    out->U(static_cast<uint64_t>(a.receiver));
  }
  out->U(Delta(a.time, first_seen));
}

}  // namespace

OrgNumber ParseOrgNumber(std::string_view orgnr) {
  if (orgnr.size() != 9) return 0;
  OrgNumber n = 0;
  for (char c : orgnr) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<OrgNumber>(c - '0');
  }
  return n;
}

bool MessageKey::Parse(std::string_view s, MessageKey* out) {
  if (s.size() != 36) return false;
  uint64_t parts[2] = {0, 0};
  int nibbles = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
      continue;
    }
    const int h = Hex(s[i]);
    if (h < 0) return false;
    uint64_t& p = parts[nibbles / 16];
    p = (p << 4) | static_cast<uint64_t>(h);
    ++nibbles;
  }
  out->hi = parts[0];
  out->lo = parts[1];
  return true;
}

std::string MessageKey::ToString() const {
  // 8-4-4-4-12 lower-case hex digits, written by hand: this runs for every message a batch
  // touched.
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (at == 8 || at == 13 || at == 18 || at == 23) ++at;
    const uint64_t word = nibble < 16 ? hi : lo;
    out[at++] = kDigits[(word >> (60 - 4 * (nibble % 16))) & 0xf];
  }
  return out;
}

struct MessageCustody::Head {
  EventTime first_seen = 0;
  ClientIdx sender_client = kNoClient;
  HerId sender = 0;
  uint64_t receiver_count = 0;
  const uint8_t* receivers = nullptr;  // receiver_count varints
  const uint8_t* acts = nullptr;       // acts up to `end`
  const uint8_t* end = nullptr;

  // The receiver code of party p: kCodeReceiver + its index among the receivers, or 0 when
  // not one.
  uint64_t CodeOf(HerId p) const {
    In in{receivers, acts};
    for (uint64_t i = 0; i < receiver_count; ++i) {
      if (static_cast<HerId>(in.U()) == p) return kCodeReceiver + i;
    }
    return 0;
  }
};

MessageCustody::MessageCustody(MessageCustody&& o) noexcept
    : key_(o.key_),
      last_seen_(o.last_seen_),
      bucket_(o.bucket_),
      flags_(o.flags_),
      inline_size_(o.inline_size_),
      body_(o.body_) {
  o.flags_ = 0;
  o.inline_size_ = 0;
}

MessageCustody& MessageCustody::operator=(MessageCustody&& o) noexcept {
  if (this != &o) {
    Release();
    key_ = o.key_;
    last_seen_ = o.last_seen_;
    bucket_ = o.bucket_;
    flags_ = o.flags_;
    inline_size_ = o.inline_size_;
    body_ = o.body_;
    o.flags_ = 0;
    o.inline_size_ = 0;
  }
  return *this;
}

void MessageCustody::Release() {
  if (flags_ & kOnHeap) std::free(body_.heap.data);
  flags_ &= static_cast<uint8_t>(~kOnHeap);
  inline_size_ = 0;
}

void MessageCustody::SetBody(const uint8_t* p, size_t n) {
  uint8_t* d = Reserve(n);
  std::memcpy(d, p, n);
  SetSize(n);
}

void MessageCustody::Append(const uint8_t* p, size_t n) {
  const size_t old = size();
  uint8_t* d = Reserve(old + n);
  std::memcpy(d + old, p, n);
  SetSize(old + n);
}

uint8_t* MessageCustody::Reserve(size_t n) {
  constexpr size_t kMax = std::numeric_limits<uint32_t>::max();
  if (n > kMax) throw std::length_error("custody of one message too long");
  if (flags_ & kOnHeap) {
    if (n > body_.heap.capacity) {
      const size_t cap = std::min(kMax, std::max(n, size_t{body_.heap.capacity} * 3 / 2));
      void* d = std::realloc(body_.heap.data, cap);
      if (d == nullptr) throw std::bad_alloc();
      body_.heap.data = static_cast<uint8_t*>(d);
      body_.heap.capacity = static_cast<uint32_t>(cap);
    }
    return body_.heap.data;
  }
  if (n <= kInlineBytes) return body_.bytes;
  // Out of the slot: the smallest heap block first (56 bytes fill a 64-byte malloc chunk).
  const size_t cap = std::max(n, 2 * kInlineBytes - 8);
  auto* d = static_cast<uint8_t*>(std::malloc(cap));
  if (d == nullptr) throw std::bad_alloc();
  std::memcpy(d, body_.bytes, inline_size_);
  body_.heap = Heap{d, inline_size_, static_cast<uint32_t>(cap)};
  flags_ |= kOnHeap;
  return d;
}

void MessageCustody::SetSize(size_t n) {
  if (flags_ & kOnHeap) {
    body_.heap.size = static_cast<uint32_t>(n);
  } else {
    inline_size_ = static_cast<uint8_t>(n);
  }
}

MessageCustody::Head MessageCustody::ParseHead() const {
  In in{data(), data() + size()};
  Head h;
  h.first_seen = Undelta(in.U(), BucketStart(bucket_));
  h.sender_client = static_cast<ClientIdx>(in.U());
  h.sender = static_cast<HerId>(in.U());
  h.receiver_count = in.U();
  h.receivers = in.p;
  for (uint64_t i = 0; i < h.receiver_count && in.more(); ++i) in.U();
  h.acts = in.p;
  h.end = in.end;
  return h;
}

EventTime MessageCustody::first_seen() const {
  In in{data(), data() + size()};
  return Undelta(in.U(), BucketStart(bucket_));
}

ClientIdx MessageCustody::sender_client() const { return ParseHead().sender_client; }
HerId MessageCustody::sender() const { return ParseHead().sender; }
size_t MessageCustody::receiver_count() const {
  return static_cast<size_t>(ParseHead().receiver_count);
}

std::vector<HerId> MessageCustody::receivers() const {
  const Head h = ParseHead();
  std::vector<HerId> out;
  out.reserve(h.receiver_count);
  In in{h.receivers, h.acts};
  for (uint64_t i = 0; i < h.receiver_count; ++i) out.push_back(static_cast<HerId>(in.U()));
  return out;
}

bool MessageCustody::IsReceiver(HerId p) const { return ParseHead().CodeOf(p) != 0; }

bool MessageCustody::AnyAct(CustodyActKind kind, HerId p, ClientIdx client, bool others,
                            ClientIdx* who, const OrgCovers& covers, const OwnerOf& owner) const {
  const Head h = ParseHead();
  const uint64_t p_code = h.CodeOf(p);
  In in{h.acts, h.end};
  while (in.more()) {
    const uint64_t client_kind = in.U();
    const uint64_t code = in.U();
    const uint64_t operand = code == kCodeOther || code == kCodeUnknownOrg ? in.U() : 0;
    const uint64_t time = in.U();
    const auto c = static_cast<ClientIdx>(client_kind >> 2);
    if (static_cast<CustodyActKind>(client_kind & 3) != kind) continue;
    if (others ? c == client : c != client) continue;
    const bool own_only = code == kCodeUnknownOrg && operand >= kOwnOnlyOperand;
    const OrgNumber org = own_only ? operand - kOwnOnlyOperand : operand;
    const bool for_p =
        code == kCodeUnknown || (code == kCodeOther && static_cast<HerId>(operand) == p) ||
        (p_code != 0 && code == p_code) ||
        (code == kCodeUnknownOrg && UnknownActCountsFor(h, org, p, covers) &&
         !OwnCopyOnly(h, c, Undelta(time, h.first_seen), org, own_only, p, covers, owner));
    if (!for_p) continue;
    if (who != nullptr) *who = c;
    return true;
  }
  return false;
}

bool MessageCustody::UnknownActCountsFor(const Head& h, OrgNumber org, HerId p,
                                         const OrgCovers& covers) const {
  const bool receiver = h.CodeOf(p) != 0;
  if (!receiver && receivers_complete()) return false;  // known to be no receiver
  if (covers(org, p)) return true;                      // a receiver, or perhaps one not known yet
  // An organisation that covers none of the receivers acted for all of them; that is known
  // only once they are all known.
  if (!receiver || !receivers_complete()) return false;
  In in{h.receivers, h.acts};
  for (uint64_t i = 0; i < h.receiver_count; ++i) {
    if (covers(org, static_cast<HerId>(in.U()))) return false;
  }
  return true;
}

bool MessageCustody::OwnCopyOnly(const Head& h, ClientIdx c, EventTime t, OrgNumber org,
                                 bool own_only, HerId p, const OrgCovers& covers,
                                 const OwnerOf& owner) {
  if (!owner || owner(c, p, t) != PartyOwner::kOthers) return false;
  if (own_only) return true;  // it answered for a receiver known when it downloaded
  // Downloaded before any receiver was known: its own copy if, when it downloaded, it owned
  // one of them that the organisation it acted for covers.
  In in{h.receivers, h.acts};
  for (uint64_t i = 0; i < h.receiver_count; ++i) {
    const auto q = static_cast<HerId>(in.U());
    if (covers(org, q) && owner(c, q, t) == PartyOwner::kClients) return true;
  }
  return false;
}

bool MessageCustody::Did(CustodyActKind kind, HerId p, ClientIdx client, const OrgCovers& covers,
                         const OwnerOf& owner) const {
  return AnyAct(kind, p, client, false, nullptr, covers, owner);
}

bool MessageCustody::DidOther(CustodyActKind kind, HerId p, ClientIdx except, ClientIdx* who,
                              const OrgCovers& covers, const OwnerOf& owner) const {
  return AnyAct(kind, p, except, true, who, covers, owner);
}

CustodyRecord MessageCustody::Record() const {
  const Head h = ParseHead();
  CustodyRecord r;
  r.first_seen = h.first_seen;
  r.last_seen = last_seen_;
  r.known = known();
  r.receivers_complete = receivers_complete();
  r.is_apprec = is_apprec();
  r.sender_client = h.sender_client;
  r.sender = h.sender;
  r.receivers = receivers();
  In in{h.acts, h.end};
  while (in.more()) {
    CustodyAct a;
    const uint64_t client_kind = in.U();
    a.client = static_cast<ClientIdx>(client_kind >> 2);
    a.kind = static_cast<CustodyActKind>(client_kind & 3);
    const uint64_t code = in.U();
    if (code == kCodeOther) {
      a.receiver = static_cast<HerId>(in.U());
    } else if (code == kCodeUnknownOrg) {
      a.org = in.U();
      a.own_only = a.org >= kOwnOnlyOperand;
      if (a.own_only) a.org -= kOwnOnlyOperand;
    } else if (code >= kCodeReceiver && code - kCodeReceiver < r.receivers.size()) {
      a.receiver = r.receivers[code - kCodeReceiver];
    }
    a.time = Undelta(in.U(), h.first_seen);
    r.acts.push_back(a);
  }
  return r;
}

void MessageCustody::Assign(const CustodyRecord& r) {
  flags_ = static_cast<uint8_t>((flags_ & (kChanged | kOnHeap)) | (r.known ? kKnown : 0) |
                                (r.receivers_complete ? kReceiversComplete : 0) |
                                (r.is_apprec ? kApprec : 0));
  last_seen_ = r.last_seen;
  std::vector<uint8_t> buf(kMaxVarint * (4 + r.receivers.size()) + kMaxAct * r.acts.size());
  Out out{buf.data()};
  out.U(Delta(r.first_seen, BucketStart(bucket_)));
  out.U(r.sender_client);
  out.U(static_cast<uint64_t>(r.sender));
  out.U(r.receivers.size());
  for (HerId p : r.receivers) out.U(static_cast<uint64_t>(p));
  for (const CustodyAct& a : r.acts) {
    uint64_t code = 0;
    for (size_t i = 0; i < r.receivers.size() && code == 0; ++i) {
      if (r.receivers[i] == a.receiver) code = kCodeReceiver + i;
    }
    EncodeAct(&out, r.first_seen, code, a);
  }
  SetBody(buf.data(), static_cast<size_t>(out.p - buf.data()));
}

void MessageCustody::AppendAct(const CustodyAct& a) {
  const Head h = ParseHead();
  uint8_t buf[kMaxAct];
  Out out{buf};
  EncodeAct(&out, h.first_seen, h.CodeOf(a.receiver), a);
  Append(buf, static_cast<size_t>(out.p - buf));
}

bool MessageCustody::Knows(ClientIdx sender_client, std::optional<HerId> sender,
                           const std::vector<HerId>& receivers) const {
  const Head h = ParseHead();
  if (sender_client != kNoClient && sender_client != h.sender_client) return false;
  if (sender && *sender > 0 && *sender != h.sender) return false;
  for (HerId p : receivers) {
    if (h.CodeOf(p) == 0) return false;
  }
  return true;
}

}  // namespace edi
