// Connections to the directory over OpenLDAP's libldap, shared by everything that talks to it
// (the policy lookups of Directory, the records of LdapEnrollmentStore): owned handles, the
// connection options (TLS, timeouts), the service identity's bind, a small pool of bound
// connections, and libldap's words for a failure.
//
// Every call is bounded by a deadline the caller passes in.
#pragma once

#include "expected.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ldap.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

using Deadline = std::chrono::steady_clock::time_point;

struct LdapCloser {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using LdapHandle = std::unique_ptr<LDAP, LdapCloser>;

struct LdapMessageFreer {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
using LdapMessagePtr = std::unique_ptr<LDAPMessage, LdapMessageFreer>;

struct LdapValuesFreer {
  void operator()(berval** values) const { ldap_value_free_len(values); }
};
using LdapValues = std::unique_ptr<berval*, LdapValuesFreer>;

struct LdapStringFreer {
  void operator()(char* text) const { ldap_memfree(text); }
};
using LdapString = std::unique_ptr<char, LdapStringFreer>;

// How to reach the directory and who to be there.
struct LdapConnectionSettings {
  std::vector<std::string> uris; // tried in order (failover)
  std::string bind_dn;           // empty: no simple bind
  std::string bind_password;     // read from ldap_bind_password_file
  bool sasl_external = false;
  bool starttls = false;
  std::string ca_file;
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{2000};
};

// RFC 4515 escaping of a filter assertion value, by libldap; empty when libldap fails.
std::string escape_filter_value(std::string_view value);

// Time left before `deadline`, at least 1 ms (libldap takes a zero timeval as "no limit" in
// some calls), or nullopt when it has passed.
std::optional<timeval> time_left(Deadline deadline);

// The scheme of `uri` as written ("ldap", "ldaps", "ldapi"); empty when it has none.
std::string_view uri_scheme(std::string_view uri);

// Results after which the connection cannot be trusted to work again.
bool connection_lost(int rc);

class LdapConnector {
public:
  explicit LdapConnector(LdapConnectionSettings settings) : m_settings(std::move(settings)) {}
  LdapConnector(const LdapConnector&) = delete;
  LdapConnector& operator=(const LdapConnector&) = delete;

  const LdapConnectionSettings& settings() const { return m_settings; }

  // A connection to the first URI that answers, with TLS as configured and, when `bound`, the
  // service identity. Failures of each URI are collected into the error (Errc::unavailable).
  Expected<LdapHandle> connect(Deadline deadline, bool bound);

  // A bound connection: an idle one from the pool, or a new one.
  Expected<LdapHandle> take(Deadline deadline);
  // Returns a connection that worked to the pool (which keeps a few).
  void give_back(LdapHandle ld);
  // Forgets the idle connections: after one of them turned out dead, the others, opened to the
  // same server before it went away, are as dead.
  void drop_idle();

  // Runs `op(ld, timeout)` (one operation; it returns libldap's result code) on a pooled bound
  // connection, and gives the connection back unless the result says it is dead. A pooled
  // connection that turns out dead (the server restarted) is replaced once by a new one: another
  // pooled one would be as dead, and the call would fail although the server is back. The
  // result code of `op`, or Errc::unavailable when the directory cannot be reached in time.
  template <typename Op> Expected<int> run(Deadline deadline, Op&& op)
  {
    for (int attempt = 0;; ++attempt) {
      auto connection = attempt == 0 ? take(deadline) : connect(deadline, true);
      if (!connection) {
        return Unexpected<Error>{connection.error()};
      }
      auto left = time_left(deadline);
      if (!left) {
        return make_error(Errc::unavailable, "the directory did not answer in time");
      }
      // The synchronous calls without a timeout argument (modify, add, delete) use this one.
      ldap_set_option(connection->get(), LDAP_OPT_TIMEOUT, &*left);
      count_operation();
      const int rc = op(connection->get(), &*left);
      if (!connection_lost(rc)) {
        give_back(std::move(*connection));
        return rc;
      }
      if (rc != LDAP_TIMEOUT && attempt == 0) {
        drop_idle();
        continue;
      }
      return make_error(Errc::unavailable, describe_failure(connection->get(), rc, false));
    }
  }

  // libldap's words for a failed call on `ld`, with its diagnostic message. `fresh`: the call
  // was the first on a new connection, so it may have done the TLS handshake; a handshake
  // failure is named as such, with the likely cause.
  std::string describe_failure(LDAP* ld, int rc, bool fresh) const;

  // Counts one operation sent to the directory (for the benchmark and logs).
  void count_operation() { ++m_operations; }
  std::uint64_t operations() const { return m_operations.load(); }

private:
  Expected<LdapHandle> connect_to(const std::string& uri, Deadline deadline, bool bound);

  LdapConnectionSettings m_settings;
  std::mutex m_pool_mutex;
  std::vector<LdapHandle> m_idle;
  std::atomic<std::uint64_t> m_operations{0};
};

} // namespace studio2fa
