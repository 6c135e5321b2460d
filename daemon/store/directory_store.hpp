// The Store of store = directory: the users' records in the directory (LdapEnrollmentStore),
// shared by every host; this host's own state (audit trail, policy cache, enforcement) in its
// SQLite database (SqliteStore), which also keeps a copy of each record this host last read or
// wrote: its cache.
//
// commit() writes the records to the directory first (the conditional write decides), then the
// local part together with the cache copies, in one SQLite transaction.
//
// When the directory cannot be reached (Errc::unavailable), offline_logins says what happens
// (the write server alone not answering, while a replica still does, counts as unreachable:
// nothing read from the replica could be written):
//  - deny: the error goes to the caller, and a login that needs a record fails closed.
//  - cached: load() answers from the cache if this daemon read or wrote that record in the
//    directory within offline_cache_age; a commit of it may then only record a TOTP code (a
//    raised last step, the login time, the failure counters and the lock they set) and goes to
//    the cache alone, conditional on the cache's row, so a code is never accepted twice on this
//    host. Backup codes, enrollments and administrative changes are refused (Errc::unavailable).
//    Once the directory answers again, the next load() of such a user pushes the local last step
//    to the directory with the same conditional write; if the directory is already at or past
//    it (the code may have been used on another host meanwhile), that goes to the audit trail
//    and to syslog at warning.
#pragma once

#include "ldap_enrollment_store.hpp"
#include "sqlite_store.hpp"
#include "store.hpp"

#include <chrono>
#include <memory>
#include <optional>

namespace studio2fa {

struct OfflineSettings {
  bool cached = false;             // offline_logins = cached
  std::chrono::seconds max_age{0}; // offline_cache_age
};

// How this host's copies of what the directory accepted are committed to its cache (cache_sync):
// Durability::copy (normal) or Durability::synced (full). Writes accepted offline are always
// synced: the cache is then their only record.
struct CacheSettings {
  Durability copies = Durability::copy;
};

class DirectoryStore final : public Store {
public:
  DirectoryStore(std::unique_ptr<LdapEnrollmentStore> records, std::unique_ptr<SqliteStore> local,
                 OfflineSettings offline, CacheSettings cache = {});
  ~DirectoryStore() override;

  // EnrollmentStore
  Expected<std::optional<UserRecord>> load(std::string_view user) override;
  // The directory store's copy of the record (LdapEnrollmentStore::copy_of) while the directory
  // answers and the user has nothing accepted offline to push; otherwise load().
  Expected<Loaded> load_for_commit(std::string_view user) override;
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) override;
  Expected<void> commit_records(std::span<const UserRecord> records) override;
  Expected<void> remove(std::string_view user) override;

  // LocalState: this host's database.
  Expected<void> commit_local(const LocalChanges& changes) override;
  Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query) override;
  Expected<std::optional<CachedPolicy>> load_policy(std::string_view user) override;
  Expected<Enforcement> load_enforcement() override;

  Expected<void> commit(const StoreChanges& changes) override;
  // Probes both servers now (each bounded by the directory store's timeout).
  StoreHealth health() override;

  LdapEnrollmentStore& records() { return *m_records; }

private:
  // With offline_logins = cached, after a write could not reach the write server: asks it
  // again; the error while it still does not answer.
  std::optional<Error> write_server_down();
  // The cache path of load(): this host's copy of `user`'s record, if read or written in the
  // directory within offline_cache_age. `unreachable` names what could not be reached (for the
  // log), `why` is its error.
  Expected<std::optional<UserRecord>> from_cache(std::string_view user, const char* unreachable,
                                                 const Error& why);
  // After the directory answered again for a user with a last step accepted offline: pushes it
  // (updating `directory` to what was written) or reports the conflict.
  void reconcile(std::string_view user, std::optional<UserRecord>& directory);

  struct Impl;
  std::unique_ptr<LdapEnrollmentStore> m_records;
  std::unique_ptr<SqliteStore> m_local;
  std::unique_ptr<Impl> m_impl;
};

} // namespace studio2fa
