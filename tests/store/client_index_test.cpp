// The client index: the events of each HelseID client grouped per hour over batches, complete
// in client_event_ids at every moment (the newest events read from their rows), rebuilt after
// a restart, and built from the events of a database from before it existed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "store/migrations.h"
#include "store/store_fixture.h"

namespace edi {
namespace {

namespace fs = std::filesystem;
using testing::kT0;
using testing::MakeEvent;
using testing::StoreTest;

AccessEvent ByClient(const std::string& request_id, EventTime time, const std::string& client) {
  AccessEvent e = MakeEvent(request_id, time, {{8142520, PartySource::kPath}});
  e.client.client_id = client;
  return e;
}

const char* kClientView =
    "SELECT c.client_id, v.event_id FROM client_event_ids v JOIN clients c USING (client_key) "
    "ORDER BY 1, 2";

TEST_F(StoreTest, TheClientIndexGroupsEventsPerClientAndHourOverBatches) {
  StoreOptions options;
  options.party_index_flush_events = 6;
  auto s = Open(options);
  const std::string kIndexed =
      "SELECT c.client_id, hour - (SELECT min(hour) FROM client_events), first_event, events "
      "FROM client_events JOIN clients c USING (client_key) ORDER BY 1, 2";
  for (int i = 0; i < 6; ++i) {
    // Three batches of two, an hour apart; client-a makes every call but the fourth.
    if (i % 2 == 0) {
      ASSERT_TRUE(s->Begin().ok());
    }
    EXPECT_TRUE(Put(*s, ByClient("req-" + std::to_string(i), kT0 + (i / 2) * kMillisPerHour + i,
                                 i == 3 ? "client-b" : "client-a")));
    if (i % 2 == 1) {
      ASSERT_TRUE(s->Commit().ok());
    }
    if (i == 3) {
      // Not written yet, but the view reads the newest events' clients from their rows.
      EXPECT_EQ(Dump(*s, kIndexed), "");
      EXPECT_EQ(Dump(*s, kClientView), "client-a|1|\nclient-a|2|\nclient-a|3|\nclient-b|4|\n");
    }
  }
  EXPECT_EQ(Dump(*s, kIndexed),
            "client-a|0|1|[1,2]|\nclient-a|1|3|[3]|\nclient-a|2|5|[5,6]|\nclient-b|1|4|[4]|\n");
  EXPECT_EQ(Dump(*s, "SELECT value FROM store_meta WHERE key = 'client_index_upto'"), "6|\n");
  EXPECT_EQ(Dump(*s, kClientView),
            "client-a|1|\nclient-a|2|\nclient-a|3|\nclient-a|5|\nclient-a|6|\nclient-b|4|\n");
  // The view's key and hour narrow a lookup to the index's rows.
  EXPECT_NE(Dump(*s,
                 "EXPLAIN QUERY PLAN SELECT event_id FROM client_event_ids "
                 "WHERE client_key = 1 AND hour >= 0")
                .find("USING PRIMARY KEY (client_key=? AND hour>?)"),
            std::string::npos);
}

TEST_F(StoreTest, EventsNotYetInTheClientIndexAreIndexedAfterARestartOrRollback) {
  StoreOptions options;
  options.party_index_flush_events = 4;
  {
    auto s = Open(options);
    ASSERT_TRUE(s->Begin().ok());
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(Put(*s, ByClient("req-" + std::to_string(i), kT0 + i, "client-a")));
    }
    ASSERT_TRUE(s->Commit().ok());
    EXPECT_EQ(Dump(*s, "SELECT count(*) FROM client_events"), "0|\n");
  }
  auto s = Open(options);
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, ByClient("rolled-back", kT0 + 3, "client-b")));
  s->Rollback();
  ASSERT_TRUE(s->Begin().ok());
  EXPECT_TRUE(Put(*s, ByClient("req-3", kT0 + 3, "client-a")));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(Dump(*s, "SELECT events FROM client_events"), "[1,2,3,4]|\n");
  EXPECT_EQ(Dump(*s, "SELECT count(*) FROM client_event_ids"), "4|\n");
}

// The migration test needs the fixture's helpers, not its fresh database.
class ClientIndexMigrationTest : public StoreTest {};

