#include "store/store.h"

#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/fnv.h"
#include "store/migrations.h"
#include "store/store_path.h"

namespace edi {

// A slice of the party or client index is at least this many rows: fewer would only add
// transactions.
constexpr size_t kMinIndexSliceRows = 1000;

Store::Store(sqlite3* db, std::string path, const StoreOptions& options)
    : db_(db),
      path_(std::move(path)),
      options_(options),
      party_index_(kPartyPostings, options.party_index_flush_events, options.party_index_slices,
                   kMinIndexSliceRows),
      client_index_(kClientPostings, options.party_index_flush_events, options.party_index_slices,
                    kMinIndexSliceRows) {}

Store::~Store() {
  checkpointer_.reset();
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_));
  next_block_ = {};
  insert_block_ = {};
  begin_ = {};
  commit_ = {};
  rollback_ = {};
  insert_event_ = {};
  is_stored_ = {};
  party_index_.Close();
  client_index_.Close();
  insert_quarantine_ = {};
  set_position_ = {};
  get_position_ = {};
  find_client_ = {};
  insert_client_ = {};
  name_client_ = {};
  add_client_name_ = {};
  find_source_ = {};
  insert_source_ = {};
  sqlite3_close(db_);
  if (writer_lock_fd_ >= 0) ::close(writer_lock_fd_);
}

std::string Store::LastError() const {
  std::string msg = path_ + ": " + sqlite3_errmsg(db_);
  // Not another edi-audit writer (they exclude each other at the start): another program's
  // write transaction, held past the busy timeout.
  if ((sqlite3_extended_errcode(db_) & 0xff) == SQLITE_BUSY) {
    msg +=
        " (another program, such as an sqlite3 shell, held a write transaction on it for over "
        "5 s)";
  }
  return msg;
}

