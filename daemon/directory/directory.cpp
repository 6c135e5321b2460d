#include "directory.hpp"

#include "log.hpp"

#include <ldap.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace studio2fa {

namespace {

constexpr const char* k_attr_required = "studio2faRequired";
constexpr const char* k_attr_exempt = "studio2faExempt";
constexpr const char* k_attr_grace = "studio2faGracePeriod";
constexpr std::size_t k_max_idle_connections = 4;
// DNs per group query: a filter with hundreds of terms is slow on some servers.
constexpr std::size_t k_dns_per_query = 64;

struct LdapCloser {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using LdapHandle = std::unique_ptr<LDAP, LdapCloser>;

struct MessageFreer {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
using Message = std::unique_ptr<LDAPMessage, MessageFreer>;

struct ValuesFreer {
  void operator()(berval** values) const { ldap_value_free_len(values); }
};
using Values = std::unique_ptr<berval*, ValuesFreer>;

struct LdapStringFreer {
  void operator()(char* text) const { ldap_memfree(text); }
};
using LdapString = std::unique_ptr<char, LdapStringFreer>;

struct DnFreer {
  void operator()(LDAPRDN* dn) const { ldap_dnfree(dn); }
};
using ParsedDn = std::unique_ptr<LDAPRDN, DnFreer>;

std::string lower(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Time left before `deadline`, at least 1 ms (libldap takes a zero timeval as "no limit" in
// some calls), or nullopt when it has passed.
std::optional<timeval> time_left(Deadline deadline)
{
  const auto left =
      std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return std::nullopt;
  }
  const auto micros = std::max<std::int64_t>(left.count(), 1000);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(micros / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(micros % 1000000);
  return tv;
}

// RFC 4515 escaping of a filter assertion value, by libldap.
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

std::optional<bool> parse_boolean(const berval& value)
{
  const std::string_view text(value.bv_val, value.bv_len);
  if (text == "TRUE") {
    return true;
  }
  if (text == "FALSE") {
    return false;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> parse_seconds(const berval& value)
{
  const std::string_view text(value.bv_val, value.bv_len);
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  std::uint64_t number = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    number = number * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (number > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(number);
}

// The first value of `attribute` in `entry`, parsed; nullopt when absent or malformed (a
// malformed value is logged: the schema makes it impossible in a directory that loaded it).
template <typename T, typename Parse>
std::optional<T> first_value(LDAP* ld, LDAPMessage* entry, const char* attribute, Parse parse,
                             std::string_view dn)
{
  Values values(ldap_get_values_len(ld, entry, attribute));
  if (!values || values.get()[0] == nullptr) {
    return std::nullopt;
  }
  auto parsed = parse(*values.get()[0]);
  if (!parsed) {
    log::warning("directory: ignoring the malformed %s of %s", attribute,
                 log::sanitize(dn).c_str());
  }
  return parsed;
}

DirectoryEntry read_entry(LDAP* ld, LDAPMessage* entry)
{
  DirectoryEntry out;
  if (LdapString dn(ldap_get_dn(ld, entry)); dn) {
    out.dn = dn.get();
  }
  out.flags.required = first_value<bool>(ld, entry, k_attr_required, parse_boolean, out.dn);
  out.flags.exempt = first_value<bool>(ld, entry, k_attr_exempt, parse_boolean, out.dn);
  out.flags.grace_period =
      first_value<std::uint32_t>(ld, entry, k_attr_grace, parse_seconds, out.dn);
  return out;
}

std::string_view scheme_of(std::string_view uri)
{
  const auto colon = uri.find("://");
  return colon == std::string_view::npos ? std::string_view{} : uri.substr(0, colon);
}

// Results after which the connection cannot be trusted to work again.
bool connection_lost(int rc)
{
  return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
         rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

class LdapDirectory final : public Directory {
public:
  explicit LdapDirectory(DirectorySettings settings) : m_settings(std::move(settings)) {}

  Expected<std::optional<DirectoryEntry>> find_user(std::string_view user,
                                                    Deadline deadline) override
  {
    const std::string filter = "(&" + m_settings.user_filter + "(" + m_settings.user_attribute +
                               "=" + escape_filter_value(user) + "))";
    std::vector<DirectoryEntry> found;
    if (auto done = search(m_settings.user_base, LDAP_SCOPE_SUBTREE, filter, 2, deadline, found);
        !done) {
      return Unexpected<Error>{done.error()};
    }
    if (found.size() > 1) {
      log::warning("directory: more than one entry matches user %s; treating it as unknown",
                   log::sanitize(user).c_str());
      return std::optional<DirectoryEntry>{};
    }
    if (found.empty()) {
      return std::optional<DirectoryEntry>{};
    }
    return std::optional<DirectoryEntry>{std::move(found.front())};
  }

  Expected<std::optional<PolicyFlags>> read_flags(std::string_view dn, Deadline deadline) override
  {
    std::vector<DirectoryEntry> found;
    if (auto done = search(std::string(dn), LDAP_SCOPE_BASE, "(objectClass=studio2faPolicy)", 1,
                           deadline, found);
        !done) {
      return Unexpected<Error>{done.error()};
    }
    if (found.empty()) {
      return std::optional<PolicyFlags>{};
    }
    return std::optional<PolicyFlags>{found.front().flags};
  }

  Expected<std::vector<DirectoryEntry>> groups_holding(std::string_view user,
                                                       std::span<const std::string> dns,
                                                       Deadline deadline) override
  {
    std::vector<DirectoryEntry> groups;
    std::size_t next = 0;
    do {
      std::string terms;
      if (next == 0 && !user.empty() && !m_settings.member_uid_attribute.empty()) {
        terms += "(" + m_settings.member_uid_attribute + "=" + escape_filter_value(user) + ")";
      }
      const std::size_t end = std::min(dns.size(), next + k_dns_per_query);
      for (; next < end; ++next) {
        const std::string value = escape_filter_value(dns[next]);
        for (const std::string& attribute : m_settings.member_dn_attributes) {
          terms += "(" + attribute + "=" + value + ")";
        }
      }
      if (terms.empty()) {
        break;
      }
      const std::string filter = "(&" + m_settings.group_filter + "(|" + terms + "))";
      if (auto done = search(m_settings.group_base, LDAP_SCOPE_SUBTREE, filter, 0, deadline, groups);
          !done) {
        return Unexpected<Error>{done.error()};
      }
    } while (next < dns.size());
    return groups;
  }

  Bind check_password(std::string_view dn, std::string_view password, Deadline deadline) override
  {
    auto connection = connect(deadline, false);
    if (!connection) {
      log::error("directory: cannot check a password: %s", connection.error().message.c_str());
      return Bind::unavailable;
    }
    auto left = time_left(deadline);
    if (!left) {
      return Bind::unavailable;
    }
    ldap_set_option(connection->get(), LDAP_OPT_TIMEOUT, &*left);
    const std::string who(dn);
    berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
    ++m_operations;
    const int rc = ldap_sasl_bind_s(connection->get(), who.c_str(), LDAP_SASL_SIMPLE, &credentials,
                                    nullptr, nullptr, nullptr);
    if (rc == LDAP_SUCCESS) {
      return Bind::ok;
    }
    if (rc == LDAP_INVALID_CREDENTIALS) {
      return Bind::wrong;
    }
    log::error("directory: password check for %s failed: %s", log::sanitize(dn).c_str(),
               describe_failure(connection->get(), rc, true).c_str());
    return connection_lost(rc) ? Bind::unavailable : Bind::wrong;
  }

  std::uint64_t operations() const override { return m_operations.load(); }

private:
  // libldap's words for a failed call on `ld`, with its diagnostic message. `fresh`: the call
  // was the first on a new connection, so it may have done the TLS handshake. A handshake that
  // fails is LDAP_CONNECT_ERROR after StartTLS, or on ldaps:// LDAP_SERVER_DOWN with a
  // diagnostic (a refused TCP connection leaves none); GnuTLS's diagnostic for a certificate
  // that does not verify is only "(unknown error code)", which reads like a server that is
  // down: the certificate is named as the likely cause.
  std::string describe_failure(LDAP* ld, int rc, bool fresh) const
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

  // A connection to the first URI that answers, with TLS as configured and, when `bound`, the
  // service identity. Failures of each URI are collected into the error.
  Expected<LdapHandle> connect(Deadline deadline, bool bound)
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
    return make_error(failures.empty() ? std::string("no ldap_uri configured") : failures);
  }

  Expected<LdapHandle> connect_to(const std::string& uri, Deadline deadline, bool bound)
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
    if (connect_limit.count() < static_cast<std::int64_t>(network.tv_sec) * 1000000 + network.tv_usec) {
      network.tv_sec = static_cast<time_t>(connect_limit.count() / 1000000);
      network.tv_usec = static_cast<suseconds_t>(connect_limit.count() % 1000000);
    }
    const int require_cert = m_settings.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    const int no = 0;
    bool options_ok = ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version) == LDAP_OPT_SUCCESS &&
                      ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF) == LDAP_OPT_SUCCESS &&
                      ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &network) == LDAP_OPT_SUCCESS &&
                      ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &*left) == LDAP_OPT_SUCCESS &&
                      ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &require_cert) == LDAP_OPT_SUCCESS;
    if (options_ok && !m_settings.ca_file.empty()) {
      options_ok = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE,
                                   m_settings.ca_file.c_str()) == LDAP_OPT_SUCCESS;
    }
    // A TLS context of this handle's own, built from the options above.
    if (options_ok) {
      options_ok = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &no) == LDAP_OPT_SUCCESS;
    }
    if (!options_ok) {
      return make_error("cannot set the connection options (is the CA file readable?)");
    }
    if (m_settings.starttls && scheme_of(uri) == "ldap") {
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

  Expected<LdapHandle> take_connection(Deadline deadline)
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

  void give_back(LdapHandle ld)
  {
    std::lock_guard lock(m_pool_mutex);
    if (m_idle.size() < k_max_idle_connections) {
      m_idle.push_back(std::move(ld));
    }
  }

  // Forgets the idle connections: after one of them turned out dead, the others, opened to the
  // same server before it went away, are as dead.
  void drop_idle()
  {
    std::vector<LdapHandle> idle;
    {
      std::lock_guard lock(m_pool_mutex);
      idle.swap(m_idle);
    }
  }

  // One search, appending the entries found to `out`. A pooled connection that turns out to be
  // dead (the server restarted) is replaced once, by a new connection: taking another pooled
  // one would find it dead too, and the lookup would fail although the server is back.
  Expected<void> search(const std::string& base, int scope, const std::string& filter,
                        int size_limit, Deadline deadline, std::vector<DirectoryEntry>& out)
  {
    char attr_required[] = "studio2faRequired";
    char attr_exempt[] = "studio2faExempt";
    char attr_grace[] = "studio2faGracePeriod";
    char* attributes[] = {attr_required, attr_exempt, attr_grace, nullptr};
    for (int attempt = 0;; ++attempt) {
      auto connection = attempt == 0 ? take_connection(deadline) : connect(deadline, true);
      if (!connection) {
        return Unexpected<Error>{connection.error()};
      }
      auto left = time_left(deadline);
      if (!left) {
        return make_error("the directory did not answer in time");
      }
      LDAPMessage* raw = nullptr;
      ++m_operations;
      const int rc = ldap_search_ext_s(connection->get(), base.c_str(), scope, filter.c_str(),
                                       attributes, 0, nullptr, nullptr, &*left, size_limit, &raw);
      Message result(raw);
      if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT ||
          (rc == LDAP_SIZELIMIT_EXCEEDED && size_limit > 0)) {
        for (LDAPMessage* entry = ldap_first_entry(connection->get(), result.get());
             entry != nullptr; entry = ldap_next_entry(connection->get(), entry)) {
          out.push_back(read_entry(connection->get(), entry));
        }
        give_back(std::move(*connection));
        return {};
      }
      if (connection_lost(rc) && rc != LDAP_TIMEOUT && attempt == 0) {
        drop_idle();
        continue; // a stale pooled connection: try once more on a fresh one
      }
      return make_error(std::string("search of ") + base + " failed: " + ldap_err2string(rc));
    }
  }

