// The `audit` table of SqliteStore: the host's audit trail, its statements and its row codec.
#pragma once

#include "expected.hpp"
#include "local_state.hpp"
#include "sqlite_handles.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace studio2fa {

class AuditTable {
public:
  // Prepares the statements on the writer, which must outlive the table.
  Expected<void> prepare(const Connections& db);

  // One thread at a time, inside the writer's transaction for insert() and prune().
  Expected<void> insert(const AuditEvent& event); // text fields cut to PROTOCOL.md's limits
  Expected<void> prune(std::int64_t before);      // events older than `before` go
  Expected<std::vector<AuditRecord>> read(const AuditQuery& query);

private:
  Connections m_db;
  Statement m_insert;
  Statement m_prune;
  Statement m_read;
  Statement m_read_subject;
};

} // namespace studio2fa
