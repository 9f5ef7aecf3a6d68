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

#include "integration/daemon_process.h"
#include "integration/real_kafka.h"

namespace edi::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr int kPartitions = 4;
constexpr int kGeneratedRecords = 20000;

// The traffic every test produces: tools/gen/edi_gen.py's access log (with its registry and
// ground truth) plus records that must be quarantined: the examples' malformed lines, a
// tombstone and one record over the size limit.
struct Traffic {
  std::string registry_dir;
  std::vector<std::string> values;
  std::vector<std::string> keys;  // the acting party: one party's calls stay in order
  std::vector<std::string> request_ids;
  std::vector<bool> must_quarantine;
};

// The text of the first `"key":"..."` in a JSON line (no regex: lines can be 40 KB long).
std::string JsonText(const std::string& line, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  const size_t at = line.find(marker);
  if (at == std::string::npos) return "";
  const size_t begin = at + marker.size();
  const size_t end = line.find('"', begin);
  return end == std::string::npos ? "" : line.substr(begin, end - begin);
}

// The record's first HER-Id (path, query, else request body), else its client id: a stand-in
// for the acting HER-Id producers key records by, so one party's calls share a partition.
std::string PartyKey(const std::string& line) {
  std::string text = JsonText(line, "path") + "?" + JsonText(line, "query");
  if (const size_t request = line.find("\"request\":{"); request != std::string::npos) {
    text += line.substr(request, line.find('}', request) - request);
  }
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i >= 7 && j - i <= 9) return text.substr(i, j - i);
    i = j == i ? i + 1 : j;
  }
  return JsonText(line, "clientId");
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

Traffic MakeTraffic(const std::string& dir) {
  const std::string cmd = "python3 " + std::string(EDI_SOURCE_DIR) +
                          "/tools/gen/edi_gen.py --seed 7 --records " +
                          std::to_string(kGeneratedRecords) + " --out " + dir + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("edi_gen.py failed: " + cmd);
  Traffic t;
  t.registry_dir = dir + "/registry";
  t.values = ReadLines(dir + "/access-log.jsonl");
  t.must_quarantine.assign(t.values.size(), false);
  for (const std::string& truth : ReadLines(dir + "/ground-truth.jsonl")) {
    const size_t line = truth.find("\"line\":");
    if (JsonText(truth, "rule") == "quarantine" && line != std::string::npos) {
      t.must_quarantine.at(std::stoul(truth.substr(line + 7)) - 1) = true;
    }
  }
  for (const std::string& bad :
       ReadLines(std::string(EDI_SOURCE_DIR) + "/examples/access-log-malformed.jsonl")) {
    t.values.push_back(bad);
    t.must_quarantine.push_back(true);
  }
  t.values.push_back(RealKafka::kTombstone);
  t.must_quarantine.push_back(true);
  t.values.push_back("{\"requestId\":\"oversize\",\"pad\":\"" + std::string(40000, 'x') + "\"}");
  t.must_quarantine.push_back(true);
  for (const std::string& v : t.values) {
    t.keys.push_back(PartyKey(v));
    t.request_ids.push_back(JsonText(v, "requestId"));
  }
  return t;
}

class KafkaDaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() / ("edi-it-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    traffic_ = new Traffic(MakeTraffic(*dir_ + "/gen"));
    kafka_ = new RealKafka();
    kafka_->Start();
  }
  static void TearDownTestSuite() {
    kafka_->Stop();
    delete kafka_;
    delete traffic_;
    if (std::getenv("EDI_KEEP_TEST_DIR") == nullptr) fs::remove_all(*dir_);
    delete dir_;
  }

  // Creates `topic` and produces the traffic to it; returns where each record landed.
  std::vector<Produced> ProduceTraffic(const std::string& topic, size_t first, size_t count) {
    std::vector<Produced> records;
    std::vector<std::string> keys;
    for (size_t i = first; i < first + count; ++i) {
      records.push_back({traffic_->values[i], -1, -1});
      keys.push_back(traffic_->keys[i]);
    }
    kafka_->Produce(topic, &records, keys);
    return records;
  }

  // A config file for one daemon; `extra` is appended under `kafka:`.
  std::string WriteConfig(const std::string& name, const std::string& topic,
                          const std::string& group, const std::string& kafka_extra = "",
                          int batch_size = 500) {
    const std::string path = *dir_ + "/" + name + ".yaml";
    std::ofstream out(path);
    out << "registry: " << traffic_->registry_dir << "\n"
        << "database: " << Db(name) << "\n"
        << "log_level: info\n"
        << "decode:\n  max_record_bytes: 16384\n"
        << "store:\n  batch_size: " << batch_size << "\n"
        << "run:\n  batch_max_ms: 200\n"
        << "kafka:\n  brokers: " << kafka_->bootstrap() << "\n  topics: [" << topic << "]\n"
        << "  group_id: " << group << "\n"
        << "  consumer:\n    session.timeout.ms: 6000\n    heartbeat.interval.ms: 1000\n"
        << kafka_extra;
    return path;
  }
  static std::string Db(const std::string& name) { return *dir_ + "/" + name + ".db"; }
  static std::string Log(const std::string& name) { return *dir_ + "/" + name + ".log"; }

  // Waits until the databases together hold `n` records (events + quarantine).
  static bool WaitForRecords(const std::vector<const AuditDb*>& dbs, int64_t n,
                             seconds timeout = seconds(90)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int64_t total = 0;
      for (const AuditDb* db : dbs) total += std::max<int64_t>(db->Records(), 0);
      if (total >= n) return true;
      std::this_thread::sleep_for(milliseconds(25));
    }
    return false;
  }

  // Every produced record is in exactly one database exactly once: as the event of its
  // requestId at its own partition and offset, or quarantined there. No requestId twice.
  void ExpectExactlyOnce(const std::vector<const AuditDb*>& dbs, const std::string& topic,
                         const std::vector<Produced>& produced, size_t first) {
    std::map<std::pair<std::string, int64_t>, int> seen;
    std::map<std::pair<std::string, int64_t>, std::string> event_at;
    std::set<std::pair<std::string, int64_t>> quarantined;
    std::map<std::string, int> request_seen;
    for (const AuditDb* db : dbs) {
      for (const auto& [rid, where] : db->Events()) {
        ++seen[where];
        event_at[where] = rid;
        ++request_seen[rid];
      }
      for (const auto& where : db->Quarantined()) {
        ++seen[where];
        quarantined.insert(where);
      }
    }
    int failures = 0;
    for (size_t i = 0; i < produced.size() && failures < 10; ++i) {
      const std::pair<std::string, int64_t> where{
          "kafka:" + topic + "/" + std::to_string(produced[i].partition), produced[i].offset};
      const size_t t = first + i;
      const bool ok_once = seen[where] == 1;
      const bool ok_kind = traffic_->must_quarantine[t] ? quarantined.contains(where)
                           : quarantined.contains(where)
                               ? true
                               : event_at[where] == traffic_->request_ids[t];
      if (!ok_once || !ok_kind) {
        ++failures;
        ADD_FAILURE() << "record " << t << " at " << where.first << "@" << where.second
                      << " stored " << seen[where] << " times"
                      << (ok_kind ? "" : " (not as expected)");
      }
    }
    EXPECT_EQ(seen.size(), produced.size());
    for (const auto& [rid, n] : request_seen) {
      EXPECT_EQ(n, 1) << "requestId " << rid << " stored in " << n << " databases";
    }
  }

  static std::string* dir_;
  static RealKafka* kafka_;
  static Traffic* traffic_;
  static std::set<std::string>* uninterrupted_findings_;
};

std::string* KafkaDaemonTest::dir_ = nullptr;
RealKafka* KafkaDaemonTest::kafka_ = nullptr;
Traffic* KafkaDaemonTest::traffic_ = nullptr;
std::set<std::string>* KafkaDaemonTest::uninterrupted_findings_ = nullptr;

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

