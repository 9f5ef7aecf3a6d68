// ExpiryIndex: the keys of a table by hour of event time, so that forgetting the entries
// untouched for the TTL looks only at the hours the cutoff has passed instead of at the whole
// table.
//
// Each entry is listed once, under an hour no later than that of its last-touch time: the hour
// it was created (or loaded) in. Touches do not move the listing; when expiry reaches the
// listed hour and finds the entry touched since, it lists it again under the hour of its
// last-touch time. So an entry is looked at no more than once per TTL unless it expires, and an
// entry last touched before the cutoff is always listed under an hour that began before it.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "common/time.h"

namespace edi {

template <class Key>
class ExpiryIndex {
 public:
  // The hour of event time t (rounded down, also before the epoch).
  static int64_t Hour(EventTime t) {
    const int64_t h = t / kMillisPerHour;
    return (t % kMillisPerHour < 0) ? h - 1 : h;
  }

  // Lists a new or loaded entry last touched at `t`.
  void Add(const Key& key, EventTime t) { by_hour_[Hour(t)].push_back(key); }

  // Visits every key listed under an hour that began before `cutoff`. check(key) forgets the
  // key's entry when it was last touched before the cutoff and then returns nullopt; otherwise
  // it returns the entry's last-touch time (nullopt too when there is no such entry any more).
  // Entries that stay are listed again under the hour of their last-touch time.
  template <class Check>
  void Expire(EventTime cutoff, Check check) {
    const int64_t cutoff_hour = Hour(cutoff);
    while (!by_hour_.empty() && by_hour_.begin()->first <= cutoff_hour) {
      auto it = by_hour_.begin();
      const int64_t hour = it->first;
      std::deque<Key>& keys = it->second;
      if (hour < cutoff_hour) {
        // The whole hour is before the cutoff: whatever stays was touched in a later hour (the
        // cutoff's own hour at the earliest, visited next).
        for (const Key& k : keys) {
          if (const std::optional<EventTime> t = check(k)) Add(k, *t);
        }
        by_hour_.erase(it);
        continue;
      }
      // The cutoff's own hour: entries still last touched in it stay listed here.
      size_t kept = 0;
      for (size_t i = 0; i < keys.size(); ++i) {
        const std::optional<EventTime> t = check(keys[i]);
        if (!t) continue;
        if (Hour(*t) == hour) {
          keys[kept++] = keys[i];
        } else {
          Add(keys[i], *t);
        }
      }
      keys.resize(kept);
      if (keys.empty()) by_hour_.erase(it);
      break;
    }
  }

  // Listings in all (one per entry, more only for a key forgotten and created again).
  size_t listed() const {
    size_t n = 0;
    for (const auto& [hour, keys] : by_hour_) n += keys.size();
    return n;
  }

 private:
  std::map<int64_t, std::deque<Key>> by_hour_;
};

}  // namespace edi
