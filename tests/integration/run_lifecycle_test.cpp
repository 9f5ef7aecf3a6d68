// `edi-audit run` through its life: configuration errors a person can act on, SIGHUP reloads
// that keep the old snapshots when the new ones are broken, and a broker outage it survives.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/daemon_fixture.h"
#include "integration/real_prometheus.h"

namespace edi::testing {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

class RunLifecycleTest : public DaemonTest {
 protected:
  // Runs `edi-audit run` on a config of `text`; returns the exit code and sets *output.
  int RunWithConfig(const std::string& name, const std::string& text, std::string* output) {
    const std::string path = dir() + "/" + name + ".yaml";
    std::ofstream(path) << text;
    DaemonProcess daemon(path, Log(name));
    daemon.Start();
    const std::optional<int> code = daemon.Wait(seconds(30));
    *output = daemon.Log();
    return code.value_or(-1);
  }
  std::string ValidConfig(const std::string& name) {
    return "registry: " + traffic().registry_dir + "\ndatabase: " + Db(name) +
           "\nkafka:\n  brokers: " + kafka()->bootstrap() + "\n  topics: [config-test]\n";
  }
};

TEST_F(RunLifecycleTest, AnUnknownKeyIsAnErrorNamingFileLineAndKey) {
  std::string out;
  EXPECT_EQ(RunWithConfig("typo", ValidConfig("typo") + "  bokers: x\n", &out), 2);
  EXPECT_NE(out.find("typo.yaml:6: unknown key 'kafka.bokers'"), std::string::npos) << out;
}

TEST_F(RunLifecycleTest, ABadValueIsAnErrorNamingFileLineAndKey) {
  std::string out;
  EXPECT_EQ(RunWithConfig("bad", ValidConfig("bad") + "run:\n  batch_max_ms: 0\n", &out), 2);
  EXPECT_NE(out.find("bad.yaml:7: key 'run.batch_max_ms' must be an integer from 1 to 600000"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunWithConfig("topic", ValidConfig("topic") + "  alerts_topic: 'a b'\n", &out), 2);
  EXPECT_NE(out.find("topic.yaml:6: key 'kafka.alerts_topic': 'a b' is not a valid topic name"),
            std::string::npos)
      << out;
}

TEST_F(RunLifecycleTest, ADatabaseThatIsNoneIsAConfigurationErrorNotARestartingFailure) {
  // Exit status 2: systemd does not restart the unit over what a restart cannot mend.
  std::string out;
  std::filesystem::create_directories(dir() + "/adir");
  std::string text = ValidConfig("dirdb");
  text.replace(text.find(Db("dirdb")), Db("dirdb").size(), dir() + "/adir");
  EXPECT_EQ(RunWithConfig("dirdb", text, &out), 2);
  EXPECT_NE(out.find("/adir: is a directory, not a database file"), std::string::npos) << out;
  std::ofstream(Db("notsqlite")) << std::string(4096, 'x');
  EXPECT_EQ(RunWithConfig("notsqlite", ValidConfig("notsqlite"), &out), 2);
  EXPECT_NE(out.find("(is it an SQLite database?)"), std::string::npos) << out;
}

TEST_F(RunLifecycleTest, UnusableRuleFilesStopTheStartBeforeADatabaseIsCreated) {
  std::string out;
  std::ofstream(dir() + "/broken-rules.yaml") << "- rule: local.x\n  condition: evt.nosuch\n";
  EXPECT_EQ(
      RunWithConfig("badrules",
                    ValidConfig("badrules") + "rules: [" + dir() + "/broken-rules.yaml]\n", &out),
      2);
  EXPECT_NE(out.find("the rule files do not load"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(Db("badrules")));
}

TEST_F(RunLifecycleTest, AMissingRequiredKeyIsNamed) {
  std::string out;
  EXPECT_EQ(RunWithConfig("missing", "database: " + Db("missing") + "\n", &out), 2);
  EXPECT_NE(out.find("missing.yaml: key 'registry' is required by `edi-audit run`"),
            std::string::npos)
      << out;
}

TEST_F(RunLifecycleTest, AnHttpAddressInUseStopsTheStartNamingTheAddress) {
  // Something else listens there already.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::string out;
  EXPECT_EQ(
      RunWithConfig("inuse", ValidConfig("inuse") + "http:\n  listen: " + address + "\n", &out), 1);
  close(fd);
  EXPECT_NE(out.find("http.listen " + address + ": cannot listen there: Address already in use"),
            std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(Db("inuse")));  // refused before a database is made
}

TEST_F(RunLifecycleTest, UnusableSnapshotsExitWithTheStatusTheServiceDoesNotRestartOn) {
  // Exit status 2: systemd's RestartPreventExitStatus=2, as a restart cannot mend them.
  std::string config = ValidConfig("no-registry");
  config.replace(config.find(traffic().registry_dir), traffic().registry_dir.size(),
                 dir() + "/no-such-registry");
  std::string out;
  EXPECT_EQ(RunWithConfig("no-registry", config, &out), 2) << out;
  EXPECT_NE(out.find("registry: "), std::string::npos) << out;
}

TEST_F(RunLifecycleTest, AnUnknownLibrdkafkaPropertyIsAnErrorNamingItsLine) {
  std::string out;
  const std::string text =
      ValidConfig("prop") + "  consumer:\n    fetch.wait.max.ms: 50\n    ssl.ca.locaton: /x\n";
  EXPECT_EQ(RunWithConfig("prop", text, &out), 2);
  EXPECT_NE(out.find("prop.yaml:8: kafka.consumer.ssl.ca.locaton: No such configuration property"),
            std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(Db("prop")));  // refused before a database is made
  // The alerts producer's properties too.
  const std::string producer =
      ValidConfig("producer-prop") + "  alerts_topic: alerts\n  producer:\n    lingr.ms: 5\n";
  EXPECT_EQ(RunWithConfig("producer-prop", producer, &out), 2);
  EXPECT_NE(out.find("kafka.producer.lingr.ms: No such configuration property"), std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(Db("producer-prop")));
}

TEST_F(RunLifecycleTest, SighupReloadsAndKeepsTheOldRegistryWhenTheNewOneIsBroken) {
  const std::string registry = dir() + "/hup-registry";
  fs::copy(traffic().registry_dir, registry, fs::copy_options::recursive);
  kafka()->CreateTopic("hup", 2);
  auto produced = ProduceTraffic("hup", 0, 1000);
  DaemonProcess daemon(WriteConfig("hup", "hup", "audit-hup", "", 500, registry), Log("hup"));
  daemon.Start();
  AuditDb db(Db("hup"));
  ASSERT_TRUE(WaitForRecords({&db}, 1000)) << daemon.Log();

  const std::string orgs = registry + "/organizations.jsonl";
  const std::string good = [&] {
    std::ifstream in(orgs);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  std::ofstream(orgs, std::ios::app) << "{\"orgnr\": \"not a number\"\n";
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitForLog("registry: reload failed, keeping the snapshots in use", 0))
      << daemon.Log();
  auto more = ProduceTraffic("hup", 1000, 1000);  // it goes on with the old snapshots
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&db}, 2000)) << daemon.Log();