int64_t Store::WalBytes() const {
  // The file SQLite resolved (symbolic links followed), with its "-wal".
  const char* main = sqlite3_db_filename(db_, "main");
  if (main == nullptr || *main == '\0') return -1;
  struct stat st = {};
  if (::stat((std::string(main) + "-wal").c_str(), &st) != 0) return errno == ENOENT ? 0 : -1;
  return static_cast<int64_t>(st.st_size);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(path + ": is a directory, not a database file");
  }
  if (path == ":memory:" || path.rfind("file:", 0) == 0) {
    return Status::InvalidArgument(path +
                                   ": give the database as a file path (an audit trail is a file, "
                                   "not :memory: or a file: URI)");
  }
  // The audit trail is sensitive: a new database is its owner's alone (0600), whatever the
  // umask, narrowed as soon as SQLite made it (also behind a link); SQLite gives its -wal and
  // -shm files the database file's permissions.
  std::error_code exists_ec;
  const bool existed = std::filesystem::exists(path, exists_ec);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK || sqlite3_db_readonly(db, "main") == 1) {
    std::string why = rc != SQLITE_OK ? (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc))
                                      : "the file cannot be written";
    // SQLite says "unable to open database file" for all of these: name the directory, or
    // the file's owner and mode.
    bool setup = rc == SQLITE_OK;  // a path no restart mends: exit status 2, not 1
    if (auto problem = rc != SQLITE_OK ? DirectoryProblem(path) : std::nullopt) {
      why = *problem;
      setup = true;
    } else if (auto denied = existed ? AccessProblem(path) : std::nullopt) {
      // The file is another user's (a replay run as root made it 0600): so it stays.
      why = "the file cannot be read and written by this user (" + *denied + ")";
      setup = true;
    }
    sqlite3_close(db);
    const std::string msg = path + ": cannot open database for writing: " + why;
    return setup ? Status::InvalidArgument(msg) : Status::IOError(msg);
  }
  if (!existed) ::chmod(sqlite3_db_filename(db, "main"), 0600);
  // One writer at a time: a second one would keep its own reconstruction state and each would
  // overwrite the other's. The claim is an flock on FILE-lock, FILE being the database file as
  // SQLite resolved the path (links followed), taken before anything is read or written and
  // held while the store is open; readers never take it. Not on the database file itself:
  // closing any other descriptor of that file would drop the process's SQLite locks on it.
  const std::string lock_path = std::string(sqlite3_db_filename(db, "main")) + "-lock";
  // Not through a link: the database's directory may be another user's (the service's), who
  // could otherwise point the lock at any file for a root run to create or give over below.
  const int lock_fd = ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd < 0) {
    const int e = errno;
    sqlite3_close(db);
    return Status::IOError(path + ": cannot open the writer lock " + lock_path + ": " +
                           std::strerror(e));
  }
  // Run as root on another user's database (a replay into the service's), the lock is that
  // user's, as SQLite makes the -wal and -shm files: a root-owned one would keep the service
  // from opening its database again. Only a lock root made is given over: a file of its own
  // (no other name links to it).
  if (struct stat db_st, lock_st;
      ::geteuid() == 0 && ::stat(sqlite3_db_filename(db, "main"), &db_st) == 0 &&
      ::fstat(lock_fd, &lock_st) == 0 && S_ISREG(lock_st.st_mode) && lock_st.st_nlink == 1 &&
      lock_st.st_uid == 0 && db_st.st_uid != 0) {
    [[maybe_unused]] const int ignored = ::fchown(lock_fd, db_st.st_uid, db_st.st_gid);
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(lock_fd);
    sqlite3_close(db);
    if (e == EWOULDBLOCK) {
      return Status::Unavailable(path +
                                 ": another edi-audit process (run or replay) is writing to this "
                                 "database; one writer at a time");
    }
    return Status::IOError(path + ": cannot lock " + lock_path + ": " + std::strerror(e));
  }
  // SQLite's -wal and -shm files stay with the writer's. One a reader made (a query run while
  // no writer had the database open, by a user allowed to write in its directory) is that
  // reader's: this writer could open it for reading only and would fail at its first write.
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string file = std::string(sqlite3_db_filename(db, "main")) + suffix;
    const auto problem = AccessProblem(file, 02);
    if (!problem) continue;
    const std::string msg = path + ": cannot write " + file + " (" + *problem +
                            "): a reader that opened the database while no writer had it open "
                            "leaves its -wal and -shm files; with nothing using the database, "
                            "remove both, or give them to this user";
    ::close(lock_fd);
    sqlite3_close(db);
    return Status::InvalidArgument(msg);
  }
  std::unique_ptr<Store> store(new Store(db, path, options));
  store->writer_lock_fd_ = lock_fd;
  sqlite3_busy_timeout(db, 5000);
  // The -wal and -shm files outlive the writer (the log emptied), so that readers use the
  // writer's files rather than make their own.
  int persist = 1;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  char* err = nullptr;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
                   "PRAGMA temp_store=MEMORY;"
                   // Debian's SQLite zeroes freed space by default; nothing is deleted here
                   // that the events do not keep anyway (expired state), so that is work lost.
                   "PRAGMA secure_delete=OFF;"
                   // A write-ahead log that grew while a reader kept checkpoints from finishing
                   // is cut back to 256 MiB once it is emptied (SQLite keeps its size else).
                   "PRAGMA journal_size_limit=268435456;",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg =
        path + ": " + (err ? err : "cannot configure database") + " (is it an SQLite database?)";
    sqlite3_free(err);
    // A file that is no database stays so: restarting does not mend it.
    return sqlite3_errcode(db) == SQLITE_NOTADB ? Status::InvalidArgument(msg)
                                                : Status::IOError(msg);
  }
  if (options.durable_commits &&
      sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Status::IOError(store->LastError());
  }
  if (sqlite3_exec(db, ("PRAGMA cache_size=-" + std::to_string(options.cache_kib)).c_str(), nullptr,
                   nullptr, nullptr) != SQLITE_OK) {
    return Status::IOError(store->LastError());
  }
  if (Status s = store->Migrate(); !s.ok()) return s;
  if (Status s = store->Prepare(); !s.ok()) return s;
  if (Status s = store->party_index_.Load(); !s.ok()) return s;
  if (Status s = store->client_index_.Load(); !s.ok()) return s;
  if (Status s = store->LoadMaxTime(); !s.ok()) return s;
  if (Status s = store->LoadUnnamedClients(); !s.ok()) return s;
  auto checkpointer = Checkpointer::Start(db, path, options.checkpoint);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(checkpointer).value();
  return store;
}

