#include "state/locks.h"

#include <algorithm>

namespace edi {

const Lock* LockTable::Find(HerId p) const {
  auto it = locks_.find(p);
  return it == locks_.end() ? nullptr : &it->second;
}

void LockTable::Acquire(HerId p, ClientIdx client, EventTime t) {
  Lock& l = locks_[p];
  if (l.holder != client) {
    l = Lock{client, t, t, 0, false};
    deadlines_.emplace(t + stale_after_, p);
  } else {
    OnCall(p, client, false, t);
  }
}

bool LockTable::Release(HerId p) { return locks_.erase(p) > 0; }

void LockTable::OnCall(HerId p, ClientIdx client, bool denied, EventTime t) {
  auto it = locks_.find(p);
  if (it == locks_.end()) return;
  Lock& l = it->second;
  if (client == l.holder) {
    if (t > l.holder_last_activity) {
      l.holder_last_activity = t;
      l.denied_others = 0;
      if (l.stale_reported) {
        l.stale_reported = false;
        deadlines_.emplace(t + stale_after_, p);
      }
    }
  } else if (denied) {
    ++l.denied_others;
  }
}

void LockTable::CollectStale(EventTime t, std::vector<HerId>* stale) {
  while (!deadlines_.empty() && deadlines_.top().first <= t) {
    const HerId p = deadlines_.top().second;
    deadlines_.pop();
    auto it = locks_.find(p);
    if (it == locks_.end() || it->second.stale_reported) continue;
    const EventTime due = it->second.holder_last_activity + stale_after_;
    if (due > t) {
      deadlines_.emplace(due, p);  // the holder was active since: check again later
      continue;
    }
    it->second.stale_reported = true;
    stale->push_back(p);
    // After the report, the next check is when activity resumes and lapses again.
  }
}

void LockTable::Put(HerId p, const Lock& l) {
  locks_[p] = l;
  if (!l.stale_reported) deadlines_.emplace(l.holder_last_activity + stale_after_, p);
}

}  // namespace edi
