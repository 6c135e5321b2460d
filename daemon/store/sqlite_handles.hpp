// Owners for SQLite's C handles, and the few calls every part of SqliteStore makes through them:
// errors that name the database file, statements prepared once and readied after each use,
// parameters bound in order, columns read back.
#pragma once

#include "expected.hpp"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// The database a table's statements run on: its path (for messages) and the store's two
// connections, the writer (every write) and the reader (the login path's reads).
struct Connections {
  std::string path;
  sqlite3* writer = nullptr;
  sqlite3* reader = nullptr;
};

// Readies a cached statement for its next use when this use ends, however it ends; clearing
// the bindings also drops the pointers to the caller's buffers.
class StatementUse {
public:
  explicit StatementUse(sqlite3_stmt* stmt) : m_stmt(stmt) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  ~StatementUse()
  {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }

private:
  sqlite3_stmt* m_stmt;
};

// Binds parameters ?1, ?2, ... in order, remembering the first failure. Text and blobs are bound
// without a copy: they must outlive the statement's use.
class Binder {
public:
  explicit Binder(sqlite3_stmt* stmt) : m_stmt(stmt) {}

  void text(std::string_view value);
  void integer(std::int64_t value);
  void null();
  // An empty blob is stored as NULL.
  void blob(std::span<const std::uint8_t> value);
  bool ok() const { return m_rc == SQLITE_OK; }

private:
  void record(int rc);

  sqlite3_stmt* m_stmt;
  int m_index = 0;
  int m_rc = SQLITE_OK;
};

// The column's bytes; empty for NULL.
std::vector<std::uint8_t> column_blob(sqlite3_stmt* stmt, int column);
std::string column_string(sqlite3_stmt* stmt, int column);

bool fits_u32(std::int64_t value);

// `text` in single quotes, for messages.
std::string quoted(std::string_view text);

// "<path>: <what>: <SQLite's message>", with a hint when another process holds the database.
Unexpected<Error> db_error(const std::string& path, sqlite3* db, std::string_view what);

// SQLite's primary result code of the last call on `db` (SQLITE_BUSY, SQLITE_CORRUPT, ...).
int primary_code(sqlite3* db);

Expected<void> exec(const std::string& path, sqlite3* db, const char* sql, std::string_view what);

Expected<Statement> prepare(const std::string& path, sqlite3* db, const char* sql,
                            unsigned flags = 0);

// Prepares each (slot, sql) pair on `db` for many uses (SQLITE_PREPARE_PERSISTENT).
struct StatementSlot {
  Statement* slot;
  const char* sql;
};
Expected<void> prepare_all(const std::string& path, sqlite3* db,
                           std::initializer_list<StatementSlot> statements);

// Runs a query that yields one integer (a PRAGMA or a count).
Expected<std::int64_t> query_integer(const std::string& path, sqlite3* db, const char* sql);

// Runs a lookup whose one parameter is a user name: true when it stands on that user's row,
// false when there is none. `what` names the lookup in an error.
Expected<bool> step_to_row_of(const std::string& path, sqlite3* db, sqlite3_stmt* stmt,
                              std::string_view user, const std::string& what);

} // namespace studio2fa
