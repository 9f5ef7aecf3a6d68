#include "store/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/time.h"
#include "store/migrations.h"
#include "store/store_fixture.h"

namespace edi {
namespace {

using testing::kT0;
using testing::MakeEvent;
using testing::StoreTest;
namespace fs = std::filesystem;
TEST_F(StoreTest, ARecordSeenTwiceIsStoredOnceInTheSameBatchAndLater) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  const AccessEvent a = MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}});
  EXPECT_TRUE(Put(*s, a));
  EXPECT_FALSE(Put(*s, a));  // same batch
  ASSERT_TRUE(s->Commit().ok());
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_FALSE(Put(*s, a));  // a later batch
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM events"), "1|\n");
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM party_event_ids"), "1|\n");
}

constexpr uid_t kNobody = 65534;

// Store::Open of `path` by user nobody, in a child process (the caller is root): 0 when it
// opened, 1 when it was refused as a setup error (its message in *message), 2 otherwise.
int OpenAsNobody(const std::string& path, std::string* message) {
  int out[2];
  if (::pipe(out) != 0) return 3;
  const pid_t child = ::fork();
  if (child < 0) return 3;
  if (child == 0) {
    ::close(out[0]);
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(3);
    auto store = Store::Open(path, {});
    const std::string text = store.ok() ? "opened" : store.status().message();
    [[maybe_unused]] const ssize_t n = ::write(out[1], text.data(), text.size());
    ::_exit(store.ok() ? 0 : store.status().code() == Status::Code::kInvalidArgument ? 1 : 2);
  }
  ::close(out[1]);
  char buf[1024];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) message->append(buf, n);
  ::close(out[0]);
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 3;
  return WEXITSTATUS(status);
}

// The audit trail is sensitive: a new database and the files beside it are their owner's
// alone, whatever the umask (replay run by hand under umask 022).
TEST_F(StoreTest, ANewDatabaseIsReadableByItsOwnerOnly) {
  const mode_t old_umask = ::umask(022);
  auto s = Open();
  ::umask(old_umask);
  ASSERT_TRUE(s->Begin().ok());
  Put(*s, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}}));
  ASSERT_TRUE(s->Commit().ok());
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) {
    const fs::perms p = fs::status(s->path() + suffix).permissions();
    EXPECT_EQ(p & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write) << suffix;
  }
}

// Also when the file was there before its schema: made empty by hand, or left by a start that
// ended before writing it (its -wal and -shm made with the file's permissions).
TEST_F(StoreTest, ADatabaseMadeInAFileThereBeforeIsReadableByItsOwnerOnly) {
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path_ + suffix);
  ::close(::open(path_.c_str(), O_CREAT | O_WRONLY, 0644));
  ::close(::open((path_ + "-wal").c_str(), O_CREAT | O_WRONLY, 0644));
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  Put(*s, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}}));
  ASSERT_TRUE(s->Commit().ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::perms p = fs::status(s->path() + suffix).permissions();
    EXPECT_EQ(p & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write) << suffix;
  }
}

// Root replaying into the service's database leaves its writer lock the service's: a root-owned
// one (0600) would keep the service from opening the database again.
TEST_F(StoreTest, RootWritingAnotherUsersDatabaseLeavesTheLockThatUsers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Open().reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (fs::exists(path_ + suffix)) {
      ASSERT_EQ(::chown((path_ + suffix).c_str(), kNobody, kNobody), 0);
    }
  }
  // The lock a root run made before this was mended stays there; it is given over too.
  ASSERT_TRUE(fs::exists(path_ + "-lock"));
  auto s = Open();
  struct stat st = {};
  ASSERT_EQ(::stat((path_ + "-lock").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
  EXPECT_EQ(st.st_gid, kNobody);
}

// A database file this user may not read and write (a replay run as root made it, 0600) is a
// setup error that names owner and mode, not SQLite's "unable to open database file": the
// service is not restarted over and over for it.
TEST_F(StoreTest, ADatabaseFileThisUserMayNotReadIsRefusedNamingItsOwnerAndMode) {
  Open().reset();
  std::string message;
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown((path_ + "-lock").c_str(), kNobody, kNobody), 0);  // its lock it may use
    EXPECT_EQ(OpenAsNobody(path_, &message), 1) << message;
    EXPECT_NE(message.find("owner uid 0, mode 0600"), std::string::npos) << message;
  } else {
    ASSERT_EQ(::chmod(path_.c_str(), 0), 0);
    auto store = Store::Open(path_, {});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
    message = store.status().message();
    ::chmod(path_.c_str(), 0600);
  }
  EXPECT_NE(message.find(path_ + ": cannot open database for writing: the file cannot be read "
                                 "and written by this user (Permission denied"),
            std::string::npos)
      << message;
}