Status Store::Migrate() {
  int64_t version = 0;
  if (Status s = CheckSchema(db_, path_, &version); !s.ok()) return s;
  const int current = static_cast<int>(version);
  const auto& migrations = StoreMigrations();
  if (current == 0) {
    // The database is made now: its owner's alone, also when the file was there before (made
    // empty by hand, or left by a start that ended before its schema was written).
    // Not through links (the -wal or -shm made one by the directory's owner): a file is only
    // named, never opened, as closing a descriptor of a file would drop SQLite's locks on it.
    const std::string main_file = sqlite3_db_filename(db_, "main");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      ::fchmodat(AT_FDCWD, (main_file + suffix).c_str(), 0600, AT_SYMLINK_NOFOLLOW);
    }
  }
  for (int v = current; v < static_cast<int>(migrations.size()); ++v) {
    std::string sql = "BEGIN IMMEDIATE;";
    sql += migrations[v];
    sql += "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = path_ + ": schema migration to version " + std::to_string(v + 1) +
                        " failed: " + (err ? err : "?");
      sqlite3_free(err);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Status::Corruption(msg);
    }
  }
  return Status::OK();
}

Status Store::Prepare() {
  struct {
    Statement* stmt;
    const char* sql;
  } const kStatements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_event_,
       "INSERT INTO events (request_id, time, api, method, route, action, status, client_key, "
       "orgnr_child, herid_claim, message_id, duration_ms, parties, source_key, position, "
       "raw_block, raw_offset, raw_size, orgnr_parent, content_hash, apprec_id) VALUES (?1, ?2, "
       "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) "
       "ON CONFLICT (time, request_id) DO NOTHING"},
      {&next_block_, "SELECT coalesce(max(block_id), 0) + 1 FROM raw_blocks"},
      {&insert_block_,
       "INSERT INTO raw_blocks (block_id, records, bytes, data) VALUES (?1, ?2, ?3, ?4)"},

      {&is_stored_,
       "SELECT event_id, content_hash FROM events WHERE time = ?1 AND request_id = ?2"},
      {&insert_quarantine_,
       "INSERT INTO quarantine (source, position, reason, detail, size, raw, received_at, "
       "record_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING"},
      {&set_position_,
       // A file's furthest line read (a rerun stopped early does not move it back); a Kafka
       // partition's last record stored (a topic created anew moves it back: see KafkaSource).
       "INSERT INTO source_positions (source, position) VALUES (?1, ?2) "
       "ON CONFLICT (source) DO UPDATE SET position = CASE WHEN source LIKE 'kafka:%' THEN "
       "excluded.position ELSE max(position, excluded.position) END"},
      {&get_position_, "SELECT position FROM source_positions WHERE source = ?1"},
      {&find_client_, "SELECT client_key FROM clients WHERE client_id = ?1"},
      {&insert_client_,
       "INSERT INTO clients (client_id, client_name, tenancy, orgnr_parent, orgnr_supplier) "
       "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&name_client_,
       "UPDATE clients SET client_name = ?2 WHERE client_key = ?1 AND coalesce(client_name, "
       "'') = ''"},
      {&add_client_name_,
       "INSERT INTO client_names (client_key, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING"},
      {&find_source_, "SELECT source_key FROM sources WHERE source = ?1"},
      {&insert_source_, "INSERT INTO sources (source) VALUES (?1)"},
  };
  for (const auto& s : kStatements) {
    *s.stmt = Statement(db_, s.sql);
    if (!s.stmt->ok()) return Status::Corruption(LastError() + " (preparing: " + s.sql + ")");
  }
  if (Status s = party_index_.Prepare(db_, path_); !s.ok()) return s;
  return client_index_.Prepare(db_, path_);
}

