// CustodyTable: a dense array of compact entries, an open-addressing index over it, the entries
// by hour for expiry, and what changed for the next save.
#include <algorithm>
#include <stdexcept>

#include "state/custody.h"

namespace edi {
namespace {

// Message ids are random UUIDs, but not all of them (tests, other generators): mix all bits.
uint64_t Hash(const MessageKey& k) {
  uint64_t x = k.hi ^ (k.lo * 0x9E3779B97F4A7C15ull);
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint32_t CustodyTable::BucketOf(EventTime t) {
  // Minutes: a batch's new entries share a few buckets even at thousands of messages a minute,
  // so their rows land on few pages.
  const EventTime minute = t >= 0 ? t / kMillisPerMinute : -1 - (-1 - t) / kMillisPerMinute;
  return static_cast<uint32_t>(std::clamp<EventTime>(minute, 0, UINT32_MAX));
}

// The top 32 - bits_ bits of the hash (the index uses the low bits_ to pick the slot).
uint32_t CustodyTable::Tag(uint64_t hash) const {
  return static_cast<uint32_t>(hash >> (32 + bits_));
}

size_t CustodyTable::Lookup(const MessageKey& k, uint64_t hash) const {
  if (index_.empty()) return kNone;
  const size_t mask = index_.size() - 1;
  const uint32_t tag = Tag(hash);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint32_t v = index_[i];
    if (v == 0) return kNone;
    if ((v >> bits_) == tag && At(Pos(v)).key_ == k) return i;
  }
}

MessageCustody* CustodyTable::Find(const MessageKey& k) {
  const size_t slot = Lookup(k, Hash(k));
  return slot == kNone ? nullptr : &At(Pos(index_[slot]));
}

const MessageCustody* CustodyTable::Find(const MessageKey& k) const {
  const size_t slot = Lookup(k, Hash(k));
  return slot == kNone ? nullptr : &At(Pos(index_[slot]));
}

void CustodyTable::Place(uint64_t hash, size_t pos) {
  const size_t mask = index_.size() - 1;
  size_t i = hash & mask;
  while (index_[i] != 0) i = (i + 1) & mask;
  index_[i] = static_cast<uint32_t>(pos + 1) | (Tag(hash) << bits_);
}

void CustodyTable::Grow() {
  // Positions + 1 must fit below the tag: at 7/8 load they are < 2^bits_.
  bits_ = index_.empty() ? 4 : bits_ + 1;
  if (bits_ > 31) throw std::length_error("custody table full");
  index_.assign(size_t{1} << bits_, 0);
  for (size_t pos = 0; pos < size_; ++pos) Place(Hash(At(pos).key_), pos);
}

MessageCustody& CustodyTable::Insert(const MessageKey& k, uint64_t hash) {
  if ((size_ + 1) * 8 > index_.size() * 7) Grow();
  const size_t pos = size_;
  if (pos / kChunk == chunks_.size()) chunks_.push_back(std::make_unique<MessageCustody[]>(kChunk));
  ++size_;
  MessageCustody& m = At(pos);
  m.key_ = k;
  Place(hash, pos);
  return m;
}

void CustodyTable::EraseSlot(size_t slot) {
  const size_t mask = index_.size() - 1;
  const size_t pos = Pos(index_[slot]);
  // Backward-shift deletion: pull later entries of the probe run into the hole unless that
  // would put them before their home slot, so no lookup ever stops early at the hole.
  size_t hole = slot;
  for (size_t j = (hole + 1) & mask; index_[j] != 0; j = (j + 1) & mask) {
    const size_t home = Hash(At(Pos(index_[j])).key_) & mask;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = 0;
  // The last entry fills the freed position.
  const size_t last = size_ - 1;
  if (pos != last) {
    const uint64_t hash = Hash(At(last).key_);
    const uint32_t low = (1u << bits_) - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (index_[i] != 0 && Pos(index_[i]) == last) {
        index_[i] = (index_[i] & ~low) | static_cast<uint32_t>(pos + 1);
        break;
      }
    }
    At(pos) = std::move(At(last));
  }
  At(last) = MessageCustody();
  --size_;
  // Keep one spare chunk at most.
  while (chunks_.size() > (size_ + kChunk - 1) / kChunk + 1) chunks_.pop_back();
}

void CustodyTable::MarkChanged(MessageCustody& m) {
  if (m.flags_ & MessageCustody::kChanged) return;
  m.flags_ |= MessageCustody::kChanged;
  changed_.push_back(m.key_);
}

MessageCustody& CustodyTable::Touch(const MessageKey& k, EventTime t) {
  const uint64_t hash = Hash(k);
  const size_t slot = Lookup(k, hash);
  MessageCustody* m;
  if (slot == kNone) {
    m = &Insert(k, hash);
    m->bucket_ = BucketOf(t);
    CustodyRecord r;
    r.first_seen = t;
    r.last_seen = std::max<EventTime>(0, t);
    m->Assign(r);
    expiry_.Add(k, r.last_seen);
  } else {
    m = &At(Pos(index_[slot]));
    if (t < m->first_seen()) {  // a record out of order
      CustodyRecord r = m->Record();
      r.first_seen = t;
      m->Assign(r);
    }
    m->last_seen_ = std::max(m->last_seen_, t);
  }
  MarkChanged(*m);
  return *m;
}

void CustodyTable::Learn(MessageCustody& m, ClientIdx sender_client, std::optional<HerId> sender,
                         const std::vector<HerId>& receivers, bool all_receivers, bool is_apprec) {
  m.flags_ |= MessageCustody::kKnown;
  if (all_receivers) m.flags_ |= MessageCustody::kReceiversComplete;
  if (is_apprec) m.flags_ |= MessageCustody::kApprec;
  // Polls list a message again and again: most of the time there is nothing new.
  if (!m.Knows(sender_client, sender, receivers)) {
    CustodyRecord r = m.Record();
    if (sender_client != kNoClient) r.sender_client = sender_client;
    if (sender && *sender > 0) r.sender = *sender;
    for (HerId p : receivers) {
      if (std::find(r.receivers.begin(), r.receivers.end(), p) == r.receivers.end()) {
        r.receivers.push_back(p);
      }
    }
    m.Assign(r);
  }
  MarkChanged(m);
}

void CustodyTable::AddAct(MessageCustody& m, const CustodyAct& a) {
  m.AppendAct(a);
  MarkChanged(m);
}

void CustodyTable::Refresh(const MessageKey& k, EventTime t) {
  if (MessageCustody* m = Find(k)) {
    m->last_seen_ = std::max(m->last_seen_, t);
    MarkChanged(*m);
  }
}

size_t CustodyTable::Expire(EventTime cutoff) {
  size_t n = 0;
  expiry_.Expire(cutoff, [&](const MessageKey& k) -> std::optional<EventTime> {
    const size_t slot = Lookup(k, Hash(k));
    if (slot == kNone) return std::nullopt;
    const MessageCustody& m = At(Pos(index_[slot]));
    if (m.last_seen_ >= cutoff) return m.last_seen_;
    dropped_.push_back({m.bucket_, k});
    EraseSlot(slot);
    ++n;
    return std::nullopt;
  });
  return n;
}

void CustodyTable::Put(const MessageKey& k, uint32_t bucket, const CustodyRecord& r) {
  const uint64_t hash = Hash(k);
  const size_t slot = Lookup(k, hash);
  MessageCustody& m = slot == kNone ? Insert(k, hash) : At(Pos(index_[slot]));
  m.bucket_ = bucket;
  m.Assign(r);
  expiry_.Add(k, r.last_seen);
}

CustodyTable::Changes CustodyTable::TakeChanges() {
  Changes c;
  c.dropped.swap(dropped_);
  for (const MessageKey& k : changed_) {
    MessageCustody* m = Find(k);
    if (m == nullptr || !(m->flags_ & MessageCustody::kChanged)) continue;  // forgotten, or seen
    m->flags_ &= static_cast<uint8_t>(~MessageCustody::kChanged);
    c.stored.push_back({m->bucket_, k});
  }
  changed_.clear();
  // In key order, the rows land on neighbouring pages one after the other.
  std::sort(c.dropped.begin(), c.dropped.end());
  std::sort(c.stored.begin(), c.stored.end());
  return c;
}

}  // namespace edi
