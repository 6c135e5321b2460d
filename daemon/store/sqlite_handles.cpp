#include "sqlite_handles.hpp"

#include <limits>

namespace studio2fa {

void Binder::text(std::string_view value)
{
  record(sqlite3_bind_text(m_stmt, ++m_index, value.data(), static_cast<int>(value.size()),
                           SQLITE_STATIC));
}

void Binder::integer(std::int64_t value)
{
  record(sqlite3_bind_int64(m_stmt, ++m_index, value));
}

void Binder::null()
{
  record(sqlite3_bind_null(m_stmt, ++m_index));
}

void Binder::blob(std::span<const std::uint8_t> value)
{
  if (value.empty()) {
    record(sqlite3_bind_null(m_stmt, ++m_index));
  } else {
    record(sqlite3_bind_blob(m_stmt, ++m_index, value.data(), static_cast<int>(value.size()),
                             SQLITE_STATIC));
  }
}

void Binder::record(int rc)
{
  if (m_rc == SQLITE_OK) {
    m_rc = rc;
  }
}

std::vector<std::uint8_t> column_blob(sqlite3_stmt* stmt, int column)
{
  // Blob before bytes, as SQLite documents, so no type conversion intervenes.
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) {
    return {};
  }
  return {data, data + size};
}

std::string column_string(sqlite3_stmt* stmt, int column)
{
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  if (text == nullptr || size <= 0) {
    return {};
  }
  return std::string(text, static_cast<std::size_t>(size));
}

bool fits_u32(std::int64_t value)
{
  return value >= 0 && value <= std::numeric_limits<std::uint32_t>::max();
}

std::string quoted(std::string_view text)
{
  std::string out = "'";
  out.append(text);
  out.push_back('\'');
  return out;
}

Unexpected<Error> db_error(const std::string& path, sqlite3* db, std::string_view what)
{
  std::string message = path + ": " + std::string(what) + ": " + sqlite3_errmsg(db);
  int code = sqlite3_errcode(db) & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    message += " (another process holds it: is another studio2fad running on this database?)";
  }
  return make_error(message);
}

int primary_code(sqlite3* db)
{
  return sqlite3_extended_errcode(db) & 0xff;
}

Expected<void> exec(const std::string& path, sqlite3* db, const char* sql, std::string_view what)
{
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error(path, db, what);
  }
  return {};
}

Expected<Statement> prepare(const std::string& path, sqlite3* db, const char* sql, unsigned flags)
{
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, flags, &raw, nullptr);
  Statement stmt(raw);
  if (rc != SQLITE_OK) {
    return db_error(path, db, "cannot prepare a statement");
  }
  return stmt;
}

Expected<void> prepare_all(const std::string& path, sqlite3* db,
                           std::initializer_list<StatementSlot> statements)
{
  for (const StatementSlot& statement : statements) {
    auto prepared = prepare(path, db, statement.sql, SQLITE_PREPARE_PERSISTENT);
    if (!prepared) {
      return make_error(prepared.error().message);
    }
    *statement.slot = std::move(*prepared);
  }
  return {};
}

Expected<std::int64_t> query_integer(const std::string& path, sqlite3* db, const char* sql)
{
  auto stmt = prepare(path, db, sql);
  if (!stmt) {
    return make_error(stmt.error().message);
  }
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) {
    return db_error(path, db, std::string("cannot run ") + sql);
  }
  return static_cast<std::int64_t>(sqlite3_column_int64(stmt->get(), 0));
}

Expected<bool> step_to_row_of(const std::string& path, sqlite3* db, sqlite3_stmt* stmt,
                              std::string_view user, const std::string& what)
{
  Binder bind(stmt);
  bind.text(user);
  if (!bind.ok()) {
    return db_error(path, db, what);
  }
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    return false;
  }
  if (rc != SQLITE_ROW) {
    return db_error(path, db, what);
  }
  return true;
}

} // namespace studio2fa