  DirectorySettings m_settings;
  std::mutex m_pool_mutex;
  std::vector<LdapHandle> m_idle;
  std::atomic<std::uint64_t> m_operations{0};
};

} // namespace

std::unique_ptr<Directory> make_ldap_directory(DirectorySettings settings)
{
  return std::make_unique<LdapDirectory>(std::move(settings));
}

std::vector<std::string> ancestor_dns(std::string_view dn, std::string_view base)
{
  std::vector<std::string> out;
  const std::string text(dn);
  LDAPDN raw = nullptr;
  if (ldap_str2dn(text.c_str(), &raw, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || raw == nullptr) {
    return out;
  }
  ParsedDn parsed(raw);
  std::string base_key;
  if (!base.empty()) {
    const std::string base_text(base);
    LDAPDN base_raw = nullptr;
    if (ldap_str2dn(base_text.c_str(), &base_raw, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
      return out;
    }
    ParsedDn base_parsed(base_raw);
    char* normal = nullptr;
    if (ldap_dn2str(base_parsed.get(), &normal, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
      return out;
    }
    LdapString owned(normal);
    base_key = dn_key(normal ? normal : "");
  }
  for (std::size_t i = 1; raw[i] != nullptr; ++i) {
    char* parent = nullptr;
    if (ldap_dn2str(raw + i, &parent, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || parent == nullptr) {
      break;
    }
    LdapString owned(parent);
    const std::string key = dn_key(parent);
    if (!base_key.empty() && key != base_key &&
        !(key.size() > base_key.size() &&
          key.compare(key.size() - base_key.size(), base_key.size(), base_key) == 0 &&
          key[key.size() - base_key.size() - 1] == ',')) {
      break; // above the base
    }
    out.emplace_back(parent);
    if (key == base_key) {
      break;
    }
  }
  return out;
}

std::string dn_key(std::string_view dn)
{
  return lower(dn);
}

bool uri_is_cleartext(std::string_view uri, bool starttls)
{
  const std::string scheme = lower(scheme_of(uri));
  return scheme == "ldap" && !starttls;
}

} // namespace studio2fa
