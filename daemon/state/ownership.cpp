#include "state/ownership.h"

#include <algorithm>

namespace edi {
namespace {
int32_t Period(EventTime t) { return static_cast<int32_t>(t / kOwnerCountPeriod); }
}  // namespace

const ClientOnParty* PartyStats::Find(ClientIdx c) const {
  for (const ClientOnParty& cp : clients) {
    if (cp.client == c) return &cp;
  }
  return nullptr;
}

const PartyStats* OwnershipStats::Find(HerId p) const {
  auto it = parties_.find(p);
  return it == parties_.end() ? nullptr : &it->second;
}

ClientIdx OwnershipStats::LearnedOwner(HerId p, EventTime t) const {
  return LearnedOwner(Find(p), t);
}

uint64_t ClientOnParty::CountFrom(int32_t first_period) const {
  if (sum_from == kNoSum || first_period < sum_from) {  // first asked, or for an earlier time
    sum = 0;
    for (const PeriodCount& d : owner_actions) {
      if (d.period >= first_period) sum += d.count;
    }
  } else {
    // Event time moved on: the periods that left the window leave the count.
    for (const PeriodCount& d : owner_actions) {
      if (d.period >= first_period) break;
      if (d.period >= sum_from) sum -= d.count;
    }
  }
  sum_from = first_period;
  return sum;
}

ClientIdx OwnershipStats::LearnedOwner(const PartyStats* s, EventTime t) const {
  if (s == nullptr) return kNoClient;
  // The periods wholly after t - learn_window.
  const int32_t first_period = Period(t - options_->learn_window) + 1;
  uint64_t total = 0, best = 0;
  ClientIdx best_client = kNoClient;
  for (const ClientOnParty& cp : s->clients) {
    const uint64_t n = cp.CountFrom(first_period);
    total += n;
    if (n > best) {
      best = n;
      best_client = cp.client;
    }
  }
  if (best < options_->learn_min_actions) return kNoClient;
  if (static_cast<double>(best) < options_->learn_min_share * static_cast<double>(total)) {
    return kNoClient;
  }
  return best_client;
}

uint32_t OwnershipStats::ClientsInWindow(HerId p, EventTime t) const {
  return ClientsInWindow(Find(p), t);
}

uint32_t OwnershipStats::ClientsInWindow(const PartyStats* s, EventTime t) const {
  if (s == nullptr) return 0;
  uint32_t n = 0;
  for (const ClientOnParty& cp : s->clients) {
    if (cp.last_owner_action > 0 && cp.last_owner_action > t - options_->shared_window) ++n;
  }
  return n;
}

bool OwnershipStats::ActiveInWindow(HerId p, ClientIdx client, EventTime t) const {
  return ActiveInWindow(Find(p), client, t);
}

bool OwnershipStats::ActiveInWindow(const PartyStats* s, ClientIdx client, EventTime t) const {
  if (s == nullptr) return false;
  const ClientOnParty* cp = s->Find(client);
  return cp != nullptr && cp->last_owner_action > 0 &&
         cp->last_owner_action > t - options_->shared_window;
}

bool OwnershipStats::PairSeen(ClientIdx client, HerId p) const {
  return pairs_.count(PairKey(client, p)) > 0;
}

uint32_t OwnershipStats::NewPartiesInWindow(ClientIdx client, EventTime t) const {
  auto it = sweeps_.find(client);
  if (it == sweeps_.end()) return 0;
  uint32_t n = 0;
  for (EventTime first : it->second) {
    if (first > t - options_->sweep_window) ++n;
  }
  return n;
}

bool OwnershipStats::RecordSuccess(ClientIdx client, HerId p, bool owner_action, EventTime t,
                                   bool unlocked) {
  const bool is_new = pairs_.insert(PairKey(client, p)).second;
  if (is_new) {
    std::deque<EventTime>& times = sweeps_[client];
    times.push_back(t);
    while (!times.empty() && times.front() <= t - options_->sweep_window) times.pop_front();
  }
  auto [entry, inserted] = parties_.try_emplace(p);
  PartyStats& s = entry->second;
  s.last_touch = std::max(s.last_touch, t);
  if (inserted) expiry_.Add(p, s.last_touch);
  if (!owner_action) return is_new;
  auto it = std::find_if(s.clients.begin(), s.clients.end(),
                         [client](const ClientOnParty& cp) { return cp.client == client; });
  if (it == s.clients.end()) {
    s.clients.emplace_back().client = client;
    it = s.clients.end() - 1;
  }
  if (unlocked) it->last_owner_action = std::max(it->last_owner_action, t);
  const int32_t period = Period(t);
  auto& periods = it->owner_actions;
  // Records arrive nearly in time order: the period is the last one or close to the end.
  auto pos = std::find_if(periods.rbegin(), periods.rend(), [period](const PeriodCount& h) {
               return h.period <= period;
             }).base();
  if (pos != periods.begin() && (pos - 1)->period == period) {
    ++(pos - 1)->count;
  } else {
    periods.insert(pos, PeriodCount{period, 1});
  }
  if (it->sum_from != ClientOnParty::kNoSum && period >= it->sum_from) ++it->sum;
  // Drop periods that no window can reach any more.
  const int32_t oldest = Period(t - options_->learn_window);
  while (!periods.empty() && periods.front().period < oldest) {
    if (it->sum_from != ClientOnParty::kNoSum && periods.front().period >= it->sum_from) {
      it->sum -= periods.front().count;
    }
    periods.erase(periods.begin());
  }
  return is_new;
}

void OwnershipStats::Expire(EventTime cutoff, std::vector<HerId>* expired) {
  expiry_.Expire(cutoff, [&](HerId p) -> std::optional<EventTime> {
    auto it = parties_.find(p);
    if (it == parties_.end()) return std::nullopt;
    if (it->second.last_touch >= cutoff) return it->second.last_touch;
    expired->push_back(p);
    parties_.erase(it);
    return std::nullopt;
  });
  // Sweep times are per client, and clients are few.
  for (auto it = sweeps_.begin(); it != sweeps_.end();) {
    if (it->second.empty() || it->second.back() < cutoff) {
      it = sweeps_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace edi
