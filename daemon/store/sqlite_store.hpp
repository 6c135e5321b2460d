// The embedded Store: one SQLite database file (WAL, synchronous=FULL) holds the users' records
// and this host's own state, so a commit of both is one transaction.
//
// Writes are group-committed (GroupCommit): commits that arrive while one is under way go to
// disk together in the next transaction, with one fsync of the WAL. A login's record update and
// its audit event are one commit, so the audit trail costs no extra fsync. Two connections: the
// writer, and a reader for load() and load_policy(), so that the reads of the next logins go on
// while a batch waits for its fsync. The file is locked against a second daemon for as long as
// the store is open; within the one daemon, revisions still make every record write conditional.
#pragma once

#include "sqlite_schema.hpp"
#include "store.hpp"

#include <memory>
#include <string>

namespace studio2fa {

class SqliteStore final : public Store {
public:
  // The schema version this build writes; PRAGMA user_version holds the db's.
  static constexpr int k_schema_version = studio2fa::k_schema_version;

  // Opens (creating when the file does not exist) and migrates the database. Refuses, with a
  // message naming the file: a file that is not a SQLite database, one that fails
  // PRAGMA quick_check, or one whose schema version is newer than this build. It never
  // re-initialises a database it cannot read. The caller checks file permissions before.
  static Expected<std::unique_ptr<SqliteStore>> open(const std::string& path);

  ~SqliteStore() override;

  // EnrollmentStore
  Expected<std::optional<UserRecord>> load(std::string_view user) override;
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) override;
  Expected<void> commit_records(std::span<const UserRecord> records) override;
  Expected<void> remove(std::string_view user) override;

  // LocalState
  Expected<void> commit_local(const LocalChanges& changes) override;
  Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query) override;
  Expected<std::optional<CachedPolicy>> load_policy(std::string_view user) override;
  Expected<Enforcement> load_enforcement() override;

  // Store: both parts in one transaction.
  Expected<void> commit(const StoreChanges& changes) override;

private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace studio2fa
