// edi-audit as a user runs it: the binary, its exit codes and its output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Output {
  int status = -1;
  std::string out;
};

Output Sh(const std::string& cmd) {
  Output r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class ReplayCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("edi-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // The line of examples/access-log.jsonl with this requestId ("" if none).
  static std::string ExampleRecord(const std::string& request_id) {
    std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"requestId\":\"" + request_id + "\"") != std::string::npos) return line;
    }
    return "";
  }
  std::string Replay(const std::string& db) {
    return std::string(EDI_BINARY) +
           " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
           " " EDI_SOURCE_DIR "/examples/access-log.jsonl " EDI_SOURCE_DIR
           "/examples/access-log-malformed.jsonl";
  }
  std::filesystem::path dir_;
};

TEST_F(ReplayCli, ReplaysTheExamplesAndSummarisesWhatWasStoredQuarantinedAndFound) {
  const Output r = Sh(Replay((dir_ / "a.db").string()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("records read                          179"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored                                125"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quarantined                            54"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("edi.foreign-acknowledgement"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("edi.reservation-takeover"), std::string::npos) << r.out;
  // Summaries name the other clients as they name the acting one: NAME (ID).
  EXPECT_NE(r.out.find("reserved to Fjordvik integrasjonsplattform "
                       "(c41d7e83-5a2b-4c9d-b6e0-8f1a3c5d7e03), and got status 204"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(owner Legepraksis EPJ (7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02), earlier "
                       "downloader Legepraksis EPJ (7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02))"),
            std::string::npos)
      << r.out;
}

TEST_F(ReplayCli, ASecondReplayOfTheSameFilesStoresNothingNew) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const Output again = Sh(Replay(db));
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find("stored                                  0"), std::string::npos)
      << again.out;
  // The malformed examples were quarantined the first time: the same records again.
  EXPECT_NE(again.out.find("duplicates (already stored)           179"), std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("quarantined                             0"), std::string::npos)
      << again.out;
  EXPECT_EQ(again.out.find("stored by action"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("findings                                0"), std::string::npos)
      << again.out;
}

TEST_F(ReplayCli, RecordsOlderThanStoredEventsAreStoredWithAWarningAndCounted) {
  // The example log in two halves: the later one replayed first.
  std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
  std::ofstream early(dir_ / "early.jsonl"), late(dir_ / "late.jsonl");
  std::string line;
  for (int n = 0; std::getline(in, line); ++n) (n < 60 ? early : late) << line << "\n";
  early.close();
  late.close();
  const std::string replay = std::string(EDI_BINARY) +
                             " replay -q --no-findings --registry " EDI_SOURCE_DIR
                             "/examples/registry --db " +
                             (dir_ / "a.db").string() + " ";
  const Output first = Sh(replay + (dir_ / "late.jsonl").string());
  ASSERT_EQ(first.status, 0) << first.out;
  EXPECT_EQ(first.out.find("warning"), std::string::npos) << first.out;
  const Output second = Sh(replay + (dir_ / "early.jsonl").string());
  ASSERT_EQ(second.status, 0) << second.out;
  EXPECT_NE(second.out.find("is over an hour older than events already stored (up to "
                            "2026-05-11T07:30:00.009Z)"),
            std::string::npos)
      << second.out;
  EXPECT_NE(second.out.find("stored                                 60\n"
                            "    older than stored events             60\n"),
            std::string::npos)
      << second.out;
  // Within one replay too: the later half before the earlier one, in one call.
  const Output one_call =
      Sh(std::string(EDI_BINARY) +
         " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "c.db").string() + " " + (dir_ / "late.jsonl").string() + " " +
         (dir_ / "early.jsonl").string());
  ASSERT_EQ(one_call.status, 0) << one_call.out;
  EXPECT_NE(one_call.out.find("is over an hour older than events already stored"),
            std::string::npos)
      << one_call.out;
  EXPECT_NE(one_call.out.find("    older than stored events             60\n"), std::string::npos)
      << one_call.out;
  // In time order nothing is older than stored events.
  const Output again =
      Sh(std::string(EDI_BINARY) +
         " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "b.db").string() + " " + (dir_ / "early.jsonl").string() + " " +
         (dir_ / "late.jsonl").string());
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(again.out.find("warning"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("older than stored events"), std::string::npos) << again.out;
}

TEST_F(ReplayCli, ARecordUnderAStoredCallsKeyWithOtherContentIsQuarantinedNotDropped) {
  // The examples' first call, then the same requestId and timestamp with another status.
  std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
  std::string first;
  std::getline(in, first);
  std::string other = first;
  const size_t at = other.find("\"status\":200");
  ASSERT_NE(at, std::string::npos) << first;
  other.replace(at, 12, "\"status\":403");
  std::ofstream(dir_ / "a.jsonl") << first << "\n";
  std::ofstream(dir_ / "b.jsonl") << first << "\n" << other << "\n";
  const std::string db = (dir_ / "a.db").string();
  const std::string replay = std::string(EDI_BINARY) + " replay -q --no-findings --registry " +
                             EDI_SOURCE_DIR "/examples/registry --db " + db + " ";
  ASSERT_EQ(Sh(replay + (dir_ / "a.jsonl").string()).status, 0);
  // The same record again is a duplicate; the other one is kept, with the reason.
  const Output r = Sh(replay + (dir_ / "b.jsonl").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("duplicates (already stored)             1\n"
                       "  quarantined                             1\n"
                       "    conflicting_duplicate                 1\n"),
            std::string::npos)
      << r.out;
  // Replayed again, both are what was seen before; so is the first record framed otherwise
  // (a CRLF line end, trailing blanks).
  const Output again = Sh(replay + (dir_ / "b.jsonl").string());
  EXPECT_NE(again.out.find("duplicates (already stored)             2\n"
                           "  quarantined                             0\n"),
            std::string::npos)
      << again.out;
  std::ofstream(dir_ / "c.jsonl") << first << " \t\r\n";
  const Output framed = Sh(replay + (dir_ / "c.jsonl").string());
  EXPECT_NE(framed.out.find("duplicates (already stored)             1\n"
                            "  quarantined                             0\n"),
            std::string::npos)
      << framed.out;
  const Output q = Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --format jsonl");
  EXPECT_NE(q.out.find("\"reason\":\"conflicting_duplicate\",\"detail\":\"requestId 'ex-0001' at "
                       "2026-05-04T06:58:00.120Z is stored as event 1 from a record with other "
                       "content\""),
            std::string::npos)
      << q.out;
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " quarantine --raw --db " + db).out, other + "\n");
  EXPECT_EQ(Sh("sqlite3 " + db + " 'SELECT status FROM events'").out, "200\n");
}

TEST_F(ReplayCli, BadRecordsFromStandardInputAreAllKeptAcrossRuns) {
  // Every stdin replay reads positions 1, 2, ... of source "stdin": other bad records at the
  // same positions are still quarantined, the same ones are duplicates.
  const std::string db = (dir_ / "a.db").string();
  const std::string cmd = std::string(EDI_BINARY) +
                          " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
                          " -";
  for (const char* line : {"[1,2]", "not json at all", "not json at all"}) {
    ASSERT_EQ(Sh(std::string("printf '%s\\n' '") + line + "' | " + cmd).status, 0) << line;
  }
  const Output q =
      Sh("sqlite3 " + db + " \"SELECT position, reason FROM quarantine ORDER BY 1, 2\"");
  EXPECT_EQ(q.out, "1|invalid_json\n1|schema\n") << q.out;
}

TEST_F(ReplayCli, AStaleLocksEvidenceIsTheLocksNotTheCallThatMovedTimeOn) {
  // ex-0099, a ping by another client, is the first record 30 days after NH's last call for
  // 8142522: the finding's evidence is about the lock, not about that ping.
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const Output r = Sh("sqlite3 " + db +
                      " \"SELECT evidence FROM findings WHERE rule = 'edi.stale-reservation'\"");
  ASSERT_NE(r.out.find("party.lock_holder"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("party.lock_denied_others"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("evt.action"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("party.org_covered"), std::string::npos) << r.out;
}

TEST_F(ReplayCli, EventViewShowsTheOrganisationEachCallActedFor) {
  // A multi-tenant client acts for several organisations: the view shows each call's own.
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const Output r = Sh("sqlite3 " + db +
                      " \"SELECT count(DISTINCT orgnr_parent) FROM event_view WHERE client_id = "
                      "'7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02'\"");
  EXPECT_EQ(r.out, "4\n") << r.out;
  const Output one =
      Sh("sqlite3 " + db + " \"SELECT orgnr_parent FROM event_view WHERE request_id = 'ex-0111'\"");
  EXPECT_EQ(one.out, "921600001\n") << one.out;
}

TEST_F(ReplayCli, RecordPrintsStoredRecordsExactlyAsReceived) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string record = std::string(EDI_BINARY) + " record --db " + db;
  // The fifth line of the example log, by its requestId, is printed byte for byte.
  std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
  std::string line;
  for (int i = 0; i < 5; ++i) std::getline(in, line);
  const std::string request = line.substr(line.find("\"requestId\":\"") + 13, 7);
  const Output by_request = Sh(record + " --request-id " + request);
  EXPECT_EQ(by_request.status, 0) << by_request.out;
  EXPECT_EQ(by_request.out, line + "\n");
  const Output by_id = Sh(record + " --event-id 1 --event-id 2");
  EXPECT_EQ(by_id.status, 0) << by_id.out;
  EXPECT_EQ(std::count(by_id.out.begin(), by_id.out.end(), '\n'), 2) << by_id.out;
  const Output missing = Sh(record + " --event-id 100000 --request-id no-such-request");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("no event 100000"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("no-such-request"), std::string::npos) << missing.out;
  EXPECT_EQ(Sh(record).status, 2);
  EXPECT_EQ(
      Sh(std::string(EDI_BINARY) + " record --db " + (dir_ / "none.db").string() + " --event-id 1")
          .status,
      1);
}

TEST_F(ReplayCli, OutputThatCannotBeWrittenIsAFailureForEveryCommand) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string bin = std::string(EDI_BINARY) + " ";
  // The replay's summary too (a replay again: nothing new to store).
  for (const std::string& cmd :
       {bin + "record --db " + db + " --event-id 1", bin + "events --db " + db,
        bin + "findings --db " + db, bin + "fields", bin + "rules list", Replay(db)}) {
    const Output r = Sh("{ " + cmd + " >/dev/full; }");
    EXPECT_EQ(r.status, 1) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("cannot write the output"), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST_F(ReplayCli, AnotherApplicationsSqliteFileIsNamedSoByEveryCommand) {
  // Its own tables, and a schema version of its own.
  for (const char* setup : {"CREATE TABLE t (x)", "CREATE TABLE t (x); PRAGMA user_version = 5"}) {
    const std::string db = (dir_ / "other.db").string();
    std::filesystem::remove(db);
    ASSERT_EQ(Sh("sqlite3 " + db + " '" + setup + "'").status, 0);
    for (const char* cmd : {"events", "findings"}) {
      const Output r = Sh(std::string(EDI_BINARY) + " " + cmd + " --db " + db);
      EXPECT_EQ(r.status, 1) << setup << " " << cmd << ": " << r.out;
      EXPECT_NE(r.out.find(db + ": not an edi-audit database"), std::string::npos)
          << setup << " " << cmd << ": " << r.out;
    }
    const Output replay = Sh(Replay(db));
    EXPECT_EQ(replay.status, 2) << setup << ": " << replay.out;
    EXPECT_NE(replay.out.find(db + ": not an edi-audit database"), std::string::npos)
        << setup << ": " << replay.out;
    EXPECT_EQ(Sh("sqlite3 " + db + " 'SELECT count(*) FROM sqlite_master'").out, "1\n");
  }
}

TEST_F(ReplayCli, ARuleIdNoFindingHasIsPointedOutWithTheIdsThatHaveFindings) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string findings = std::string(EDI_BINARY) + " findings --db " + db + " --rule ";
  const Output typo = Sh(findings + "foreign-send");
  EXPECT_EQ(typo.status, 0) << typo.out;
  EXPECT_NE(typo.out.find("no stored finding has rule 'foreign-send' (the rules with findings: "),
            std::string::npos)
      << typo.out;
  EXPECT_NE(typo.out.find(", edi.foreign-send, "), std::string::npos) << typo.out;
  // A rule that has findings, filtered to none by another filter, is not pointed out.
  const Output none = Sh(findings + "edi.foreign-send --her-id 1");
  EXPECT_EQ(none.status, 0) << none.out;
  EXPECT_EQ(none.out, "no findings\n");
}

TEST_F(ReplayCli, FixturesRunWithTheBaseRulesOfADirectoryAsWithTheFile) {
  std::filesystem::create_directory(dir_ / "base");
  std::filesystem::copy_file(EDI_SOURCE_DIR "/rules/edi-default.yaml",
                             dir_ / "base" / "edi-default.yaml");
  const std::string fixtures = " " EDI_SOURCE_DIR "/rules/tests/edi.foreign-send.yaml";
  const Output from_dir =
      Sh(std::string(EDI_BINARY) + " rules test --rules " + (dir_ / "base").string() + fixtures);
  EXPECT_EQ(from_dir.status, 0) << from_dir.out;
  const Output from_file =
      Sh(std::string(EDI_BINARY) + " rules test --rules " EDI_SOURCE_DIR "/rules/edi-default.yaml" +
         fixtures);
  EXPECT_EQ(from_dir.out, from_file.out);
  EXPECT_NE(from_dir.out.find(" passed, 0 failed"), std::string::npos) << from_dir.out;
}

TEST_F(ReplayCli, AFixtureFileWithAMistakeIsNamedWithWhereAndWhat) {
  std::filesystem::copy_file(EDI_SOURCE_DIR "/rules/tests/_world.yaml", dir_ / "_world.yaml");
  const std::string one_case =
      "    records:\n      - {requestId: r1, client: NH, path: /ping}\n"
      "    expect_not: [{rule: edi.foreign-send}]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"include: _nope.yaml\ncases:\n  - name: a\n" + one_case,
       "include " + (dir_ / "_nope.yaml").string() + ": cannot be read"},
      {"include: _world.yaml\ncases: []\n", ":2: cases: is empty: a fixture needs a case"},
      {"include: _world.yaml\ncases:\n  - name: x\n" + one_case + "  - name: x\n" + one_case,
       ":7: a second case named 'x'"},
      {"include: _world.yaml\ncases:\n  - name: x\n    records:\n"
       "      - {requestId: r1, client: NH, path: /ping}\n"
       "    expect_not: [{rule: edi.foreign-send, herId: \"7100120x\"}]\n",
       ":6:50: a value of the wrong kind"},
  };
  int n = 0;
  for (const auto& [text, expected] : cases) {
    const auto file = dir_ / ("f" + std::to_string(++n) + ".yaml");
    std::ofstream(file) << text;
    const Output r = Sh(std::string(EDI_BINARY) + " rules test " + file.string());
    EXPECT_EQ(r.status, 1) << text << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << text << r.out;
  }
}

TEST_F(ReplayCli, TheDatabaseShowsItsTablesToTheSqliteShell) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const Output tables = Sh("sqlite3 " + db + " .tables");
  ASSERT_EQ(tables.status, 0) << tables.out;
  for (const char* t : {"events", "party_events", "sources", "quarantine", "source_positions",
                        "findings", "state_locks", "state_messages", "clients"}) {
    EXPECT_NE(tables.out.find(t), std::string::npos) << t << " missing from " << tables.out;
  }
  const Output reasons =
      Sh("sqlite3 " + db + " \"SELECT count(DISTINCT reason) FROM quarantine WHERE detail <> ''\"");
  EXPECT_EQ(reasons.out, "7\n");
}

TEST_F(ReplayCli, ReadsRecordsFromStandardInput) {
  const Output r =
      Sh("head -n 10 " EDI_SOURCE_DIR "/examples/access-log.jsonl | " + std::string(EDI_BINARY) +
         " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "s.db").string() + " -");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stored                                 10"), std::string::npos) << r.out;
  // Standard input can be read once.
  const Output twice =
      Sh("head -n 10 " EDI_SOURCE_DIR "/examples/access-log.jsonl | " + std::string(EDI_BINARY) +
         " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "t.db").string() + " - -");
  EXPECT_EQ(twice.status, 2) << twice.out;
  EXPECT_NE(twice.out.find("'-' (standard input) is given more than once"), std::string::npos)
      << twice.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t.db"));
}

TEST_F(ReplayCli, MissingArgumentsAreUsageErrorsWithExitStatusTwo) {
  const Output r = Sh(std::string(EDI_BINARY) + " replay --registry " EDI_SOURCE_DIR
                                                "/examples/registry x.jsonl");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--db"), std::string::npos) << r.out;
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " replay --registry /nonexistent --db x.db a").status, 2);
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " no-such-command").status, 2);
}

