// What the daemon keeps for its own host only: the audit trail, the policy cache (the
// directory's last answers) and the global enforcement switch. Never shared between hosts, even
// when the users' records are (EnrollmentStore): each host's trail says what happened on it, and
// syslog carries it off the host.
#pragma once

#include "expected.hpp"
#include "protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

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
  std::string subject;       // empty: everyone
  std::int64_t since = 0;    // only events at or after this time
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

// Changes to the host-local state that go to disk together, all or none.
struct LocalChanges {
  std::span<const AuditEvent> events;
  std::int64_t prune_audit_before = 0; // when non-zero, audit events older than this go
  std::span<const CachedPolicy> policies = {};
  const Enforcement* enforcement = nullptr; // when set, replaces the stored one

  bool empty() const
  {
    return events.empty() && prune_audit_before == 0 && policies.empty() && enforcement == nullptr;
  }
};

class LocalState {
public:
  virtual ~LocalState() = default;

  // Writes the changes, all or none; returns once they are durable. Audit text fields longer
  // than PROTOCOL.md allows are cut, never refused.
  virtual Expected<void> commit_local(const LocalChanges& changes) = 0;

  // Audit events matching `query`, oldest (lowest id) first.
  virtual Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query) = 0;

  // The policy cache: nullopt when nothing is cached for `user`.
  virtual Expected<std::optional<CachedPolicy>> load_policy(std::string_view user) = 0;

  // The global switch; off (all fields 0) when it was never set.
  virtual Expected<Enforcement> load_enforcement() = 0;
};

} // namespace studio2fa
