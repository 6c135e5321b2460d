// Who may send a request, and what one peer may do (PROTOCOL.md, "Message types": the table of
// who may send what). Decided from the peer's kernel credentials (SO_PEERCRED) and NSS alone,
// never from anything the client says about itself.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace studio2fa {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// The columns of PROTOCOL.md's permission table, one value a row. "Itself" is the account whose
// passwd entry has the peer's uid; an administrator is root or a member of admin_group.
enum class Senders {
  anyone,              // PING
  self_or_admin,       // STATUS: an administrator about anyone, any other uid about itself
  self,                // root about anyone, any other uid (administrators too) about itself
  admin,               // administrators only
  admin_but_root_only, // administrators, but only root about an account whose uid is 0
};

// Why a request was refused.
enum class Refusal {
  none,
  not_admin,    // an ADMIN_* request from a peer that is not an administrator
  not_self,     // a request about an account that is not the peer's own
  uid0_subject, // a change by a non-root administrator to an account whose uid is 0
};

// The rights of one peer. Each NSS answer it needs is asked once, when first needed.
class PeerRights {
public:
  // `admin_group` empty: nobody but root is an administrator.
  PeerRights(const PeerCredentials& peer, std::string_view admin_group);

  // What the peer alone decides, before the request is read: only administrators send ADMIN_*.
  Refusal may_send(Senders senders);
  // What the request's subject decides (the `user` field; each entry's for ADMIN_IMPORT).
  Refusal may_act_on(Senders senders, std::string_view subject);

  // Root, or a member of admin_group (NSS: the peer's primary and supplementary groups).
  bool is_admin();
  // Root for anyone; others only for the account whose uid they run as.
  bool is_self(std::string_view user) const;
  // An account only root may administer: uid 0, or one whose lookup failed (rather than found no
  // such account), so that a directory outage does not open uid-0 accounts to administrators.
  bool is_root_only(std::string_view user) const;
  // For the audit trail: "root", the peer's account name, or "uid N" when it has none.
  const std::string& name();

  const PeerCredentials& peer() const { return m_peer; }

private:
  const PeerCredentials& m_peer;
  std::string m_admin_group;
  std::optional<bool> m_is_admin;
  std::optional<std::string> m_name;
};

} // namespace studio2fa