  std::ofstream(orgs, std::ios::trunc) << good;
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitForLog("registry: reloaded from", 0)) << daemon.Log();
  EXPECT_TRUE(daemon.WaitForLog("rules: reloaded", 0)) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  ExpectExactlyOnce({&db}, "hup", produced, 0);
}

TEST_F(RunLifecycleTest, SighupReloadsTheRulesAndKeepsThoseInUseWhenTheNewOnesAreBroken) {
  // The shipped pack and a local rule raising a finding for every download (each of another
  // message: none folds into another's repeats).
  const std::string local = dir() + "/hup-local.yaml";
  const std::string rule =
      "- rule: local.every-download\n  desc: every download\n  condition: call and "
      "evt.action = download and evt.success\n  severity: info\n  output: \"%client.id "
      "downloaded %msg.id\"\n";
  std::ofstream(local) << rule;
  kafka()->CreateTopic("hup-rules", 2);
  auto produced = ProduceTraffic("hup-rules", 0, 1000);
  const std::string config = WriteConfig("hup-rules", "hup-rules", "audit-hup-rules");
  std::ofstream(config, std::ios::app)
      << "rules: [" << EDI_SOURCE_DIR << "/rules/edi-default.yaml, " << local << "]\n";
  DaemonProcess daemon(config, Log("hup-rules"));
  daemon.Start();
  AuditDb db(Db("hup-rules"));
  ASSERT_TRUE(WaitForRecords({&db}, 1000)) << daemon.Log();
  auto count = [&](const std::string& rule_id) {
    int64_t n = 0;
    for (const auto& [key, k] : db.FindingCounts()) n += key.first == rule_id ? k : 0;
    return n;
  };
  auto others = [&] {
    int64_t n = 0;
    for (const auto& [key, k] : db.FindingCounts())
      n += key.first != "local.every-download" ? k : 0;
    return n;
  };
  const int64_t downloads = count("local.every-download");
  ASSERT_GT(downloads, 0) << "the first records hold no download";

  // Disabled, then reloaded: the rule raises nothing more; the others go on.
  std::ofstream(local, std::ios::trunc) << rule << "  enabled: false\n";
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitForLog("rules: reloaded", 0)) << daemon.Log();
  const int64_t others_before = others();
  auto more = ProduceTraffic("hup-rules", 1000, 1000);
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&db}, 2000)) << daemon.Log();
  EXPECT_EQ(count("local.every-download"), downloads);
  EXPECT_GT(others(), others_before) << "the second records raised nothing at all";

  // A broken file: the reload fails, and the rules in use (the rule disabled) stay.
  std::ofstream(local, std::ios::trunc) << "- rule: [\n";
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitForLog("rules: reload failed, keeping the rules in use", 0))
      << daemon.Log();
  more = ProduceTraffic("hup-rules", 2000, 1000);
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&db}, 3000)) << daemon.Log();
  EXPECT_EQ(count("local.every-download"), downloads);

  // Enabled again: it raises findings for the downloads from then on.
  std::ofstream(local, std::ios::trunc) << rule;
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitForLog("rules: reloaded", 1)) << daemon.Log();
  more = ProduceTraffic("hup-rules", 3000, 1000);
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&db}, 4000)) << daemon.Log();
  EXPECT_GT(count("local.every-download"), downloads);
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  ExpectExactlyOnce({&db}, "hup-rules", produced, 0);
}

