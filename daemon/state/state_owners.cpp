// Whose parties are whose, as the state reads it: the snapshot's reservations becoming locks,
// the herid claim lists a client's calls had over time, and which parties a client answers
// for (now, or as of an earlier call of its).
#include <algorithm>

#include "state/state.h"

namespace edi {

void AuditState::ApplyReservations() { PendReservationsAfter(INT64_MIN); }

void AuditState::set_registry(std::shared_ptr<const Registry> r) {
  registry_ = std::move(r);
  PendReservationsAfter(first_time_ == 0 ? INT64_MIN : max_time_);
}

void AuditState::PendReservationsAfter(EventTime t) {
  pending_reservations_.clear();
  for (const Reservation& r : registry_->reservations()) {
    if (r.since > t) pending_reservations_.push_back(r);
  }
  std::stable_sort(pending_reservations_.begin(), pending_reservations_.end(),
                   [](const Reservation& a, const Reservation& b) { return a.since > b.since; });
}

void AuditState::ActivateReservations(EventTime now) {
  while (!pending_reservations_.empty() && pending_reservations_.back().since <= now) {
    const Reservation& r = pending_reservations_.back();
    // A lock the log showed taken after the reservation's `since` is newer than it.
    const Lock* observed = locks_.Find(r.her_id);
    if (observed == nullptr || observed->since <= r.since) {
      FreshReservation& fresh = fresh_reservations_[r.her_id];
      fresh.before = observed ? std::optional<Lock>(*observed) : std::nullopt;
      fresh.until = r.since + kReservationGrace;
      fresh.holder = clients_.Intern(r.client_id);
      locks_.Acquire(r.her_id, fresh.holder, r.since);
      dirty_locks_.insert(r.her_id);
    }
    pending_reservations_.pop_back();
  }
}

void AuditState::UndoFreshReservations(const AccessEvent& e, ClientIdx client) {
  std::erase_if(fresh_reservations_, [&](const auto& f) { return f.second.until < max_time_; });
  if (e.action != Action::kConfigWrite || !e.Succeeded()) return;
  for (const MshConfiguration& c : e.configurations) {
    auto it = fresh_reservations_.find(c.her_id);
    if (it == fresh_reservations_.end() || !c.client_locked || !*c.client_locked ||
        it->second.holder != client || e.time > it->second.until) {
      continue;
    }
    // Taken over since: the lock this call replaces is that one, not the one before.
    if (const Lock* now = locks_.Find(c.her_id); now != nullptr && now->holder != client) {
      fresh_reservations_.erase(it);
      continue;
    }
    // The holder's own call that took the lock: judged against the locks before it.
    if (it->second.before) {
      locks_.Put(c.her_id, *it->second.before);
    } else {
      locks_.Release(c.her_id);
    }
    dirty_locks_.insert(c.her_id);
    fresh_reservations_.erase(it);
  }
}

bool AuditState::AnswersFor(HerId p, ClientIdx client, const AccessEvent& e) const {
  // A herid claim list says which parties the client answers for; ownership only where there
  // is none: the lock holder, else the declared owner, else the learned one.
  if (e.client.her_id_claim && *e.client.her_id_claim != "0") {
    return ClaimCovers(*e.client.her_id_claim, p);
  }
  if (const Lock* l = locks_.Find(p)) return l->holder == client;
  if (const std::string* declared = registry_->DeclaredOwner(p)) {
    return *declared == e.client.client_id;
  }
  return ownership_.LearnedOwner(p, e.time) == client;
}

const std::string* AuditState::ClaimAt(ClientIdx client, EventTime t) const {
  if (client >= claim_history_.size()) return nullptr;
  const auto& history = claim_history_[client];
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->first <= t) return &it->second;
  }
  return nullptr;
}

void AuditState::NoteClaim(ClientIdx client, const std::string& claim, EventTime t) {
  if (client >= claim_history_.size()) claim_history_.resize(client + 1);
  auto& history = claim_history_[client];
  const std::string* now = ClaimAt(client, t);
  if (now != nullptr && *now == claim) return;
  auto at = std::upper_bound(history.begin(), history.end(), t,
                             [](EventTime x, const auto& entry) { return x < entry.first; });
  if (at != history.begin() && (at - 1)->first == t) {
    (at - 1)->second = std::string(kUnsureClaim);  // two lists at one time: which is unsure
  } else {
    history.insert(at, {t, claim});
  }
  if (history.size() > kClaimHistory) {
    // The two oldest become one that is unsure: dropping the oldest would let a call made
    // then be judged by a lock instead of the list it had.
    history[1] = {history[0].first, std::string(kUnsureClaim)};
    history.erase(history.begin());
  }
  dirty_claims_.insert(client);
}

PartyOwner AuditState::OwnerOf(HerId p, ClientIdx client, EventTime act_time, EventTime now) const {
  // Its own party only on evidence the client had when it acted: its herid claim list then
  // (which decides, as in AnswersFor), a lock it held since then, a declared ownership; not
  // what it gained later (a lock, a list, polls making it the learned owner).
  if (const std::string* claim = ClaimAt(client, act_time); claim && !claim->empty()) {
    if (*claim == kUnsureClaim) return PartyOwner::kUnknown;
    return ClaimCovers(*claim, p) ? PartyOwner::kClients : PartyOwner::kOthers;
  }
  if (const Lock* l = locks_.Find(p)) {
    if (l->holder != client) return PartyOwner::kOthers;
    return l->since <= act_time ? PartyOwner::kClients : PartyOwner::kUnknown;
  }
  if (const std::string* declared = registry_->DeclaredOwner(p)) {
    return *declared == clients_.Name(client) ? PartyOwner::kClients : PartyOwner::kOthers;
  }
  const ClientIdx learned = ownership_.LearnedOwner(p, now);
  return learned == kNoClient || learned == client ? PartyOwner::kUnknown : PartyOwner::kOthers;
}

}  // namespace edi
