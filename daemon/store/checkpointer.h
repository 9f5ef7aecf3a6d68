// Checkpointer: copies the write-ahead log back into the database file on a thread of its own.
//
// In WAL mode every commit appends the changed pages to the `-wal` file; a checkpoint copies
// them into the database and syncs it. SQLite's automatic checkpoint does this on the writing
// thread inside the commit that crosses its threshold, so the pipeline would stop for the copy
// and the fsync. Instead the writer's connection reports the log size after each commit
// (sqlite3_wal_hook) and this thread, with its own connection, runs PASSIVE checkpoints: they
// never block the writer. Should the log outgrow `hard_limit_frames` because the writer never
// pauses long enough for a checkpoint to finish, the writer completes one itself after its
// commit (the background copies make it short), and the log starts over: the `-wal` file stays
// bounded unless readers hold old pages.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace edi {

struct CheckpointOptions {
  int soft_limit_frames = 4096;   // start a checkpoint when the log has this many pages
  int hard_limit_frames = 65536;  // beyond this the writer completes one itself
};

class Checkpointer {
 public:
  // Opens a second connection to `path` and installs the hook on `writer` (which must not be
  // used by any other hook). The writer's own automatic checkpoints are switched off.
  static Result<std::unique_ptr<Checkpointer>> Start(sqlite3* writer, const std::string& path,
                                                     const CheckpointOptions& options);
  // Stops the thread (a checkpoint in progress finishes first) and removes the hook.
  ~Checkpointer();

  // Called by the writer after a commit: checkpoints on the writer's connection when the log
  // has grown past the hard limit.
  void AfterCommit();

 private:
  Checkpointer(sqlite3* writer, sqlite3* own, const CheckpointOptions& options);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);
  void Run();

  sqlite3* writer_;
  sqlite3* own_;
  CheckpointOptions options_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  int frames_ = 0;  // log size after the writer's last commit
  bool requested_ = false, running_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace edi