TEST_F(ReplayCli, ABrokenSnapshotIsRefusedNamingFileAndLine) {
  std::filesystem::copy(EDI_SOURCE_DIR "/examples/registry", dir_ / "reg");
  std::ofstream(dir_ / "reg" / "organizations.jsonl", std::ios::app)
      << R"({"organisasjonsnummer":"12","navn":"x","kind":"hovedenhet"})"
         "\n";
  const Output r =
      Sh(std::string(EDI_BINARY) + " replay --registry " + (dir_ / "reg").string() + " --db " +
         (dir_ / "a.db").string() + " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(r.status, 2);  // an unusable input: nothing stored
  // The file within its directory, with the line.
  EXPECT_NE(r.out.find((dir_ / "reg" / "organizations.jsonl:").string()), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("organisasjonsnummer"), std::string::npos) << r.out;
}

TEST_F(ReplayCli, AnUnreadableInputIsRefusedBeforeAnythingIsStored) {
  // The first input is fine: nothing of it may be stored (its findings never shown) when a
  // later one cannot be read.
  const std::string db = (dir_ / "a.db").string();
  for (const std::string& bad : {std::string("/nonexistent.jsonl"), std::string("/tmp")}) {
    const Output r = Sh(std::string(EDI_BINARY) +
                        " replay --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
                        " " EDI_SOURCE_DIR "/examples/access-log.jsonl " + bad);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(bad + ": "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nothing replayed"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(db)) << bad;
  }
}

TEST_F(ReplayCli, ACompressedInputIsRefusedWithAHint) {
  const auto gz = dir_ / "log.jsonl.gz";
  ASSERT_EQ(Sh("gzip -c " EDI_SOURCE_DIR "/examples/access-log.jsonl > " + gz.string()).status, 0);
  const Output r = Sh(std::string(EDI_BINARY) +
                      " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " +
                      (dir_ / "a.db").string() + " " + gz.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("is gzip-compressed (decompress it: zcat"), std::string::npos) << r.out;
}

TEST_F(ReplayCli, AnInputThatIsAPipeIsReadWhole) {
  // The checks before storing must not read from a pipe: what they read would be lost.
  const std::string fifo = (dir_ / "log.fifo").string();
  const Output r =
      Sh("mkfifo " + fifo + " && (cat " EDI_SOURCE_DIR "/examples/access-log.jsonl > " + fifo +
         " &) && " + EDI_BINARY +
         " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "a.db").string() + " " + fifo);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stored                                125"), std::string::npos) << r.out;
}

TEST_F(ReplayCli, RuleFilesThatEnableNoRuleAreRefused) {
  const auto rules = dir_ / "off.yaml";
  std::ofstream(rules) << "- rule: local.x\n  desc: d\n  condition: evt.success\n"
                          "  severity: low\n  output: o\n  enabled: false\n";
  const std::string db = (dir_ / "a.db").string();
  const Output r = Sh(std::string(EDI_BINARY) + " replay -q --rules " + rules.string() +
                      " --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
                      " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("enable no rule"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(db));
  // The check fails on what replay and run refuse: a gate in CI stops it.
  const Output check = Sh(std::string(EDI_BINARY) + " rules check " + rules.string());
  EXPECT_EQ(check.status, 1) << check.out;
  EXPECT_NE(check.out.find("error: no rule is enabled"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("1 error, 1 warning\n"), std::string::npos) << check.out;
  // Also for a file that defines no rule at all.
  const auto empty = dir_ / "empty.yaml";
  std::ofstream(empty) << "- required_engine_version: 1\n";
  const Output strict = Sh(std::string(EDI_BINARY) + " rules check " + empty.string());
  EXPECT_EQ(strict.status, 1) << strict.out;
  EXPECT_NE(strict.out.find("0 rules (0 enabled), 1 error, 0 warnings\n"), std::string::npos)
      << strict.out;
}

TEST_F(ReplayCli, ADirectoryOfRuleFilesLoadsAsItsYamlFiles) {
  const Output r = Sh(std::string(EDI_BINARY) +
                      " replay -q --no-findings --rules " EDI_SOURCE_DIR
                      "/rules --registry " EDI_SOURCE_DIR "/examples/registry --db " +
                      (dir_ / "a.db").string() + " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("critical"), std::string::npos) << r.out;
}

TEST_F(ReplayCli, AWordThatIsNoCommandIsNamed) {
  const Output r = Sh(std::string(EDI_BINARY) + " bogus");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown command 'bogus'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("replay"), std::string::npos) << r.out;
}

TEST_F(ReplayCli, ADirectoryGivenAsTheDatabaseIsNamedSo) {
  const Output r = Sh(std::string(EDI_BINARY) +
                      " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " +
                      dir_.string() + " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("is a directory, not a database file"), std::string::npos) << r.out;
  // A database in a directory that does not exist: the directory is named.
  const std::string missing = (dir_ / "no-such-dir" / "a.db").string();
  const Output m = Sh(std::string(EDI_BINARY) +
                      " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " + missing +
                      " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(m.status, 2);
  EXPECT_NE(m.out.find("cannot open database for writing: the directory " +
                       (dir_ / "no-such-dir").string() + " does not exist"),
            std::string::npos)
      << m.out;
}

// A rule file named *.yml in a directory loads like a *.yaml one (not skipped unseen).
TEST_F(ReplayCli, ARulesDirectoryLoadsYmlFilesToo) {
  const auto dir = dir_ / "rules.d";
  std::filesystem::create_directory(dir);
  std::filesystem::copy_file(EDI_SOURCE_DIR "/rules/edi-default.yaml", dir / "a.yaml");
  std::ofstream(dir / "b.yml")
      << "- required_engine_version: 1\n- rule: edi.unknown-route\n  enabled: false\n";
  std::ofstream(dir / "notes.txt") << "not a rule file\n";
  const Output list = Sh(std::string(EDI_BINARY) + " rules list " + dir.string());
  EXPECT_EQ(list.status, 0) << list.out;
  const size_t row = list.out.find("edi.unknown-route");
  ASSERT_NE(row, std::string::npos) << list.out;
  const std::string line = list.out.substr(row, list.out.find('\n', row) - row);
  EXPECT_NE(line.find(" no "), std::string::npos) << line;  // disabled by b.yml
  EXPECT_EQ(line.find(" yes "), std::string::npos) << line;
}

TEST_F(ReplayCli, ARulesDirectoryWithoutRuleFilesIsNamed) {
  // Every command that takes rule or fixture directories says which one holds nothing.
  const auto empty = dir_ / "no-rules";
  std::filesystem::create_directory(empty);
  const std::string expected = empty.string() + ": no *.yaml or *.yml files in this directory";
  const std::string db = (dir_ / "a.db").string();
  for (const std::string& command :
       {" replay -q --rules " + empty.string() +
            " --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
            " " EDI_SOURCE_DIR "/examples/access-log.jsonl",
        " rules check " + empty.string(), " rules list " + empty.string(),
        " rules test " + empty.string(),
        " rules test --rules " + empty.string() + " " EDI_SOURCE_DIR "/rules/tests"}) {
    const Output r = Sh(std::string(EDI_BINARY) + command);
    EXPECT_EQ(r.status, 2) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << command << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(db));
  // In a configuration an empty directory may stand beside rule files; alone, it is named.
  const auto alone = dir_ / "alone.yaml";
  std::ofstream(alone) << "registry: " EDI_SOURCE_DIR "/examples/registry\ndatabase: " << db
                       << "\nrules: [" << empty.string() << "]\n";
  const Output refused = Sh(std::string(EDI_BINARY) + " replay -q --config " + alone.string() +
                            " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_NE(refused.out.find("rules: the configured rules (" + empty.string() +
                             ") hold no *.yaml or *.yml files"),
            std::string::npos)
      << refused.out;
  EXPECT_FALSE(std::filesystem::exists(db));
  // A configuration's drop-in directory (rules.d) may be empty: the files beside it load.
  const auto config = dir_ / "c.yaml";
  std::ofstream(config) << "rules: [" EDI_SOURCE_DIR "/rules/edi-default.yaml, " << empty.string()
                        << "]\n";
  const Output r = Sh(std::string(EDI_BINARY) + " replay -q --no-findings --config " +
                      config.string() + " --registry " EDI_SOURCE_DIR "/examples/registry --db " +
                      db + " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("replaces"), std::string::npos) << r.out;
  // --rules replaces the configured rules, and says so: the shipped pack goes with them.
  const Output replaced =
      Sh(std::string(EDI_BINARY) + " replay -q --no-findings --config " + config.string() +
         " --rules " EDI_SOURCE_DIR "/rules/edi-default.yaml --registry " EDI_SOURCE_DIR
         "/examples/registry --db " +
         (dir_ / "b.db").string() + " " EDI_SOURCE_DIR "/examples/access-log.jsonl");
  EXPECT_EQ(replaced.status, 0) << replaced.out;
  EXPECT_NE(replaced.out.find("--rules replaces the configuration's rules (" EDI_SOURCE_DIR
                              "/rules/edi-default.yaml, " +
                              empty.string() + ")"),
            std::string::npos)
      << replaced.out;
}

TEST_F(ReplayCli, MergedInputsOfSeveralGatewayNodesGiveTheFindingsOfOneTimeOrderedLog) {
  // One generated log split line by line over two "gateway nodes", each still in time order.
  // Read one after the other, a node's marks come before the other node's downloads (false
  // findings); merged, the findings are those of the whole log.
  const std::string gen = (dir_ / "gen").string();
  ASSERT_EQ(Sh("python3 " EDI_SOURCE_DIR "/tools/gen/edi_gen.py --seed 5 --records 20000 "
               "--days 10 --out " +
               gen + " && awk 'NR%2==1' " + gen + "/access-log.jsonl > " + gen +
               "/a.jsonl && awk 'NR%2==0' " + gen + "/access-log.jsonl > " + gen + "/b.jsonl")
                .status,
            0);
  const std::string replay =
      std::string(EDI_BINARY) + " replay -q --no-findings --registry " + gen + "/registry --db ";
  ASSERT_EQ(Sh(replay + (dir_ / "whole.db").string() + " " + gen + "/access-log.jsonl").status, 0);
  ASSERT_EQ(Sh(replay + (dir_ / "merged.db").string() + " --merge " + gen + "/a.jsonl " + gen +
               "/b.jsonl")
                .status,
            0);
  ASSERT_EQ(
      Sh(replay + (dir_ / "apart.db").string() + " " + gen + "/a.jsonl " + gen + "/b.jsonl").status,
      0);
  auto findings = [&](const char* db) {
    return Sh("sqlite3 " + (dir_ / db).string() +
              " \"SELECT rule, request_id, her_id, severity, occurrences FROM findings "
              "ORDER BY 1, 2, 3\"")
        .out;
  };
  const std::string whole = findings("whole.db");
  ASSERT_FALSE(whole.empty());
  EXPECT_EQ(findings("merged.db"), whole);
  EXPECT_NE(findings("apart.db"), whole);  // why --merge is there
}

TEST_F(ReplayCli, AnOversizeRecordIsQuarantinedAndTheRestIsStored) {
  const auto input = dir_ / "big.jsonl";
  {
    std::ofstream out(input);
    std::ifstream examples(EDI_SOURCE_DIR "/examples/access-log.jsonl");
    std::string line;
    std::getline(examples, line);
    out << line << "\n" << std::string(2 << 20, ' ') << "{}\n";
    std::getline(examples, line);
    out << line << "\n";
  }
  const std::string db = (dir_ / "a.db").string();
  const Output r = Sh(std::string(EDI_BINARY) +
                      " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
                      " " + input.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stored                                  2"), std::string::npos) << r.out;
  const Output q =
      Sh("sqlite3 " + db + " \"SELECT reason, position, size, length(raw) FROM quarantine\"");
  EXPECT_EQ(q.out, "oversize|2|" + std::to_string((2 << 20) + 2) + "|65536\n");
}

TEST_F(ReplayCli, FieldsListsTheFactsRulesCanUse) {
  const Output r = Sh(std::string(EDI_BINARY) + " fields party.");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("party.owner "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("party.lock_holder"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("msg."), std::string::npos) << r.out;
  const Output none = Sh(std::string(EDI_BINARY) + " fields nosuch");
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.out.find("no field starts with 'nosuch'"), std::string::npos) << none.out;
}

}  // namespace

namespace {

// The values of one key in each line of JSON lines (strings unquoted, numbers as written).
std::vector<std::string> JsonlValues(const std::string& jsonl, const std::string& key) {
  std::vector<std::string> values;
  size_t at = 0;
  while ((at = jsonl.find("\"" + key + "\":", at)) != std::string::npos) {
    at += key.size() + 3;
    const bool quoted = jsonl[at] == '"';
    const size_t begin = at + (quoted ? 1 : 0);
    const size_t end = quoted ? jsonl.find('"', begin) : jsonl.find_first_of(",}", begin);
    values.push_back(jsonl.substr(begin, end - begin));
  }
  return values;
}

TEST_F(ReplayCli, QuarantineListsTheBadRecordsWithTheirReasonsAndBytes) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string quarantine = std::string(EDI_BINARY) + " quarantine --db " + db;
  const std::string sqlite = "sqlite3 " + db + " ";
  // Every quarantined record, once, with its reason: as many per reason as the table holds.
  const Output all = Sh(quarantine + " --format jsonl");
  ASSERT_EQ(all.status, 0) << all.out;
  std::map<std::string, int> per_reason;
  for (const std::string& r : JsonlValues(all.out, "reason")) ++per_reason[r];
  std::string listed;
  for (const auto& [reason, n] : per_reason) listed += reason + "|" + std::to_string(n) + "\n";
  EXPECT_EQ(
      listed,
      Sh(sqlite + "'SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY 1'").out);
  EXPECT_EQ(JsonlValues(all.out, "id").size(), 54u);
  // The table: a header and a line each.
  const Output table = Sh(quarantine);
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 55) << table.out;
  EXPECT_EQ(table.out.rfind("ID  RECEIVED", 0), 0u) << table.out;
  // One reason; the latest two, oldest first.
  const Output schema = Sh(quarantine + " --reason schema --format jsonl");
  const auto schema_reasons = JsonlValues(schema.out, "reason");
  EXPECT_EQ(std::to_string(schema_reasons.size()) + "\n",
            Sh(sqlite + "\"SELECT count(*) FROM quarantine WHERE reason = 'schema'\"").out);
  EXPECT_EQ(std::set<std::string>(schema_reasons.begin(), schema_reasons.end()),
            std::set<std::string>{"schema"});
  EXPECT_EQ(JsonlValues(Sh(quarantine + " --limit 2 --format jsonl").out, "id"),
            (std::vector<std::string>{"53", "54"}));
  // The bytes as kept, exactly.
  const Output raw = Sh(quarantine + " --limit 1 --raw");
  EXPECT_EQ(raw.out, Sh(sqlite + "'SELECT CAST(raw AS TEXT) FROM quarantine WHERE "
                                 "quarantine_id = 54'")
                         .out);
  EXPECT_NE(raw.out.find("\"requestId\":\"bad-"), std::string::npos) << raw.out;
  // A source as the table names it, and one that is not: the sources are named.
  const Output from = Sh(quarantine + " --source file:" EDI_SOURCE_DIR
                                      "/examples/access-log-malformed.jsonl --format jsonl");
  EXPECT_EQ(JsonlValues(from.out, "id").size(), 54u) << from.out;
  const Output relative = Sh(quarantine + " --source access-log-malformed.jsonl");
  EXPECT_EQ(relative.status, 0);
  EXPECT_NE(relative.out.find("no quarantined record has source 'access-log-malformed.jsonl' "
                              "(the sources: file:" EDI_SOURCE_DIR
                              "/examples/access-log-malformed.jsonl)"),
            std::string::npos)
      << relative.out;
  // A reason that is none.
  const Output bad = Sh(quarantine + " --reason nope");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--reason 'nope' is not a reason; the reasons: oversize, invalid_json"),
            std::string::npos)
      << bad.out;
  // record --request-id of a quarantined record points here.
  const Output record = Sh(std::string(EDI_BINARY) + " record --db " + db + " --request-id bad-53");
  EXPECT_EQ(record.status, 1);
  EXPECT_NE(record.out.find("no stored event has requestId 'bad-53' (a quarantined record names "
                            "it: id "),
            std::string::npos)
      << record.out;
}

}  // namespace

TEST_F(ReplayCli, EventsShowWhatHappenedToAMessageInTheOrderItHappened) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  // A message another client downloaded after its owner had: its calls, oldest first, with
  // who made each; the id may be given in upper case.
  const Output r = Sh(std::string(EDI_BINARY) + " events --db " + db +
                      " --message 7C4F1D8B-9E0A-4B2C-93D4-4F5A6B7C8D08 --format jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(JsonlValues(r.out, "action"),
            (std::vector<std::string>{"send", "download", "mark_downloaded", "apprec_send",
                                      "download", "read_status"}))
      << r.out;
  EXPECT_EQ(JsonlValues(r.out, "route")[0], "/messages") << r.out;
  const auto clients = JsonlValues(r.out, "clientName");
  ASSERT_EQ(clients.size(), 6u);
  EXPECT_EQ(clients[4], "Fjordvik integrasjonsplattform");
  EXPECT_NE(clients[1], clients[4]);
  const auto times = JsonlValues(r.out, "time");
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end())) << r.out;
  // The table names the columns and every call.
  const Output table = Sh(std::string(EDI_BINARY) + " events --db " + db +
                          " --message 7c4f1d8b-9e0a-4b2c-93d4-4f5a6b7c8d08");
  EXPECT_EQ(table.out.rfind("TIME ", 0), 0u) << table.out;
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 7) << table.out;
  // The id as a path may carry it (without dashes, in braces) names the same message.
  for (const char* id :
       {"7c4f1d8b9e0a4b2c93d44f5a6b7c8d08", "'{7C4F1D8B-9E0A-4B2C-93D4-4F5A6B7C8D08}'"}) {
    const Output other = Sh(std::string(EDI_BINARY) + " events --db " + db + " --message " + id);
    EXPECT_EQ(other.status, 0) << other.out;
    EXPECT_EQ(other.out, table.out) << id;
  }
}

