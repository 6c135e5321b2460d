// The embedded SecretStore: one SQLite database file (WAL, synchronous=FULL).
//
// Writes are group-committed: commits that arrive while one is under way wait for it, then
// go to disk together in the next transaction, with one fsync of the WAL. A login's record
// update and its audit event are one commit, so the audit trail costs no extra fsync. Every
// caller still returns only after its own records are durable; under load many logins share one
// fsync. Two connections: the writer, and a reader for load() and load_policy(), so that the
// reads of the next logins go on while a batch waits for its fsync. The file is locked against
// a second daemon for as long as the store is open.
#pragma once

#include "secret_store.hpp"

#include <memory>
#include <mutex>
#include <string>

struct sqlite3;

namespace studio2fa {

class SqliteStore final : public SecretStore {
public:
  // The schema version this build writes; PRAGMA user_version holds the db's.
  static constexpr int k_schema_version = 3;

  // Opens (creating when the file does not exist) and migrates the database. Refuses, with a
  // message naming the file: a file that is not a SQLite database, one that fails
  // PRAGMA quick_check, or one whose schema version is newer than this build. It never
  // re-initialises a database it cannot read. The caller checks file permissions before.
  static Expected<std::unique_ptr<SqliteStore>> open(const std::string& path);

  ~SqliteStore() override;

  Expected<std::optional<UserRecord>> load(std::string_view user) override;
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) override;
  Expected<void> commit(const StoreChanges& changes) override;
  Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query) override;
  Expected<void> remove(std::string_view user) override;
  Expected<std::optional<CachedPolicy>> load_policy(std::string_view user) override;
  Expected<Enforcement> load_enforcement() override;

private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace studio2fa
