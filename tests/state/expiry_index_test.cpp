#include "state/expiry_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

namespace edi {
namespace {

// A table with last-touch times, expired once through the index and once by a full scan.
struct Model {
  std::unordered_map<int, EventTime> last;
  ExpiryIndex<int> index;

  void Touch(int k, EventTime t) {
    auto [it, inserted] = last.try_emplace(k, t);
    if (inserted) {
      index.Add(k, t);
    } else {
      it->second = std::max(it->second, t);
    }
  }
  std::vector<int> Expire(EventTime cutoff) {
    std::vector<int> gone;
    index.Expire(cutoff, [&](int k) -> std::optional<EventTime> {
      auto it = last.find(k);
      if (it == last.end()) return std::nullopt;
      if (it->second >= cutoff) return it->second;
      gone.push_back(k);
      last.erase(it);
      return std::nullopt;
    });
    std::sort(gone.begin(), gone.end());
    return gone;
  }
};

std::vector<int> ScanExpire(std::unordered_map<int, EventTime>* last, EventTime cutoff) {
  std::vector<int> gone;
  for (auto it = last->begin(); it != last->end();) {
    if (it->second < cutoff) {
      gone.push_back(it->first);
      it = last->erase(it);
    } else {
      ++it;
    }
  }
  std::sort(gone.begin(), gone.end());
  return gone;
}

TEST(ExpiryIndex, HoursRoundDownAlsoBeforeTheEpoch) {
  EXPECT_EQ(ExpiryIndex<int>::Hour(0), 0);
  EXPECT_EQ(ExpiryIndex<int>::Hour(kMillisPerHour - 1), 0);
  EXPECT_EQ(ExpiryIndex<int>::Hour(kMillisPerHour), 1);
  EXPECT_EQ(ExpiryIndex<int>::Hour(-1), -1);
  EXPECT_EQ(ExpiryIndex<int>::Hour(-kMillisPerHour), -1);
}

TEST(ExpiryIndex, ForgetsExactlyWhatAFullScanForgets) {
  std::mt19937_64 rng(7);
  Model m;
  std::unordered_map<int, EventTime> reference;
  EventTime now = 1777777777000;
  const EventTime ttl = 5 * kMillisPerHour + 123;
  for (int step = 0; step < 20000; ++step) {
    now += static_cast<EventTime>(rng() % 60000);
    // Keys are reused after they expire; times are up to 20 minutes out of order.
    const int k = static_cast<int>(rng() % 3000);
    const EventTime t = now - static_cast<EventTime>(rng() % (20 * kMillisPerMinute));
    m.Touch(k, t);
    auto [it, inserted] = reference.try_emplace(k, t);
    if (!inserted) it->second = std::max(it->second, t);
    if (step % 97 == 0) {
      const EventTime cutoff = now - ttl;
      ASSERT_EQ(m.Expire(cutoff), ScanExpire(&reference, cutoff)) << "step " << step;
      ASSERT_EQ(m.last, reference);
    }
  }
  EXPECT_EQ(m.index.listed(), m.last.size());
}

TEST(ExpiryIndex, ACutoffInsideAnHourKeepsTheLaterEntriesOfThatHour) {
  Model m;
  const EventTime h = 400000 * kMillisPerHour;
  m.Touch(1, h + 10);
  m.Touch(2, h + 20);
  m.Touch(3, h + 30);
  EXPECT_EQ(m.Expire(h + 20), std::vector<int>{1});
  EXPECT_EQ(m.Expire(h + 20), std::vector<int>{});
  m.Touch(3, h + kMillisPerHour + 5);  // moves to the next hour
  EXPECT_EQ(m.Expire(h + 31), std::vector<int>{2});
  EXPECT_EQ(m.Expire(h + kMillisPerHour + 5), std::vector<int>{});
  EXPECT_EQ(m.Expire(h + kMillisPerHour + 6), std::vector<int>{3});
  EXPECT_EQ(m.index.listed(), 0u);
}

}  // namespace
}  // namespace edi
