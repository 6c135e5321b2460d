// Who must use 2FA: the PolicyResolver reads the studio2faPolicy flags of the directory (the
// user's own entry, its ancestor containers, its groups, nested), applies the precedence rules of
// studio2fad.conf(5), keeps the answer in the SQLite policy cache as the last known one, and
// adds the local rules (require_groups) and the global switch (studio2fa-admin enforce).
//
// Only users who are not enrolled need the decision at login; an enrolled user's code is asked
// whatever it says.
#pragma once

#include "clock.hpp"
#include "directory.hpp"
#include "local_state.hpp"
#include "protocol.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

struct PolicySettings {
  std::string base;                       // ancestors are read up to this entry (ldap_base)
  std::chrono::milliseconds timeout{5000}; // one decision, all its queries (ldap_timeout)
  unsigned cache_ttl = 300;               // seconds an answer is used without asking again
  unsigned retry_after = 30;              // after a failure, seconds before asking again
  unsigned nesting_depth = 8;             // levels of groups in groups followed
  unsigned grace_period = 86400;          // default seconds a newly required user has
  std::vector<std::string> require_groups; // local groups whose members must use 2FA
  std::vector<std::string> exempt_groups;  // "!group" entries of require_groups
  bool phone_from_directory = false;       // directory users' numbers are phone_attribute's
};

// A directory user's number for codes by text (phone_attribute).
struct DirectoryPhone {
  bool managed = false; // the directory decides this user's number (they may not set one)
  std::string number;   // E.164; empty: the entry has none (or an unreadable one)
};

struct PolicyAnswer {
  protocol::PolicyDecision decision = protocol::PolicyDecision::unknown;
  protocol::PolicySource source = protocol::PolicySource::none;
  std::string reason; // what decided, for people (a DN or a setting)
  std::string dn;     // the user's own entry
  bool in_directory = false;
  std::uint32_t grace_period = 0; // what a user newly required gets
  std::int64_t fetched_at = 0;

  bool required() const { return decision == protocol::PolicyDecision::required; }
  bool known() const { return decision != protocol::PolicyDecision::unknown; }
};

// Where a user's password is checked.
struct PasswordSource {
  enum class Kind { local, directory, unknown } kind = Kind::local;
  std::string dn;
};

class PolicyResolver {
public:
  // `directory` may be null: no directory configured, every user is local.
  PolicyResolver(LocalState& store, Directory* directory, const Clock& clock,
                 PolicySettings settings);

  // Loads the global switch from the store; call once before serving.
  Expected<void> load();

  PolicyAnswer decide(std::string_view user);

  // The user's entry for a password check: the cache when fresh, else the directory. Root is
  // never looked up (a directory entry named root must not take over the local account).
  PasswordSource password_source(std::string_view user);

  // The number the directory holds for `user`, read now (it is the administrators' to change,
  // so a change shows at the next login). Not managed: no phone_attribute, no directory, root,
  // or a user the directory does not have. An error when the directory cannot be reached.
  Expected<DirectoryPhone> directory_phone(std::string_view user);
  bool phone_from_directory() const { return m_settings.phone_from_directory; }

  Enforcement enforcement() const;
  // Stores the new switch with its audit event, then uses it.
  Expected<void> set_enforcement(const Enforcement& enforcement, const AuditEvent& event);

  std::uint32_t default_grace_period() const { return m_settings.grace_period; }

  // After the directory failed to answer, it is left alone for ldap_retry_interval: answers
  // come from the cache, and password checks against it fail at once, so that an outage costs
  // one request the timeout rather than every request (and no request more than one timeout).
  bool directory_resting() const;
  void directory_failed(std::string_view what);

private:
  struct Resolved {
    protocol::PolicyDecision decision = protocol::PolicyDecision::optional; // before enforcement
    std::string reason;
    std::optional<std::uint32_t> grace_period;
  };
  // The directory's own answer (no cache, no global switch); error when it cannot be reached.
  Expected<CachedPolicy> ask_directory(std::string_view user, Deadline deadline);
  Resolved resolve_entries(const DirectoryEntry& user, const std::vector<DirectoryEntry>& ancestors,
                           const std::vector<DirectoryEntry>& groups) const;
  // The cached answer (fresh or not), refreshed from the directory when older than the TTL.
  // Sets `source`; nullopt when there is no answer at all.
  std::optional<CachedPolicy> lookup(std::string_view user, protocol::PolicySource& source);
  PolicyAnswer finish(const CachedPolicy& cached, protocol::PolicySource source) const;
  PolicyAnswer local_answer(std::string_view user, protocol::PolicySource source) const;
  // The flags of a container above users (an OU, the base): many users share each, so they are
  // kept in memory for policy_cache_ttl rather than read again for every user.
  Expected<std::optional<PolicyFlags>> container_flags(const std::string& dn, Deadline deadline);

  LocalState& m_store;
  Directory* m_directory;
  const Clock& m_clock;
  PolicySettings m_settings;
  mutable std::mutex m_enforcement_mutex;
  Enforcement m_enforcement;
  std::atomic<std::int64_t> m_down_until{0};
  struct KnownContainer {
    std::optional<PolicyFlags> flags;
    std::int64_t fetched_at = 0;
  };
  std::mutex m_containers_mutex;
  std::map<std::string, KnownContainer> m_containers; // by lower-cased DN
};

// The text for `reason` fields: "group cn=render-admins,ou=groups,dc=studio,dc=example".
std::string describe_source(std::string_view kind, std::string_view dn);

} // namespace studio2fa