TEST_F(ClientIndexMigrationTest, AVersionFiveDatabaseGetsItsClientIndexFromItsEvents) {
  const std::string path = (fs::path(::testing::TempDir()) / "edi-store-migrate-v5.db").string();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string v5;
    for (int v = 0; v < 5; ++v) v5 += StoreMigrations().at(v);
    v5 += R"sql(
PRAGMA user_version=5;
INSERT INTO clients (client_key, client_id) VALUES (1, 'client-a'), (2, 'client-b');
INSERT INTO sources (source_key, source) VALUES (1, 'file:a.jsonl');
INSERT INTO events (event_id, request_id, time, api, method, action, status, client_key,
                    source_key, position)
  VALUES (1, 'req-1', 1778229135310, '3', 'GET', 'download', 200, 1, 1, 1),
         (2, 'req-2', 1778229135999, '3', 'GET', 'poll', 200, 2, 1, 2),
         (3, 'req-3', 1778232735999, '3', 'GET', 'poll', 200, 1, 1, 3);
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v5.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }
  auto store = Store::Open(path, StoreOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(Dump(**store, "SELECT client_key, hour, events FROM client_events"),
            "1|493952|[1]|\n1|493953|[3]|\n2|493952|[2]|\n");
  EXPECT_EQ(Dump(**store, kClientView), "client-a|1|\nclient-a|3|\nclient-b|2|\n");
  EXPECT_EQ(Dump(**store,
                 "SELECT count(*) FROM sqlite_master "
                 "WHERE name = 'events_client_time'"),
            "0|\n");
}

TEST_F(ClientIndexMigrationTest,
       AVersionSixDatabaseKeepsItsQuarantineAndShowsEachCallsOrganisation) {
  const std::string path = (fs::path(::testing::TempDir()) / "edi-store-migrate-v6.db").string();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string v6;
    for (int v = 0; v < 6; ++v) v6 += StoreMigrations().at(v);
    v6 += R"sql(
PRAGMA user_version=6;
INSERT INTO clients (client_key, client_id, orgnr_parent) VALUES (1, 'client-a', '944100001');
INSERT INTO sources (source_key, source) VALUES (1, 'stdin');
INSERT INTO events (event_id, request_id, time, api, method, action, status, client_key,
                    source_key, position)
  VALUES (1, 'req-1', 1778229135310, '3', 'GET', 'download', 200, 1, 1, 1);
INSERT INTO quarantine (source, position, reason, detail, size, raw, received_at)
  VALUES ('stdin', 2, 'invalid_json', 'x', 3, X'616263', 1);
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v6.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }
  auto store = Store::Open(path, StoreOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Store& s = **store;
  EXPECT_EQ(Dump(s, "SELECT source, position, reason, raw FROM quarantine"),
            "stdin|2|invalid_json|abc|\n");
  // A row from before shows the client's organisation; a new one its own call's.
  AccessEvent e = ByClient("req-2", 1778229135999, "client-a");
  e.client.orgnr_parent = "921600001";
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_TRUE(Put(s, e));
  bool inserted = false;
  QuarantineEntry q;
  q.where = {"stdin", 2};
  q.reason = "schema";
  q.detail = "y";
  q.raw = "[1]";
  q.full_size = 3;
  ASSERT_TRUE(s.InsertQuarantine(q, &inserted).ok());
  EXPECT_TRUE(inserted);  // another record at a position used before
  ASSERT_TRUE(s.InsertQuarantine(q, &inserted).ok());
  EXPECT_FALSE(inserted);  // the same record again
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(Dump(s, "SELECT request_id, orgnr_parent FROM event_view ORDER BY event_id"),
            "req-1|944100001|\nreq-2|921600001|\n");
  EXPECT_EQ(Dump(s, "SELECT count(*) FROM quarantine"), "2|\n");
}

TEST_F(ClientIndexMigrationTest, QuarantinedRecordsAreToldApartByAllTheirBytesNotTheKeptOnes) {
  const std::string path = (fs::path(::testing::TempDir()) / "edi-store-quarantine.db").string();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path + suffix);
  StoreOptions options;
  options.max_quarantine_bytes = 0;  // nothing of the records kept
  auto store = Store::Open(path, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Store& s = **store;
  ASSERT_TRUE(s.Begin().ok());
  auto put = [&](std::string_view raw) {
    QuarantineEntry q;
    q.where = {"stdin", 1};
    q.reason = "schema";
    q.raw = raw;
    q.full_size = raw.size();
    bool inserted = false;
    EXPECT_TRUE(s.InsertQuarantine(q, &inserted).ok());
    return inserted;
  };
  EXPECT_TRUE(put("[1,2]"));
  EXPECT_TRUE(put("[3,4]"));  // same position and size, other bytes
  EXPECT_FALSE(put("[1,2]"));
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(Dump(s, "SELECT count(*) FROM quarantine"), "2|\n");
}

}  // namespace
}  // namespace edi
