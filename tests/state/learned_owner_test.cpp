// The learned owner of a party: kept as running counts per client, it must equal the count of
// the days in the window summed afresh, whatever order event time comes in.
#include "state/ownership.h"

#include <gtest/gtest.h>

#include <random>

namespace edi {
namespace {

// The learned owner summed day by day from the statistics as stored.
ClientIdx Summed(const PartyStats* s, const StateOptions& o, EventTime t) {
  if (s == nullptr) return kNoClient;
  const auto first_day = static_cast<int32_t>((t - o.learn_window) / kMillisPerDay) + 1;
  uint64_t total = 0, best = 0;
  ClientIdx best_client = kNoClient;
  for (const ClientOnParty& cp : s->clients) {
    uint64_t n = 0;
    for (const DayCount& d : cp.owner_actions) {
      if (d.day >= first_day) n += d.count;
    }
    total += n;
    if (n > best) {
      best = n;
      best_client = cp.client;
    }
  }
  if (best < o.learn_min_actions || static_cast<double>(best) < o.learn_min_share * total) {
    return kNoClient;
  }
  return best_client;
}

TEST(OwnershipStatsTest, TheLearnedOwnerFollowsTheWindowAsActionsComeAndDaysGo) {
  StateOptions o;
  o.learn_window = 3 * kMillisPerDay;
  o.learn_min_actions = 5;
  o.learn_min_share = 0.6;
  OwnershipStats stats(o);
  std::mt19937 rng(7);
  const HerId party = 8142520;
  EventTime t = 20 * kMillisPerDay;
  int owned = 0, none = 0;
  for (int i = 0; i < 20000; ++i) {
    t += static_cast<EventTime>(rng() % (2 * kMillisPerHour));
    // Now and then a late record, up to two days back; the favourite client changes over time.
    const EventTime at =
        rng() % 10 == 0 ? t - static_cast<EventTime>(rng() % (2 * kMillisPerDay)) : t;
    const ClientIdx favourite = 1 + static_cast<ClientIdx>((t / (4 * kMillisPerDay)) % 3);
    const ClientIdx client = rng() % 3 == 0 ? 1 + static_cast<ClientIdx>(rng() % 3) : favourite;
    stats.RecordSuccess(client, party, rng() % 4 != 0, at);
    // Asked mostly for now, sometimes for a moment up to three days back.
    const EventTime asked =
        rng() % 8 == 0 ? t - static_cast<EventTime>(rng() % (3 * kMillisPerDay)) : t;
    const ClientIdx expected = Summed(stats.Find(party), o, asked);
    ASSERT_EQ(stats.LearnedOwner(party, asked), expected) << "call " << i;
    (expected == kNoClient ? none : owned)++;
  }
  // Both answers are common, so the comparison covers owners being learned and lost.
  EXPECT_GT(owned, 2000);
  EXPECT_GT(none, 500);
}

}  // namespace
}  // namespace edi