TEST_F(ReplayCli, EventsForAPartyAClientAndATimeRangeCombine) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db + " --format jsonl";
  const std::string sql = "sqlite3 " + db + " \"SELECT count(DISTINCT event_id) FROM ";
  // Everyone who acted for HER-Id 8142531, by any route (request, path, query, custody).
  const Output party = Sh(events + " --her-id 8142531");
  ASSERT_EQ(party.status, 0) << party.out;
  const std::string expected = Sh(sql + "party_event_ids WHERE her_id = 8142531\"").out;
  EXPECT_EQ(std::to_string(JsonlValues(party.out, "eventId").size()) + "\n", expected);
  EXPECT_EQ(std::count(party.out.begin(), party.out.end(), '\n'),
            static_cast<long>(JsonlValues(party.out, "eventId").size()));
  // CSV: the header, then the same calls.
  const Output csv =
      Sh(std::string(EDI_BINARY) + " events --db " + db + " --her-id 8142531 --format csv");
  EXPECT_EQ(csv.out.rfind("eventId,requestId,time,", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'),
            static_cast<long>(JsonlValues(party.out, "eventId").size()) + 1);
  const auto party_clients = JsonlValues(party.out, "clientId");
  EXPECT_GT(std::set<std::string>(party_clients.begin(), party_clients.end()).size(), 1u);
  // ... narrowed to one client: only its calls, and all of them.
  const std::string fjordvik = "c41d7e83-5a2b-4c9d-b6e0-8f1a3c5d7e03";
  const Output one = Sh(events + " --her-id 8142531 --client " + fjordvik);
  const auto one_clients = JsonlValues(one.out, "clientId");
  ASSERT_FALSE(one_clients.empty()) << one.out;
  EXPECT_EQ(static_cast<long>(one_clients.size()),
            std::count(party_clients.begin(), party_clients.end(), fjordvik));
  EXPECT_EQ(std::set<std::string>(one_clients.begin(), one_clients.end()),
            std::set<std::string>{fjordvik});
  // Who acted for it: one line per client, its calls summed, the earliest first. Fjordvik's
  // two are the foreign download and the foreign send of the examples.
  const Output who = Sh(events + " --her-id 8142531 --by-client");
  ASSERT_EQ(who.status, 0) << who.out;
  EXPECT_EQ(JsonlValues(who.out, "clientId"),
            (std::vector<std::string>{"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02", fjordvik}));
  long summed = 0;
  for (const std::string& n : JsonlValues(who.out, "calls")) summed += std::stol(n);
  EXPECT_EQ(summed, static_cast<long>(party_clients.size()));
  EXPECT_NE(who.out.find("\"actions\":{\"download\":1,\"send\":1}"), std::string::npos) << who.out;
  // Legepraksis acted for it under three delegations, one of them outside its organisation
  // (the critical edi.org-membership finding): kept apart.
  EXPECT_NE(who.out.find("\"orgnrParents\":{\"921500001\":1,\"921600001\":1,\"944100001\":19}"),
            std::string::npos)
      << who.out;
  // --limit with --by-client keeps the client that acted last, its calls all counted.
  const auto lasts = JsonlValues(who.out, "last");
  ASSERT_EQ(lasts.size(), 2u);
  const size_t latest = lasts[0] > lasts[1] ? 0 : 1;
  const Output who_last = Sh(events + " --her-id 8142531 --by-client --limit 1");
  ASSERT_EQ(who_last.status, 0) << who_last.out;
  EXPECT_EQ(JsonlValues(who_last.out, "clientId"),
            (std::vector<std::string>{JsonlValues(who.out, "clientId")[latest]}));
  EXPECT_EQ(JsonlValues(who_last.out, "calls"),
            (std::vector<std::string>{JsonlValues(who.out, "calls")[latest]}));
  // ... to some actions: who downloaded or sent for it.
  const Output acts = Sh(events + " --her-id 8142531 --action download --action send");
  const auto act_names = JsonlValues(acts.out, "action");
  EXPECT_EQ(std::set<std::string>(act_names.begin(), act_names.end()),
            (std::set<std::string>{"download", "send"}));
  EXPECT_EQ(act_names.size(), 7u) << acts.out;  // Legepraksis 4 + 1, Fjordvik 1 + 1
  // ... and to one day of event time.
  const Output day = Sh(events + " --her-id 8142531 --since 2026-05-05 --until 2026-05-06");
  const auto day_times = JsonlValues(day.out, "time");
  ASSERT_FALSE(day_times.empty()) << day.out;
  for (const std::string& t : day_times) EXPECT_EQ(t.substr(0, 10), "2026-05-05") << t;
  EXPECT_LT(day_times.size(), JsonlValues(party.out, "time").size());
  // A duration counts back from the newest event stored (2026-05-11T07:30:00.009Z).
  const Output last_hour = Sh(events + " --since 1h");
  for (const std::string& t : JsonlValues(last_hour.out, "time")) {
    EXPECT_GE(t, "2026-05-11T06:30:00.009Z") << t;
  }
  EXPECT_FALSE(JsonlValues(last_hour.out, "time").empty()) << last_hour.out;
  // --limit keeps the newest N, printed oldest first.
  const Output newest = Sh(events + " --her-id 8142531 --limit 2");
  const auto all_times = JsonlValues(party.out, "time");
  EXPECT_EQ(JsonlValues(newest.out, "time"),
            (std::vector<std::string>{all_times[all_times.size() - 2], all_times.back()}));
}

