// edi-audit as a user runs it: the binary, its exit codes and its output.
#include <gtest/gtest.h>

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

#include "cli_fixture.h"

namespace {

using edi_cli::Output;
using edi_cli::ReplayCli;
using edi_cli::Sh;

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
  EXPECT_EQ(again.out.find("warning"), std::string::npos) << again.out;
}

// A file replayed again with fewer lines than before was cut or rewritten: said, and the
// furthest line read from it stays the database's position.
TEST_F(ReplayCli, AFileReplayedAgainWithFewerLinesIsWarnedAbout) {
  const std::string db = (dir_ / "a.db").string(), log = (dir_ / "access.jsonl").string();
  std::ifstream in(EDI_SOURCE_DIR "/examples/access-log.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 100u);
  auto write_first = [&](size_t n) {
    std::ofstream out(log, std::ios::trunc);
    for (size_t i = 0; i < n; ++i) out << lines[i] << "\n";
  };
  const std::string replay = std::string(EDI_BINARY) + " replay -q --no-findings --registry " +
                             EDI_SOURCE_DIR "/examples/registry --db " + db + " " + log;
  const std::string position = "sqlite3 " + db + " 'SELECT position FROM source_positions'";
  write_first(100);
  ASSERT_EQ(Sh(replay).status, 0);
  write_first(60);
  const Output cut = Sh(replay);
  EXPECT_EQ(cut.status, 0) << cut.out;
  EXPECT_NE(cut.out.find("warning: " + log +
                         " has 60 lines, fewer than the 100 read from it before: it was cut or "
                         "rewritten since"),
            std::string::npos)
      << cut.out;
  EXPECT_EQ(Sh(position).out, "100\n");
  write_first(lines.size());  // grown again: nothing to say
  const Output grown = Sh(replay);
  EXPECT_EQ(grown.out.find("warning"), std::string::npos) << grown.out;
  EXPECT_EQ(Sh(position).out, std::to_string(lines.size()) + "\n");
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

// A rule file that cannot be read is named once, by the command that reads it.
TEST_F(ReplayCli, ARuleFileThatCannotBeReadIsNamedOnce) {
  const std::string missing = (dir_ / "missing.yaml").string();
  const Output list = Sh(std::string(EDI_BINARY) + " rules list " + missing);
  EXPECT_EQ(list.status, 1);
  EXPECT_EQ(list.out, missing + ": E_IO: cannot read the rule file: No such file or directory\n" +
                          "edi-audit rules list: the rule files do not load\n");
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
  EXPECT_NE(refused.out.find("rules: " + expected), std::string::npos) << refused.out;
  EXPECT_FALSE(std::filesystem::exists(db));
  // A configuration's drop-in directory (rules.d) may be empty: the files beside it load, and
  // `rules check` and `rules list` take the configuration's list as it is.
  for (const std::string& command : std::vector<std::string>{
           " rules check ", " rules list ",
           " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
               (dir_ / "b.db").string() +
               " " EDI_SOURCE_DIR "/examples/access-log.jsonl --rules "}) {
    const Output listed = Sh(std::string(EDI_BINARY) + command +
                             EDI_SOURCE_DIR "/rules/edi-default.yaml " + empty.string());
    EXPECT_EQ(listed.status, 0) << command << "\n" << listed.out;
  }
  // Two empty directories hold no rule file either.
  const Output none =
      Sh(std::string(EDI_BINARY) + " rules check " + empty.string() + " " + empty.string() + "/.");
  EXPECT_EQ(none.status, 2) << none.out;
  EXPECT_NE(none.out.find("hold no *.yaml or *.yml files"), std::string::npos) << none.out;
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
