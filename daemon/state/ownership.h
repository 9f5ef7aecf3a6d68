// Ownership statistics: per party, which clients act for it, how often, and since when —
// enough to name the learned owner, the clients of the last days, and the pairs
// (client, party) seen for the first time (shared/DETECTIONS.md "Owner", the posture and
// anomaly rules).
//
// Owner actions are counted per 6-hour period of event time (kOwnerCountPeriod), so "the last
// 14 days" means the periods wholly within them: 14 days less at most 6 hours. Statistics of a
// party not touched for the TTL are forgotten; first-seen pairs are kept (they are what "never
// acted for it before" means). Not thread-safe.
#pragma once

#include <climits>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/time.h"
#include "decode/access_event.h"
#include "state/expiry_index.h"
#include "state/interner.h"
#include "state/state_options.h"

namespace edi {

// Owner actions are counted per period of event time: the learning window (14 days) is counted
// in whole periods, so it reaches back 14 days less at most a period. (Per hour cost a sixth
// more time and memory at 10 million records; per day the window lost up to a day.)
inline constexpr EventTime kOwnerCountPeriod = 6 * kMillisPerHour;

// Successful owner actions in one period of event time.
struct PeriodCount {
  int32_t period = 0;  // event time / kOwnerCountPeriod
  uint32_t count = 0;
};

struct ClientOnParty {
  ClientIdx client = kNoClient;
  // The last successful owner action while the party was unlocked (the shared window's),
  // 0 = none.
  EventTime last_owner_action = 0;
  std::vector<PeriodCount> owner_actions;  // successful owner actions per period, oldest first
  // The count of owner_actions from period `sum_from` on, kept up to date as actions come and
  // periods go, so that the learned owner is not summed period by period for every call (not
  // stored; kNoSum until first asked).
  static constexpr int32_t kNoSum = INT32_MIN;
  mutable int32_t sum_from = kNoSum;
  mutable uint64_t sum = 0;
  // The count from period `first_period` on. Const, but it updates the cache above: a thread
  // other than the state's would need a lock or a copy of its own.
  uint64_t CountFrom(int32_t first_period) const;
};

struct PartyStats {
  EventTime last_touch = 0;
  std::vector<ClientOnParty> clients;

  const ClientOnParty* Find(ClientIdx c) const;
};

class OwnershipStats {
 public:
  explicit OwnershipStats(const StateOptions& options) : options_(&options) {}

  const PartyStats* Find(HerId p) const;
  // The learned owner of p at time t, or kNoClient.
  ClientIdx LearnedOwner(HerId p, EventTime t) const;
  // Distinct clients with a successful owner action on p within the shared window ending at t.
  uint32_t ClientsInWindow(HerId p, EventTime t) const;
  // Did `client` make a successful owner action on p within the shared window before t?
  bool ActiveInWindow(HerId p, ClientIdx client, EventTime t) const;
  // The three above for the statistics Find(p) returned (nullptr: none), which looks p up once.
  ClientIdx LearnedOwner(const PartyStats* s, EventTime t) const;
  uint32_t ClientsInWindow(const PartyStats* s, EventTime t) const;
  bool ActiveInWindow(const PartyStats* s, ClientIdx client, EventTime t) const;
  bool PairSeen(ClientIdx client, HerId p) const;
  // Parties new to `client` within the sweep window ending at t.
  uint32_t NewPartiesInWindow(ClientIdx client, EventTime t) const;

  // Records a successful call by `client` for p; an owner action on a party `unlocked` when
  // called (or locked to `client` itself) counts for the shared window too. Returns true when
  // the pair is new.
  bool RecordSuccess(ClientIdx client, HerId p, bool owner_action, EventTime t,
                     bool unlocked = true);

  // Forgets party statistics untouched since `cutoff`; appends their HER-Ids to *expired.
  void Expire(EventTime cutoff, std::vector<HerId>* expired);

  // Persistence access.
  const std::unordered_map<HerId, PartyStats>& parties() const { return parties_; }
  void PutParty(HerId p, PartyStats s) {
    expiry_.Add(p, s.last_touch);
    parties_[p] = std::move(s);
  }
  void PutPair(ClientIdx c, HerId p) { pairs_.insert(PairKey(c, p)); }
  const std::unordered_map<ClientIdx, std::deque<EventTime>>& sweeps() const { return sweeps_; }
  void PutSweep(ClientIdx c, std::deque<EventTime> times) { sweeps_[c] = std::move(times); }
  size_t pair_count() const { return pairs_.size(); }

  static uint64_t PairKey(ClientIdx c, HerId p) {
    return (static_cast<uint64_t>(c) << 40) ^ static_cast<uint64_t>(p);
  }

 private:
  const StateOptions* options_;
  std::unordered_map<HerId, PartyStats> parties_;
  ExpiryIndex<HerId> expiry_;  // parties by hour of last_touch
  std::unordered_set<uint64_t> pairs_;
  std::unordered_map<ClientIdx, std::deque<EventTime>> sweeps_;  // first-seen times, windowed
};

}  // namespace edi
