#include "state/custody.h"

#include <algorithm>
#include <cstdio>

namespace edi {
namespace {
int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

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
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return buf;
}

bool MessageCustody::IsReceiver(HerId p) const {
  return std::find(receivers.begin(), receivers.end(), p) != receivers.end();
}

bool MessageCustody::Did(CustodyActKind kind, HerId p, ClientIdx client) const {
  for (const CustodyAct& a : acts) {
    if (a.kind == kind && a.client == client && (a.receiver == p || a.receiver == 0)) return true;
  }
  return false;
}

bool MessageCustody::DidOther(CustodyActKind kind, HerId p, ClientIdx except,
                              ClientIdx* who) const {
  for (const CustodyAct& a : acts) {
    if (a.kind == kind && a.client != except && (a.receiver == p || a.receiver == 0)) {
      if (who != nullptr) *who = a.client;
      return true;
    }
  }
  return false;
}

MessageCustody* CustodyTable::Find(const MessageKey& k) {
  auto it = messages_.find(k);
  return it == messages_.end() ? nullptr : &it->second;
}

const MessageCustody* CustodyTable::Find(const MessageKey& k) const {
  auto it = messages_.find(k);
  return it == messages_.end() ? nullptr : &it->second;
}

MessageCustody& CustodyTable::Touch(const MessageKey& k, EventTime t) {
  auto [it, inserted] = messages_.try_emplace(k);
  MessageCustody& m = it->second;
  if (inserted) m.first_seen = t;
  m.first_seen = std::min(m.first_seen, t);
  m.last_seen = std::max(m.last_seen, t);
  return m;
}

void CustodyTable::Learn(MessageCustody& m, ClientIdx sender_client, std::optional<HerId> sender,
                         const std::vector<HerId>& receivers, bool is_apprec) {
  m.known = true;
  m.is_apprec = m.is_apprec || is_apprec;
  if (sender_client != kNoClient) m.sender_client = sender_client;
  if (sender && *sender > 0) m.sender = *sender;
  for (HerId r : receivers) {
    if (!m.IsReceiver(r)) m.receivers.push_back(r);
  }
}

void CustodyTable::Expire(EventTime cutoff, std::vector<MessageKey>* expired) {
  for (auto it = messages_.begin(); it != messages_.end();) {
    if (it->second.last_seen < cutoff) {
      expired->push_back(it->first);
      it = messages_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace edi