// SQLite's -wal and -shm files stay beside the database when its writer closes it (the log
// emptied): readers then use the writer's files rather than make their own there.
TEST_F(StoreTest, TheWriteAheadLogAndItsIndexStayWithTheWriterAfterItCloses) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  Put(*s, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}}));
  ASSERT_TRUE(s->Commit().ok());
  s.reset();
  ASSERT_TRUE(fs::exists(path_ + "-wal"));
  EXPECT_EQ(fs::file_size(path_ + "-wal"), 0u);  // checkpointed into the database
  EXPECT_TRUE(fs::exists(path_ + "-shm"));
  s = Open();
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM events"), "1|\n");
}

// A -shm file another user made (a query run while no writer had the database open, by a user
// who may write in its directory) is refused at the start, naming the file and what to do:
// the writer would open the database for reading only and fail at its first write.
TEST_F(StoreTest, AWriteAheadLogIndexThisUserCannotWriteIsRefusedAtTheStart) {
  Open().reset();
  std::string message;
  if (::geteuid() == 0) {
    // Root writes any file: here the writer is another user, and the file root's.
    for (const char* suffix : {"", "-wal", "-lock"}) {
      ASSERT_EQ(::chown((path_ + suffix).c_str(), kNobody, kNobody), 0) << suffix;
    }
    EXPECT_EQ(OpenAsNobody(path_, &message), 1) << message;
  } else {
    ASSERT_EQ(::chmod((path_ + "-shm").c_str(), 0400), 0);
    auto store = Store::Open(path_, {});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
    message = store.status().message();
  }
  EXPECT_NE(message.find("cannot write " + path_ + "-shm (Permission denied"), std::string::npos)
      << message;
  EXPECT_NE(message.find("remove both, or give them to this user"), std::string::npos) << message;
}

// Another program's write transaction (an sqlite3 shell's) held past the busy timeout is named
// as such: writers of edi-audit exclude each other at the start, so it is none of theirs.
TEST_F(StoreTest, AnotherProgramsWriteTransactionIsNamedWhenTheWriterGivesUpWaiting) {
  auto s = Open();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const Status begun = s->Begin();
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_FALSE(begun.ok());
  EXPECT_NE(begun.message().find("database is locked (another program, such as an sqlite3 shell, "
                                 "held a write transaction on it"),
            std::string::npos)
      << begun.message();
  EXPECT_TRUE(s->Begin().ok());  // free again
}

// The directory may be another user's (the service's): a writer lock that is a link is refused,
// not followed to a file a root run would then create or give over to that user.
TEST_F(StoreTest, AWriterLockThatIsALinkIsRefusedNotFollowed) {
  Open().reset();
  const std::string target = path_ + "-target";
  std::ofstream(target) << "not yours";
  fs::remove(path_ + "-lock");
  fs::create_symlink(target, path_ + "-lock");
  auto s = Store::Open(path_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cannot open the writer lock"), std::string::npos)
      << s.status().message();
  struct stat st = {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_size, 9);
  fs::remove(path_ + "-lock");
  fs::remove(target);
}

// Also when the path is a link to a file yet to be made (a layout README allows).
TEST_F(StoreTest, ANewDatabaseBehindALinkIsReadableByItsOwnerOnly) {
  const fs::path real = path_ + "-real", link = path_ + "-link";
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(real.string() + suffix);
  fs::remove(link);
  fs::create_symlink(real, link);
  const mode_t old_umask = ::umask(022);
  auto s = Store::Open(link.string(), {});
  ::umask(old_umask);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_TRUE((*s)->Begin().ok());
  Put(**s, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}}));
  ASSERT_TRUE((*s)->Commit().ok());
  for (const char* suffix : {"", "-wal", "-lock"}) {
    const fs::perms p = fs::status(real.string() + suffix).permissions();
    EXPECT_EQ(p & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write) << suffix;
  }
  (*s).reset();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(real.string() + suffix);
  fs::remove(link);
}

