// PostingIndex: one of the Store's batched event indexes. Per key and hour of event time, the
// ids of the events with that key, gathered over many batches, one row per (key, hour, flush):
//   `party_events` (her_id): the events that acted for a party; view `party_event_ids`;
//   `client_events` (client_key): the events a HelseID client made; view `client_event_ids`.
// One row for many events costs far less than one index entry per event, which an index over
// events scattered among keys would (a B-tree page touched for nearly every event).
//
// Events gather in memory until `flush_events` of them are there; that generation is then
// frozen and written in slices, a part with each following transaction, so that no single
// commit has to write the whole of it (at 20,000 records/s one generation is ~50,000 rows). A
// new generation gathers meanwhile. Once the last slice is written, the index's row in
// `store_meta` (`party_index_upto`, `client_index_upto`) moves to the newest event of the
// generation, in the same transaction.
//
// Readers use the views: the rows of complete generations (first_event <= that row's value)
// and, for the newer events, the keys in their own rows. A generation still being written is
// thus invisible in the table and read from the events instead: the view is complete and lists
// each event once at any time. After a restart or a rollback the events beyond it are read
// back from their rows and indexed again; the rows already written for them are rewritten with
// the same key (INSERT OR REPLACE), the same or more events.
//
// Used by the Store's thread only.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/sqlite_statement.h"
#include "common/status.h"
#include "common/time.h"
#include "decode/access_event.h"

namespace edi {

// Where one index lives and how its unindexed events are read back.
struct PostingTable {
  const char* table;       // "party_events"
  const char* key_column;  // "her_id"
  const char* upto_key;    // its row in store_meta: "party_index_upto"
  // (event_id, time, key) of the events after event id ?1, in event id order.
  const char* unindexed_sql;
};
extern const PostingTable kPartyPostings;
extern const PostingTable kClientPostings;

class PostingIndex {
 public:
  // `slices`: a frozen generation is written over at most this many transactions, each at
  // least `min_slice_rows` rows (fewer only for the last).
  PostingIndex(const PostingTable& table, size_t flush_events, size_t slices, size_t min_slice_rows)
      : table_(table),
        flush_events_(flush_events),
        slices_(slices),
        min_slice_rows_(min_slice_rows) {}

  // Prepares the statements on `db` (errors name `path`).
  Status Prepare(sqlite3* db, const std::string& path);
  void Close();  // finalizes the statements (before the connection closes)

  // Reads back the events the index does not cover yet (at open, and after a rollback).
  Status Load();
  // Forgets what is not written: it may hold events of a rolled-back transaction. Load must
  // come before the next Add.
  void Forget();
  bool needs_load() const { return needs_load_; }

  // A stored event's parties (each once), or its one key.
  void Add(int64_t event_id, EventTime time, const std::vector<PartyRef>& parties);
  void Add(int64_t event_id, EventTime time, int64_t key);
  // Inside the transaction, before it commits: freezes a generation when enough events
  // gathered, and writes the next slice of a frozen one.
  Status WriteDue();
  // Inside the transaction: writes the rest of a frozen generation at once (see
  // Store::CompleteIndexes).
  Status WriteFrozen();

  size_t gathering() const { return events_; }  // events not yet in a frozen generation
  size_t rows_to_write() const { return frozen_.size() - next_row_; }

 private:
  // The event ids of one key in one hour, ascending.
  struct Posting {
    int64_t hour = 0;
    int64_t time_from = 0, time_to = 0;
    std::string events;  // "1,2,5" (the JSON array without brackets)
    int64_t first_event = 0, last_event = 0;
  };
  struct Row {
    int64_t key;
    Posting posting;
  };

  void AddOne(int64_t event_id, EventTime time, int64_t key);
  void Freeze();
  Status WriteRows(size_t count);
  Status Error() const;

  const PostingTable& table_;
  size_t flush_events_, slices_, min_slice_rows_;
  sqlite3* db_ = nullptr;
  std::string path_;
  Statement insert_, set_upto_;
  // Gathering: per key its postings by hour, ascending (records come nearly in time order,
  // so the hour looked for is the last one or close to it).
  std::unordered_map<int64_t, std::vector<Posting>> postings_;
  size_t events_ = 0;
  int64_t last_event_ = 0;  // the newest event id gathered or indexed
  // Frozen: rows in key order, written from next_row_; complete up to frozen_upto_.
  std::vector<Row> frozen_;
  size_t next_row_ = 0, slice_rows_ = 0;
  int64_t frozen_upto_ = 0;
  bool needs_load_ = true;
};

}  // namespace edi
