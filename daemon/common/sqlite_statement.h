// Statement: a prepared SQLite statement, finalized on destruction, with chainable binds.
// Used by one thread at a time, like the connection it was prepared on.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

namespace edi {

// A prepared statement, finalized on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, std::string_view v);
  Statement& BindBlob(int i, std::string_view v);
  Statement& BindNull(int i);
  Statement& BindOpt(int i, std::string_view v);  // NULL when empty
  // As Bind, BindBlob and BindOpt without copying: the bytes must stay valid and unchanged
  // until the statement is reset (Run resets it).
  Statement& BindRef(int i, std::string_view v);
  Statement& BindBlobRef(int i, std::string_view v);
  Statement& BindOptRef(int i, std::string_view v);
  // Runs to completion (ignoring rows). Resets the statement afterwards.
  int Run();
  // As Run, but the bindings stay: for a statement whose every parameter is bound anew before
  // each run (clearing them costs a call per parameter on a hot path). Bytes bound by reference
  // are then dangling until bound again; a run without binding them first would read them.
  int RunRebindingAll();
  // Steps once: SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset();
  int64_t ColumnInt(int i) { return sqlite3_column_int64(stmt_, i); }
  std::string_view ColumnText(int i);
  std::string_view ColumnBlob(int i);
  bool ColumnIsNull(int i) { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace edi