TEST_F(RunLifecycleTest, ABrokerOutageIsLoggedShownAndSurvivedWithoutLosingRecords) {
  kafka()->CreateTopic("outage", 2);
  auto produced = ProduceTraffic("outage", 0, 2000);
  const std::string config =
      WriteConfig("outage", "outage", "audit-outage", "    statistics.interval.ms: 300\n");
  {
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string run = "run:\n  batch_max_ms: 200\n";
    text.replace(text.find(run), run.size(), run + "  kafka_unreachable_ms: 1000\n");
    std::ofstream(config) << text << "http:\n  listen: 127.0.0.1:0\n";
  }
  DaemonProcess daemon(config, Log("outage"));
  daemon.Start();
  const int port = daemon.HttpPort();
  ASSERT_GT(port, 0) << daemon.Log();
  AuditDb db(Db("outage"));
  ASSERT_TRUE(WaitForRecords({&db}, 2000)) << daemon.Log();
  auto health_until = [&](int status) {
    std::optional<std::pair<int, std::string>> h;
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (((h = HttpGet(port, "/health")), !h || h->first != status) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return h;
  };
  EXPECT_EQ(health_until(200), std::make_pair(200, std::string("ok\n")));

  kafka()->Pause();
  ASSERT_TRUE(daemon.WaitForLog("librdkafka retries by itself", 0)) << daemon.Log();
  // /health says so once no broker was reachable for kafka_unreachable_ms.
  const auto down = health_until(503);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->second.rfind("kafka: no broker reachable for ", 0), 0u) << down->second;
  const auto metrics = HttpGet(port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->second.find("\nedi_audit_kafka_brokers_up 0\n"), std::string::npos)
      << metrics->second;
  std::this_thread::sleep_for(seconds(3));  // longer than the session timeout in all
  kafka()->Start();
  auto more = ProduceTraffic("outage", 2000, 2000);
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&db}, 4000)) << daemon.Log();
  EXPECT_EQ(health_until(200), std::make_pair(200, std::string("ok\n")));
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  ExpectExactlyOnce({&db}, "outage", produced, 0);
}

