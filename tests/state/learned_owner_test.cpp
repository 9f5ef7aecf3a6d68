// The learned owner of a party: kept as running counts per client, it must equal the count of
// the periods in the window summed afresh, whatever order event time comes in.
#include "state/ownership.h"

#include <gtest/gtest.h>

#include <random>

namespace edi {
namespace {

// The learned owner summed period by period from the statistics as stored.
ClientIdx Summed(const PartyStats* s, const StateOptions& o, EventTime t) {
  if (s == nullptr) return kNoClient;
  const auto first_period = static_cast<int32_t>((t - o.learn_window) / kOwnerCountPeriod) + 1;
  uint64_t total = 0, best = 0;
  ClientIdx best_client = kNoClient;
  for (const ClientOnParty& cp : s->clients) {
    uint64_t n = 0;
    for (const PeriodCount& pc : cp.owner_actions) {
      if (pc.period >= first_period) n += pc.count;
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

TEST(OwnershipStatsTest, TheLearnedOwnerFollowsTheWindowAsActionsComeAndPeriodsGo) {
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

TEST(OwnershipStatsTest, TheWindowReachesBackFourteenDaysLessAtMostAPeriod) {
  StateOptions o;  // 14 days, 20 actions, 80 %
  OwnershipStats stats(o);
  const HerId party = 7100300;
  const EventTime t0 = 20000 * kMillisPerDay + 8 * kMillisPerHour;  // 08:00
  for (int i = 0; i < 20; ++i) stats.RecordSuccess(1, party, true, t0 + i);
  // 13 days 20 hours later the actions are within the last 14 days: counted. (Whole days
  // from midnight 13 days back counted them out.)
  EXPECT_EQ(stats.LearnedOwner(party, t0 + 13 * kMillisPerDay + 20 * kMillisPerHour), 1u);
  EXPECT_EQ(stats.LearnedOwner(party, t0 + 14 * kMillisPerDay - kOwnerCountPeriod), 1u);
  // Beyond 14 days they are not.
  EXPECT_EQ(stats.LearnedOwner(party, t0 + 14 * kMillisPerDay + kMillisPerHour), kNoClient);
}

}  // namespace
}  // namespace edi