Status Store::Begin() {
  if (begin_.Run() != SQLITE_DONE) return Status::IOError(LastError());
  if (reload_after_rollback_) {
    if (Status s = LoadMaxTime(); !s.ok()) {
      rollback_.Run();
      return s;
    }
    client_names_seen_.clear();  // those of the rolled-back batches may not be stored
    last_named_key_ = 0;
    if (Status s = LoadUnnamedClients(); !s.ok()) {
      rollback_.Run();
      return s;
    }
    for (PostingIndex* index : {&party_index_, &client_index_}) {
      if (Status s = index->Load(); !s.ok()) {
        rollback_.Run();
        return s;
      }
    }
    reload_after_rollback_ = false;
  }
  // The batch's records go into one block; its id is fixed now so event rows can name it.
  ClearRaw();
  if (next_block_.Step() != SQLITE_ROW) {
    next_block_.Reset();
    return Status::IOError(LastError());
  }
  raw_block_ = next_block_.ColumnInt(0);
  next_block_.Reset();
  return Status::OK();
}

Status Store::Commit() {
  if (Status s = party_index_.WriteDue(); !s.ok()) return s;
  if (Status s = client_index_.WriteDue(); !s.ok()) return s;
  if (Status s = FlushRawBlock(); !s.ok()) return s;
  if (commit_.Run() != SQLITE_DONE) return Status::IOError(LastError());
  checkpointer_->AfterCommit();
  return Status::OK();
}

Status Store::CompleteIndexes() {
  if (party_index_.rows_to_write() == 0 && client_index_.rows_to_write() == 0) {
    return Status::OK();
  }
  if (begin_.Run() != SQLITE_DONE) return Status::IOError(LastError());
  for (PostingIndex* index : {&party_index_, &client_index_}) {
    if (Status s = index->WriteFrozen(); !s.ok()) {
      Rollback();
      return s;
    }
  }
  if (commit_.Run() != SQLITE_DONE) {
    const Status s = Status::IOError(LastError());
    Rollback();
    return s;
  }
  return Status::OK();
}

Status Store::EndRawBlock() {
  if (Status s = FlushRawBlock(); !s.ok()) return s;
  ++raw_block_;  // max(block_id) + 1 inside the transaction: this one is written
  return Status::OK();
}

void Store::Rollback() {
  if (!sqlite3_get_autocommit(db_)) rollback_.Run();
  client_keys_.clear();  // keys handed out inside the rolled-back transaction are gone
  source_keys_.clear();
  // The indexes may hold the rolled-back batch's events: read back before the next batch.
  party_index_.Forget();
  client_index_.Forget();
  reload_after_rollback_ = true;
  ClearRaw();
}

Status Store::Lookup(const AccessEvent& e, uint64_t content_hash, Stored* stored,
                     int64_t* event_id) {
  *stored = Stored::kNo;
  if (e.time > max_time_) return Status::OK();
  is_stored_.Bind(1, e.time).Bind(2, e.request_id);
  const int rc = is_stored_.Step();
  if (rc == SQLITE_ROW) {
    *event_id = is_stored_.ColumnInt(0);
    const bool unknown = sqlite3_column_type(is_stored_.get(), 1) == SQLITE_NULL;
    *stored = unknown || static_cast<uint64_t>(is_stored_.ColumnInt(1)) == content_hash
                  ? Stored::kSame
                  : Stored::kOther;
  }
  is_stored_.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Status::IOError(LastError());
  return Status::OK();
}

namespace {

// {"query":[8142520,8142521],"custody":[8142530]}: each party once, under the first origin
// the decoder or the state gave it.
void PartiesJson(const std::vector<PartyRef>& parties, std::string* out) {
  out->assign("{");
  for (size_t i = 0; i < parties.size(); ++i) {
    const PartySource origin = parties[i].source;
    bool done = false;  // this origin was written with an earlier party
    for (size_t j = 0; j < i && !done; ++j) done = parties[j].source == origin;
    if (done) continue;
    const size_t start = out->size();
    if (start > 1) *out += ',';
    *out += '"';
    *out += PartySourceName(origin);
    *out += "\":[";
    bool first = true;
    for (size_t j = i; j < parties.size(); ++j) {
      const PartyRef& p = parties[j];
      if (p.source != origin) continue;
      bool seen = false;  // under this origin or an earlier one
      for (size_t k = 0; k < j && !seen; ++k) seen = parties[k].her_id == p.her_id;
      if (seen) continue;
      if (!first) *out += ',';
      *out += std::to_string(p.her_id);
      first = false;
    }
    if (first) {
      out->resize(start);  // all its parties came under an earlier origin
    } else {
      *out += ']';
    }
  }
  *out += '}';
}

}  // namespace

