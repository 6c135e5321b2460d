#include "ldap_connection.hpp"

#include <algorithm>

namespace studio2fa {

namespace {

constexpr std::size_t k_max_idle_connections = 4;

} // namespace

std::string_view uri_scheme(std::string_view uri)
{
  const auto colon = uri.find("://");
  return colon == std::string_view::npos ? std::string_view{} : uri.substr(0, colon);
}

std::string escape_filter_value(std::string_view value)
{
  berval in{static_cast<ber_len_t>(value.size()), const_cast<char*>(value.data())};
  berval out{0, nullptr};
  if (ldap_bv2escaped_filter_value(&in, &out) != 0 || out.bv_val == nullptr) {
    return {};
  }
  std::string escaped(out.bv_val, out.bv_len);
  ber_memfree(out.bv_val);
  return escaped;
}

std::optional<timeval> time_left(Deadline deadline)
{
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return std::nullopt;
  }
  const auto micros = std::max<std::int64_t>(left.count(), 1000);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(micros / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(micros % 1000000);
  return tv;
}

bool connection_lost(int rc)
{
  return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
         rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

// A handshake that fails is LDAP_CONNECT_ERROR after StartTLS, or on ldaps:// LDAP_SERVER_DOWN
// with a diagnostic (a refused TCP connection leaves none); GnuTLS's diagnostic for a
// certificate that does not verify is only "(unknown error code)", which reads like a server
// that is down: the certificate is named as the likely cause.
std::string LdapConnector::describe_failure(LDAP* ld, int rc, bool fresh) const
{
  std::string message = ldap_err2string(rc);
  char* raw = nullptr;
  ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &raw);
  LdapString detail(raw);
  const bool has_detail = detail && *detail != '\0';
  if (has_detail) {
    message += std::string(" (") + detail.get() + ")";
  }
  if (fresh && (rc == LDAP_CONNECT_ERROR || (rc == LDAP_SERVER_DOWN && has_detail))) {
    message += ": the TLS handshake failed";
    if (m_settings.tls_verify) {
      message += "; most often the server's certificate is not signed by a CA in " +
                 (m_settings.ca_file.empty() ? std::string("the system's CA certificates")
                                             : "ldap_ca_file " + m_settings.ca_file) +
                 ", or does not name the host in the URI";
    }
  }
  return message;
}

Expected<LdapHandle> LdapConnector::connect(Deadline deadline, bool bound)
{
  std::string failures;
  for (const std::string& uri : m_settings.uris) {
    auto connection = connect_to(uri, deadline, bound);
    if (connection) {
      return connection;
    }
    failures += (failures.empty() ? "" : "; ") + uri + ": " + connection.error().message;
    if (!time_left(deadline)) {
      break;
    }
  }
  return make_error(Errc::unavailable,
                    failures.empty() ? std::string("no ldap_uri configured") : failures);
}

Expected<LdapHandle> LdapConnector::connect_to(const std::string& uri, Deadline deadline,
                                               bool bound)
{
  LDAP* raw = nullptr;
  if (int rc = ldap_initialize(&raw, uri.c_str()); rc != LDAP_SUCCESS) {
    return make_error(std::string("bad URI: ") + ldap_err2string(rc));
  }
  LdapHandle ld(raw);
  auto left = time_left(deadline);
  if (!left) {
    return make_error("timed out");
  }
  const int version = LDAP_VERSION3;
  timeval network = *left;
  const auto connect_limit =
      std::chrono::duration_cast<std::chrono::microseconds>(m_settings.connect_timeout);
  if (connect_limit.count() <
      static_cast<std::int64_t>(network.tv_sec) * 1000000 + network.tv_usec) {
    network.tv_sec = static_cast<time_t>(connect_limit.count() / 1000000);
    network.tv_usec = static_cast<suseconds_t>(connect_limit.count() % 1000000);
  }
  const int require_cert = m_settings.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
  const int no = 0;
  bool options_ok =
      ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version) == LDAP_OPT_SUCCESS &&
      ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF) == LDAP_OPT_SUCCESS &&
      ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &network) == LDAP_OPT_SUCCESS &&
      ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &*left) == LDAP_OPT_SUCCESS &&
      ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &require_cert) == LDAP_OPT_SUCCESS;
  if (options_ok && !m_settings.ca_file.empty()) {
    options_ok = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, m_settings.ca_file.c_str()) ==
                 LDAP_OPT_SUCCESS;
  }
  // A TLS context of this handle's own, built from the options above.
  if (options_ok) {
    options_ok = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &no) == LDAP_OPT_SUCCESS;
  }
  if (!options_ok) {
    return make_error("cannot set the connection options (is the CA file readable?)");
  }
  if (m_settings.starttls && uri_scheme(uri) == "ldap") {
    ++m_operations;
    if (int rc = ldap_start_tls_s(ld.get(), nullptr, nullptr); rc != LDAP_SUCCESS) {
      return make_error("StartTLS failed: " + describe_failure(ld.get(), rc, true));
    }
  }
  if (!bound) {
    return ld;
  }
  int rc = LDAP_SUCCESS;
  if (m_settings.sasl_external) {
    // An empty initial response, not an absent one (libldap sends none for a null bv_val):
    // without it slapd answers saslBindInProgress and the bind never completes.
    char nothing[] = "";
    berval empty{0, nothing};
    ++m_operations;
    rc = ldap_sasl_bind_s(ld.get(), nullptr, "EXTERNAL", &empty, nullptr, nullptr, nullptr);
  } else if (!m_settings.bind_dn.empty()) {
    berval credentials{static_cast<ber_len_t>(m_settings.bind_password.size()),
                       const_cast<char*>(m_settings.bind_password.data())};
    ++m_operations;
    rc = ldap_sasl_bind_s(ld.get(), m_settings.bind_dn.c_str(), LDAP_SASL_SIMPLE, &credentials,
                          nullptr, nullptr, nullptr);
  }
  if (rc != LDAP_SUCCESS) {
    return make_error("bind as the service identity failed: " +
                      describe_failure(ld.get(), rc, true));
  }
  return ld;
}

Expected<LdapHandle> LdapConnector::take(Deadline deadline)
{
  {
    std::lock_guard lock(m_pool_mutex);
    if (!m_idle.empty()) {
      LdapHandle ld = std::move(m_idle.back());
      m_idle.pop_back();
      return ld;
    }
  }
  return connect(deadline, true);
}

void LdapConnector::give_back(LdapHandle ld)
{
  std::lock_guard lock(m_pool_mutex);
  if (m_idle.size() < k_max_idle_connections) {
    m_idle.push_back(std::move(ld));
  }
}

void LdapConnector::drop_idle()
{
  std::vector<LdapHandle> idle;
  {
    std::lock_guard lock(m_pool_mutex);
    idle.swap(m_idle);
  }
}

} // namespace studio2fa
