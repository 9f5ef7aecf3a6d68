// `edi-audit run` against a real Kafka broker (tools/kafka/start.sh): generated traffic on a
// 4-partition topic ends in SQLite exactly once — in one uninterrupted run, through SIGKILLs at
// random points, and split between two daemons in one consumer group with their own databases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "integration/daemon_fixture.h"

namespace edi::testing {

// One broker for every test in this binary, started before the first and stopped after the
// last.
::testing::Environment* const kKafka = ::testing::AddGlobalTestEnvironment(new KafkaEnvironment());

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr int kPartitions = 4;

// Every "assigned" log line of a single daemon must start right after its stored position.
void ExpectResumedAfterStoredPositions(const std::string& log) {
  const std::regex re("starting at ([0-9]+) \\(stored here: ([0-9]+),");
  int resumed = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ(std::stoll((*it)[1]), std::stoll((*it)[2]) + 1) << (*it)[0];
    ++resumed;
  }
  EXPECT_GT(resumed, 0) << "no restart resumed from a stored position";
}

TEST_F(DaemonTest, OneRunStoresEveryRecordOnceAndSendsEachFindingToTheAlertsTopic) {
  kafka()->CreateTopic("access-1", kPartitions);
  kafka()->CreateTopic("alerts-1", 2);
  const auto produced = ProduceTraffic("access-1", 0, traffic().values.size());
  DaemonProcess daemon(WriteConfig("one", "access-1", "audit-1", "  alerts_topic: alerts-1\n"),
                       Log("one"));
  const auto start = std::chrono::steady_clock::now();
  daemon.Start();
  AuditDb db(Db("one"));
  ASSERT_TRUE(WaitForRecords({&db}, static_cast<int64_t>(produced.size()))) << daemon.Log();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("consumed %zu records in %.1f s (%.0f records/s, startup included)\n",
              produced.size(), secs, static_cast<double>(produced.size()) / secs);
  // Findings are marked delivered once the alerts topic acknowledged them.
  auto undelivered = [&] {
    auto f = db.Findings();
    return std::count_if(f.begin(), f.end(), [](const auto& kv) { return kv.second == 0; });
  };
  for (int i = 0; i < 200 && undelivered() > 0; ++i) std::this_thread::sleep_for(milliseconds(50));
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();

  ExpectExactlyOnce({&db}, "access-1", produced, 0);
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("duplicates 0,"), std::string::npos) << log;
  const auto findings = db.Findings();
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(undelivered(), 0);
  // The alerts topic holds each finding exactly once.
  std::map<std::string, int> on_topic;
  for (const TopicRecord& r : kafka()->ReadAll("alerts-1", 2, findings.size() + 1, seconds(3))) {
    ++on_topic[JsonText(r.value, "id")];
  }
  EXPECT_EQ(on_topic.size(), findings.size());
  for (const auto& [id, delivered] : findings) EXPECT_EQ(on_topic[id], 1) << id;
}

