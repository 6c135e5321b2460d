// The store of per-user second-factor state and of the audit trail, behind an interface so that
// a directory-backed store can follow the embedded SQLite one.
//
// Secrets are only ever handed to a store sealed (see Sealer), and backup codes only as keyed
// hashes (see BackupCodeHasher); a store never sees plaintext.
#pragma once

#include "expected.hpp"
#include "protocol.hpp"
#include "totp.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace studio2fa {

// HMAC-SHA256 of one backup code (BackupCodeHasher::hash).
using BackupCodeHash = std::array<std::uint8_t, 32>;

struct UserRecord {
  std::string user;

  // The active second factor; empty when not enrolled.
  std::vector<std::uint8_t> sealed_secret;
  totp::Parameters params;
  std::int64_t enrolled_at = 0;
  std::uint64_t last_step = 0; // last time step accepted (replay guard); 0 = none yet

  // Throttling: consecutive wrong codes (of either kind) and when the last one came.
  std::uint32_t failures = 0;
  std::int64_t last_failure_at = 0;

  // An enrollment waiting for its first code; empty when none. With an active secret too, it is
  // a replacement (a new phone): the active one works until this one is confirmed.
  std::vector<std::uint8_t> pending_secret;
  totp::Parameters pending_params;
  std::int64_t pending_created_at = 0;

  // The unused backup codes, at most protocol::k_backup_codes_per_set.
  std::vector<BackupCodeHash> backup_codes;
  std::uint32_t backup_failures = 0; // consecutive wrong backup codes

  protocol::LockState lock = protocol::LockState::none;
  std::int64_t locked_at = 0;

  // The end of a temporary pass (second factor skipped); 0 when none was ever given.
  std::int64_t pass_until = 0;
  std::int64_t last_login_at = 0;

  // When 2FA is required of a user who is not enrolled: the end of their grace period (set the
  // first time the daemon finds them required). k_enroll_now: no grace at all (a temporary pass
  // ended, or an administrator turned the second factor off). 0: no grace period running.
  std::int64_t grace_until = 0;
  static constexpr std::int64_t k_enroll_now = 1;

  bool enrolled() const { return !sealed_secret.empty(); }
  bool has_pending() const { return !pending_secret.empty(); }
};

// The stored record of `user`, or a new, empty one when there is none.
inline UserRecord record_or_new(std::optional<UserRecord>&& stored, std::string_view user)
{
  if (stored) {
    return std::move(*stored);
  }
  UserRecord record;
  record.user = std::string(user);
  return record;
}

// One line of the audit trail. Never a password, a code or a secret.
struct AuditEvent {
  std::int64_t at = 0;
  std::uint32_t actor_uid = 0; // the peer's uid
  std::string actor;           // the peer's account name
  std::string action;          // "login", "enroll-confirm", "admin-pass", ...
  std::string subject;         // the account acted on
  std::string service;
  std::string rhost;
  std::string tty;
  std::string outcome; // "success", "denied", "locked", ...
  std::string detail;  // why, for people
};

struct AuditRecord {
  std::int64_t id = 0; // increasing
  AuditEvent event;
};

struct AuditQuery {
  std::string subject;      // empty: everyone
  std::int64_t since = 0;   // only events at or after this time
  std::int64_t after_id = 0; // only events with a greater id
  std::size_t limit = 64;
};

// The directory's answer about one user, kept as the last known one (the policy cache).
struct CachedPolicy {
  std::string user;
  bool in_directory = false;
  std::string dn; // the user's own entry, when in the directory
  protocol::PolicyDecision decision = protocol::PolicyDecision::optional;
  std::string reason;
  std::optional<std::uint32_t> grace_period; // studio2faGracePeriod of the entry that decided
  std::int64_t fetched_at = 0;
};

// The global switch (studio2fa-admin enforce).
struct Enforcement {
  bool on = false;
  std::uint32_t grace = 0; // seconds; 0: the configured grace_period
  std::int64_t since = 0;
  std::string by;
};

// Changes that go to disk together: all of them, in one transaction, or none.
struct StoreChanges {
  std::span<const UserRecord> records; // inserted or replaced whole
  std::span<const AuditEvent> events;
  std::int64_t prune_audit_before = 0; // when non-zero, audit events older than this go
  std::span<const CachedPolicy> policies = {};
  const Enforcement* enforcement = nullptr; // when set, replaces the stored one
};

class SecretStore {
public:
  virtual ~SecretStore() = default;

  // nullopt when the store has no record for `user`.
  virtual Expected<std::optional<UserRecord>> load(std::string_view user) = 0;

  // Up to `limit` records of users whose names sort after `after` (bytewise), in that order.
  virtual Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) = 0;

  // Writes the changes, all or none. Returns only once they are durable (they survive a crash of
  // the daemon and of the machine): callers reply to clients after this. Audit text fields
  // longer than PROTOCOL.md allows are cut, never refused.
  virtual Expected<void> commit(const StoreChanges& changes) = 0;

  // Audit events matching `query`, oldest (lowest id) first.
  virtual Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query) = 0;

  virtual Expected<void> remove(std::string_view user) = 0;

  // The policy cache: nullopt when nothing is cached for `user`.
  virtual Expected<std::optional<CachedPolicy>> load_policy(std::string_view user) = 0;
  // The global switch; off (all fields 0) when it was never set.
  virtual Expected<Enforcement> load_enforcement() = 0;

  // commit() of one record, or of many (for bulk changes: one transaction).
  Expected<void> save(const UserRecord& record) { return commit({{&record, 1}, {}, 0}); }
  Expected<void> save_all(std::span<const UserRecord> records) { return commit({records, {}, 0}); }
};

} // namespace studio2fa