TEST_F(ReplayCli, EventsRefuseBadArgumentsAndSayWhy) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db;
  const Output not_uuid = Sh(events + " --message 42");
  EXPECT_EQ(not_uuid.status, 2);
  EXPECT_NE(not_uuid.out.find("not a message id"), std::string::npos) << not_uuid.out;
  const Output bad_time = Sh(events + " --since yesterday");
  EXPECT_EQ(bad_time.status, 2);
  EXPECT_NE(bad_time.out.find("--since 'yesterday'"), std::string::npos) << bad_time.out;
  EXPECT_EQ(Sh(events + " --her-id 0").status, 2);
  const Output bad_action = Sh(events + " --action downlod");
  EXPECT_EQ(bad_action.status, 2);
  EXPECT_NE(bad_action.out.find("mark_downloaded"), std::string::npos) << bad_action.out;
  EXPECT_EQ(Sh(events + " --since 2026-05-06 --until 2026-05-05").status, 2);
  const Output missing = Sh(std::string(EDI_BINARY) + " events --db " +
                            (dir_ / "none.db").string() + " --her-id 8142531");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("no such database file"), std::string::npos) << missing.out;
  // An empty answer says why on stderr; the output stays what it is (a CSV head alone).
  const Output none = Sh(events + " --her-id 8100000");
  EXPECT_EQ(none.status, 0);
  EXPECT_EQ(none.out, "no calls\nedi-audit events: HER-Id 8100000 occurs in no stored call\n");
  const Output stranger = Sh("(" + events + " --client no-such-client --format csv 2>/dev/null)");
  EXPECT_EQ(stranger.status, 0);
  EXPECT_EQ(std::count(stranger.out.begin(), stranger.out.end(), '\n'), 1) << stranger.out;
  EXPECT_NE(Sh(events + " --client no-such-client")
                .out.find("no client 'no-such-client' in this database, by id or by name"),
            std::string::npos);
}

