#include "store/checkpointer.h"

namespace edi {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(sqlite3* writer, const std::string& path,
                                                          const CheckpointOptions& options) {
  sqlite3* own = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": cannot open a checkpoint connection: " +
                      (own != nullptr ? sqlite3_errmsg(own) : sqlite3_errstr(rc));
    sqlite3_close(own);
    return Status::IOError(msg);
  }
  sqlite3_busy_timeout(own, 5000);
  // A connection finds the database in WAL mode when it first reads it; until then it would
  // not checkpoint at all.
  char* err = nullptr;
  if (sqlite3_exec(own, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &err) !=
      SQLITE_OK) {
    std::string msg = path + ": checkpoint connection: " + (err ? err : "cannot read");
    sqlite3_free(err);
    sqlite3_close(own);
    return Status::IOError(msg);
  }
  std::unique_ptr<Checkpointer> c(new Checkpointer(writer, own, options));
  sqlite3_wal_hook(writer, &Checkpointer::OnCommit, c.get());
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  return c;
}

Checkpointer::Checkpointer(sqlite3* writer, sqlite3* own, const CheckpointOptions& options)
    : writer_(writer), own_(own), options_(options) {}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  sqlite3_close(own_);
}

int Checkpointer::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* c = static_cast<Checkpointer*>(self);
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    c->frames_ = frames;
    if (frames >= c->options_.soft_limit_frames && !c->requested_) {
      c->requested_ = true;
      wake = true;
    }
  }
  if (wake) c->wake_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::AfterCommit() {
  std::unique_lock<std::mutex> lock(mu_);
  if (frames_ < options_.hard_limit_frames) return;
  // The writer lets a background copy in progress finish, then copies the rest itself while no
  // other checkpoint runs, so its next transaction finds the log fully copied and starts it
  // over. A reader still using old pages leaves the copy incomplete and the log keeps growing;
  // the next commit tries again, as SQLite's own automatic checkpoint would.
  done_.wait(lock, [&] { return !running_ || stop_; });
  requested_ = false;
  int log = 0, copied = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  if (rc == SQLITE_OK && log >= 0 && copied == log) frames_ = 0;
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    running_ = true;
    lock.unlock();
    // Busy (a reader on old pages) or not: the next request tries again.
    sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    running_ = false;
    done_.notify_all();
  }
}

}  // namespace edi