// Stopped during a broker outage with nothing stored since its partitions were assigned at the
// group's committed offsets, `run` has nothing to commit: it neither waits for the unreachable
// coordinator to commit (45 s) nor reports the partitions as handed over uncommitted.
TEST_F(RunLifecycleTest, ASigtermInAnOutageWithNothingNewToCommitDoesNotWaitToCommit) {
  kafka()->CreateTopic("idle-outage", 2);
  ProduceTraffic("idle-outage", 0, 500);
  const std::string config = WriteConfig("idle-outage", "idle-outage", "audit-idle-outage");
  {
    DaemonProcess first(config, Log("idle-outage-1"));
    first.Start();
    AuditDb db(Db("idle-outage"));
    ASSERT_TRUE(WaitForRecords({&db}, 500)) << first.Log();
    ASSERT_EQ(first.Stop(), 0) << first.Log();  // commits what it stored
  }
  DaemonProcess again(config, Log("idle-outage-2"));
  again.Start();
  ASSERT_TRUE(again.WaitForLog("kafka: assigned kafka:idle-outage/1", 0)) << again.Log();
  ASSERT_TRUE(again.WaitForLog("kafka: assigned kafka:idle-outage/0", 0)) << again.Log();
  kafka()->Pause();
  const bool noticed = again.WaitForLog("librdkafka retries by itself", 0);
  const auto stopping = std::chrono::steady_clock::now();
  const std::optional<int> code = again.Stop(seconds(80));
  const auto took = std::chrono::steady_clock::now() - stopping;
  kafka()->Start();  // for the tests after this one
  ASSERT_TRUE(noticed) << again.Log();
  ASSERT_EQ(code, 0) << again.Log();
  // Leaving the group still gets its 10 s (close_timeout), but no commit waits before it.
  EXPECT_LT(took, seconds(30)) << again.Log();
  EXPECT_EQ(again.Log().find("committing offsets before giving up partitions failed"),
            std::string::npos)
      << again.Log();
  EXPECT_EQ(again.Log().find("handed over without its committed offset"), std::string::npos)
      << again.Log();
}

TEST_F(RunLifecycleTest, ASecondWriterIsRefusedWhileTheFirstGoesOnStoring) {
  kafka()->CreateTopic("one-writer", 2);
  auto produced = ProduceTraffic("one-writer", 0, 1000);
  const std::string config = WriteConfig("one-writer", "one-writer", "audit-one-writer");
  DaemonProcess first(config, Log("one-writer"));
  first.Start();
  AuditDb db(Db("one-writer"));
  ASSERT_TRUE(WaitForRecords({&db}, 1000)) << first.Log();

  const std::string refused = Db("one-writer") +
                              ": another edi-audit process (run or replay) is writing to this "
                              "database; one writer at a time";
  // A second daemon on the same database: exit 1 (a restart may find it free).
  DaemonProcess second(config, Log("one-writer-2"));
  second.Start();
  EXPECT_EQ(second.Wait(seconds(30)), 1) << second.Log();
  EXPECT_NE(second.Log().find(refused), std::string::npos) << second.Log();
  // A replay into it: exit 2, and nothing of its input stored.
  const std::string replay_log = Log("one-writer-replay");
  const pid_t replay =
      SpawnLogged(EDI_BINARY,
                  {"edi-audit", "replay", "--registry", traffic().registry_dir, "--db",
                   Db("one-writer"), std::string(EDI_SOURCE_DIR) + "/examples/access-log.jsonl"},
                  replay_log);
  int status = 0;
  ASSERT_EQ(waitpid(replay, &status, 0), replay);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string replay_out = DaemonProcess("", replay_log).Log();
  EXPECT_NE(replay_out.find(refused), std::string::npos) << replay_out;

  // The first daemon was not disturbed: it stores what comes next, each record once.
  auto more = ProduceTraffic("one-writer", 1000, 1000);
  produced.insert(produced.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitForRecords({&db}, 2000)) << first.Log();
  ASSERT_EQ(first.Stop(), 0) << first.Log();
  ExpectExactlyOnce({&db}, "one-writer", produced, 0);
}

