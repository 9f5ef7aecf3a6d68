#include "store/finding_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/time.h"
#include "detect/finding_tracker.h"
#include "store/migrations.h"
#include "store/store.h"

namespace edi {
namespace {

namespace fs = std::filesystem;

const EventTime kT0 = *ParseRfc3339("2026-05-08T08:32:15.310Z");

Finding MakeFinding(std::string rule, Severity severity, EventTime time, HerId her_id,
                    std::string client_id, std::string request_id, std::string message_id = "") {
  Finding f;
  f.rule = std::move(rule);
  f.severity = severity;
  f.time = time;
  f.last_seen = time;
  f.request_id = std::move(request_id);
  f.client_id = std::move(client_id);
  f.client_name = "Nursing EPJ Bergen";
  f.her_id = her_id;
  f.message_id = std::move(message_id);
  f.orgnr_parent = "964338531";
  f.party_top_orgnr = "964338531";
  f.action = "send";
  f.status = 201;
  f.summary = f.client_id + " sent for party " + std::to_string(her_id);
  f.tags = {"interference", "owner"};
  f.evidence = R"({"party.owner":"client-a","client.id":")" + f.client_id + R"("})";
  f.id = FindingId(f.rule, f.request_id, f.time, f.her_id, f.message_id);
  return f;
}

class FindingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::path(::testing::TempDir()) /
             (std::string("edi-findings-") + info->test_suite_name() + "-" + info->name() + ".db"))
                .string();
    RemoveDb();
    auto store = Store::Open(path_, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto findings = FindingStore::Open(store_->db());
    ASSERT_TRUE(findings.ok()) << findings.status().ToString();
    findings_ = std::move(*findings);
  }
  void TearDown() override {
    findings_.reset();
    store_.reset();
    RemoveDb();
  }
  void RemoveDb() {
    for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path_ + suffix);
  }

  // Inserts in one batch transaction, as the pipeline does.
  void InsertAll(const std::vector<Finding>& all) {
    ASSERT_TRUE(store_->Begin().ok());
    for (const Finding& f : all) {
      ASSERT_TRUE(findings_->Insert(f, DefaultRepeatKey(f)).ok()) << findings_->LastError();
    }
    ASSERT_TRUE(store_->Commit().ok());
  }

  std::vector<std::string> QueryIds(const FindingQuery& q) {
    std::vector<Finding> out;
    Status s = findings_->Query(q, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> ids;
    for (const Finding& f : out) ids.push_back(f.request_id);
    return ids;
  }

  // req-1 .. req-5, an hour apart, different rules, severities, parties, clients.
  void InsertFive() {
    InsertAll({
        MakeFinding("edi.foreign-send", Severity::kHigh, kT0, 100, "client-a", "req-1"),
        MakeFinding("edi.unknown-route", Severity::kLow, kT0 + 1 * kMillisPerHour, 0, "client-a",
                    "req-2"),
        MakeFinding("edi.acknowledged-without-download", Severity::kCritical,
                    kT0 + 2 * kMillisPerHour, 101, "client-b", "req-3", "m-3"),
        MakeFinding("edi.foreign-send", Severity::kHigh, kT0 + 3 * kMillisPerHour, 101, "client-b",
                    "req-4"),
        MakeFinding("edi.shared-party", Severity::kMedium, kT0 + 4 * kMillisPerHour, 100,
                    "client-c", "req-5"),
    });
  }

  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<FindingStore> findings_;
};

using Ids = std::vector<std::string>;

