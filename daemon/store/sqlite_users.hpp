// The `users` table of SqliteStore: one row per UserRecord, its statements and its row codec.
// A row's revision makes every write conditional (EnrollmentStore::commit_records).
#pragma once

#include "expected.hpp"
#include "sqlite_handles.hpp"
#include "user_record.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

class UsersTable {
public:
  // Prepares the statements: load() runs on either connection, the rest on the writer. Both
  // connections must outlive the table.
  Expected<void> prepare(const Connections& db);

  // Each call below uses one connection's statements: the caller lets one thread at a time use
  // each connection.
  // load() runs on either connection: the writer's page cache is still valid after its own
  // commits, whereas the reader's is dropped after each.
  enum class Side { reader, writer };
  Expected<std::optional<UserRecord>> load(std::string_view user, Side side = Side::reader);
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit);
  // Inserts (revision 0) or replaces (revision R) the record if the row is still as it was read;
  // Errc::conflict otherwise. The caller's transaction makes a batch of writes all or none.
  Expected<void> write(const UserRecord& record);
  Expected<void> remove(std::string_view user);

private:
  Connections m_db;
  Statement m_load; // on the reader
  Statement m_load_on_writer;
  Statement m_list;
  Statement m_insert;
  Statement m_update;
  Statement m_update_same_checks;
  Statement m_remove;
};

} // namespace studio2fa