// Calls dated before 1970 (a gateway's clock fault: the schema takes any year) are found by
// party, client and requestId like any other.
TEST_F(ReplayCli, CallsDatedBefore1970AreFoundByEveryFilter) {
  const std::string poll = ExampleRecord("ex-0007");
  ASSERT_FALSE(poll.empty());
  const std::string log = (dir_ / "old.jsonl").string();
  {
    std::ofstream out(log);
    int n = 0;
    for (const char* t : {"0001-01-01T00:00:00.000Z", "1960-05-01T12:00:00.000Z",
                          "1969-12-31T23:59:59.000Z", "1970-01-01T00:00:00.000Z"}) {
      std::string r = poll;
      r.replace(r.find("2026-05-04T07:08:15.441Z"), 24, t);
      r.replace(r.find("ex-0007"), 7, "old-" + std::to_string(++n));
      out << r << "\n";
    }
  }
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db) + " " + log).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db + " --format jsonl";
  const std::vector<std::string> old = {"old-1", "old-2", "old-3", "old-4", "ex-0007"};
  auto first5 = [](std::vector<std::string> v) {
    v.resize(std::min<size_t>(v.size(), 5));
    return v;
  };
  EXPECT_EQ(first5(JsonlValues(Sh(events + " --her-id 8142530").out, "requestId")), old);
  EXPECT_EQ(first5(JsonlValues(Sh(events + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out,
                               "requestId")),
            old);
  EXPECT_EQ(JsonlValues(Sh(events + " --request-id old-2").out, "requestId"),
            std::vector<std::string>{"old-2"});
  EXPECT_EQ(JsonlValues(Sh(events + " --her-id 8142530 --until 1970-01-01").out, "requestId"),
            (std::vector<std::string>{"old-1", "old-2", "old-3"}));
}

