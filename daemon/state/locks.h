// LockTable: the reservations ("client locks") reconstructed from the configuration calls that
// succeeded — `clientLocked: true` locks a HER-Id to the calling client, `clientLocked: false`
// and `DELETE /mshconfigurations` release it — starting from the optional reservations.jsonl.
//
// For each locked party: the holder, since when, the holder's last activity for it, and how
// many calls of other clients were denied on it since then. Stale locks (no holder activity
// for `stale_after`) are found with a deadline heap as event time moves on. Not thread-safe.
#pragma once

#include <cstdint>
#include <queue>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "decode/access_event.h"
#include "state/interner.h"

namespace edi {

struct Lock {
  ClientIdx holder = kNoClient;
  EventTime since = 0;
  EventTime holder_last_activity = 0;
  uint32_t denied_others = 0;   // denied calls by other clients since the holder's last activity
  bool stale_reported = false;  // reported once per period of inactivity
};

class LockTable {
 public:
  explicit LockTable(EventTime stale_after) : stale_after_(stale_after) {}

  const Lock* Find(HerId p) const;
  // Locks p to `client` at t (a re-lock by the holder keeps `since`).
  void Acquire(HerId p, ClientIdx client, EventTime t);
  // Releases p; returns true when it was locked.
  bool Release(HerId p);
  // A call by `client` for p: holder activity resets the staleness clock; a denied call by
  // another client is counted.
  void OnCall(HerId p, ClientIdx client, bool denied, EventTime t);
  // Locks whose holder has been inactive for stale_after at event time t, each reported once.
  void CollectStale(EventTime t, std::vector<HerId>* stale);

  void Put(HerId p, const Lock& l);
  const std::unordered_map<HerId, Lock>& all() const { return locks_; }
  size_t size() const { return locks_.size(); }

 private:
  using Deadline = std::pair<EventTime, HerId>;
  EventTime stale_after_;
  std::unordered_map<HerId, Lock> locks_;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> deadlines_;
};

}  // namespace edi
