// The `policy_cache` and `enforcement` tables of SqliteStore: the directory's last answer per
// user and the global switch, their statements and their row codecs.
#pragma once

#include "expected.hpp"
#include "local_state.hpp"
#include "sqlite_handles.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace studio2fa {

class PolicyCacheTable {
public:
  // Prepares the statements: load() runs on the reader, save() on the writer. Both connections
  // must outlive the table.
  Expected<void> prepare(const Connections& db);

  // One thread at a time per connection; save() inside the writer's transaction.
  Expected<std::optional<CachedPolicy>> load(std::string_view user);
  Expected<void> save(const CachedPolicy& policy); // an unknown decision is refused

private:
  Connections m_db;
  Statement m_load; // on the reader
  Statement m_save;
};

class EnforcementTable {
public:
  // Prepares the statements on the writer, which must outlive the table.
  Expected<void> prepare(const Connections& db);

  // One thread at a time; save() inside the writer's transaction.
  Expected<Enforcement> load(); // off (all fields 0) when never set
  Expected<void> save(const Enforcement& enforcement);

private:
  Connections m_db;
  Statement m_load;
  Statement m_save;
};

} // namespace studio2fa