TEST_F(RunLifecycleTest, ASigtermDuringTheStartIsACleanExit) {
  // Before it has subscribed (the broker is unreachable; it keeps trying): SIGTERM ends it
  // with status 0, as systemd expects of a stop during the start.
  const std::string path = dir() + "/early-stop.yaml";
  std::ofstream(path) << "registry: " << traffic().registry_dir
                      << "\ndatabase: " << Db("early-stop") << "\nkafka:\n  brokers: 127.0.0.1:1\n"
                      << "  topics: [early-stop]\n";
  for (const int sig : {SIGTERM, SIGINT}) {
    DaemonProcess daemon(path, Log(sig == SIGTERM ? "early-sigterm" : "early-sigint"));
    daemon.Start();
    // Once its handlers are in place (they are the first thing it sets up; before, the
    // signal's default action would end it, as any program).
    ASSERT_TRUE(daemon.WaitForLog("rules: ", 0)) << daemon.Log();
    daemon.Signal(sig);
    EXPECT_EQ(daemon.Wait(seconds(60)), 0) << daemon.Log();
  }
}

TEST_F(RunLifecycleTest, LogLinesToTheJournalStartWithTheirSyslogPriority) {
  // systemd names the journal's stream in JOURNAL_STREAM (device:inode of stderr); the log
  // file stands in for it.
  const std::string path = dir() + "/journal.yaml";
  std::ofstream(path) << "registry: " << traffic().registry_dir << "\ndatabase: " << Db("journal")
                      << "\nkafka:\n  brokers: 127.0.0.1:1\n"
                      << "  topics: [journal]\n";
  const std::string log = Log("journal");
  std::ofstream(log).close();
  struct stat st = {};
  ASSERT_EQ(::stat(log.c_str(), &st), 0);
  DaemonProcess daemon(path, log);
  daemon.Start({"JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)});
  ASSERT_TRUE(daemon.WaitForLog("<4>warning kafka: ", 0)) << daemon.Log();  // no broker there
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  const std::string text = daemon.Log();
  EXPECT_EQ(text.rfind("<6>info rules: ", 0), 0u) << text;  // the first line; no timestamp
  EXPECT_NE(text.find("\n<6>info SIGTERM: draining"), std::string::npos) << text;

  // Elsewhere (a terminal, a file) the lines carry their time instead.
  DaemonProcess plain(path, Log("journal-plain"));
  plain.Start();
  ASSERT_TRUE(plain.WaitForLog("warning kafka: ", 0)) << plain.Log();
  ASSERT_EQ(plain.Stop(), 0) << plain.Log();
  EXPECT_EQ(plain.Log().find("<6>"), std::string::npos) << plain.Log();
  EXPECT_EQ(plain.Log().rfind("20", 0), 0u) << plain.Log();
}

TEST_F(RunLifecycleTest, APartitionWhoseOffsetsWentBackIsReadFromWhereItStarts) {
  // A topic deleted and created again (or a log truncated) starts below the offset this
  // database stored up to: its records must be stored, not skipped as already read.
  kafka()->CreateTopic("went-back", 1);
  auto produced = ProduceTraffic("went-back", 0, 300);
  const std::string config = WriteConfig("went-back", "went-back", "audit-went-back");
  AuditDb db(Db("went-back"));
  {
    DaemonProcess daemon(config, Log("went-back"));
    daemon.Start();
    ASSERT_TRUE(WaitForRecords({&db}, 300)) << daemon.Log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  }
  // As if the partition had held 1,000 records more before it was made anew.
  ASSERT_EQ(std::system(("sqlite3 " + Db("went-back") +
                         " \"UPDATE source_positions SET position = position + 1000\"")
                            .c_str()),
            0);
  auto more = ProduceTraffic("went-back", 300, 300);
  produced.insert(produced.end(), more.begin(), more.end());
  DaemonProcess daemon(config, Log("went-back-2"));
  daemon.Start();
  ASSERT_TRUE(WaitForRecords({&db}, 600)) << daemon.Log();
  ASSERT_TRUE(daemon.WaitForLog("offsets went back", 0)) << daemon.Log();
  ASSERT_EQ(daemon.Stop(), 0) << daemon.Log();
  ExpectExactlyOnce({&db}, "went-back", produced, 0);
  EXPECT_EQ(db.Positions()["kafka:went-back/0"], 599);
}

}  // namespace
}  // namespace edi::testing