TEST_F(KafkaDaemonTest, OneRunStoresEveryRecordOnceAndSendsEachFindingToTheAlertsTopic) {
  kafka_->CreateTopic("access-1", kPartitions);
  kafka_->CreateTopic("alerts-1", 2);
  const auto produced = ProduceTraffic("access-1", 0, traffic_->values.size());
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
  for (const TopicRecord& r : kafka_->ReadAll("alerts-1", 2, findings.size() + 1, seconds(3))) {
    ++on_topic[JsonText(r.value, "id")];
  }
  EXPECT_EQ(on_topic.size(), findings.size());
  for (const auto& [id, delivered] : findings) EXPECT_EQ(on_topic[id], 1) << id;
  uninterrupted_findings_ = new std::set<std::string>();
  for (const auto& [id, delivered] : findings) uninterrupted_findings_->insert(id);
}

TEST_F(KafkaDaemonTest, SigkillAtRandomPointsNeitherLosesNorDuplicatesRecords) {
  kafka_->CreateTopic("access-2", kPartitions);
  const auto produced = ProduceTraffic("access-2", 0, traffic_->values.size());
  const int64_t total = static_cast<int64_t>(produced.size());
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  // Four kill points, one in each fifth of the stream after the first.
  std::uniform_real_distribution<double> fraction(0.0, 0.2);
  std::vector<int64_t> kill_at;
  for (int i = 0; i < 4; ++i) {
    kill_at.push_back(static_cast<int64_t>((0.05 + 0.2 * i + fraction(rng)) * total));
  }
  SCOPED_TRACE("seed " + std::to_string(seed));

  // Small batches: more commits, so kills land between and inside transactions.
  const std::string config = WriteConfig("crash", "access-2", "audit-2", "", 200);
  AuditDb db(Db("crash"));
  int started = 0;
  auto start = [&](DaemonProcess* d) {
    d->Start();
    ASSERT_TRUE(d->WaitForLog("subscribing", started++)) << d->Log();
  };
  {
    DaemonProcess before_any_commit(config, Log("crash"));
    start(&before_any_commit);
    before_any_commit.Kill();
  }
  for (int64_t threshold : kill_at) {
    DaemonProcess daemon(config, Log("crash"));
    start(&daemon);
    ASSERT_TRUE(WaitForRecords({&db}, threshold)) << daemon.Log();
    daemon.Kill();
    std::printf("killed at %lld of %lld records stored\n", static_cast<long long>(db.Records()),
                static_cast<long long>(total));
  }
  DaemonProcess last(config, Log("crash"));
  start(&last);
  ASSERT_TRUE(WaitForRecords({&db}, total)) << last.Log();
  ASSERT_EQ(last.Stop(), 0) << last.Log();

  ExpectExactlyOnce({&db}, "access-2", produced, 0);
  const std::string log = last.Log();
  ExpectResumedAfterStoredPositions(log);
  EXPECT_NE(log.find("duplicates 0,"), std::string::npos) << log;
  if (uninterrupted_findings_ != nullptr) {
    std::set<std::string> ids;
    for (const auto& [id, delivered] : db.Findings()) ids.insert(id);
    EXPECT_EQ(ids, *uninterrupted_findings_) << "findings differ from the uninterrupted run";
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
// commit and its last asynchronous Kafka commit are covered by that synchronous commit.
TEST_F(KafkaDaemonTest, TwoDaemonsInOneGroupTogetherStoreEveryRecordOnce) {
  kafka_->CreateTopic("access-3", kPartitions);
  const size_t half = traffic_->values.size() / 2;
  const size_t chunk = (traffic_->values.size() - half) / 4;
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
  for (size_t first = half + chunk; first < traffic_->values.size(); first += chunk) {
    more = ProduceTraffic("access-3", first, std::min(chunk, traffic_->values.size() - first));
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