// A client outside the party's organisation is denied a poll (org-membership, medium), then,
// a few minutes later and in a batch of its own, polls successfully (critical): one finding,
// stored critical, and the alerts topic gets it twice under its id, the later version
// critical, naming the call that raised it.
TEST_F(DaemonTest, AFindingARepeatRaisedIsSentAgainWithItsNewSeverity) {
  kafka()->CreateTopic("access-esc", 1);
  kafka()->CreateTopic("alerts-esc", 1);
  std::string line;
  std::getline(std::ifstream(traffic().registry_dir + "/communication-parties.jsonl"), line);
  const size_t at = line.find("\"herId\":");
  ASSERT_NE(at, std::string::npos) << line;
  const std::string party = std::to_string(std::stoll(line.substr(at + 8)));
  auto poll = [&](int n, int status) {
    return std::string(R"({"schemaVersion":1,"timestamp":"2026-05-10T10:0)") + std::to_string(n) +
           R"(:00.000Z","requestId":"esc-)" + std::to_string(n) +
           R"(","apiVersion":"3","method":"GET","path":"/notifications","query":"HerIds=)" + party +
           R"(","status":)" + std::to_string(status) +
           R"(,"client":{"clientId":"outsider-client","orgnrParent":"999999999"}})";
  };
  DaemonProcess daemon(
      WriteConfig("esc", "access-esc", "audit-esc", "  alerts_topic: alerts-esc\n"), Log("esc"));
  daemon.Start();
  AuditDb db(Db("esc"));
  // (The registry's locks are stale by then: their findings come too, and are left aside.)
  const std::string rule = "edi.org-membership";
  auto delivered = [&] {
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto f = db.Findings();
      if (db.FindingCounts().contains({rule, "medium"}) ||
          db.FindingCounts().contains({rule, "critical"})) {
        if (std::all_of(f.begin(), f.end(), [](auto& kv) { return kv.second == 1; })) {
          return true;
        }
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  };
  std::vector<Produced> first = {{poll(1, 403), 0, -1}};
  kafka()->Produce("access-esc", &first, {party});
  ASSERT_TRUE(delivered()) << daemon.Log();
  std::vector<Produced> second = {{poll(5, 200), 0, -1}};
  kafka()->Produce("access-esc", &second, {party});
  ASSERT_TRUE(WaitForRecords({&db}, 2)) << daemon.Log();
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (!db.FindingCounts().contains({rule, "critical"}) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(delivered()) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  const auto counts = db.FindingCounts();
  EXPECT_EQ(counts.count({rule, "medium"}), 0u);
  EXPECT_EQ(counts.at({rule, "critical"}), 1);
  std::vector<std::string> on_topic;
  for (const TopicRecord& r : kafka()->ReadAll("alerts-esc", 1, 10000, seconds(3))) {
    if (JsonText(r.value, "rule") == rule) on_topic.push_back(r.value);
  }
  ASSERT_EQ(on_topic.size(), 2u);
  EXPECT_EQ(JsonText(on_topic[0], "id"), JsonText(on_topic[1], "id"));
  EXPECT_EQ(JsonText(on_topic[0], "severity"), "medium");
  EXPECT_EQ(JsonText(on_topic[1], "severity"), "critical");
  EXPECT_NE(on_topic[1].find(R"("escalatedBy":{"requestId":"esc-5")"), std::string::npos)
      << on_topic[1];
}

TEST_F(DaemonTest, FindingsUndeliveredAtShutdownAreSentAfterTheNextStart) {
  kafka()->CreateTopic("access-later", kPartitions);
  const auto produced = ProduceTraffic("access-later", 0, traffic().values.size());
  // The alerts topic does not exist yet (the broker creates no topic by itself): nothing can
  // be delivered in the first run.
  const std::string config =
      WriteConfig("later", "access-later", "audit-later", "  alerts_topic: alerts-later\n");
  AuditDb db(Db("later"));
  {
    DaemonProcess daemon(config, Log("later"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, static_cast<int64_t>(produced.size()))) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
    EXPECT_NE(daemon.Log().find("not delivered before shutdown; they are sent after the next "
                                "start"),
              std::string::npos)
        << daemon.Log();
  }
  const auto before = db.Findings();
  ASSERT_FALSE(before.empty());
  for (const auto& [id, delivered] : before) EXPECT_EQ(delivered, 0) << id;

  kafka()->CreateTopic("alerts-later", 2);
  DaemonProcess daemon(config, Log("later-2"));
  daemon.Start();
  EXPECT_TRUE(daemon.WaitForLog(
      std::to_string(before.size()) + " undelivered findings from the database offered again", 0))
      << daemon.Log();
  auto undelivered = [&] {
    auto f = db.Findings();
    return std::count_if(f.begin(), f.end(), [](const auto& kv) { return kv.second == 0; });
  };
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (undelivered() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(undelivered(), 0) << daemon.Log();
  const auto after = db.Findings();
  EXPECT_EQ(after.size(), before.size());  // the restart raised none anew
  std::map<std::string, int> on_topic;
  for (const TopicRecord& r : kafka()->ReadAll("alerts-later", 2, after.size() + 1, seconds(3))) {
    ++on_topic[JsonText(r.value, "id")];
  }
  EXPECT_EQ(on_topic.size(), after.size());
  for (const auto& [id, delivered] : after) EXPECT_EQ(on_topic[id], 1) << id;
}

// Four kill points, one in each fifth of the stream after the first, at random inside it.
std::vector<int64_t> KillPoints(int64_t total, std::mt19937* rng) {
  std::uniform_real_distribution<double> fraction(0.0, 0.2);
  std::vector<int64_t> kill_at;
  for (int i = 0; i < 4; ++i) {
    kill_at.push_back(static_cast<int64_t>((0.05 + 0.2 * i + fraction(*rng)) * total));
  }
  return kill_at;
}

// Runs daemons on `config` until `db` holds `total` records: the first is killed before its
// first commit, the next ones with SIGKILL once the database holds each of `kill_at`, the
// last one is stopped with SIGTERM and must exit 0. Returns the last daemon's log.
std::string RunWithKills(const std::string& config, const std::string& log, const AuditDb& db,
                         int64_t total, const std::vector<int64_t>& kill_at) {
  int started = 0;
  auto start = [&](DaemonProcess* d) {
    d->Start();
    EXPECT_TRUE(d->WaitForLog("subscribing", started++)) << d->Log();
  };
  {
    DaemonProcess before_any_commit(config, log);
    start(&before_any_commit);
    before_any_commit.Kill();
  }
  for (int64_t threshold : kill_at) {
    DaemonProcess daemon(config, log);
    start(&daemon);
    EXPECT_TRUE(DaemonTest::WaitForRecords({&db}, threshold)) << daemon.Log();
    daemon.Kill();
    std::printf("killed at %lld of %lld records stored\n", static_cast<long long>(db.Records()),
                static_cast<long long>(total));
  }
  DaemonProcess last(config, log);
  start(&last);
  EXPECT_TRUE(DaemonTest::WaitForRecords({&db}, total)) << last.Log();
  EXPECT_EQ(last.Stop(), 0) << last.Log();
  return last.Log();
}

// A topic deleted and created anew while `run` reads it starts again at offset 0: its records
// take offsets read before, and are other records, not those read again.
TEST_F(DaemonTest, ATopicCreatedAnewWhileRunningIsReadFromItsStart) {
  kafka()->CreateTopic("access-anew", 1);
  ProduceTraffic("access-anew", 0, 300);
  DaemonProcess daemon(WriteConfig("anew", "access-anew", "audit-anew", "", 100), Log("anew"));
  daemon.Start();
  AuditDb db(Db("anew"));
  ASSERT_TRUE(WaitForRecords({&db}, 300)) << daemon.Log();
  kafka()->DeleteTopic("access-anew");
  kafka()->CreateTopic("access-anew", 1);
  const auto anew = ProduceTraffic("access-anew", 300, 200);  // offsets 0..199
  ASSERT_TRUE(WaitForRecords({&db}, 500, seconds(60))) << daemon.Log();
  // A crash: only the commits made while it ran count.
  std::this_thread::sleep_for(seconds(2));
  daemon.Kill();
  EXPECT_EQ(db.Records(), 500);
  const auto events = db.Events();
  for (size_t i = 0; i < anew.size(); ++i) {
    if (traffic().must_quarantine[300 + i]) continue;
    const std::string& rid = traffic().request_ids[300 + i];
    ASSERT_TRUE(events.contains(rid)) << rid;
    EXPECT_EQ(events.at(rid).second, anew[i].offset) << rid;
  }
  EXPECT_NE(daemon.Log().find("offsets went back"), std::string::npos) << daemon.Log();
  EXPECT_EQ(db.Positions()["kafka:access-anew/0"], 199);
  // The offset committed is the new topic's too: a restart goes on right after offset 199.
  ProduceTraffic("access-anew", 500, 150);  // offsets 200..349
  DaemonProcess again(WriteConfig("anew", "access-anew", "audit-anew", "", 100), Log("anew-again"));
  again.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 650, seconds(60))) << again.Log();
  ASSERT_EQ(again.Stop(), 0) << again.Log();
  EXPECT_EQ(db.Records(), 650);
}