TEST_F(StoreTest, TheWriteAheadLogsSizeIsWhatIsOnDiskBesideTheDatabase) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  for (int i = 0; i < 200; ++i) {
    Put(*s, MakeEvent("req-" + std::to_string(i), kT0 + i, {{8142520, PartySource::kPath}}));
  }
  ASSERT_TRUE(s->Commit().ok());
  const int64_t wal = s->WalBytes();
  EXPECT_GT(wal, 0);
  EXPECT_EQ(wal, static_cast<int64_t>(fs::file_size(s->path() + "-wal")));
}

TEST_F(StoreTest, DurableCommitsSyncTheWriteAheadLogAtEachCommit) {
  // run commits Kafka offsets after each commit: a power cut must not take the batch back.
  auto synchronous = [](Store& s) {
    Statement q(s.db(), "PRAGMA synchronous");
    return q.Step() == SQLITE_ROW ? q.ColumnInt(0) : -1;
  };
  StoreOptions durable;
  durable.durable_commits = true;
  EXPECT_EQ(synchronous(*Open(durable)), 2);  // FULL
  EXPECT_EQ(synchronous(*Open()), 1);         // NORMAL: replay reads its inputs again
}

TEST_F(StoreTest, PartiesAreStoredOnceEachUnderTheirFirstOrigin) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0,
                                {{8142520, PartySource::kQuery},
                                 {8142521, PartySource::kQuery},
                                 {8142520, PartySource::kPath},
                                 {8142522, PartySource::kCustody}})));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT parties FROM events"),
            R"({"query":[8142520,8142521],"custody":[8142522]}|)"
            "\n");
  EXPECT_EQ(Dump(*s, "SELECT her_id, event_id FROM party_event_ids ORDER BY 1"),
            "8142520|1|\n8142521|1|\n8142522|1|\n");
}

TEST_F(StoreTest, RecordsAreKeptCompressedPerBatchAndReadBackByteForByte) {
  auto s = Open();
  std::vector<std::string> raws;
  for (int batch = 0; batch < 3; ++batch) {
    ASSERT_TRUE(s->Begin().ok());
    for (int i = 0; i < 4; ++i) {
      const int n = batch * 4 + i;
      raws.push_back(R"({"requestId":"req-)" + std::to_string(n) + R"(","note":"æøå \" x"})");
      EXPECT_TRUE(Put(*s, MakeEvent("req-" + std::to_string(n), kT0 + n, {}), raws.back()));
    }
    EXPECT_FALSE(Put(*s, MakeEvent("req-0", kT0, {}), "a duplicate is not kept"));
    ASSERT_TRUE(s->Commit().ok());
  }
  EXPECT_EQ(Dump(*s, "SELECT block_id, records FROM raw_blocks"), "1|4|\n2|4|\n3|4|\n");
  for (int id = 1; id <= 12; ++id) {
    auto r = ReadStoredRecord(s->db(), id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, raws[id - 1]);
  }
  auto missing = ReadStoredRecord(s->db(), 13);
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  // The stored block is plain zstd of JSON lines: any zstd tool reads it.
  EXPECT_EQ(Dump(*s, "SELECT bytes FROM raw_blocks WHERE block_id = 2"),
            std::to_string(raws[4].size() + raws[5].size() + raws[6].size() + raws[7].size() + 4) +
                "|\n");
}

