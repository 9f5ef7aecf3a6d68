// Store: the forensic audit trail in one SQLite file (WAL mode).
//
// Everything a batch produced — events, their parties, quarantined records, state changes,
// findings and the source positions (file lines, Kafka offsets) — is written in ONE
// transaction, so a crash at any point leaves the database at a batch boundary: nothing is
// lost and nothing is stored twice. A record seen twice (same `requestId` and event time) is
// stored once.
//
// The layout keeps each batch's writes on few pages: events are appended; their parties go
// into the event row and, grouped per (party, hour) over many batches, into `party_events`;
// the events of each client likewise per (client, hour) into `client_events` (PostingIndex,
// written in slices; a restart reads the events not yet indexed back); the records as received
// go into one zstd-compressed block per batch (`raw_blocks`), the event row says where in the
// block its record is.
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
#include <unordered_set>
#include <vector>

#include "common/sqlite_statement.h"
#include "common/status.h"
#include "decode/access_event.h"
#include "store/checkpointer.h"
#include "store/posting_index.h"

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
  // Each commit is on disk before Commit returns (PRAGMA synchronous=FULL: the write-ahead log
  // is synced). Needed where something outside the database moves on with the commit — Kafka
  // offsets committed after it: a power cut would otherwise roll back batches Kafka was told
  // were stored. Without it (NORMAL) a power cut may lose the last commits, never corrupt.
  bool durable_commits = false;
  // SQLite's page cache of the writer, in KiB.
  size_t cache_kib = 64 * 1024;
  CheckpointOptions checkpoint;
  // The party and client indexes (party_events, client_events) are written once this many
  // events gathered since the last time, so each party or client gets one row per hour for
  // many batches; until then the newest events are read from their rows (views
  // party_event_ids, client_event_ids). Each is written in slices, over at most
  // `party_index_slices` transactions (see posting_index.h).
  size_t party_index_flush_events = 200000;
  size_t party_index_slices = 16;
};

// The record event `event_id` was stored from, as received, read through any connection to
// the database; NotFound when there is no such event or its record was not kept.
Result<std::string> ReadStoredRecord(sqlite3* db, int64_t event_id);

// A batch's block of records as received (`raw_blocks`), prepared ahead — on another thread
// than the store's — for the records expected to be stored, in order. At commit the store uses
// it when exactly those records were inserted (the same bytes at the same addresses; the
// common case: no duplicates) and else compresses the block itself, so the stored block is
// the same either way.
class PreparedRawBlock {
 public:
  PreparedRawBlock() = default;
  PreparedRawBlock(const PreparedRawBlock&) = delete;
  PreparedRawBlock& operator=(const PreparedRawBlock&) = delete;
  ~PreparedRawBlock();

  void Clear();
  // Appends a record; `raw` must stay valid, at the same address, while the block is used: the
  // store recognises the record by its address and size.
  void Add(std::string_view raw);
  // Compresses the records added; false (and the block stays unusable) when that fails.
  bool Compress();

  bool ready() const { return ready_; }
  size_t records() const { return records_.size(); }

 private:
  friend class Store;
  std::string data_;   // the records, each followed by '\n'
  std::string frame_;  // data_ compressed
  std::vector<std::string_view> records_;
  bool ready_ = false;
  void* zstd_ = nullptr;  // ZSTD_CCtx, reused
};

class Store {
 public:
  // Opens or creates the database and migrates its schema. Fails with a message naming the
  // path when it cannot be opened or written, is not an edi-audit database, is newer than this
  // binary, or another Store (in any process) has it open: there is one writer at a time.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options);
  ~Store();

  Status Begin();
  // Writes the party and client index rows when enough events gathered, then commits.
  Status Commit();
  // Ends the raw-record block of the records stored so far in the open transaction: those
  // stored next go into a block of their own (a transaction of several batches).
  Status EndRawBlock();
  void Rollback();
  // In a transaction of its own, outside any batch's: writes the rest of the party and client
  // index generations being written in slices. Their progress lives in memory only (a new
  // process reads the unindexed events back and starts a generation anew), so a process
  // ending before a generation's last slice leaves it all to the next one, and short runs
  // (one replay per file) would never complete one while the events read back at each start
  // pile up. Called at a clean end (replay done, run drained); cheap when nothing is pending.
  Status CompleteIndexes();