// A client renamed (a new name in its tokens) is found by either name, and by a name as a
// table cut it, in events and findings alike.
TEST_F(ReplayCli, ARenamedClientIsFoundByEveryNameItsTokensGave) {
  std::string renamed = ExampleRecord("ex-0007");
  ASSERT_FALSE(renamed.empty());
  auto replace = [&renamed](const std::string& from, const std::string& to) {
    const size_t at = renamed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    renamed.replace(at, from.size(), to);
  };
  replace("\"clientName\":\"Legepraksis EPJ\"", "\"clientName\":\"Porsáŋgu Legepraksis Nord\"");
  replace("ex-0007", "renamed-1");
  replace("2026-05-04T07:08:15.441Z", "2026-05-11T09:00:00.000Z");
  const std::string log = (dir_ / "renamed.jsonl").string();
  std::ofstream(log) << renamed << "\n";
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db) + " " + log).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db + " --format jsonl";
  const auto by_id =
      JsonlValues(Sh(events + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out, "eventId");
  ASSERT_GT(by_id.size(), 1u);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'legepraksis epj'").out, "eventId"), by_id);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'porsáŋgu legepraksis nord'").out, "eventId"),
            by_id);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'PORSÁŊGU LEGEPRAKSIS NORD'").out, "eventId"),
            by_id);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'Porsáŋgu Lege…'").out, "eventId"), by_id);
  EXPECT_TRUE(JsonlValues(Sh(events + " --client 'Porsáŋgu Lege'").out, "eventId").empty());
  const std::string findings = std::string(EDI_BINARY) + " findings --db " + db + " --format jsonl";
  EXPECT_EQ(JsonlValues(Sh(findings + " --client 'porsáŋgu legepraksis nord'").out, "id"),
            JsonlValues(Sh(findings + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out, "id"));
}

