// `edi-audit findings` run as a subprocess of the real binary against a database filled here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/schema.h"
#include "detect/finding_tracker.h"
#include "report/report.h"
#include "report/report_fixtures.h"
#include "store/finding_store.h"
#include "store/store.h"

namespace edi {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class FindingsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / (std::string("edi-findings-cmd-") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "audit.db").string();
    // The three samples, plus a fourth finding a day later, for relative times.
    auto store = Store::Open(db_, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto findings = FindingStore::Open((*store)->db());
    ASSERT_TRUE(findings.ok()) << findings.status().ToString();
    ASSERT_TRUE((*store)->Begin().ok());
    std::vector<Finding> all = SampleFindings();
    Finding later = all[0];
    later.request_id = "req-next-day";
    later.time += kMillisPerDay;
    later.last_seen = later.time;
    later.occurrences = 1;
    later.id = FindingId(later.rule, later.request_id, later.time, later.her_id, later.message_id);
    all.push_back(later);
    for (const Finding& f : all) ASSERT_TRUE((*findings)->Insert(f, DefaultRepeatKey(f)).ok());
    ASSERT_TRUE((*findings)->UpdateRepeat(all[0].id, 3, all[0].last_seen).ok());
    ASSERT_TRUE((*store)->Commit().ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunResult Run(const std::string& args) {
    const fs::path err_file = dir_ / "stderr.txt";
    const std::string cmd = Quote(EDI_BINARY) + " findings " + args + " 2>" + Quote(err_file);
    RunResult r;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
  }

  // The requestIds of a jsonl output, in order.
  static std::vector<std::string> RequestIds(const std::string& jsonl) {
    std::vector<std::string> ids;
    std::istringstream in(jsonl);
    for (std::string line; std::getline(in, line);) {
      rapidjson::Document doc;
      doc.Parse(line.c_str(), line.size());
      if (doc.IsObject() && doc.HasMember("requestId")) ids.push_back(doc["requestId"].GetString());
    }
    return ids;
  }

  fs::path dir_;
  std::string db_;
};

using Ids = std::vector<std::string>;

TEST_F(FindingsCommandTest, ListsEveryFindingAsATableByDefault) {
  const RunResult r = Run("--db " + Quote(db_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("SUMMARY"));
  EXPECT_THAT(r.out, HasSubstr("Nursing EPJ Bergen sent for party 8142520 owned by client-a"));
  EXPECT_THAT(r.out, HasSubstr("unknown route GET /v9/whatever"));
}

TEST_F(FindingsCommandTest, JsonOutputIsAnArrayThatValidatesAgainstTheSchema) {
  const RunResult r = Run("--db " + Quote(db_) + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto schema = LoadSchema(EDI_SOURCE_DIR "/schemas", "finding.schema.json");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  rapidjson::Document doc;
  doc.Parse(r.out.c_str(), r.out.size());
  ASSERT_TRUE(doc.IsArray()) << r.out;
  ASSERT_EQ(doc.Size(), 4u);
  for (auto& item : doc.GetArray()) {
    rapidjson::Document one;
    one.CopyFrom(item, one.GetAllocator());
    rapidjson::SchemaValidator validator(*(*schema)->compiled);
    EXPECT_TRUE(one.Accept(validator)) << DescribeViolation(**schema, validator, one).detail;
  }
  EXPECT_EQ(doc[0]["occurrences"].GetUint64(), 3u);  // the stored repeat count
}

TEST_F(FindingsCommandTest, JsonlOutputIsTheAlertsPayloadPerLine) {
  const RunResult r = Run("--db " + Quote(db_) + " --format jsonl --limit 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RequestIds(r.out), Ids({"req-next-day"}));
}

TEST_F(FindingsCommandTest, SeverityHighMeansHighAndAbove) {
  const RunResult r = Run("--db " + Quote(db_) + " --format jsonl --severity high");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RequestIds(r.out), Ids({"0HN3K2Q7E5T1V:00000011", "req-3", "req-next-day"}));
}

TEST_F(FindingsCommandTest, FiltersByRulePartyClientAndMessage) {
  const std::string base = "--db " + Quote(db_) + " --format jsonl ";
  EXPECT_EQ(RequestIds(Run(base + "--rule edi.unknown-route").out), Ids({"req-unknown-route"}));
  EXPECT_EQ(RequestIds(Run(base + "--her-id 8142521").out), Ids({"req-3"}));
  EXPECT_EQ(RequestIds(Run(base + "--client client-c").out), Ids({"req-3"}));
  EXPECT_EQ(RequestIds(Run(base + "--message 733be787-0f1e-4a8c-9f55-0a5c1b1d6a11").out),
            Ids({"req-3"}));
  // As copied from a log that wrote it in upper case: message ids are stored in lower case.
  EXPECT_EQ(RequestIds(Run(base + "--message 733BE787-0F1E-4A8C-9F55-0A5C1B1D6A11").out),
            Ids({"req-3"}));
}

TEST_F(FindingsCommandTest, RelativeTimesCountBackFromTheNewestEventTime) {
  // The newest finding is a day after the others; the wall clock plays no part.
  const std::string base = "--db " + Quote(db_) + " --format jsonl ";
  EXPECT_EQ(RequestIds(Run(base + "--since 12h").out), Ids({"req-next-day"}));
  EXPECT_EQ(RequestIds(Run(base + "--until 12h").out).size(), 3u);
}

TEST_F(FindingsCommandTest, AbsoluteTimesAndDatesAreAccepted) {
  const std::string base = "--db " + Quote(db_) + " --format jsonl ";
  EXPECT_EQ(RequestIds(Run(base + "--since 2026-05-08T08:34:00Z --until 2026-05-09").out),
            Ids({"0HN3K2Q7E5T1V:00000011", "req-3"}));
  // The first sample was raised at 08:32 and repeated at 08:40: it was seen in the window, and
  // not in one starting after its last repeat.
  EXPECT_EQ(RequestIds(Run(base + "--since 2026-05-08T08:40:00.002Z --until 2026-05-09").out),
            Ids({}));
}

TEST_F(FindingsCommandTest, CsvOutputHasAHeaderAndQuotedFields) {
  const RunResult r =
      Run("--db " + Quote(db_) + " --format csv --rule edi.acknowledged-without-download");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("id,rule,severity,time,"));
  EXPECT_THAT(r.out, HasSubstr("\"He said \"\"no\"\", then,\nleft\""));
}

TEST_F(FindingsCommandTest, AMissingDatabaseIsAClearErrorWithExitStatusOne) {
  const RunResult r = Run("--db " + Quote((dir_ / "nope.db").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nope.db"));
  EXPECT_THAT(r.err, HasSubstr("no such database"));
  EXPECT_FALSE(fs::exists(dir_ / "nope.db"));  // read-only: never created
}

TEST_F(FindingsCommandTest, AFileThatIsNotADatabaseIsAnErrorWithExitStatusOne) {
  std::ofstream(dir_ / "notes.txt") << "hello, this is not SQLite\n";
  const RunResult r = Run("--db " + Quote((dir_ / "notes.txt").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("notes.txt"));
}

TEST_F(FindingsCommandTest, BadArgumentsExitWithStatusTwo) {
  const std::string base = "--db " + Quote(db_) + " ";
  const RunResult since = Run(base + "--since yesterday");
  EXPECT_EQ(since.exit_code, 2);
  EXPECT_THAT(since.err, HasSubstr("--since"));
  EXPECT_EQ(Run(base + "--until 5x").exit_code, 2);
  EXPECT_EQ(Run(base + "--format xml").exit_code, 2);
  EXPECT_EQ(Run(base + "--severity severe").exit_code, 2);
  EXPECT_EQ(Run(base + "--limit many").exit_code, 2);
  EXPECT_EQ(Run("--format json").exit_code, 2);  // no --db
  const RunResult message = Run(base + "--message nonsense");
  EXPECT_EQ(message.exit_code, 2);
  EXPECT_THAT(message.err, HasSubstr("not a message id"));
  const RunResult her_id = Run(base + "--her-id 0");
  EXPECT_EQ(her_id.exit_code, 2);
  EXPECT_THAT(her_id.err, HasSubstr("'0' is not a whole number above 0"));
  EXPECT_EQ(Run(base + "--limit 2.5").exit_code, 2);
  // Far beyond any event time: once an overflow that quietly listed a few findings.
  const RunResult far = Run(base + "--since 213503982335d");
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_THAT(far.err, HasSubstr("up to 100000d"));
  const RunResult crossed = Run(base + "--since 2026-05-09 --until 2026-05-08");
  EXPECT_EQ(crossed.exit_code, 2);
  EXPECT_THAT(crossed.err, HasSubstr("is not before --until"));
}

TEST_F(FindingsCommandTest, ADirectoryOrANewerDatabaseIsRefusedClearly) {
  const RunResult dir = Run("--db " + Quote(dir_.string()));
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_THAT(dir.err, HasSubstr("is a directory, not a database file"));
  const std::string newer = (dir_ / "newer.db").string();
  fs::copy_file(db_, newer);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const RunResult r = Run("--db " + Quote(newer));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("schema version 999 is newer"));
}

TEST_F(FindingsCommandTest, HelpExplainsThatTimesAreEventTimes) {
  const RunResult r = Run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("EVENT times"));
  EXPECT_THAT(r.out, HasSubstr("newest event time in the"));
}

TEST_F(FindingsCommandTest, DoesNotChangeTheDatabase) {
  const auto before = fs::last_write_time(db_);
  const auto size = fs::file_size(db_);
  ASSERT_EQ(Run("--db " + Quote(db_) + " --format json").exit_code, 0);
  EXPECT_EQ(fs::last_write_time(db_), before);
  EXPECT_EQ(fs::file_size(db_), size);
}

}  // namespace
}  // namespace edi
