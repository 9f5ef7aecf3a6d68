// Store: the forensic audit trail in one SQLite file (WAL mode).
//
// Everything a batch produced — events, their parties, quarantined records, state changes,
// findings and the source positions (file lines, Kafka offsets) — is written in ONE
// transaction, so a crash at any point leaves the database at a batch boundary: nothing is
// lost and nothing is stored twice. A record seen twice (same `requestId` and event time) is
// stored once.
//
// The layout keeps each batch's writes on few pages: events are appended; their parties go
// into the event row and, grouped per (party, hour) over many batches, into `party_events`
// with the batch that completes a flush (a restart reads the events not yet indexed back); the
// records as received go into one zstd-compressed block per batch
// (`raw_blocks`), the event row says where in the block its record is.
//
// The schema is versioned with PRAGMA user_version and migrated forward on open; the tables
// are documented in README.md ("The database").
//
// A Store is used by one thread at a time (the pipeline's); other readers open the file
// themselves (`edi-audit findings`, sqlite3), which WAL mode allows while the daemon writes.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/sqlite_statement.h"
#include "common/status.h"
#include "decode/access_event.h"
#include "store/checkpointer.h"

namespace edi {

// Where a record came from: "file:/var/log/edi/access.jsonl" line 12, "kafka:edi-access/3"
// offset 4711.
struct SourcePosition {
  std::string source;
  int64_t position = 0;
};

struct QuarantineEntry {
  SourcePosition where;
  std::string reason;  // QuarantineReasonName
  std::string detail;
  std::string_view raw;     // stored capped at StoreOptions::max_quarantine_bytes
  size_t full_size = 0;     // the record's size as received (raw may be capped already)
  int64_t received_ms = 0;  // wall clock, for operators
};

struct StoreOptions {
  size_t max_quarantine_bytes = 64 * 1024;
  bool keep_raw_records = true;  // store each event's JSON as received (forensic copy)
  CheckpointOptions checkpoint;
  // The party index (party_events) is written once this many events gathered since the last
  // time, so each party gets one row per hour for many batches; until then the parties of the
  // newest events are read from their rows (view party_event_ids).
  size_t party_index_flush_events = 200000;
};

// The record event `event_id` was stored from, as received, read through any connection to
// the database; NotFound when there is no such event or its record was not kept.
Result<std::string> ReadStoredRecord(sqlite3* db, int64_t event_id);

class Store {
 public:
  // Opens or creates the database and migrates its schema. Fails with a message naming the
  // path when it cannot be opened, is not an edi-audit database, or is newer than this binary.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options);
  ~Store();

  Status Begin();
  // Writes the party index rows when enough events gathered, then commits.
  Status Commit();
  void Rollback();

  // Sets *stored when an event with e's requestId and event time is already stored (in this
  // transaction or before): the record is a duplicate.
  Status IsStored(const AccessEvent& e, bool* stored);
  // Inserts an event row with its parties (after the state stage resolved custody parties);
  // sets *inserted to false (and stores nothing) for a duplicate, else *event_id. The party
  // index rows are written by a later Commit.
  Status InsertEvent(const AccessEvent& e, std::string_view raw, const SourcePosition& where,
                     bool* inserted, int64_t* event_id);
  // Stores a quarantined record; a record already quarantined at the same position is kept once.
  Status InsertQuarantine(const QuarantineEntry& q);
  Status SetSourcePosition(const SourcePosition& p);

  std::optional<int64_t> GetSourcePosition(const std::string& source);

  sqlite3* db() { return db_; }
  const std::string& path() const { return path_; }
  // The message of the last SQLite error, prefixed with the database path.
  std::string LastError() const;

 private:
  Store(sqlite3* db, std::string path, const StoreOptions& options);
  Status Migrate();
  Status Prepare();
  // The key of `name` in a small lookup table (clients, sources): cached, else found, else
  // inserted by `insert` (which returns the SQLite result code).
  Status CachedKey(std::unordered_map<std::string, int64_t>& cache, Statement& find,
                   const std::string& name, const std::function<int()>& insert, int64_t* key);
  Status ClientKey(const ClientClaims& c, int64_t* key);
  Status SourceKey(const std::string& source, int64_t* key);
  Status FlushPartyIndex();
  // Reads the parties of the events the party index does not cover yet into postings_.
  Status LoadPartyTail();
  Status LoadMaxTime();
  void AddPostings(int64_t event_id, EventTime time, HerId her_id);
  Status FlushRawBlock();

  // The party index not written yet: per (party, hour of event time) the event ids, ascending.
  struct PartyHour {
    HerId her_id;
    int64_t hour;
    bool operator==(const PartyHour&) const = default;
  };
  struct PartyHourHash {
    size_t operator()(const PartyHour& k) const {
      return static_cast<size_t>(k.her_id) * 0x9E3779B97F4A7C15ull ^ static_cast<size_t>(k.hour);
    }
  };
  struct Posting {
    int64_t time_from = 0, time_to = 0;
    std::string events;  // "1,2,5" (the JSON array without brackets)
    int64_t first_event = 0, last_event = 0;
  };

  sqlite3* db_;
  std::string path_;
  StoreOptions options_;
  Statement begin_, commit_, rollback_;
  Statement insert_event_, is_stored_, insert_posting_, insert_quarantine_, set_position_,
      get_position_, next_block_, insert_block_, set_index_upto_;
  Statement find_client_, insert_client_, find_source_, insert_source_;
  std::unordered_map<std::string, int64_t> client_keys_, source_keys_;
  std::unordered_map<PartyHour, Posting, PartyHourHash> postings_;
  size_t postings_events_ = 0;          // events in postings_
  int64_t last_event_ = 0;              // the newest event id in postings_ or the index
  bool reload_after_rollback_ = false;  // postings_ and max_time_, before the next batch
  std::string parties_json_;            // reused
  // The batch's records as received (JSON lines) and the block id they will be stored under.
  std::string raw_;
  int64_t raw_records_ = 0, raw_block_ = 0;
  void* zstd_ = nullptr;  // ZSTD_CCtx, reused
  // The newest event time stored: a record newer than every stored event cannot be a
  // duplicate (a duplicate has the same time), so IsStored need not look it up.
  EventTime max_time_ = 0;
  std::unique_ptr<Checkpointer> checkpointer_;  // declared last: stopped first
};

}  // namespace edi