Status Store::InsertEvent(const AccessEvent& e, std::string_view raw, uint64_t content_hash,
                          const SourcePosition& where, bool* inserted, int64_t* event_id) {
  int64_t client_key = 0, source_key = 0;
  if (Status s = ClientKey(e.client, &client_key); !s.ok()) return s;
  if (Status s = SourceKey(where.source, &source_key); !s.ok()) return s;
  PartiesJson(e.parties, &parties_json_);
  // The strings bound outlive the statement's run: bound without copies.
  Statement& st = insert_event_;
  st.BindRef(1, e.request_id).Bind(2, e.time).BindRef(3, ApiVersionName(e.api));
  st.BindRef(4, e.method).BindOptRef(5, e.route).BindRef(6, ActionName(e.action));
  st.Bind(7, static_cast<int64_t>(e.status)).Bind(8, client_key);
  st.BindOptRef(9, e.client.orgnr_child);
  if (e.client.her_id_claim) {
    st.BindRef(10, *e.client.her_id_claim);
  } else {
    st.BindNull(10);
  }
  st.BindOptRef(11, e.message_id);
  if (e.duration_ms) {
    st.Bind(12, *e.duration_ms);
  } else {
    st.BindNull(12);
  }
  st.BindRef(13, parties_json_).Bind(14, source_key).Bind(15, where.position);
  if (options_.keep_raw_records) {
    st.Bind(16, raw_block_)
        .Bind(17, static_cast<int64_t>(raw_size_))
        .Bind(18, static_cast<int64_t>(raw.size()));
  } else {
    st.BindNull(16).BindNull(17).BindNull(18);
  }
  st.BindOptRef(19, e.client.orgnr_parent);
  st.Bind(20, static_cast<int64_t>(content_hash));
  st.BindOptRef(21, e.apprec_id);
  if (st.RunRebindingAll() != SQLITE_DONE) return Status::IOError(LastError());
  *inserted = sqlite3_changes(db_) > 0;
  *event_id = *inserted ? sqlite3_last_insert_rowid(db_) : 0;
  if (!*inserted) return Status::OK();
  max_time_ = std::max(max_time_, e.time);
  if (options_.keep_raw_records) {
    // While the records stored are the first ones of a block prepared ahead, their bytes are
    // in that block already; they are copied only from the first record that differs (a
    // caller's record need not outlive the call).
    if (!copying_raw_ && !NextInPrepared(raw)) CopyRaw();
    if (copying_raw_) {
      raw_.append(raw);
      raw_ += '\n';
    }
    raw_size_ += raw.size() + 1;
    inserted_.push_back(raw);  // which record this was, for matching the prepared block
  }
  party_index_.Add(*event_id, e.time, e.parties);
  client_index_.Add(*event_id, e.time, client_key);
  return Status::OK();
}

Status Store::LoadMaxTime() {
  Statement newest(db_, "SELECT coalesce(max(time), 0) FROM events");
  if (!newest.ok() || newest.Step() != SQLITE_ROW) return Status::IOError(LastError());
  max_time_ = newest.ColumnInt(0);
  return Status::OK();
}

Status Store::InsertQuarantine(const QuarantineEntry& q, bool* inserted) {
  const std::string_view raw = q.raw.substr(0, options_.max_quarantine_bytes);
  const int rc = insert_quarantine_.Bind(1, q.where.source)
                     .Bind(2, q.where.position)
                     .Bind(3, q.reason)
                     .Bind(4, q.detail)
                     .Bind(5, static_cast<int64_t>(std::max(q.full_size, q.raw.size())))
                     .BindBlob(6, raw)
                     .Bind(7, q.received_ms)
                     .Bind(8, static_cast<int64_t>(Fnv1a64(q.raw)))
                     .Run();
  if (rc != SQLITE_DONE) return Status::IOError(LastError());
  *inserted = sqlite3_changes(db_) > 0;
  return Status::OK();
}

}  // namespace edi
