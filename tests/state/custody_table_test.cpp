#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <random>

#include "state/custody.h"

namespace edi {
namespace {

constexpr EventTime kT0 = 1777777777000;

MessageKey Key(uint64_t n) { return MessageKey{n * 0x100000001ull, ~n}; }

TEST(MessageKeyTest, ToStringWritesTheLowerCaseUuidThatParsesBack) {
  MessageKey k;
  ASSERT_TRUE(MessageKey::Parse("3E0B7F4D-5A6C-4D8E-9F90-0B1C2D3E4F04", &k));
  EXPECT_EQ(k.ToString(), "3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04");
  EXPECT_EQ(MessageKey{}.ToString(), "00000000-0000-0000-0000-000000000000");
  const MessageKey all{~0ull, ~0ull};
  EXPECT_EQ(all.ToString(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const MessageKey key{rng(), rng()};
    MessageKey back;
    ASSERT_TRUE(MessageKey::Parse(key.ToString(), &back));
    EXPECT_EQ(back, key);
  }
}

// In these tests organisation n covers the parties n*100 .. n*100+99.
bool Covers(OrgNumber org, HerId p) { return p >= 0 && static_cast<OrgNumber>(p) / 100 == org; }
const OrgCovers kCovers = Covers;

// What the table must answer, computed the plain way from a spelled-out record.
bool RefDid(const CustodyRecord& r, CustodyActKind kind, HerId p, ClientIdx client, bool others,
            ClientIdx* who) {
  const bool is_receiver =
      std::find(r.receivers.begin(), r.receivers.end(), p) != r.receivers.end();
  for (const CustodyAct& a : r.acts) {
    if (a.kind != kind || (others ? a.client == client : a.client != client)) continue;
    bool counts = a.receiver == p || (a.receiver == 0 && a.org == 0);
    if (a.receiver == 0 && a.org != 0) {
      // Seen before the receivers: for those its organisation covers (any it covers, while not
      // all receivers are known), or, once all are known, for all when it covers none.
      const bool covers_any = std::any_of(r.receivers.begin(), r.receivers.end(),
                                          [&](HerId q) { return Covers(a.org, q); });
      if (!is_receiver && r.receivers_complete) {
        counts = false;
      } else if (Covers(a.org, p)) {
        counts = true;
      } else {
        counts = is_receiver && r.receivers_complete && !covers_any;
      }
    }
    if (!counts) continue;
    if (who != nullptr) *who = a.client;
    return true;
  }
  return false;
}

void ExpectAnswersLike(const MessageCustody& m, const CustodyRecord& r) {
  ASSERT_EQ(m.Record(), r);
  EXPECT_EQ(m.first_seen(), r.first_seen);
  EXPECT_EQ(m.last_seen(), r.last_seen);
  EXPECT_EQ(m.known(), r.known);
  EXPECT_EQ(m.is_apprec(), r.is_apprec);
  EXPECT_EQ(m.sender_client(), r.sender_client);
  EXPECT_EQ(m.sender(), r.sender);
  EXPECT_EQ(m.receivers(), r.receivers);
  EXPECT_EQ(m.receiver_count(), r.receivers.size());
  std::vector<HerId> parties = r.receivers;
  parties.push_back(0);
  parties.push_back(987654321);
  for (const CustodyAct& a : r.acts) parties.push_back(a.receiver);
  for (HerId p : parties) {
    EXPECT_EQ(m.IsReceiver(p),
              std::find(r.receivers.begin(), r.receivers.end(), p) != r.receivers.end());
    for (int k = 0; k < 3; ++k) {
      const auto kind = static_cast<CustodyActKind>(k);
      for (ClientIdx c : {ClientIdx{1}, ClientIdx{2}, ClientIdx{3}}) {
        EXPECT_EQ(m.Did(kind, p, c, kCovers), RefDid(r, kind, p, c, false, nullptr))
            << "party " << p << " client " << c << " kind " << k;
        ClientIdx who = kNoClient, ref_who = kNoClient;
        EXPECT_EQ(m.DidOther(kind, p, c, &who, kCovers), RefDid(r, kind, p, c, true, &ref_who))
            << "party " << p << " client " << c << " kind " << k;
        EXPECT_EQ(who, ref_who);
      }
    }
  }
}

TEST(CustodyTable, KeepsEveryValueExactlyHoweverLargeOrFarApart) {
  CustodyRecord r;
  r.first_seen = kT0;
  r.last_seen = kT0 + 400 * kMillisPerDay;  // offsets beyond 32 bits
  r.known = true;
  r.receivers_complete = true;
  r.sender_client = std::numeric_limits<ClientIdx>::max();
  r.sender = std::numeric_limits<HerId>::max();
  r.receivers = {101, -7, 0, std::numeric_limits<HerId>::min(), 101000000};
  r.acts = {
      {1, CustodyActKind::kDownload, 0, kT0 - 5 * kMillisPerDay},  // before first_seen
      {std::numeric_limits<ClientIdx>::max(), CustodyActKind::kApprec, -7, kT0},
      {2, CustodyActKind::kMarkDownloaded, 555, kT0 + 60 * kMillisPerDay},  // not a receiver
      {3, CustodyActKind::kDownload, std::numeric_limits<HerId>::min(),
       std::numeric_limits<EventTime>::max()},
      {3, CustodyActKind::kApprec, 101000000, std::numeric_limits<EventTime>::min()},
      {2, CustodyActKind::kDownload, 0, kT0 + 3, 1010000},  // covers 101000000
      {1, CustodyActKind::kDownload, 0, kT0 + 4, 999999999},
  };
  CustodyTable t;
  for (uint32_t bucket : {0u, CustodyTable::BucketOf(kT0), std::numeric_limits<uint32_t>::max()}) {
    t.Put(Key(bucket), bucket, r);
    const MessageCustody* m = t.Find(Key(bucket));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->bucket(), bucket);
    ExpectAnswersLike(*m, r);
  }
}

TEST(CustodyTable, AReceiverLearnedAfterAnActStillMatchesIt) {
  CustodyTable t;
  MessageCustody& m = t.Touch(Key(1), kT0);
  t.AddAct(m, {1, CustodyActKind::kDownload, 202, kT0 + 1});
  t.Learn(m, 4, 101, {101, 202, 101}, true, false);
  CustodyRecord r;
  r.first_seen = kT0;
  r.last_seen = kT0;
  r.known = true;
  r.receivers_complete = true;
  r.sender_client = 4;
  r.sender = 101;
  r.receivers = {101, 202};
  r.acts = {{1, CustodyActKind::kDownload, 202, kT0 + 1}};
  ExpectAnswersLike(m, r);
}

TEST(CustodyTable, ADownloadBeforeTheReceiversCountsForThoseItsOrganisationCovers) {
  CustodyTable t;
  MessageCustody& m = t.Touch(Key(1), kT0);
  t.AddAct(m, {1, CustodyActKind::kDownload, 0, kT0, 2});      // org 2 covers 2xx
  t.AddAct(m, {2, CustodyActKind::kDownload, 0, kT0 + 1, 7});  // org 7 covers none
  t.AddAct(m, {3, CustodyActKind::kDownload, 0, kT0 + 2, 0});  // organisation unknown
  EXPECT_EQ(m.Record().acts[0].org, 2u);
  // One receiver known (a poll for it): org 7's act counts for no receiver yet, org 2's for
  // the receiver it covers once that is known.
  t.Learn(m, kNoClient, std::nullopt, {101}, false, false);
  EXPECT_FALSE(m.Did(CustodyActKind::kDownload, 101, 2, kCovers));
  EXPECT_FALSE(m.Did(CustodyActKind::kDownload, 101, 1, kCovers));
  // 202 is no receiver known yet, but may be one: org 2 covers it.
  EXPECT_TRUE(m.Did(CustodyActKind::kDownload, 202, 1, kCovers));
  EXPECT_FALSE(m.Did(CustodyActKind::kDownload, 303, 1, kCovers));
  ExpectAnswersLike(m, m.Record());
  t.Learn(m, 4, 101, {101, 202}, true, false);
  EXPECT_FALSE(m.Did(CustodyActKind::kDownload, 101, 1, kCovers));
  EXPECT_TRUE(m.Did(CustodyActKind::kDownload, 202, 1, kCovers));
  EXPECT_TRUE(m.Did(CustodyActKind::kDownload, 101, 2, kCovers));  // outside: for all
  EXPECT_TRUE(m.Did(CustodyActKind::kDownload, 202, 2, kCovers));
  EXPECT_FALSE(m.Did(CustodyActKind::kDownload, 303, 2, kCovers));  // not a receiver
  EXPECT_TRUE(m.Did(CustodyActKind::kDownload, 101, 3, kCovers));   // unknown: for all
  ClientIdx who = kNoClient;
  EXPECT_TRUE(m.DidOther(CustodyActKind::kDownload, 202, 2, &who, kCovers));
  EXPECT_EQ(who, 1u);
  CustodyRecord r = m.Record();
  ExpectAnswersLike(m, r);
  // A receiver learned later is judged the same way.
  t.Learn(m, kNoClient, std::nullopt, {250, 103}, false, false);
  EXPECT_TRUE(m.Did(CustodyActKind::kDownload, 250, 1, kCovers));
  EXPECT_FALSE(m.Did(CustodyActKind::kDownload, 103, 1, kCovers));
  ExpectAnswersLike(m, m.Record());
}

TEST(CustodyTable, TheBucketIsTheCreationHourAndAnEarlierRecordLowersOnlyFirstSeen) {
  CustodyTable t;
  const EventTime created = kT0 + 10 * kMillisPerMinute;
  t.Touch(Key(1), created);
  t.Touch(Key(1), created + 3 * kMillisPerHour);
  MessageCustody& m = t.Touch(Key(1), created - 2 * kMillisPerHour);  // out of order
  t.AddAct(m, {1, CustodyActKind::kDownload, 0, created});
  EXPECT_EQ(m.bucket(), CustodyTable::BucketOf(created));
  EXPECT_EQ(m.bucket(), static_cast<uint32_t>(created / kMillisPerMinute));
  EXPECT_EQ(m.first_seen(), created - 2 * kMillisPerHour);
  EXPECT_EQ(m.last_seen(), created + 3 * kMillisPerHour);
  t.Touch(Key(1), created - 3 * kMillisPerHour);  // re-bases the acts' times
  EXPECT_EQ(t.Find(Key(1))->Record().acts.at(0).time, created);
}

TEST(CustodyTable, ReportsChangedAndForgottenRowsOnceAndInKeyOrder) {
  CustodyTable t;
  t.Touch(Key(3), kT0);
  t.Touch(Key(1), kT0);
  t.Refresh(Key(3), kT0 + 1);
  t.Refresh(Key(9), kT0 + 1);  // unknown: nothing
  const uint32_t b = CustodyTable::BucketOf(kT0);
  CustodyTable::Changes c = t.TakeChanges();
  EXPECT_TRUE(c.dropped.empty());
  ASSERT_EQ(c.stored.size(), 2u);
  EXPECT_TRUE(c.stored[0] < c.stored[1]);
  EXPECT_EQ(c.stored[0].bucket, b);
  EXPECT_TRUE(t.TakeChanges().stored.empty());

  // Forgotten, then created again in a later hour within one batch: both rows.
  EXPECT_EQ(t.Expire(kT0 + 2), 2u);
  const EventTime later = kT0 + 5 * kMillisPerHour;
  t.Touch(Key(3), later);
  c = t.TakeChanges();
  ASSERT_EQ(c.dropped.size(), 2u);
  EXPECT_EQ(c.dropped[0].bucket, b);
  ASSERT_EQ(c.stored.size(), 1u);
  EXPECT_EQ(c.stored[0].bucket, CustodyTable::BucketOf(later));
  EXPECT_EQ(c.stored[0].key, Key(3));

  // Loading is not a change.
  t.Put(Key(5), 7, CustodyRecord{});
  EXPECT_TRUE(t.TakeChanges().stored.empty());
}

TEST(CustodyTable, MatchesAPlainMapThroughGrowthExpiryAndLongHistories) {
  std::mt19937_64 rng(42);
  CustodyTable t;
  std::map<MessageKey, CustodyRecord> ref;
  EventTime now = kT0;
  const EventTime ttl = 6 * kMillisPerHour;
  size_t expired = 0;
  for (int step = 0; step < 200000; ++step) {
    now += static_cast<EventTime>(rng() % 2000);
    // Sequential keys crowd the index; reused keys come back after expiry; a few hot ones
    // collect dozens of acts, so that their bodies move to the heap.
    const MessageKey k = Key(rng() % 10 == 0 ? rng() % 20 : rng() % 20000);
    const EventTime at = now - static_cast<EventTime>(rng() % 60000);
    const auto client = static_cast<ClientIdx>(1 + rng() % 3);
    const HerId party = static_cast<HerId>(100 + rng() % 6);
    switch (rng() % 4) {
      case 0: {  // a send or poll listing
        MessageCustody& m = t.Touch(k, at);
        const std::vector<HerId> receivers = {party, party + 1};
        const bool apprec = rng() % 9 == 0;
        const bool all = rng() % 2 == 0;
        t.Learn(m, client, party + 2, receivers, all, apprec);
        auto [it, inserted] = ref.try_emplace(k);
        CustodyRecord& r = it->second;
        if (inserted) r.first_seen = r.last_seen = at;
        r.first_seen = std::min(r.first_seen, at);
        r.last_seen = std::max(r.last_seen, at);
        r.known = true;
        r.receivers_complete = r.receivers_complete || all;
        r.is_apprec = r.is_apprec || apprec;
        r.sender_client = client;
        r.sender = party + 2;
        for (HerId p : receivers) {
          if (std::find(r.receivers.begin(), r.receivers.end(), p) == r.receivers.end()) {
            r.receivers.push_back(p);
          }
        }
        break;
      }
      case 1:
      case 2: {  // an act
        MessageCustody& m = t.Touch(k, at);
        const CustodyAct a{client, static_cast<CustodyActKind>(rng() % 3),
                           rng() % 5 == 0 ? 0 : party, at};
        t.AddAct(m, a);
        auto [it, inserted] = ref.try_emplace(k);
        CustodyRecord& r = it->second;
        if (inserted) r.first_seen = r.last_seen = at;
        r.first_seen = std::min(r.first_seen, at);
        r.last_seen = std::max(r.last_seen, at);
        r.acts.push_back(a);
        break;
      }
      default: {
        t.Refresh(k, at);
        if (auto it = ref.find(k); it != ref.end()) {
          it->second.last_seen = std::max(it->second.last_seen, at);
        }
      }
    }
    if (step % 1000 == 0) {
      const EventTime cutoff = now - ttl;
      expired += t.Expire(cutoff);
      std::erase_if(ref, [cutoff](const auto& e) { return e.second.last_seen < cutoff; });
      ASSERT_EQ(t.size(), ref.size()) << "step " << step;
    }
  }
  EXPECT_GT(expired, 10000u);
  size_t seen = 0;
  t.ForEach([&](const MessageCustody& m) {
    ++seen;
    auto it = ref.find(m.key());
    ASSERT_NE(it, ref.end());
    ExpectAnswersLike(m, it->second);
  });
  EXPECT_EQ(seen, ref.size());
  for (const auto& [k, r] : ref) ASSERT_NE(t.Find(k), nullptr);
}

}  // namespace
}  // namespace edi
