// The LDAP directory, as studio2fad needs it: find a user's entry, read the studio2faPolicy
// flags of an entry, find the groups that hold a user or a group, and check a password by a bind
// as the user's own entry. Built on OpenLDAP's libldap.
//
// Every call is bounded by a deadline the caller passes in: a directory that does not answer
// costs a login at most that long, never a hang. Errors are values; "not found" is not an error.
#pragma once

#include "expected.hpp"
#include "ldap_connection.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

struct DirectorySettings {
  LdapConnectionSettings connection;
  std::string user_base;
  std::string user_filter;    // ANDed with (user_attribute=NAME)
  std::string user_attribute; // "uid"
  std::string group_base;
  std::string group_filter;
  std::string member_uid_attribute;             // "memberUid": names
  std::vector<std::string> member_dn_attributes; // "member", "uniqueMember": DNs
  std::string phone_attribute; // "mobile": users' numbers for codes by text; empty: none read
};

// The studio2faPolicy attributes of one entry; empty optionals for absent attributes.
struct PolicyFlags {
  std::optional<bool> required;
  std::optional<bool> exempt;
  std::optional<std::uint32_t> grace_period;
};

struct DirectoryEntry {
  std::string dn;
  PolicyFlags flags;
  // A user entry's phone_attribute, as the directory holds it; nullopt when it has none (or
  // none is configured).
  std::optional<std::string> phone = std::nullopt;
};

class Directory {
public:
  virtual ~Directory() = default;

  // The user's entry; nullopt when the directory has no such user (or more than one).
  virtual Expected<std::optional<DirectoryEntry>> find_user(std::string_view user,
                                                            Deadline deadline) = 0;
  // The flags of the entry at `dn`; nullopt when it does not exist or has no studio2faPolicy.
  virtual Expected<std::optional<PolicyFlags>> read_flags(std::string_view dn,
                                                          Deadline deadline) = 0;
  // The groups (under the group base, matching the group filter) that name `user` in the
  // member-uid attribute or any of `dns` in a member-DN attribute; `user` may be empty.
  virtual Expected<std::vector<DirectoryEntry>> groups_holding(std::string_view user,
                                                               std::span<const std::string> dns,
                                                               Deadline deadline) = 0;

  enum class Bind { ok, wrong, unavailable };
  // A simple bind as `dn` on a connection of its own. The caller has refused an empty password.
  virtual Bind check_password(std::string_view dn, std::string_view password,
                              Deadline deadline) = 0;

  // Operations sent to the directory so far (searches and binds), for the benchmark and logs.
  virtual std::uint64_t operations() const = 0;
};

// The directory over libldap. Keeps a few bound connections for searches and opens a fresh one
// per password check (a bind changes a connection's identity).
std::unique_ptr<Directory> make_ldap_directory(DirectorySettings settings);

// `dn` as a key for telling entries of one server apart: ASCII letters folded to lower case
// (attribute names and the values of DNs in practice, ou and cn, compare without case).
std::string dn_key(std::string_view dn);

// The DNs above `dn`, nearest first, down to and including `base` (compared case-insensitively
// after normalisation); all of them when `base` is empty. Empty when `dn` cannot be parsed.
std::vector<std::string> ancestor_dns(std::string_view dn, std::string_view base);

// True when `uri` would carry a password in clear: ldap:// without StartTLS (ldaps:// and
// ldapi:// are safe). Used to refuse such a config unless ldap_allow_cleartext says otherwise.
bool uri_is_cleartext(std::string_view uri, bool starttls);

} // namespace studio2fa