TEST_F(FindingStoreTest, AStoredFindingReadsBackFieldForField) {
  Finding f = MakeFinding("edi.foreign-download", Severity::kHigh, kT0, 8142520, "client-b",
                          "0HN3K2Q7E5T1V:00000011", "733be787-0f1e-4a8c-9f55-0a5c1b1d6a11");
  f.last_seen = kT0 + 5000;
  f.occurrences = 4;
  InsertAll({f});

  std::vector<Finding> out;
  ASSERT_TRUE(findings_->Query(FindingQuery{}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  const Finding& g = out[0];
  EXPECT_EQ(g.id, f.id);
  EXPECT_EQ(g.rule, f.rule);
  EXPECT_EQ(g.severity, f.severity);
  EXPECT_EQ(g.time, f.time);
  EXPECT_EQ(g.request_id, f.request_id);
  EXPECT_EQ(g.client_id, f.client_id);
  EXPECT_EQ(g.client_name, f.client_name);
  EXPECT_EQ(g.her_id, f.her_id);
  EXPECT_EQ(g.message_id, f.message_id);
  EXPECT_EQ(g.orgnr_parent, f.orgnr_parent);
  EXPECT_EQ(g.party_top_orgnr, f.party_top_orgnr);
  EXPECT_EQ(g.action, f.action);
  EXPECT_EQ(g.status, f.status);
  EXPECT_EQ(g.summary, f.summary);
  EXPECT_EQ(g.tags, f.tags);
  EXPECT_EQ(g.occurrences, 4u);
  EXPECT_EQ(g.last_seen, kT0 + 5000);
  EXPECT_EQ(g.evidence, f.evidence);
  EXPECT_FALSE(g.delivered);
}

TEST_F(FindingStoreTest, AFindingWithoutPartyOrMessageKeepsThemEmpty) {
  Finding f = MakeFinding("edi.unknown-route", Severity::kLow, kT0, 0, "client-a", "req-1");
  f.client_name.clear();
  f.tags.clear();
  f.evidence.clear();
  InsertAll({f});
  std::vector<Finding> out;
  ASSERT_TRUE(findings_->Query(FindingQuery{}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].her_id, 0);
  EXPECT_EQ(out[0].message_id, "");
  EXPECT_EQ(out[0].client_name, "");
  EXPECT_TRUE(out[0].tags.empty());
  EXPECT_EQ(out[0].evidence, "{}");
}

TEST_F(FindingStoreTest, EvidenceThatIsNotAJsonObjectIsKeptAsText) {
  Finding f = MakeFinding("edi.unknown-route", Severity::kLow, kT0, 0, "client-a", "req-1");
  f.evidence = "not json";
  InsertAll({f});
  std::vector<Finding> out;
  ASSERT_TRUE(findings_->Query(FindingQuery{}, &out).ok());
  EXPECT_EQ(out.at(0).evidence, R"({"text":"not json"})");
}

TEST_F(FindingStoreTest, TheSameFindingStoredTwiceIsKeptOnce) {
  const Finding f = MakeFinding("edi.foreign-send", Severity::kHigh, kT0, 100, "c", "req-1");
  ASSERT_TRUE(store_->Begin().ok());
  bool inserted = false;
  ASSERT_TRUE(findings_->Insert(f, "k", &inserted).ok());
  EXPECT_TRUE(inserted);
  ASSERT_TRUE(findings_->Insert(f, "k", &inserted).ok());
  EXPECT_FALSE(inserted);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(QueryIds({}), Ids({"req-1"}));
}

TEST_F(FindingStoreTest, ARolledBackBatchLeavesNoFindings) {
  ASSERT_TRUE(store_->Begin().ok());
  const Finding f = MakeFinding("edi.foreign-send", Severity::kHigh, kT0, 100, "c", "req-1");
  ASSERT_TRUE(findings_->Insert(f, DefaultRepeatKey(f)).ok());
  store_->Rollback();
  EXPECT_TRUE(QueryIds({}).empty());
}

TEST_F(FindingStoreTest, UpdateRepeatStoresOccurrencesAndLastSeen) {
  const Finding f = MakeFinding("edi.foreign-send", Severity::kHigh, kT0, 100, "c", "req-1");
  InsertAll({f});
  ASSERT_TRUE(findings_->UpdateRepeat(f.id, 7, kT0 + 30 * kMillisPerMinute).ok());
  std::vector<Finding> out;
  ASSERT_TRUE(findings_->Query(FindingQuery{}, &out).ok());
  EXPECT_EQ(out.at(0).occurrences, 7u);
  EXPECT_EQ(out.at(0).last_seen, kT0 + 30 * kMillisPerMinute);
  EXPECT_EQ(findings_->UpdateRepeat("f-0000000000000000", 2, kT0).code(), Status::Code::kNotFound);
}

TEST_F(FindingStoreTest, DeliveredFindingsAreNoLongerUndelivered) {
  InsertFive();
  std::vector<Finding> undelivered;
  ASSERT_TRUE(findings_->LoadUndelivered(&undelivered).ok());
  ASSERT_EQ(undelivered.size(), 5u);
  ASSERT_TRUE(findings_->MarkDelivered({undelivered[0].id, undelivered[2].id, "f-unknown"}).ok());
  undelivered.clear();
  ASSERT_TRUE(findings_->LoadUndelivered(&undelivered).ok());
  ASSERT_EQ(undelivered.size(), 3u);
  EXPECT_EQ(undelivered[0].request_id, "req-2");
  EXPECT_EQ(undelivered[1].request_id, "req-4");
  EXPECT_EQ(undelivered[2].request_id, "req-5");
}

TEST_F(FindingStoreTest, QueriesFilterByTimeRange) {
  InsertFive();
  FindingQuery q;
  q.since = kT0 + 1 * kMillisPerHour;  // inclusive
  q.until = kT0 + 3 * kMillisPerHour;  // exclusive
  EXPECT_EQ(QueryIds(q), Ids({"req-2", "req-3"}));
}

TEST_F(FindingStoreTest, QueriesFilterByRule) {
  InsertFive();
  FindingQuery q;
  q.rule = "edi.foreign-send";
  EXPECT_EQ(QueryIds(q), Ids({"req-1", "req-4"}));
}

TEST_F(FindingStoreTest, ASeverityFilterSelectsThatSeverityAndAbove) {
  InsertFive();
  FindingQuery q;
  q.min_severity = Severity::kHigh;
  EXPECT_EQ(QueryIds(q), Ids({"req-1", "req-3", "req-4"}));
  q.min_severity = Severity::kCritical;
  EXPECT_EQ(QueryIds(q), Ids({"req-3"}));
  q.min_severity = Severity::kInfo;
  EXPECT_EQ(QueryIds(q).size(), 5u);
}

TEST_F(FindingStoreTest, QueriesFilterByParty) {
  InsertFive();
  FindingQuery q;
  q.her_id = 101;
  EXPECT_EQ(QueryIds(q), Ids({"req-3", "req-4"}));
}

TEST_F(FindingStoreTest, QueriesFilterByClient) {
  InsertFive();
  FindingQuery q;
  q.client_ids = {"client-a"};
  EXPECT_EQ(QueryIds(q), Ids({"req-1", "req-2"}));
}

TEST_F(FindingStoreTest, QueriesFilterByAnyOfSeveralClients) {
  InsertFive();
  FindingQuery q;
  q.client_ids = {"client-a", "no-such-client", "client-b"};
  EXPECT_EQ(QueryIds(q), Ids({"req-1", "req-2", "req-3", "req-4"}));
}

TEST_F(FindingStoreTest, QueriesFilterByMessage) {
  InsertFive();
  FindingQuery q;
  q.message_id = "m-3";
  EXPECT_EQ(QueryIds(q), Ids({"req-3"}));
}

TEST_F(FindingStoreTest, ALimitKeepsTheNewestFindingsOldestFirst) {
  InsertFive();
  FindingQuery q;
  q.limit = 2;
  EXPECT_EQ(QueryIds(q), Ids({"req-4", "req-5"}));
  q.client_ids = {"client-a"};
  q.limit = 1;
  EXPECT_EQ(QueryIds(q), Ids({"req-2"}));
}

TEST_F(FindingStoreTest, FiltersCombine) {
  InsertFive();
  FindingQuery q;
  q.rule = "edi.foreign-send";
  q.her_id = 101;
  q.since = kT0;
  EXPECT_EQ(QueryIds(q), Ids({"req-4"}));
}

constexpr EventTime kNoLimit = INT64_MAX;

TEST_F(FindingStoreTest, TheLatestSeenIsTheLatestRepeatNotTheLatestFinding) {
  std::optional<EventTime> latest;
  ASSERT_TRUE(findings_->LatestSeen(kNoLimit, &latest).ok());
  EXPECT_FALSE(latest.has_value());
  Finding early = MakeFinding("edi.foreign-send", Severity::kHigh, kT0, 100, "c", "req-1");
  Finding later =
      MakeFinding("edi.foreign-send", Severity::kHigh, kT0 + 10 * kMillisPerMinute, 101, "c", "r2");
  InsertAll({early, later});
  ASSERT_TRUE(findings_->UpdateRepeat(early.id, 2, kT0 + 50 * kMillisPerMinute).ok());
  ASSERT_TRUE(findings_->LatestSeen(kNoLimit, &latest).ok());
  EXPECT_EQ(latest, kT0 + 50 * kMillisPerMinute);
  // A finding dated after the clock limit (a gateway's clock fault) is not where it stood.
  InsertAll({MakeFinding("edi.foreign-send", Severity::kHigh, kT0 + 1000 * kMillisPerDay, 102, "c",
                         "r3")});
  ASSERT_TRUE(findings_->LatestSeen(kT0 + kMillisPerDay, &latest).ok());
  EXPECT_EQ(latest, kT0 + 50 * kMillisPerMinute);
  std::vector<KeyedFinding> recent;
  ASSERT_TRUE(findings_->LoadRecent(kT0, kT0 + kMillisPerDay, &recent).ok());
  EXPECT_EQ(recent.size(), 2u);
}

TEST_F(FindingStoreTest, TheTrackerContinuesItsWindowsFromTheStoreAfterARestart) {
  FindingTracker before;
  Finding first = MakeFinding("edi.foreign-send", Severity::kHigh, kT0, 100, "c", "req-1");
  auto d = before.Track(first, DefaultRepeatKey(first));
  ASSERT_EQ(d.outcome, FindingTracker::Outcome::kNew);
  InsertAll({*d.finding});
  Finding repeat =
      MakeFinding("edi.foreign-send", Severity::kHigh, kT0 + kMillisPerMinute, 100, "c", "req-2");
  d = before.Track(repeat, DefaultRepeatKey(repeat));
  ASSERT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  ASSERT_TRUE(
      findings_->UpdateRepeat(d.finding->id, d.finding->occurrences, d.finding->last_seen).ok());

  // Restart: the windows open where the tracker stood, from the store.
  std::optional<EventTime> latest;
  ASSERT_TRUE(findings_->LatestSeen(kNoLimit, &latest).ok());
  EXPECT_EQ(latest, kT0 + kMillisPerMinute);
  std::vector<KeyedFinding> recent;
  FindingTracker after;
  ASSERT_TRUE(findings_->LoadRecent(*latest - after.window(), kNoLimit, &recent).ok());
  ASSERT_EQ(recent.size(), 1u);
  after.Restore(std::move(recent));
  Finding third = MakeFinding("edi.foreign-send", Severity::kHigh, kT0 + 2 * kMillisPerMinute, 100,
                              "c", "req-3");
  d = after.Track(third, DefaultRepeatKey(third));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(d.finding->id, first.id);
  EXPECT_EQ(d.finding->occurrences, 3u);
}

TEST_F(FindingStoreTest, TheFindingViewShowsReadableTimesAndSeverities) {
  InsertFive();
  Statement st(store_->db(),
               "SELECT severity, time, last_seen FROM finding_view WHERE request_id = 'req-3'");
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st.Step(), SQLITE_ROW);
  EXPECT_EQ(st.ColumnText(0), "critical");
  EXPECT_EQ(st.ColumnText(1), "2026-05-08T10:32:15.310Z");
  EXPECT_EQ(st.ColumnText(2), "2026-05-08T10:32:15.310Z");
}

TEST(FindingStoreMigrationTest, AVersionOneDatabaseGainsTheFindingsTable) {
  const std::string path = (fs::path(::testing::TempDir()) / "edi-findings-migrate.db").string();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string v1 = std::string(StoreMigrations().at(0)) + "PRAGMA user_version=1;";
    ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_TRUE(FindingStore::Open(db).status().code() == Status::Code::kCorruption);
    sqlite3_close(db);
  }
  {
    auto store = Store::Open(path, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Statement version((*store)->db(), "PRAGMA user_version");
    ASSERT_EQ(version.Step(), SQLITE_ROW);
    EXPECT_GE(version.ColumnInt(0), 2);
    version = {};
    EXPECT_TRUE(FindingStore::Open((*store)->db()).ok());
  }
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
}

}  // namespace
}  // namespace edi