  // What is stored under e's requestId and event time (in this transaction or before):
  // nothing; the same record (its content hash, ContentHash64 of the record's bytes, is the
  // stored one's, or the stored one has none); or another record, as event *event_id.
  enum class Stored { kNo, kSame, kOther };
  Status Lookup(const AccessEvent& e, uint64_t content_hash, Stored* stored, int64_t* event_id);
  // Inserts an event row with its parties (after the state stage resolved custody parties);
  // sets *inserted to false (and stores nothing) for a duplicate, else *event_id. The party
  // and client index rows are written by a later Commit. `raw` need not outlive the call.
  Status InsertEvent(const AccessEvent& e, std::string_view raw, uint64_t content_hash,
                     const SourcePosition& where, bool* inserted, int64_t* event_id);
  // Offers the records' block for the current transaction, prepared ahead (see
  // PreparedRawBlock); it must stay unchanged until Commit or Rollback, even when replaced by
  // another block meanwhile (the records stored from it may still be read from it). Call after
  // Begin, at any time before Commit.
  void UsePreparedRawBlock(const PreparedRawBlock* block);
  // Stores a quarantined record; sets *inserted to false when the same record (same bytes at
  // the same source position) is quarantined already. Another record at a position already
  // used (stdin, a file rewritten in place) is stored too.
  Status InsertQuarantine(const QuarantineEntry& q, bool* inserted);
  Status SetSourcePosition(const SourcePosition& p);

  std::optional<int64_t> GetSourcePosition(const std::string& source);
  // Whether this record (`bytes` as the source keeps them, capped at its size limit,
  // `full_size` as received) is quarantined from position `p`: nullopt when the quarantine
  // holds a record from there quarantined before records' hashes were kept.
  std::optional<bool> IsQuarantinedAt(const SourcePosition& p, std::string_view bytes,
                                      size_t full_size);

  sqlite3* db() { return db_; }
  const std::string& path() const { return path_; }
  // The size of the write-ahead log on disk, in bytes; -1 when it cannot be read. It grows
  // while a reader's transaction keeps checkpoints from reaching its end.
  int64_t WalBytes() const;
  // The message of the last SQLite error, prefixed with the database path.
  std::string LastError() const;

 private:
  Store(sqlite3* db, std::string path, const StoreOptions& options);
  Status Migrate();
  Status Prepare();
  // The key of `name` in a small lookup table (clients, sources): cached, else found, else
  // inserted by `insert` (which returns the SQLite result code).
  // Keys already found, and the last one asked for (consecutive records mostly share it).
  struct KeyCache {
    std::unordered_map<std::string, int64_t> keys;
    std::string last_name;
    int64_t last_key = 0;  // 0: none yet
    void clear() {
      keys.clear();
      last_key = 0;
    }
  };
  Status CachedKey(KeyCache& cache, Statement& find, const std::string& name,
                   const std::function<int()>& insert, int64_t* key);
  Status ClientKey(const ClientClaims& c, int64_t* key);
  Status SourceKey(const std::string& source, int64_t* key);
  Status LoadMaxTime();
  Status LoadUnnamedClients();
  Status FlushRawBlock();
  bool PreparedMatches() const;  // prepared_ holds exactly the records inserted
  // Whether `raw` is the prepared block's record following those inserted so far.
  bool NextInPrepared(std::string_view raw) const;
  void CopyRaw();  // raw_ gets the records so far, from then on each record as stored
  void ClearRaw();

  sqlite3* db_;
  int writer_lock_fd_ = -1;  // PATH-lock, flock()ed: the one writer's claim
  std::string path_;
  StoreOptions options_;
  Statement begin_, commit_, rollback_;
  Statement insert_event_, is_stored_, insert_quarantine_, set_position_, get_position_,
      next_block_, insert_block_;
  Statement find_client_, insert_client_, name_client_, add_client_name_, find_source_,
      insert_source_;
  KeyCache client_keys_, source_keys_;
  std::unordered_set<int64_t> unnamed_clients_;  // clients stored without a name so far
  // Per client key, the names stored in client_names by this process (or found there).
  std::unordered_map<int64_t, std::vector<std::string>> client_names_seen_;
  int64_t last_named_key_ = 0;
  std::string last_name_;
  PostingIndex party_index_, client_index_;
  bool reload_after_rollback_ = false;  // the indexes and max_time_, before the next batch
  std::string parties_json_;            // reused
  // The batch's records as received (JSON lines), the block id they will be stored under, and
  // where each inserted record was in memory (to match prepared_ at commit).
  std::string raw_;      // only once copying_raw_: until then the records are prepared_'s first
  size_t raw_size_ = 0;  // the size of the batch's records as JSON lines
  bool copying_raw_ = false;  // raw_ holds them
  std::vector<std::string_view> inserted_;
  int64_t raw_block_ = 0;
  const PreparedRawBlock* prepared_ = nullptr;
  void* zstd_ = nullptr;  // ZSTD_CCtx, reused
  std::string frame_;     // reused
  // The newest event time stored: a record newer than every stored event cannot be a
  // duplicate (a duplicate has the same time), so Lookup need not look it up.
  EventTime max_time_ = 0;
  std::unique_ptr<Checkpointer> checkpointer_;  // declared last: stopped first
};

}  // namespace edi
