// The pipeline end to end on a real SQLite file: exactly-once storage, idempotent re-replay,
// and a restart in the middle giving the same facts, state and findings as one run.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "common/schema.h"
#include "pipeline/pipeline.h"
#include "state/state_fixture.h"

namespace edi::testing {
namespace {

// A deterministic mix of sends, polls (with responses), downloads, marks, apprecs, locks and
// denied calls by four clients over ~10 days, with a few foreign acts and malformed records.
std::vector<std::string> GenerateTraffic(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  const std::vector<std::string> clients = {"a", "b", "gp", "platform"};
  const std::vector<int64_t> parties = {101, 102, 103, 201, 999};
  std::vector<std::string> messages;
  std::vector<std::string> early;  // downloaded before their send: custody unknown then
  std::vector<std::string> out;
  auto pick = [&](auto& v) { return v[rng() % v.size()]; };
  char id[40];
  for (int i = 0; i < n; ++i) {
    const int64_t minute = i * 5;  // 5 minutes apart: ~10 days for 3000 records
    const std::string client = pick(clients);
    const int64_t party = pick(parties);
    Rec r;
    const int kind = static_cast<int>(rng() % 10);
    if (kind == 0 || messages.empty()) {
      std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", static_cast<unsigned>(i),
                    static_cast<unsigned>(rng() & 0xffffff));
      if (!early.empty() && rng() % 2 == 0) {
        std::snprintf(id, sizeof id, "%s", early.back().c_str());
        early.pop_back();
      }
      messages.emplace_back(id);
      r = Send(client, party, std::to_string(pick(parties)) + ",101", id, minute);
    } else if (kind == 4 && rng() % 4 == 0) {
      std::snprintf(id, sizeof id, "%08x-0000-4000-9000-%012x", static_cast<unsigned>(i),
                    static_cast<unsigned>(rng() & 0xffffff));
      early.emplace_back(id);
      r = Download(client, id, minute);
      if (rng() % 2 == 0) r.org = "800000001";
    } else if (kind <= 3) {
      const std::string& m = pick(messages);
      r = Poll(client, party, minute,
               R"({"id":")" + m + R"(","senderHerId":201,"receiverHerId":)" +
                   std::to_string(party) + "}");
    } else if (kind <= 5) {
      r = Download(client, pick(messages).c_str(), minute);
    } else if (kind == 6) {
      r = Mark(client, pick(messages).c_str(), party, minute);
    } else if (kind == 7) {
      r.client = client;
      r.method = "POST";
      r.path = "/messages/" + pick(messages) + "/apprec";
      r.request = R"({"appRecSenderHerId":)" + std::to_string(party) + "}";
      r.minute = minute;
    } else if (kind == 8) {
      r = Lock(client, party, rng() % 3 != 0, minute, rng() % 4 == 0 ? 423 : 200);
    } else {
      r = Poll(client, party, minute);
      r.status = rng() % 3 == 0 ? 403 : 200;
    }
    out.push_back(rng() % 200 == 0 ? "{broken json " + std::to_string(i) : ToJson(r, i));
  }
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = WriteWorld();
    auto reg = Registry::Load(dir_, SchemaDir());
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = *reg;
    auto loaded = rules_.Reload({DefaultRuleFile()});
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Db(const std::string& name) { return dir_ + "/" + name; }