// A block prepared ahead (on the decoding thread) is used as is when exactly its records are
// stored; when one of them turns out a duplicate, or others are stored, the store builds the
// block itself: the stored blocks and offsets are the same either way.
TEST_F(StoreTest, APreparedBlockGivesTheSameBlocksAsBuildingThemWithOrWithoutDuplicates) {
  auto run = [&](bool prepared) {
    Remove();
    auto s = Open();
    std::vector<std::string> raws;
    for (int n = 0; n < 12; ++n) {
      raws.push_back(R"({"requestId":"req-)" + std::to_string(n) + R"(","pad":")" +
                     std::string(static_cast<size_t>(n) * 7, 'x') + R"("})");
    }
    const std::string dup = "a duplicate";
    // Batch 1: all stored. Batch 2: its second record is a duplicate of batch 1's first.
    // Batch 3: its last record is a duplicate. Batch 4: a record the block does not hold.
    struct Item {
      const std::string* raw;
      AccessEvent event;
    };
    const std::vector<std::vector<Item>> batches = {
        {{&raws[0], MakeEvent("req-0", kT0, {})}, {&raws[1], MakeEvent("req-1", kT0 + 1, {})}},
        {{&raws[2], MakeEvent("req-2", kT0 + 2, {})},
         {&dup, MakeEvent("req-0", kT0, {})},
         {&raws[3], MakeEvent("req-3", kT0 + 3, {})}},
        {{&raws[4], MakeEvent("req-4", kT0 + 4, {})}, {&dup, MakeEvent("req-1", kT0 + 1, {})}},
        {{&raws[5], MakeEvent("req-5", kT0 + 5, {})}},
    };
    PreparedRawBlock block;
    for (size_t b = 0; b < batches.size(); ++b) {
      EXPECT_TRUE(s->Begin().ok());
      block.Clear();
      for (const Item& item : batches[b]) block.Add(*item.raw);
      EXPECT_TRUE(block.Compress());
      const std::string other = raws[6];  // batch 4 stores a copy: not the block's record
      if (prepared) s->UsePreparedRawBlock(&block);
      for (const Item& item : batches[b]) Put(*s, item.event, *item.raw);
      if (b == 3) {
        EXPECT_TRUE(Put(*s, MakeEvent("req-6", kT0 + 6, {}), other));
      }
      EXPECT_TRUE(s->Commit().ok());
    }
    std::string out = Dump(*s, "SELECT block_id, records, bytes, hex(data) FROM raw_blocks") +
                      Dump(*s, "SELECT event_id, raw_block, raw_offset, raw_size FROM events");
    for (int id = 1; id <= 7; ++id) {
      auto r = ReadStoredRecord(s->db(), id);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) out += *r + "\n";
    }
    return out;
  };
  const std::string built = run(false);
  EXPECT_EQ(run(true), built);
  EXPECT_NE(built.find("4|2|"), std::string::npos);  // batch 4: its record and the copy
}

TEST_F(StoreTest, APreparedBlockIsDroppedByARollback) {
  auto s = Open();
  PreparedRawBlock block;
  const std::string first = "first";
  block.Add(first);
  ASSERT_TRUE(block.Compress());
  ASSERT_TRUE(s->Begin().ok());
  s->UsePreparedRawBlock(&block);
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0, {}), first));
  s->Rollback();
  ASSERT_TRUE(s->Begin().ok());
  const std::string second = "second";
  EXPECT_TRUE(Put(*s, MakeEvent("req-2", kT0, {}), second));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT block_id, records FROM raw_blocks"), "1|1|\n");
  auto r = ReadStoredRecord(s->db(), 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "second");
}

TEST_F(StoreTest, ARolledBackBatchLeavesNoBlockAndTheNextBatchTakesItsPlace) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0, {}), "first"));
  s->Rollback();
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-2", kT0, {}), "second"));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT block_id, records FROM raw_blocks"), "1|1|\n");
  auto r = ReadStoredRecord(s->db(), 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "second");
}

TEST_F(StoreTest, WithoutRawRecordsNoBlockIsWrittenAndReadingSaysSo) {
  StoreOptions options;
  options.keep_raw_records = false;
  auto s = Open(options);
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0, {}), "{}"));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM raw_blocks"), "0|\n");
  auto r = ReadStoredRecord(s->db(), 1);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("not kept"), std::string::npos);
}

TEST_F(StoreTest, ADamagedBlockIsReportedNotMisread) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0, {}), "{\"a\":1}"));
  ASSERT_TRUE(s->Commit().ok());
  ASSERT_EQ(
      sqlite3_exec(s->db(), "UPDATE raw_blocks SET data = x'00112233'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_EQ(ReadStoredRecord(s->db(), 1).status().code(), Status::Code::kCorruption);
}

TEST_F(StoreTest, AMessageIsFoundWithinATimeRangeThroughItsIndex) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  const std::string msg = "3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04";
  EXPECT_TRUE(Put(*s, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}}, msg)));
  EXPECT_TRUE(Put(*s, MakeEvent("req-2", kT0 + 5, {{8142520, PartySource::kPath}})));
  EXPECT_TRUE(Put(*s, MakeEvent("req-3", kT0 + 9, {{8142520, PartySource::kPath}}, msg)));
  ASSERT_TRUE(s->Commit().ok());
  const std::string q = "SELECT request_id FROM events WHERE message_id = '" + msg +
                        "' AND time BETWEEN " + std::to_string(kT0 - kMillisPerDay) + " AND " +
                        std::to_string(kT0 + kMillisPerDay) + " ORDER BY time";
  EXPECT_EQ(Dump(*s, q), "req-1|\nreq-3|\n");
  EXPECT_NE(Dump(*s, "EXPLAIN QUERY PLAN " + q).find("events_time_message"), std::string::npos);
}