TEST_F(ReplayCli, EventsFindAClientByNameARequestAndTheQuarantinedRecordsOfAMessage) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db;
  // The CLIENT column's name, in any case, selects what the client id does.
  const Output by_id = Sh(events + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02 --format jsonl");
  const Output by_name = Sh(events + " --client 'legepraksis EPJ' --format jsonl");
  ASSERT_EQ(by_name.status, 0);
  EXPECT_FALSE(JsonlValues(by_id.out, "eventId").empty()) << by_id.out;
  EXPECT_EQ(JsonlValues(by_name.out, "eventId"), JsonlValues(by_id.out, "eventId"));
  // One call by its requestId.
  const Output one = Sh(events + " --request-id ex-0027 --format jsonl");
  EXPECT_EQ(JsonlValues(one.out, "requestId"), std::vector<std::string>{"ex-0027"}) << one.out;
  // Times without an offset are UTC, with or without seconds: the same calls as with Z. The
  // examples have calls at 10:05:14.310Z and 10:20:44.871Z and none between.
  const auto from = [&](const std::string& t) {
    return JsonlValues(Sh(events + " --since " + t + " --format jsonl").out, "time");
  };
  const auto utc = from("2026-05-04T10:05:14Z");
  ASSERT_FALSE(utc.empty());
  EXPECT_EQ(utc.front(), "2026-05-04T10:05:14.310Z");
  EXPECT_EQ(from("2026-05-04T10:05:14.311Z").front(), "2026-05-04T10:20:44.871Z");
  for (const char* t : {"2026-05-04T10:05:14", "'2026-05-04 10:05:14'", "2026-05-04T10:05"}) {
    EXPECT_EQ(from(t), utc) << t;
  }
  // ... and not local time, nor an offset: +01:00 is an hour earlier.
  EXPECT_GT(from("2026-05-04T10:05:14+01:00").size(), utc.size());
  // Records quarantined that name a message are no calls on it; the answer says they exist.
  const std::string m4 = "3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04";
  const Output calls = Sh(events + " --message " + m4);
  EXPECT_NE(
      calls.out.find("quarantined records name message " + m4 +
                     ", not listed here: edi-audit quarantine --db " + db + " --message " + m4),
      std::string::npos)
      << calls.out;
  const Output quarantined = Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --message " +
                                m4 + " --format jsonl");
  ASSERT_EQ(quarantined.status, 0);
  const size_t n = JsonlValues(quarantined.out, "reason").size();
  EXPECT_GT(n, 0u);
  EXPECT_NE(calls.out.find(std::to_string(n) + " quarantined records"), std::string::npos)
      << calls.out;
  const Output raw =
      Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --contains " + m4 + " --raw");
  size_t lines = 0;
  for (size_t at = 0; (at = raw.out.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, n);
  std::string lower_raw = raw.out;
  for (char& c : lower_raw) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t mentions = 0;
  for (size_t at = 0; (at = lower_raw.find(m4, at)) != std::string::npos; at += m4.size()) {
    ++mentions;
  }
  EXPECT_GE(mentions, n);
  // A record naming the message in another form (upper case, no dashes, %2D) names it too.
  std::ofstream(dir_ / "forms.jsonl")
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:00.000Z","requestId":"f1",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/3E0B7F4D5A6C4D8E9F900B1C2D3E4F04/)"
         R"(business-document","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:01.000Z","requestId":"f2",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/{3e0b7f4d%2D5a6c-4d8e-9f90-0b1c2d)"
         R"(3e4f04}","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:02.000Z","requestId":"f3",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f05)"
         R"(","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:03.000Z","requestId":"f4",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/abc3e0b7f4d5a6c4d8e9f900b1c2d3e4f04)"
         R"(","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:04.000Z","requestId":"f5",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/%7B3e0b7f4d5a6c4d8e9f900b1c2d3e4f04)"
         R"(%7D","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n";
  ASSERT_EQ(Sh(std::string(EDI_BINARY) +
               " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
               db + " " + (dir_ / "forms.jsonl").string())
                .status,
            0);
  const Output forms = Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --message " +
                          "3E0B7F4D5A6C4D8E9F900B1C2D3E4F04 --format jsonl");
  // f1, f2 and f5 name it; f3 names another message, f4 a longer hex string holding it.
  EXPECT_EQ(JsonlValues(forms.out, "reason").size(), n + 3) << forms.out;
  EXPECT_NE(Sh(events + " --message " + m4).out.find(std::to_string(n + 3) + " quarantined"),
            std::string::npos);
}

TEST_F(ReplayCli, QueryArgumentsAreReadAsAnAnalystWritesThem) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string bin = std::string(EDI_BINARY);
  const std::string events = bin + " events --db " + db + " --format jsonl";
  const std::string findings = bin + " findings --db " + db + " --format jsonl";
  // Numbers are decimal: a zero-padded HER-Id is that HER-Id, not an octal number for another.
  const auto party = JsonlValues(Sh(events + " --her-id 8142531").out, "eventId");
  ASSERT_FALSE(party.empty());
  EXPECT_EQ(JsonlValues(Sh(events + " --her-id 08142531").out, "eventId"), party);
  EXPECT_EQ(JsonlValues(Sh(findings + " --her-id 08142531").out, "id"),
            JsonlValues(Sh(findings + " --her-id 8142531").out, "id"));
  EXPECT_EQ(JsonlValues(Sh(events + " --limit 010").out, "eventId").size(), 10u);
  EXPECT_EQ(Sh(bin + " record --db " + db + " --event-id 010").out,
            Sh(bin + " record --db " + db + " --event-id 10").out);
  // An empty filter (an unset shell variable) is refused, not read as "everything".
  for (const std::string& cmd :
       {events + " --client ''", events + " --request-id ''", events + " --message ''",
        events + " --since ''", findings + " --client ''", findings + " --rule ''",
        bin + " quarantine --db " + db + " --contains ''",
        bin + " record --db " + db + " --request-id ''"}) {
    const Output empty = Sh(cmd);
    EXPECT_EQ(empty.status, 2) << cmd << "\n" << empty.out;
    EXPECT_NE(empty.out.find("is empty: give a value or leave the option out"), std::string::npos)
        << empty.out;
  }
  // findings --client reads the client as events does: the id in any case, or the name.
  const auto legepraksis =
      JsonlValues(Sh(findings + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out, "id");
  ASSERT_FALSE(legepraksis.empty());
  EXPECT_EQ(JsonlValues(Sh(findings + " --client 7A2E9B54-1C3D-4F6E-8A90-2D4C6B8E0F02").out, "id"),
            legepraksis);
  EXPECT_EQ(JsonlValues(Sh(findings + " --client 'legepraksis epj'").out, "id"), legepraksis);
  const Output stranger = Sh(findings + " --client no-such-client");
  EXPECT_EQ(stranger.status, 0);
  EXPECT_NE(stranger.out.find("no client 'no-such-client' in this database, by id or by name"),
            std::string::npos)
      << stranger.out;
  // A time with an offset may leave out the seconds, as one without does.
  const auto since = [&](const std::string& t) {
    return JsonlValues(Sh(events + " --since " + t).out, "eventId");
  };
  EXPECT_EQ(since("2026-05-04T11:05+01:00"), since("2026-05-04T10:05:00Z"));
  EXPECT_NE(since("2026-05-04T11:05+01:00"), since("2026-05-04T11:05:00Z"));
  for (const char* odd : {"2026-05-04T10:05.5Z", "2026-05-04T10:05+0100", "2026-05-04T10"}) {
    EXPECT_EQ(Sh(events + " --since " + odd).status, 2) << odd;
  }
  // A number too large for any id says so.
  const Output large = Sh(events + " --limit 99999999999999999999");
  EXPECT_EQ(large.status, 2);
  EXPECT_NE(large.out.find("'99999999999999999999' is too large: at most 9223372036854775807"),
            std::string::npos)
      << large.out;
  // A quarantined record is said to name a request only when it has that requestId, not one
  // the text is a part of.
  EXPECT_NE(Sh(events + " --request-id bad-53").out.find("1 quarantined record names request id"),
            std::string::npos);
  EXPECT_EQ(Sh(events + " --request-id ad-53").out.find("quarantined"), std::string::npos);
  // quarantine --contains ignores case in Norwegian letters too.
  const std::string bad = (dir_ / "bad.jsonl").string();
  std::ofstream(bad) << "{\"clientName\":\"ÆRØY LEGEKONTOR\", not json\n";
  ASSERT_EQ(
      Sh(bin + " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         db + " " + bad)
          .status,
      0);
  const Output folded = Sh(bin + " quarantine --db " + db + " --contains 'ærøy legekontor' --raw");
  EXPECT_EQ(folded.out, "{\"clientName\":\"ÆRØY LEGEKONTOR\", not json\n");
}

TEST_F(ReplayCli, ARecordDatedAheadOfTheClockIsStoredWithAWarningAndQueriesSaySo) {
  const std::string db = (dir_ / "a.db").string();
  const std::string log = (dir_ / "ahead.jsonl").string();
  std::ofstream(log)
      << R"({"schemaVersion":1,"timestamp":"2099-01-01T00:00:00.000Z","requestId":"ahead-1",)"
         R"("apiVersion":"3","method":"GET","path":"/ping","status":200,)"
         R"("client":{"clientId":"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02","orgnrParent":"944100001"}})"
         "\n";
  const Output replay =
      Sh(std::string(EDI_BINARY) +
         " replay --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
         " " EDI_SOURCE_DIR "/examples/access-log.jsonl " + log);
  ASSERT_EQ(replay.status, 0) << replay.out;
  EXPECT_NE(replay.out.find("warning: record ahead-1 is dated 2099-01-01T00:00:00.000Z, over a "
                            "day after this machine's clock"),
            std::string::npos)
      << replay.out;
  EXPECT_NE(replay.out.find("dated over a day ahead                1\n"), std::string::npos)
      << replay.out;
  // A duration counts back from the newest event before it; the answer says so.
  const Output events = Sh(std::string(EDI_BINARY) + " events --db " + db + " --since 7d");
  EXPECT_EQ(events.status, 0);
  EXPECT_NE(events.out.find("ahead-1"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("ex-0125"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("note: events dated over a day after this machine's clock are "
                            "stored, up to 2099-01-01T00:00:00.000Z"),
            std::string::npos)
      << events.out;
  // Without such a record, neither says anything of it.
  const std::string plain = (dir_ / "plain.db").string();
  const Output ok = Sh(Replay(plain));
  EXPECT_EQ(ok.out.find("dated"), std::string::npos) << ok.out;
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " events --db " + plain + " --since 7d").out.find("note:"),
            std::string::npos);
  // The warning names the record as text on one line: a requestId with a line break and a
  // syslog priority cannot forge a log line of its own, nor ESC move the terminal.
  const std::string forged = (dir_ / "forged.jsonl").string();
  std::ofstream(forged)
      << R"({"schemaVersion":1,"timestamp":"2099-01-01T00:00:01.000Z","requestId":"x\n<2>edi-audit: all clear\u001b[2J",)"
         R"("apiVersion":"3","method":"GET","path":"/ping","status":200,)"
         R"("client":{"clientId":"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02","orgnrParent":"944100001"}})"
         "\n";
  const Output warned =
      Sh(std::string(EDI_BINARY) +
         " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "forged.db").string() + " " + forged);
  ASSERT_EQ(warned.status, 0) << warned.out;
  EXPECT_NE(warned.out.find("warning: record x <2>edi-audit: all clear [2J is dated"),
            std::string::npos)
      << warned.out;
  EXPECT_EQ(warned.out.find("\n<2>"), std::string::npos);
  EXPECT_EQ(warned.out.find('\x1b'), std::string::npos);
}

TEST_F(ReplayCli, EventsWrittenAsTheyAreReadComePageByPageEachCallOnceInOrder) {
  // More calls than a page (10,000): JSON lines and CSV read them in pages, after the last
  // (time, event id) of the page before.
  const std::string gen = (dir_ / "gen").string();
  ASSERT_EQ(Sh("python3 " EDI_SOURCE_DIR "/tools/gen/edi_gen.py --seed 3 --records 25000 --out " +
               gen + " >/dev/null")
                .status,
            0);
  const std::string db = (dir_ / "g.db").string();
  ASSERT_EQ(Sh(std::string(EDI_BINARY) + " replay -q --no-findings --registry " + gen +
               "/registry --db " + db + " " + gen + "/access-log.jsonl >/dev/null")
                .status,
            0);
  const Output stored = Sh("sqlite3 " + db + " 'SELECT count(*) FROM events'");
  const long calls = std::stol(stored.out);
  ASSERT_GT(calls, 20000);
  const Output all = Sh(std::string(EDI_BINARY) + " events --db " + db + " --format jsonl");
  ASSERT_EQ(all.status, 0);
  const auto ids = JsonlValues(all.out, "eventId");
  const auto times = JsonlValues(all.out, "time");
  ASSERT_EQ(static_cast<long>(ids.size()), calls);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_TRUE(times[i - 1] < times[i] ||
                (times[i - 1] == times[i] && std::stol(ids[i - 1]) < std::stol(ids[i])))
        << i << ": " << times[i - 1] << " " << ids[i - 1] << " then " << times[i] << " " << ids[i];
  }
  const Output csv = Sh(std::string(EDI_BINARY) + " events --db " + db + " --format csv");
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), calls + 1);
}

