// What studio2fa-admin health shows of the store a daemon serves (ADMIN_HEALTH, PROTOCOL.md):
// for store = directory, whether the servers answer now, how conditional writes are expressed
// and how old this host's copies of the records are.
#pragma once

#include <cstdint>
#include <string>

namespace studio2fa {

// How a directory store expresses conditional writes (LdapEnrollmentStore).
enum class CasForm { unknown, assertion, delete_add };
const char* cas_form_name(CasForm form);

// One directory server as a probe found it.
struct ServerHealth {
  std::string uri; // the server that answered, else the first configured
  bool answers = false;
  std::string problem; // why it did not answer
};

struct StoreHealth {
  bool directory = false; // store = directory; nothing below is set otherwise
  ServerHealth write;     // ldap_write_uri
  CasForm cas_form = CasForm::unknown;
  ServerHealth read;           // ldap_uri
  bool offline_cached = false; // offline_logins = cached
  std::int64_t offline_cache_age = 0;
  // This host's copies: the users whose record this daemon read or wrote in the directory since
  // it started, and the latest and earliest of those users' last such read or write (Unix time).
  std::uint32_t cached_users = 0;
  std::int64_t newest_at = 0;
  std::int64_t oldest_at = 0;
};

} // namespace studio2fa