TEST_F(StoreTest, TheWriteAheadLogStaysBoundedWhileBatchesKeepComing) {
  StoreOptions options;
  options.checkpoint.soft_limit_frames = 32;
  options.checkpoint.hard_limit_frames = 128;
  auto s = Open(options);
  const std::string raw(3000, 'x');  // about a page per event
  for (int batch = 0; batch < 40; ++batch) {
    ASSERT_TRUE(s->Begin().ok());
    for (int i = 0; i < 50; ++i) {
      const int n = batch * 50 + i;
      EXPECT_TRUE(Put(
          *s,
          MakeEvent("req-" + std::to_string(n), kT0 + n, {{8142520 + n % 7, PartySource::kPath}}),
          raw));
    }
    ASSERT_TRUE(s->Commit().ok());
    // One batch writes ~60 pages: the log never holds much more than the hard limit and a batch.
    EXPECT_LT(fs::file_size(path_ + "-wal"), (128 + 120) * 4200u) << "batch " << batch;
  }
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM events"), "2000|\n");
}

TEST_F(StoreTest, AReaderHoldingOldPagesDoesNotStopTheWriter) {
  StoreOptions options;
  options.checkpoint.soft_limit_frames = 16;
  options.checkpoint.hard_limit_frames = 32;
  auto s = Open(options);
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, MakeEvent("req-0", kT0, {{8142520, PartySource::kPath}})));
  ASSERT_TRUE(s->Commit().ok());
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  Statement snapshot(reader, "SELECT event_id FROM events");
  ASSERT_EQ(snapshot.Step(), SQLITE_ROW);  // an open read transaction
  const std::string raw(3000, 'x');
  for (int batch = 1; batch <= 10; ++batch) {
    ASSERT_TRUE(s->Begin().ok());
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(Put(*s,
                      MakeEvent("req-" + std::to_string(batch * 100 + i), kT0 + batch * 100 + i,
                                {{8142520, PartySource::kPath}}),
                      raw));
    }
    ASSERT_TRUE(s->Commit().ok());
  }
  snapshot = {};
  sqlite3_close(reader);
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM events"), "201|\n");
}

TEST(StoreOpenTest, AnInMemoryDatabaseOrAUriIsRefused) {
  for (const std::string path : {":memory:", "file:audit.db?mode=memory"}) {
    auto store = Store::Open(path, StoreOptions{});
    ASSERT_FALSE(store.ok()) << path;
    EXPECT_EQ(store.status().message(),
              path +
                  ": give the database as a file path (an audit trail is a file, not :memory: "
                  "or a file: URI)");
  }
}

TEST_F(StoreTest, LookupTellsTheSameRecordFromAnotherUnderItsKey) {
  auto s = Open();
  ASSERT_TRUE(s->Begin().ok());
  const AccessEvent e = MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}});
  EXPECT_TRUE(Put(*s, e, R"({"status":200})"));
  Store::Stored stored = Store::Stored::kNo;
  int64_t id = 0;
  // In the same transaction and after it.
  for (int pass = 0; pass < 2; ++pass) {
    ASSERT_TRUE(s->Lookup(e, ContentHash64(R"({"status":200})"), &stored, &id).ok());
    EXPECT_EQ(stored, Store::Stored::kSame);
    EXPECT_EQ(id, 1);
    ASSERT_TRUE(s->Lookup(e, ContentHash64(R"({"status":403})"), &stored, &id).ok());
    EXPECT_EQ(stored, Store::Stored::kOther);
    EXPECT_EQ(id, 1);
    ASSERT_TRUE(s->Lookup(MakeEvent("req-1", kT0 - 1, {}), 0, &stored, &id).ok());
    EXPECT_EQ(stored, Store::Stored::kNo);
    if (pass == 0) {
      ASSERT_TRUE(s->Commit().ok());
    }
  }
}