namespace {

TEST(CommandLine, ArgumentErrorsNameTheCommandAndWhereHelpIs) {
  const Output no_db = Sh(std::string(EDI_BINARY) + " events --her-id 8142520");
  EXPECT_EQ(no_db.status, 2);
  EXPECT_EQ(no_db.out, "edi-audit events: --db is required (see edi-audit events --help)\n");
  const Output zero = Sh(std::string(EDI_BINARY) + " findings --db x.db --limit 0");
  EXPECT_EQ(zero.status, 2);
  EXPECT_EQ(zero.out,
            "edi-audit findings: --limit: '0' is not a whole number above 0 (see edi-audit "
            "findings --help)\n");
  const Output none = Sh(EDI_BINARY);
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.out.rfind("edi-audit: no command given (the commands: replay, ", 0), 0u)
      << none.out;
  const Output help = Sh(std::string(EDI_BINARY) + " events --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--request-id"), std::string::npos);
  // The same for the commands of a command: the word that is none, the command whose option it
  // is, the command missing. A misspelt option is named with the ones it looks like.
  for (const auto& [args, said] : std::vector<std::pair<std::string, std::string>>{
           {" rules bogus",
            "edi-audit rules: unknown command 'bogus' (the commands: check, list, test; see "
            "edi-audit rules --help)\n"},
           {" rules list --format json",
            "edi-audit rules list: unknown option '--format' (see edi-audit rules list --help)\n"},
           {" events --db x.db --herid 1",
            "edi-audit events: unknown option '--herid'; did you mean --her-id? (see edi-audit "
            "events --help)\n"},
           {" findings --db x.db --Severity=high",
            "edi-audit findings: unknown option '--Severity'; did you mean --severity? (see "
            "edi-audit findings --help)\n"},
           {" rules",
            "edi-audit rules: no command given (the commands: check, list, test; see edi-audit "
            "rules --help)\n"},
       }) {
    const Output refused = Sh(std::string(EDI_BINARY) + args);
    EXPECT_EQ(refused.status, 2) << args;
    EXPECT_EQ(refused.out, said) << args;
  }
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " rules --help").status, 0);
  // Under systemd (stderr is the journal's stream) a refusal carries the error priority, so
  // that `journalctl -p err` shows why the unit failed.
  const std::string err = ::testing::TempDir() + "/edi-journal-" + std::to_string(::getpid());
  const std::string journal = "(exec 2>" + err +
                              "; JOURNAL_STREAM=$(stat -L -c %d:%i /dev/stderr) " +
                              std::string(EDI_BINARY);
  EXPECT_EQ(Sh(journal + " run --config " EDI_SOURCE_DIR "/README.md)").status, 2);
  EXPECT_EQ(Sh("cat " + err).out.rfind("<3>edi-audit run: ", 0), 0u) << Sh("cat " + err).out;
  EXPECT_EQ(Sh(journal + " rules bogus)").status, 2);
  EXPECT_EQ(Sh("cat " + err).out.rfind("<3>edi-audit rules: unknown command 'bogus'", 0), 0u)
      << Sh("cat " + err).out;
  std::remove(err.c_str());
  // An option where a command is wanted is named as such, not taken for no command.
  const Output before = Sh(std::string(EDI_BINARY) + " --bogus events --db x.db");
  EXPECT_EQ(before.status, 2);
  EXPECT_NE(before.out.find("--bogus"), std::string::npos) << before.out;
  EXPECT_EQ(before.out.find("no command given"), std::string::npos) << before.out;
}

}  // namespace