// Created anew while the daemon was stopped, the topic got more records than it had: the record
// at the offset stored last is another one, and the partition is read from its beginning (before,
// reading went on after the old position, and the new records up to it were never read).
TEST_F(DaemonTest, ATopicCreatedAnewWhileStoppedIsReadFromItsStartThoughItGrewPastTheOld) {
  kafka()->CreateTopic("access-regrown", 1);
  ProduceTraffic("access-regrown", 0, 100);  // offsets 0..99
  AuditDb db(Db("regrown"));
  const std::string config = WriteConfig("regrown", "access-regrown", "audit-regrown", "", 40);
  {
    DaemonProcess daemon(config, Log("regrown"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 100)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  kafka()->DeleteTopic("access-regrown");
  kafka()->CreateTopic("access-regrown", 1);
  const auto anew = ProduceTraffic("access-regrown", 100, 250);  // offsets 0..249
  DaemonProcess daemon(config, Log("regrown-again"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 350, seconds(60))) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(db.Records(), 350);
  const auto events = db.Events();
  for (size_t i = 0; i < anew.size(); ++i) {
    if (traffic().must_quarantine[100 + i]) continue;
    const std::string& rid = traffic().request_ids[100 + i];
    ASSERT_TRUE(events.contains(rid)) << rid;
    EXPECT_EQ(events.at(rid).second, anew[i].offset) << rid;
  }
  EXPECT_NE(daemon.Log().find("offset 99 holds a record this database does not have"),
            std::string::npos)
      << daemon.Log();
  EXPECT_EQ(db.Positions()["kafka:access-regrown/0"], 249);
  // In their order: the records after offset 99 fetched before reading went back are read
  // again after 0..99, not stored before them (the state sees calls in order).
  EXPECT_EQ(db.StoredOutOfOffsetOrder(100), 0);  // after the old topic's 100
}

// Created anew with one record fewer than the offset stored last: there is no record to check
// there, and reading after it is out of range: the partition is read from its beginning, not
// left waiting at its end.
TEST_F(DaemonTest, ATopicCreatedAnewWithFewerRecordsWhileStoppedIsReadFromItsStart) {
  kafka()->CreateTopic("access-shrunk", 1);
  ProduceTraffic("access-shrunk", 0, 100);  // offsets 0..99
  AuditDb db(Db("shrunk"));
  const std::string config = WriteConfig("shrunk", "access-shrunk", "audit-shrunk", "", 40);
  {
    DaemonProcess daemon(config, Log("shrunk"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 100)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  kafka()->DeleteTopic("access-shrunk");
  kafka()->CreateTopic("access-shrunk", 1);
  ProduceTraffic("access-shrunk", 100, 99);  // offsets 0..98
  DaemonProcess daemon(config, Log("shrunk-again"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 199, seconds(60))) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(db.Records(), 199);
}

// A restart reads the record it stored last again: framed with a line end (a Kafka value
// ending in "\r\n", as some producers write them), or quarantined, it is still the record this
// database holds: nothing is read again, nothing warned about.
TEST_F(DaemonTest, ARestartAfterRecordsEndingInALineEndOrABadOneReadsNothingAgain) {
  kafka()->CreateTopic("access-framed", 1);
  std::vector<Produced> records;
  for (size_t i = 0; i < 60; ++i) {
    if (traffic().must_quarantine[i]) continue;
    records.push_back({traffic().values[i] + "\r\n", 0, -1});
  }
  records.push_back({"{\"not\": \"an access-log record\"}\n", 0, -1});  // the last: quarantined
  kafka()->Produce("access-framed", &records, std::vector<std::string>(records.size(), "k"));
  AuditDb db(Db("framed"));
  const std::string config = WriteConfig("framed", "access-framed", "audit-framed", "", 40);
  const auto total = static_cast<int64_t>(records.size());
  for (int run = 0; run < 2; ++run) {
    DaemonProcess daemon(config, Log("framed-" + std::to_string(run)));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, total)) << daemon.Log();
    std::this_thread::sleep_for(seconds(2));  // anything read again would be stored by now
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
    EXPECT_EQ(db.Records(), total);
    EXPECT_EQ(daemon.Log().find("does not have"), std::string::npos) << daemon.Log();
    EXPECT_EQ(daemon.Log().find("offsets went back:"), std::string::npos) << daemon.Log();
    if (run == 1) {
      EXPECT_NE(daemon.Log().find("the record stored last is read again to check it"),
                std::string::npos)
          << daemon.Log();
    }
  }
}

// Created anew with fewer partitions, the topic's old partitions are gone: SIGTERM still ends
// the daemon with what was stored stored (librdkafka 2.0 can hang destroying a consumer that
// had partitions of a deleted topic; the daemon does not wait for it past its close timeout).
// Records deleted from Kafka before the daemon stored them (retention while it was stopped)
// are named as missing from the audit trail; the rest is stored.
TEST_F(DaemonTest, RecordsDeletedFromKafkaBeforeTheyWereStoredAreNamedAsMissing) {
  kafka()->CreateTopic("access-gone", 1);
  ProduceTraffic("access-gone", 0, 100);
  AuditDb db(Db("gone"));
  const std::string config = WriteConfig("gone", "access-gone", "audit-gone", "", 50);
  {
    DaemonProcess daemon(config, Log("gone"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 100)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  ProduceTraffic("access-gone", 100, 50);  // offsets 100..149
  kafka()->DeleteRecordsBefore("access-gone", 0, 120);
  DaemonProcess daemon(config, Log("gone-again"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 130, seconds(60))) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(db.Records(), 130);
  EXPECT_NE(daemon.Log().find("offsets 100..119 are no longer in Kafka"), std::string::npos)
      << daemon.Log();
}

TEST_F(DaemonTest, SigtermEndsTheDaemonAfterItsTopicCameBackWithFewerPartitions) {
  kafka()->CreateTopic("access-fewer", 3);
  ProduceTraffic("access-fewer", 0, 90);
  DaemonProcess daemon(WriteConfig("fewer", "access-fewer", "audit-fewer", "", 30), Log("fewer"));
  daemon.Start();
  AuditDb db(Db("fewer"));
  ASSERT_TRUE(WaitForRecords({&db}, 90)) << daemon.Log();
  kafka()->DeleteTopic("access-fewer");
  kafka()->CreateTopic("access-fewer", 1);
  ProduceTraffic("access-fewer", 90, 30);
  ASSERT_TRUE(WaitForRecords({&db}, 120, seconds(60))) << daemon.Log();
  std::this_thread::sleep_for(seconds(5));
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.Stop(seconds(45)), 0) << daemon.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, seconds(40));
  EXPECT_EQ(db.Records(), 120);
}

TEST_F(DaemonTest, SigkillAtRandomPointsNeitherLosesNorDuplicatesRecords) {
  kafka()->CreateTopic("access-2", kPartitions);
  const auto produced = ProduceTraffic("access-2", 0, traffic().values.size());
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t total = static_cast<int64_t>(produced.size());
  AuditDb db(Db("crash"));
  // Small batches: more commits, so kills land between and inside transactions.
  const std::string log = RunWithKills(WriteConfig("crash", "access-2", "audit-2", "", 200),
                                       Log("crash"), db, total, KillPoints(total, &rng));
  ExpectExactlyOnce({&db}, "access-2", produced, 0);
  ExpectResumedAfterStoredPositions(log);
  EXPECT_NE(log.find("duplicates 0,"), std::string::npos) << log;
}

// On one partition the records' order is the same in every run, so the findings must be too:
// a restart resumes the reconstruction state and the finding windows exactly where the last
// transaction left them. (Over several partitions the interleaving differs from run to run,
// and with it findings that depend on calls in other partitions.)
TEST_F(DaemonTest, AfterSigkillsTheFindingsAreThoseOfAnUninterruptedRun) {
  kafka()->CreateTopic("single-u", 1);
  kafka()->CreateTopic("single-c", 1);
  const auto produced = ProduceTraffic("single-u", 0, traffic().values.size());
  ProduceTraffic("single-c", 0, traffic().values.size());
  const int64_t total = static_cast<int64_t>(produced.size());
  AuditDb uninterrupted(Db("single-u")), crashed(Db("single-c"));
  {
    DaemonProcess daemon(WriteConfig("single-u", "single-u", "audit-u"), Log("single-u"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&uninterrupted}, total)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  RunWithKills(WriteConfig("single-c", "single-c", "audit-c", "", 200), Log("single-c"), crashed,
               total, KillPoints(total, &rng));
  ExpectExactlyOnce({&crashed}, "single-c", produced, 0);
  const auto expected = uninterrupted.FindingSummaries(), actual = crashed.FindingSummaries();
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(actual.size(), expected.size());
  for (const auto& [id, summary] : expected) {
    auto it = actual.find(id);
    if (it == actual.end()) {
      ADD_FAILURE() << "missing after the crashes: " << summary;
    } else {
      EXPECT_EQ(it->second, summary);
    }
  }
}

// Why the two databases never both hold a record: a daemon commits a partition's offsets to
// Kafka only after the SQLite transaction that stored the records, so the group's committed
// offset never runs ahead of what the owner stored (nothing skipped). On revocation — here
// the SIGTERM'd daemon leaving the group — the owner first stores its in-flight batch, then
// commits stored + 1 synchronously, and only then gives the partition up. The survivor has no
// SQLite position of its own for that partition (or an older one from an earlier assignment)
// and starts at max(its stored + 1, the committed offset) = exactly the next record the
// leaver did not store (nothing stored twice). Records between the leaver's last SQLite
// commit and librdkafka's last timed commit of its offsets are covered by that synchronous
// commit. The timed commits never go out during a rebalance: one that met the new generation
// would make librdkafka drop the assignment as lost, unstored, uncommitted, and the other
// daemon would store the records since the last commit again (this test caught that).
TEST_F(DaemonTest, TwoDaemonsInOneGroupTogetherStoreEveryRecordOnce) {
  kafka()->CreateTopic("access-3", kPartitions);
  const size_t half = traffic().values.size() / 2;
  const size_t chunk = (traffic().values.size() - half) / 4;
  auto produced = ProduceTraffic("access-3", 0, half);
  DaemonProcess a(WriteConfig("a", "access-3", "audit-3"), Log("a"));
  DaemonProcess b(WriteConfig("b", "access-3", "audit-3"), Log("b"));
  AuditDb a_db(Db("a")), b_db(Db("b"));
  a.Start();
  ASSERT_TRUE(WaitForRecords({&a_db}, 2000)) << a.Log();
  b.Start();
  ASSERT_TRUE(b.WaitForLog("assigned kafka:", 0)) << b.Log();  // the group split the topic
  auto more = ProduceTraffic("access-3", half, chunk);
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&a_db, &b_db}, static_cast<int64_t>(half + chunk / 2)));
  // A leaves mid-way, while records keep arriving: it stores what it holds, commits, and B
  // takes over its partitions from there.
  a.Signal(SIGTERM);
  for (size_t first = half + chunk; first < traffic().values.size(); first += chunk) {
    more = ProduceTraffic("access-3", first, std::min(chunk, traffic().values.size() - first));
    produced.insert(produced.end(), more.begin(), more.end());
  }
  ASSERT_EQ(a.Wait(seconds(60)), 0) << a.Log();
  ASSERT_TRUE(WaitForRecords({&a_db, &b_db}, static_cast<int64_t>(produced.size()))) << b.Log();
  ASSERT_EQ(b.Stop(), 0) << b.Log();

  EXPECT_GT(a_db.Records(), 0);
  EXPECT_GT(b_db.Records(), 0);
  std::printf("daemon A stored %lld, daemon B %lld records\n",
              static_cast<long long>(a_db.Records()), static_cast<long long>(b_db.Records()));
  ExpectExactlyOnce({&a_db, &b_db}, "access-3", produced, 0);
  EXPECT_NE(b.Log().find("revoked"), std::string::npos);
}

}  // namespace
}  // namespace edi::testing