TEST_F(StoreTest, ASecondWriterIsRefusedWhileTheFirstHasTheDatabaseButReadersAreNot) {
  auto first = Open();
  ASSERT_TRUE(first->Begin().ok());
  EXPECT_TRUE(Put(*first, MakeEvent("req-1", kT0, {{8142520, PartySource::kPath}})));
  ASSERT_TRUE(first->Commit().ok());
  auto second = Store::Open(path_, StoreOptions{});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(second.status().message(),
            path_ +
                ": another edi-audit process (run or replay) is writing to this database; one "
                "writer at a time");
  // The refused writer let go of nothing the first one holds: it goes on, readers read.
  ASSERT_TRUE(first->Begin().ok());
  EXPECT_TRUE(Put(*first, MakeEvent("req-2", kT0 + 1, {{8142520, PartySource::kPath}})));
  ASSERT_TRUE(first->Commit().ok());
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  {
    Statement count(reader, "SELECT count(*) FROM events");
    ASSERT_EQ(count.Step(), SQLITE_ROW);
    EXPECT_EQ(count.ColumnInt(0), 2);
  }
  sqlite3_close(reader);
  EXPECT_TRUE(fs::exists(path_ + "-lock"));  // the claim, beside the database
  first.reset();
  auto again = Store::Open(path_, StoreOptions{});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Dump(**again, "SELECT count(*) FROM events"), "2|\n");
}

TEST(StoreMigrationTest, AVersionThreeDatabaseKeepsItsEventsPartiesAndCustody) {
  const std::string path = (fs::path(::testing::TempDir()) / "edi-store-migrate-v3.db").string();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string v3;
    for (int v = 0; v < 3; ++v) v3 += StoreMigrations().at(v);
    v3 += R"sql(
PRAGMA user_version=3;
INSERT INTO clients (client_key, client_id) VALUES (1, 'client-a');
INSERT INTO events (event_id, request_id, time, api, method, action, status, client_key,
                    message_id, source, position, record)
  VALUES (1, 'req-1', 1778229135310, '3', 'GET', 'download', 200, 1,
          '3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04', 'file:a.jsonl', 1, '{"r":1}'),
         (2, 'req-2', 1778229135999, '3', 'POST', 'poll', 200, 1, NULL, 'kafka:edi/0', 7, NULL);
INSERT INTO event_parties VALUES (8142520, 1778229135310, 1, 'custody'),
                                 (8142520, 1778229135999, 2, 'query'),
                                 (8142521, 1778229135999, 2, 'query');
INSERT INTO state_messages VALUES ('3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04', 1778229135310, x'01');
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v3.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }
  {
    auto store = Store::Open(path, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    sqlite3* db = (*store)->db();
    auto one = [&](const std::string& sql) {
      Statement st(db, sql);
      EXPECT_TRUE(st.ok()) << sql;
      std::string out;
      while (st.Step() == SQLITE_ROW) out += std::string(st.ColumnText(0)) + ";";
      return out;
    };
    EXPECT_EQ(one("SELECT request_id || ' ' || parties || ' ' || source || ' ' || position || ' ' "
                  "|| coalesce(record, '-') FROM events JOIN sources USING (source_key) "
                  "ORDER BY event_id"),
              R"(req-1 {"custody":[8142520]} file:a.jsonl 1 {"r":1};)"
              R"(req-2 {"query":[8142520,8142521]} kafka:edi/0 7 -;)");
    EXPECT_EQ(one("SELECT her_id || ' ' || event_id FROM party_event_ids ORDER BY 1"),
              "8142520 1;8142520 2;8142521 2;");
    EXPECT_EQ(one("SELECT bucket || ' ' || message_id FROM state_messages"),
              "29637152 3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04;");
    auto kept = ReadStoredRecord(db, 1);
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(*kept, R"({"r":1})");
    EXPECT_EQ(ReadStoredRecord(db, 2).status().code(), Status::Code::kNotFound);
    // The migrated database takes new events and still refuses a duplicate.
    ASSERT_TRUE((*store)->Begin().ok());
    AccessEvent again = MakeEvent("req-2", 1778229135999, {});
    Store::Stored stored = Store::Stored::kNo;
    int64_t id = 0;
    EXPECT_TRUE((*store)->Lookup(again, ContentHash64("whatever"), &stored, &id).ok());
    EXPECT_EQ(stored, Store::Stored::kSame);  // stored before content hashes: taken as the same
    EXPECT_EQ(id, 2);
    (*store)->Rollback();
  }
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
}

}  // namespace
}  // namespace edi