  // Runs records [from, to) through a fresh pipeline (a process start) on `db`.
  PipelineCounters Run(const std::string& db, const std::vector<std::string>& records, size_t from,
                       size_t to, size_t batch = 250, bool parallel = false) {
    auto store = Store::Open(db, {});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto decoder = Decoder::Create({});
    auto p = Pipeline::Create({}, std::move(*decoder), registry_, store->get(), &rules_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (parallel) (*p)->EnableParallelDecode(std::move(*Decoder::Create({})));
    std::vector<RawRecord> b;
    for (size_t i = from; i < to; ++i) {
      RawRecord r;
      r.bytes = records[i];
      r.full_size = r.bytes.size();
      r.where = {"file:traffic", static_cast<int64_t>(i + 1)};
      b.push_back(std::move(r));
      if (b.size() == batch || i + 1 == to) {
        Status s = (*p)->ProcessBatch(b);
        EXPECT_TRUE(s.ok()) << s.ToString();
        b.clear();
      }
    }
    return (*p)->counters();
  }

  // Every row of `sql`, as text, one line per row.
  static std::string Dump(const std::string& db, const std::string& sql) {
    sqlite3* h = nullptr;
    sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
    std::string out;
    sqlite3_exec(
        h, sql.c_str(),
        [](void* o, int n, char** v, char**) {
          auto* s = static_cast<std::string*>(o);
          for (int i = 0; i < n; ++i) *s += (v[i] ? v[i] : "NULL") + std::string("|");
          *s += "\n";
          return 0;
        },
        &out, nullptr);
    sqlite3_close(h);
    return out;
  }

  std::string dir_;
  std::shared_ptr<const Registry> registry_;
  RuleEngine rules_{&FactsCatalog()};
};

TEST_F(PipelineTest, EveryRecordEndsStoredDuplicateOrQuarantined) {
  auto traffic = GenerateTraffic(7, 1500);
  traffic.push_back(traffic[10]);  // the same record delivered twice
  const PipelineCounters c = Run(Db("a.db"), traffic, 0, traffic.size());
  EXPECT_EQ(c.records, traffic.size());
  EXPECT_EQ(c.stored + c.duplicates + c.quarantined, c.records);
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_GT(c.quarantined, 0u);
  EXPECT_EQ(Dump(Db("a.db"), "SELECT count(*) FROM events"), std::to_string(c.stored) + "|\n");
  EXPECT_EQ(Dump(Db("a.db"), "SELECT count(*) FROM quarantine"),
            std::to_string(c.quarantined) + "|\n");
  EXPECT_GT(c.findings_new, 0u);
}

TEST_F(PipelineTest, ARequestIdUsedAgainByALaterCallGivesThatCallItsOwnFindings) {
  // Two calls two hours apart share a requestId (EVENTS.md: unique per call). Both are stored
  // (the store tells events apart by requestId and time), and each raises its own finding:
  // none is lost to the other's id, and each is sent as new.
  Rec r;
  r.path = "/no/such/route";
  std::vector<std::string> records = {ToJson(r, 1)};
  r.minute = 120;
  records.push_back(ToJson(r, 1));
  const PipelineCounters c = Run(Db("a.db"), records, 0, records.size());
  EXPECT_EQ(c.stored, 2u);
  EXPECT_EQ(c.findings_new, 2u);
  EXPECT_EQ(Dump(Db("a.db"),
                 "SELECT count(DISTINCT id), count(*), sum(occurrences) FROM findings "
                 "WHERE rule = 'edi.unknown-route' AND request_id = 'q1'"),
            "2|2|2|\n");
}

// Client b is denied marking a message of party 101, which a holds locked (low), then marks
// it (critical: an action the lock blocks): within the hour, one finding, and it is critical.
// In the same batch it is handed on once, as new and critical; raised by a later batch, it is
// stored with its new severity, marked undelivered and handed on again as escalated.
TEST_F(PipelineTest, ARepeatThatRaisesAFindingsSeverityIsStoredAndHandedOnAgain) {
  const char* msg = "0000000e-0000-4000-8000-000000000001";
  Rec denied = Mark("b", msg, 101, 10);
  denied.status = 423;
  const std::vector<std::string> records = {ToJson(Lock("a", 101, true, 0), 1),
                                            ToJson(Send("gp", 201, "101", msg, 5), 2),
                                            ToJson(denied, 3), ToJson(Mark("b", msg, 101, 20), 4)};
  const std::string rule = "edi.reserved-party-foreign-client";
  for (const size_t batch : {size_t{4}, size_t{1}}) {
    SCOPED_TRACE("batches of " + std::to_string(batch));
    const std::string db = Db("escalate-" + std::to_string(batch) + ".db");
    auto store = Store::Open(db, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto p =
        Pipeline::Create({}, std::move(*Decoder::Create({})), registry_, store->get(), &rules_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    std::vector<Finding> handed_on;
    for (size_t i = 0; i < records.size(); i += batch) {
      std::vector<RawRecord> b;
      for (size_t j = i; j < std::min(records.size(), i + batch); ++j) {
        RawRecord r;
        r.bytes = records[j];
        r.full_size = r.bytes.size();
        r.where = {"file:escalate", static_cast<int64_t>(j + 1)};
        b.push_back(std::move(r));
      }
      ASSERT_TRUE((*p)->ProcessBatch(b).ok());
      for (const Finding& f : (*p)->batch_findings()) {
        if (f.rule == rule) handed_on.push_back(f);
      }
    }
    const PipelineCounters& c = (*p)->counters();
    EXPECT_EQ(c.findings_escalated, 1u);
    EXPECT_EQ(Dump(db,
                   "SELECT severity, occurrences, request_id, delivered, "
                   "json_extract(evidence, '$.escalatedBy.requestId') FROM findings "
                   "WHERE rule = '" +
                       rule + "'"),
              "4|2|q3|0|q4|\n");
    // Counted under the severity it has now, however the batches fell.
    EXPECT_EQ(c.findings_by_severity[static_cast<size_t>(Severity::kLow)], 0u);
    EXPECT_EQ(
        Dump(db, "SELECT count(*) FROM findings WHERE severity = 4"),
        std::to_string(c.findings_by_severity[static_cast<size_t>(Severity::kCritical)]) + "|\n");
    if (batch == 4) {
      ASSERT_EQ(handed_on.size(), 1u);
      EXPECT_FALSE(handed_on[0].escalated);
      EXPECT_EQ(handed_on[0].severity, Severity::kCritical);
    } else {
      ASSERT_EQ(handed_on.size(), 2u);
      EXPECT_FALSE(handed_on[0].escalated);
      EXPECT_EQ(handed_on[0].severity, Severity::kLow);
      EXPECT_TRUE(handed_on[1].escalated);
      EXPECT_EQ(handed_on[1].severity, Severity::kCritical);
      EXPECT_EQ(handed_on[1].id, handed_on[0].id);
    }
  }
}

// A reservation of the snapshot made at 02:00 is not there for a call at 00:00 and is for one
// at 03:00, also when the daemon restarted between them (it was still pending then).
TEST_F(PipelineTest, AReservationPendingAtARestartTakesEffectAtItsSince) {
  std::ofstream(dir_ + "/reservations.jsonl")
      << R"({"herId":101,"clientId":"a","since":"2026-05-04T02:00:00Z"})"
         "\n";
  auto reg = Registry::Load(dir_, SchemaDir());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  registry_ = *reg;
  // ... and once released (03:30), it is not taken again by the next start (04:00).
  const std::vector<std::string> records = {
      ToJson(Poll("b", 101, 0), 1), ToJson(Poll("b", 101, 180), 2),
      ToJson(Lock("a", 101, false, 210), 3), ToJson(Poll("b", 101, 240), 4)};
  Run(Db("one.db"), records, 0, 4);
  Run(Db("two.db"), records, 0, 1);
  Run(Db("two.db"), records, 1, 3);
  Run(Db("two.db"), records, 3, 4);
  const std::string sql =
      "SELECT request_id, severity FROM findings WHERE rule = "
      "'edi.reserved-party-foreign-client' ORDER BY 1";
  EXPECT_EQ(Dump(Db("one.db"), sql), "q2|3|\n");
  EXPECT_EQ(Dump(Db("two.db"), sql), Dump(Db("one.db"), sql));
}

// Records dated over a day after the wall clock (a gateway's clock fault) are stored, judged
// with their own time and counted, the first one named; event time does not move on to them.
TEST_F(PipelineTest, RecordsDatedOverADayAheadOfTheWallClockAreStoredAndCounted) {
  const EventTime t0 = *ParseRfc3339("2026-05-04T00:00:00.000Z");
  const int day = 24 * 60;
  const std::vector<std::string> records = {
      ToJson(Poll("a", 101, 0), 1), ToJson(Poll("a", 101, day - 1), 2),
      ToJson(Poll("a", 101, day + 1), 3), ToJson(Poll("a", 101, 2 * day), 4)};
  auto store = Store::Open(Db("f.db"), {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  PipelineOptions options;
  options.wall_clock = [t0] { return t0; };
  auto p =
      Pipeline::Create(options, std::move(*Decoder::Create({})), registry_, store->get(), &rules_);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE((*p)->first_future_dated());
  std::vector<RawRecord> batch(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    batch[i].bytes = records[i];
    batch[i].full_size = records[i].size();
    batch[i].where = {"file:traffic", static_cast<int64_t>(i + 1)};
  }
  ASSERT_TRUE((*p)->ProcessBatch(batch).ok());
  EXPECT_EQ((*p)->counters().stored, 4u);
  EXPECT_EQ((*p)->counters().future_dated, 2u);
  ASSERT_TRUE((*p)->first_future_dated());
  EXPECT_EQ((*p)->first_future_dated()->request_id, "q3");
  EXPECT_EQ((*p)->first_future_dated()->time, t0 + (day + 1) * kMillisPerMinute);
  EXPECT_EQ((*p)->state().max_time(), t0 + (day - 1) * kMillisPerMinute);
}

// A client's herid claim list is kept over a restart: whose copy its early download was is
// judged alike with and without one between the download and the other owner's.
TEST_F(PipelineTest, AClientsClaimListIsKeptOverARestart) {
  Rec early = Download("v2", kM1, 0);
  early.claim = "101";
  Rec gp = Download("gp", kM1, 1);  // 103's declared owner
  gp.message =
      std::string(R"({"id":")") + kM1 + R"(","senderHerId":201,"receiverHerIds":[101,103]})";
  const std::vector<std::string> records = {ToJson(early, 1), ToJson(gp, 2)};
  Run(Db("one.db"), records, 0, 2);
  Run(Db("two.db"), records, 0, 1);
  Run(Db("two.db"), records, 1, 2);
  const std::string sql = "SELECT rule, her_id FROM findings WHERE rule = 'edi.foreign-download'";
  EXPECT_EQ(Dump(Db("one.db"), sql), "");
  EXPECT_EQ(Dump(Db("two.db"), sql), "");
}

// A quarantined record that says its call succeeded is counted apart: the API carried out a
// call no rule saw. One the API refused (400) is not.
TEST_F(PipelineTest, QuarantinedRecordsOfSucceededCallsAreCountedApart) {
  Rec ok = Poll("a", 101, 0);
  ok.query = "HerIds=abc";
  Rec refused = ok;
  refused.status = 400;
  refused.minute = 1;
  const PipelineCounters c = Run(Db("q.db"), {ToJson(ok, 1), ToJson(refused, 2)}, 0, 2);
  const auto her_id = static_cast<size_t>(QuarantineReason::kMalformedHerId);
  EXPECT_EQ(c.quarantined_by_reason[her_id], 2u);
  EXPECT_EQ(c.quarantined_succeeded_by_reason[her_id], 1u);
}

// One record dated years ahead (a gateway's clock fault) does not make every lock stale, nor
// close the repeat windows: the records after it are judged as if it had not come.
TEST_F(PipelineTest, ARecordDatedYearsAheadDoesNotMakeLocksStale) {
  const int day = 24 * 60;
  const std::vector<std::string> records = {ToJson(Lock("a", 101, true, 0), 1),
                                            ToJson(Poll("b", 103, 4000 * day), 2),
                                            ToJson(Poll("a", 101, 10), 3)};
  Run(Db("ahead.db"), records, 0, 3);
  EXPECT_EQ(
      Dump(Db("ahead.db"), "SELECT count(*) FROM findings WHERE rule = 'edi.stale-reservation'"),
      "0|\n");
  EXPECT_EQ(Dump(Db("ahead.db"), "SELECT count(*) FROM events"), "3|\n");
  // The same lock with the record a month on (not ahead of this machine's clock) is stale.
  const std::vector<std::string> month = {ToJson(Lock("a", 101, true, 0), 1),
                                          ToJson(Poll("b", 103, 30 * day + 1), 2)};
  Run(Db("month.db"), month, 0, 2);
  EXPECT_EQ(
      Dump(Db("month.db"), "SELECT count(*) FROM findings WHERE rule = 'edi.stale-reservation'"),
      "1|\n");
}

TEST_F(PipelineTest, AStaleLocksHolderIsNamedAfterARestartAsItsTokensNamedIt) {
  // The holder is not in clients.jsonl; after the restart its name comes from the database.
  Rec lock = Lock("unlisted", 101, true, 0);
  lock.client_name = "Unlisted EPJ";
  const std::vector<std::string> records = {ToJson(lock, 1),
                                            ToJson(Poll("a", 103, 30 * 24 * 60 + 1), 2)};
  Run(Db("a.db"), records, 0, 1);
  Run(Db("a.db"), records, 1, 2);  // a fresh pipeline: a restart
  EXPECT_EQ(Dump(Db("a.db"),
                 "SELECT client_id, client_name FROM findings "
                 "WHERE rule = 'edi.stale-reservation'"),
            "unlisted|Unlisted EPJ|\n");
}

// A holder whose first call came without a clientName is named by the first call that had one,
// with or without a restart in between.
TEST_F(PipelineTest, AHolderFirstSeenWithoutANameIsNamedAfterARestartAsInOneRun) {
  Rec ping;
  ping.client = "unlisted";
  ping.client_name = "Unlisted EPJ";
  ping.minute = 1;
  Rec denied = Poll("b", 101, 2);
  denied.status = 423;
  const std::vector<std::string> records = {ToJson(Lock("unlisted", 101, true, 0), 1),
                                            ToJson(ping, 2), ToJson(denied, 3)};
  Run(Db("one.db"), records, 0, 3);
  Run(Db("two.db"), records, 0, 2);
  Run(Db("two.db"), records, 2, 3);  // a fresh pipeline: a restart
  const std::string sql =
      "SELECT rule, summary FROM findings WHERE rule = 'edi.reserved-party-foreign-client'";
  EXPECT_NE(Dump(Db("one.db"), sql).find("Unlisted EPJ (unlisted)"), std::string::npos)
      << Dump(Db("one.db"), sql);
  EXPECT_EQ(Dump(Db("two.db"), sql), Dump(Db("one.db"), sql));
  EXPECT_EQ(Dump(Db("two.db"), "SELECT client_name FROM clients WHERE client_id = 'unlisted'"),
            "Unlisted EPJ|\n");
}

// The repeat windows continue after a restart as the tracker left them, not as of the newest
// event: a repeat a minute and a half out of order, within the hour of its finding but arriving
// after a call over an hour later, folds into it with or without a restart before it.
TEST_F(PipelineTest, ARepeatOutOfOrderAfterARestartFoldsAsInOneRun) {
  Rec ping;
  ping.client = "b";
  ping.minute = 10 * 60 + 60 + 1;  // 11:01, after the send's window closed for a new one
  const std::vector<std::string> records = {
      ToJson(Send("a", 103, "201", kM1, 10 * 60), 1),  // 10:00: gp owns 103 (declared)
      ToJson(ping, 2),
      ToJson(Send("a", 103, "201", kM1, 10 * 60 + 59), 3)};  // 10:59, arriving after 11:01
  Run(Db("one.db"), records, 0, 3);
  Run(Db("two.db"), records, 0, 2);
  const PipelineCounters after = Run(Db("two.db"), records, 2, 3);  // a restart before it
  const std::string sql =
      "SELECT id, occurrences, last_seen FROM findings WHERE rule = 'edi.foreign-send'";
  EXPECT_EQ(Dump(Db("one.db"),
                 "SELECT count(*), sum(occurrences) FROM findings WHERE rule = "
                 "'edi.foreign-send'"),
            "1|2|\n");
  EXPECT_EQ(Dump(Db("two.db"), sql), Dump(Db("one.db"), sql));
  EXPECT_EQ(after.findings_new, 0u);
  EXPECT_EQ(after.findings_repeats, 1u);
}

TEST_F(PipelineTest, ReplayingTheSameInputAgainStoresNothingNewAndRaisesNoFindings) {
  auto traffic = GenerateTraffic(11, 800);
  const PipelineCounters first = Run(Db("a.db"), traffic, 0, traffic.size());
  const std::string findings = Dump(Db("a.db"), "SELECT * FROM findings ORDER BY id");
  const PipelineCounters second = Run(Db("a.db"), traffic, 0, traffic.size());
  EXPECT_GT(first.stored, 0u);
  EXPECT_GT(first.quarantined, 0u);
  EXPECT_EQ(second.stored, 0u);
  EXPECT_EQ(second.quarantined, 0u);  // the same bad records at the same positions
  EXPECT_EQ(second.duplicates, first.stored + first.quarantined);
  EXPECT_EQ(second.findings_new, 0u);
  EXPECT_EQ(Dump(Db("a.db"), "SELECT * FROM findings ORDER BY id"), findings);
  EXPECT_EQ(Dump(Db("a.db"), "SELECT count(*) FROM quarantine"),
            std::to_string(first.quarantined) + "|\n");
}

TEST_F(PipelineTest, ARestartInTheMiddleGivesTheSameFactsStateAndFindingsAsOneRun) {
  const auto traffic = GenerateTraffic(42, 3000);
  Run(Db("whole.db"), traffic, 0, traffic.size());
  const size_t split = 1733;  // not on a batch boundary
  Run(Db("split.db"), traffic, 0, split);
  Run(Db("split.db"), traffic, split, traffic.size());

  const std::vector<std::string> queries = {
      "SELECT request_id, time, action, status, message_id FROM events ORDER BY request_id",
      "SELECT request_id, parties FROM events ORDER BY request_id",
      "SELECT p.her_id, e.time, e.request_id FROM party_event_ids p JOIN events e "
      "USING (event_id) ORDER BY 1, 2, 3",
      "SELECT * FROM state_meta ORDER BY key",
      "SELECT * FROM state_clients ORDER BY client_idx",
      "SELECT * FROM state_locks ORDER BY her_id",
      "SELECT bucket, message_id, last_seen, hex(custody) FROM state_messages ORDER BY 2",
      "SELECT her_id, last_touch, hex(stats) FROM state_parties ORDER BY her_id",
      "SELECT * FROM state_pairs ORDER BY 1, 2",
      "SELECT client_idx, hex(first_seen) FROM state_sweeps ORDER BY 1",
      "SELECT id, rule, severity, time, request_id, client_id, her_id, message_id, summary, "
      "occurrences, last_seen, evidence FROM findings ORDER BY id",
      "SELECT source, position, reason FROM quarantine ORDER BY position",
  };
  for (const std::string& q : queries) {
    const std::string whole = Dump(Db("whole.db"), q);
    EXPECT_FALSE(whole.empty()) << q;
    EXPECT_EQ(whole, Dump(Db("split.db"), q)) << q;
  }
}

TEST_F(PipelineTest, ThePartyIndexListsEveryEventOfAPartyExactlyOnce) {
  const auto traffic = GenerateTraffic(17, 2500);
  Run(Db("a.db"), traffic, 0, traffic.size(), 333);
  // The parties each event row names, against the per-party index the batches wrote.
  const std::string from_events =
      Dump(Db("a.db"),
           "SELECT CAST(j.value AS INTEGER) AS her_id, e.event_id "
           "FROM events e, json_each(e.parties) o, json_each(o.value) j "
           "ORDER BY 1, 2");
  const std::string from_index =
      Dump(Db("a.db"), "SELECT her_id, event_id FROM party_event_ids ORDER BY 1, 2");
  EXPECT_GT(std::count(from_events.begin(), from_events.end(), '\n'), 2500);
  EXPECT_EQ(from_index, from_events);
  // Each index row covers one hour of event time and knows its time span.
  EXPECT_EQ(Dump(Db("a.db"),
                 "SELECT count(*) FROM party_events p, json_each(p.events) j "
                 "JOIN events e ON e.event_id = j.value WHERE e.time / 3600000 != p.hour "
                 "OR e.time < p.time_from OR e.time > p.time_to OR j.value < p.first_event"),
            "0|\n");
  // "Who acted for this party" through the index equals a scan of every event's parties.
  const std::string party =
      Dump(Db("a.db"), "SELECT her_id FROM party_events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
  const std::string her_id = party.substr(0, party.find('|'));
  EXPECT_EQ(Dump(Db("a.db"),
                 "SELECT e.request_id FROM party_event_ids p JOIN events e USING "
                 "(event_id) WHERE p.her_id = " +
                     her_id + " ORDER BY 1"),
            Dump(Db("a.db"),
                 "SELECT e.request_id FROM events e, json_each(e.parties) o, "
                 "json_each(o.value) j WHERE j.value = " +
                     her_id + " ORDER BY 1"));
}

TEST_F(PipelineTest, DecodingOnTwoThreadsStoresExactlyWhatOneThreadStores) {
  const auto traffic = GenerateTraffic(9, 2000);
  Run(Db("one.db"), traffic, 0, traffic.size(), 600);
  Run(Db("two.db"), traffic, 0, traffic.size(), 600, true);
  for (const char* q :
       {"SELECT request_id, action, position FROM events ORDER BY 1",
        "SELECT position, reason, detail FROM quarantine ORDER BY 1",
        "SELECT id, occurrences FROM findings ORDER BY 1",
        // the block the second thread prepared, or the store's own
        "SELECT block_id, records, bytes, hex(data) FROM raw_blocks ORDER BY 1",
        "SELECT event_id, raw_block, raw_offset, raw_size FROM events ORDER BY 1"}) {
    EXPECT_EQ(Dump(Db("one.db"), q), Dump(Db("two.db"), q)) << q;
  }
}

TEST_F(PipelineTest, AFailedBatchLeavesNothingHalfWrittenAndCanBeRetried) {
  auto traffic = GenerateTraffic(5, 400);
  Run(Db("a.db"), traffic, 0, 200);
  {
    // Another connection holds the write lock: the next batch cannot commit.
    sqlite3* blocker = nullptr;
    sqlite3_open(Db("a.db").c_str(), &blocker);
    sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    auto store = Store::Open(Db("a.db"), {});
    ASSERT_TRUE(store.ok());
    sqlite3_busy_timeout((*store)->db(), 10);
    auto p =
        Pipeline::Create({}, std::move(*Decoder::Create({})), registry_, store->get(), &rules_);
    ASSERT_TRUE(p.ok());
    std::vector<RawRecord> b;
    for (size_t i = 200; i < 300; ++i) {
      b.push_back({traffic[i], traffic[i].size(), {"file:traffic", static_cast<int64_t>(i + 1)}});
    }
    EXPECT_FALSE((*p)->ProcessBatch(b).ok());
    EXPECT_EQ((*p)->counters().failed_batches, 1u);
    sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(blocker);
    EXPECT_TRUE((*p)->ProcessBatch(b).ok());
    std::vector<RawRecord> rest;
    for (size_t i = 300; i < traffic.size(); ++i) {
      rest.push_back(
          {traffic[i], traffic[i].size(), {"file:traffic", static_cast<int64_t>(i + 1)}});
    }
    EXPECT_TRUE((*p)->ProcessBatch(rest).ok());
  }
  Run(Db("whole.db"), traffic, 0, traffic.size());
  for (const char* q : {"SELECT request_id FROM events ORDER BY 1",
                        "SELECT id, occurrences FROM findings ORDER BY 1",
                        "SELECT * FROM state_locks ORDER BY 1"}) {
    EXPECT_EQ(Dump(Db("a.db"), q), Dump(Db("whole.db"), q)) << q;
  }
}

TEST_F(PipelineTest, OwnerCountsSavedInAnotherUnitAreRewrittenInTheCurrentOneOnTheNextSave) {
  // State saved by a version that counted owner actions per hour (or per day) is read into
  // periods, and every party's row must then be written in periods: the saved unit is one
  // for the whole database, so a row left as it was would be misread on the next start.
  auto traffic = GenerateTraffic(5, 1001);
  Run(Db("a.db"), traffic, 0, 1000);
  const std::string before = Dump(Db("a.db"), "SELECT her_id, hex(stats) FROM state_parties");
  ASSERT_GT(std::count(before.begin(), before.end(), '\n'), 2) << before;
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(Db("a.db").c_str(), &h), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(h, "UPDATE state_meta SET value = 3600000 WHERE key = 'owner_count_unit'",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(h);
  }
  Run(Db("a.db"), traffic, 1000, 1001);  // loads, stores one record, saves
  EXPECT_EQ(Dump(Db("a.db"), "SELECT value FROM state_meta WHERE key = 'owner_count_unit'"),
            "21600000|\n");
  // Every row that had counts is written anew (hour numbers read as periods are six times
  // smaller).
  std::istringstream old_rows(before);
  for (std::string row; std::getline(old_rows, row);) {
    const std::string her_id = row.substr(0, row.find('|'));
    const std::string now =
        Dump(Db("a.db"), "SELECT her_id, hex(stats) FROM state_parties WHERE her_id = " + her_id);
    EXPECT_NE(now, row + "\n") << "party " << her_id << " was left in hours";
  }
}

TEST_F(PipelineTest, CustodySavedBeforeReceiversWereToldCompleteKeepsTheLists) {
  // Saved then, a known list of receivers counted as complete: a download outside the
  // organisation acted for them all. Read now, it must still, and be written with the flag.
  const std::vector<std::string> records = {ToJson(Send("hospital", 103, "201", kM1, 0), 1),
                                            ToJson(Download("a", kM1, 1), 2)};
  Run(Db("a.db"), records, 0, 1);
  const auto flags = [&] {
    // The third varint of the blob: first_seen and last_seen come first.
    const std::string hex = Dump(Db("a.db"), "SELECT hex(custody) FROM state_messages");
    size_t at = 0;
    for (int skipped = 0; skipped < 2; at += 2) {
      if (std::stoi(hex.substr(at, 2), nullptr, 16) < 0x80) ++skipped;
    }
    return std::make_pair(at / 2, std::stoi(hex.substr(at, 2), nullptr, 16));
  };
  const auto [offset, saved] = flags();
  ASSERT_EQ(saved, 1 | 4) << "known, receivers complete";
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(Db("a.db").c_str(), &h), SQLITE_OK);
    const std::string sql = "UPDATE state_messages SET custody = substr(custody, 1, " +
                            std::to_string(offset) + ") || x'01' || substr(custody, " +
                            std::to_string(offset + 2) +
                            "); DELETE FROM state_meta WHERE key = 'custody_format';";
    ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }
  ASSERT_EQ(flags().second, 1);
  Run(Db("a.db"), records, 1, 2);
  EXPECT_EQ(Dump(Db("a.db"),
                 "SELECT rule, her_id FROM findings WHERE request_id = 'q2' "
                 "AND rule = 'edi.org-membership'"),
            "edi.org-membership|201|\n");
  EXPECT_EQ(flags().second, 1 | 4);
  EXPECT_EQ(Dump(Db("a.db"), "SELECT value FROM state_meta WHERE key = 'custody_format'"), "2|\n");
}

}  // namespace
}  // namespace edi::testing

namespace edi::testing {
namespace {

class GroupedBatchesTest : public PipelineTest {
 protected:
  // Records [from, to) of `traffic` as one batch, decoded.
  struct Batch {
    std::vector<RawRecord> records;
    std::vector<DecodedRecord> decoded;
  };
  Batch Slice(const std::vector<std::string>& traffic, size_t from, size_t to) {
    Batch b;
    for (size_t i = from; i < to; ++i) {
      b.records.push_back(
          {traffic[i], traffic[i].size(), {"file:traffic", static_cast<int64_t>(i + 1)}});
    }
    auto decoder = Decoder::Create({});
    DecodeBatch(**decoder, b.records, &b.decoded, registry_.get());
    return b;
  }
};

TEST_F(GroupedBatchesTest, SeveralBatchesInATransactionStoreWhatBatchesCommittedOneByOneStore) {
  auto traffic = GenerateTraffic(5, 1200);
  Run(Db("single.db"), traffic, 0, traffic.size(), 200);
  auto store = Store::Open(Db("grouped.db"), {});
  ASSERT_TRUE(store.ok());
  auto p = Pipeline::Create({}, std::move(*Decoder::Create({})), registry_, store->get(), &rules_);
  ASSERT_TRUE(p.ok());
  size_t findings = 0;
  for (size_t from = 0; from < traffic.size(); from += 200) {
    Batch b = Slice(traffic, from, std::min(traffic.size(), from + 200));
    const bool commit = from / 200 % 3 == 2 || from + 200 >= traffic.size();
    ASSERT_TRUE((*p)->ProcessDecoded(b.records, b.decoded, nullptr, commit).ok());
    if (!commit) {
      // Nothing counts, nor shows to a reader, before the transaction commits.
      EXPECT_TRUE((*p)->batch_findings().empty());
      EXPECT_EQ((*p)->counters().records, from / 600 * 600);
      EXPECT_EQ(Dump(Db("grouped.db"),
                     "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM quarantine)"),
                std::to_string(from / 600 * 600) + "|\n");
    }
    findings += (*p)->batch_findings().size();
  }
  EXPECT_EQ((*p)->counters().records, traffic.size());
  EXPECT_EQ((*p)->counters().batches, 6u);
  EXPECT_GT(findings, 0u);
  EXPECT_EQ(std::to_string(findings) + "|\n",
            Dump(Db("single.db"), "SELECT count(*) FROM findings"));
  for (const char* q :
       {"SELECT request_id, parties, raw_block IS NOT NULL FROM events ORDER BY 1",
        "SELECT id, occurrences FROM findings ORDER BY 1", "SELECT * FROM state_locks ORDER BY 1",
        "SELECT count(*), sum(records) FROM raw_blocks",
        "SELECT her_id, event_id FROM party_event_ids ORDER BY 1, 2"}) {
    EXPECT_EQ(Dump(Db("grouped.db"), q), Dump(Db("single.db"), q)) << q;
  }
  // Each batch's records are a block of their own, and read back as they came.
  EXPECT_EQ(Dump(Db("grouped.db"), "SELECT count(*) FROM raw_blocks"), "6|\n");
}

TEST_F(GroupedBatchesTest, AFailureTakesBackEveryBatchOfTheTransactionAndTheirCounts) {
  auto traffic = GenerateTraffic(5, 600);
  Run(Db("single.db"), traffic, 0, traffic.size(), 200);
  auto store = Store::Open(Db("grouped.db"), {});
  ASSERT_TRUE(store.ok());
  auto p = Pipeline::Create({}, std::move(*Decoder::Create({})), registry_, store->get(), &rules_);
  ASSERT_TRUE(p.ok());
  Batch first = Slice(traffic, 0, 200), second = Slice(traffic, 200, 400);
  ASSERT_TRUE((*p)->ProcessDecoded(first.records, first.decoded, nullptr, false).ok());
  ASSERT_TRUE((*p)->ProcessDecoded(second.records, second.decoded, nullptr, false).ok());
  // The third batch fails as it is committed: its records' block is refused.
  ASSERT_EQ(sqlite3_exec((*store)->db(),
                         "CREATE TEMP TRIGGER no_commit BEFORE INSERT ON main.raw_blocks "
                         "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  Batch third = Slice(traffic, 400, 600);
  EXPECT_FALSE((*p)->ProcessDecoded(third.records, third.decoded, nullptr, true).ok());
  EXPECT_EQ((*p)->counters().records, 0u);  // none of the three batches counts
  EXPECT_EQ((*p)->counters().failed_batches, 1u);
  EXPECT_TRUE((*p)->batch_findings().empty());
  EXPECT_EQ(Dump(Db("grouped.db"), "SELECT count(*) FROM events"), "0|\n");
  // The trigger was made inside the transaction: the rollback took it away too.
  EXPECT_NE(sqlite3_exec((*store)->db(), "DROP TRIGGER no_commit", nullptr, nullptr, nullptr),
            SQLITE_OK);
  // Stored again, as a replay would: the same as batches committed one by one.
  first = Slice(traffic, 0, 200);
  second = Slice(traffic, 200, 400);
  third = Slice(traffic, 400, 600);
  ASSERT_TRUE((*p)->ProcessDecoded(first.records, first.decoded, nullptr, false).ok());
  ASSERT_TRUE((*p)->ProcessDecoded(second.records, second.decoded, nullptr, false).ok());
  ASSERT_TRUE((*p)->ProcessDecoded(third.records, third.decoded, nullptr, true).ok());
  EXPECT_EQ((*p)->counters().records, 600u);
  for (const char* q : {"SELECT request_id FROM events ORDER BY 1",
                        "SELECT id, occurrences FROM findings ORDER BY 1",
                        "SELECT * FROM state_locks ORDER BY 1"}) {
    EXPECT_EQ(Dump(Db("grouped.db"), q), Dump(Db("single.db"), q)) << q;
  }
}

TEST_F(GroupedBatchesTest, AFirstBatchThatFailsToCommitLeavesNoTraceInTheStateOfANewDatabase) {
  // As `run` stores batches: one per transaction. The database is new, so there is no saved
  // state to go back to: the state must still forget what the failed batch did to it.
  auto traffic = GenerateTraffic(5, 400);
  Run(Db("single.db"), traffic, 0, traffic.size(), 200);
  auto store = Store::Open(Db("retried.db"), {});
  ASSERT_TRUE(store.ok());
  auto p = Pipeline::Create({}, std::move(*Decoder::Create({})), registry_, store->get(), &rules_);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(sqlite3_exec((*store)->db(),
                         "CREATE TEMP TRIGGER no_commit BEFORE INSERT ON main.raw_blocks "
                         "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  Batch first = Slice(traffic, 0, 200);
  EXPECT_FALSE((*p)->ProcessBatch(first.records).ok());
  ASSERT_EQ(sqlite3_exec((*store)->db(), "DROP TRIGGER no_commit", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_TRUE((*p)->ProcessBatch(first.records).ok());
  EXPECT_TRUE((*p)->ProcessBatch(Slice(traffic, 200, 400).records).ok());
  for (const char* q :
       {"SELECT request_id FROM events ORDER BY 1",
        "SELECT id, occurrences FROM findings ORDER BY 1", "SELECT * FROM state_locks ORDER BY 1",
        "SELECT her_id, hex(stats) FROM state_parties ORDER BY 1"}) {
    EXPECT_EQ(Dump(Db("retried.db"), q), Dump(Db("single.db"), q)) << q;
  }
}

}  // namespace
}  // namespace edi::testing
