// The store tests' shared fixture: a database file per test, events made to order, and the
// result of a query as text.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/fnv.h"
#include "common/time.h"
#include "store/store.h"

namespace edi::testing {

namespace fs = std::filesystem;

inline const EventTime kT0 = *ParseRfc3339("2026-05-08T08:32:15.310Z");

inline AccessEvent MakeEvent(std::string request_id, EventTime time, std::vector<PartyRef> parties,
                             std::string message_id = "") {
  AccessEvent e;
  e.time = time;
  e.request_id = std::move(request_id);
  e.method = "GET";
  e.route = "/messages/{id}";
  e.action = Action::kDownload;
  e.status = 200;
  e.client.client_id = "client-a";
  e.client.client_name = "Nursing EPJ Bergen";
  e.parties = std::move(parties);
  e.message_id = std::move(message_id);
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::path(::testing::TempDir()) / (std::string("edi-store-") + info->name() + ".db"))
                .string();
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm", "-lock"}) fs::remove(path_ + suffix);
  }
  std::unique_ptr<Store> Open(StoreOptions options = {}) {
    auto store = Store::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  // Inserts `e` unless it is stored; returns whether it was inserted.
  static bool Put(Store& s, const AccessEvent& e, const std::string& raw = "{}") {
    Store::Stored stored = Store::Stored::kNo;
    int64_t id = 0;
    EXPECT_TRUE(s.Lookup(e, ContentHash64(raw), &stored, &id).ok());
    if (stored != Store::Stored::kNo) return false;
    bool inserted = false;
    EXPECT_TRUE(s.InsertEvent(e, raw, ContentHash64(raw), {"file:test", 1}, &inserted, &id).ok());
    return inserted;
  }
  static std::string Dump(Store& s, const std::string& sql) {
    std::string out;
    Statement st(s.db(), sql);
    EXPECT_TRUE(st.ok()) << sql << ": " << sqlite3_errmsg(s.db());
    while (st.Step() == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st.get()); ++i) {
        const unsigned char* v = sqlite3_column_text(st.get(), i);
        out += (v ? reinterpret_cast<const char*>(v) : "NULL") + std::string("|");
      }
      out += "\n";
    }
    return out;
  }
  std::string path_;
};

}  // namespace edi::testing
