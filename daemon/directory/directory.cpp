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
// DNs per group query: a filter with hundreds of terms is slow on some servers.
constexpr std::size_t k_dns_per_query = 64;

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
  LdapValues values(ldap_get_values_len(ld, entry, attribute));
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

DirectoryEntry read_entry(LDAP* ld, LDAPMessage* entry, const std::string& phone_attribute)
{
  DirectoryEntry out;
  if (LdapString dn(ldap_get_dn(ld, entry)); dn) {
    out.dn = dn.get();
  }
  out.flags.required = first_value<bool>(ld, entry, k_attr_required, parse_boolean, out.dn);
  out.flags.exempt = first_value<bool>(ld, entry, k_attr_exempt, parse_boolean, out.dn);
  out.flags.grace_period =
      first_value<std::uint32_t>(ld, entry, k_attr_grace, parse_seconds, out.dn);
  if (!phone_attribute.empty()) {
    out.phone = first_value<std::string>(
        ld, entry, phone_attribute.c_str(),
        [](const berval& value) -> std::optional<std::string> {
          if (value.bv_len == 0 || value.bv_len > 64) {
            return std::nullopt;
          }
          return std::string(value.bv_val, value.bv_len);
        },
        out.dn);
  }
  return out;
}

class LdapDirectory final : public Directory {
public:
  explicit LdapDirectory(DirectorySettings settings)
      : m_connector(std::move(settings.connection)), m_settings(std::move(settings))
  {
  }

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
    auto connection = m_connector.connect(deadline, false);
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
    m_connector.count_operation();
    const int rc = ldap_sasl_bind_s(connection->get(), who.c_str(), LDAP_SASL_SIMPLE, &credentials,
                                    nullptr, nullptr, nullptr);
    if (rc == LDAP_SUCCESS) {
      return Bind::ok;
    }
    if (rc == LDAP_INVALID_CREDENTIALS) {
      return Bind::wrong;
    }
    log::error("directory: password check for %s failed: %s", log::sanitize(dn).c_str(),
               m_connector.describe_failure(connection->get(), rc, true).c_str());
    return connection_lost(rc) ? Bind::unavailable : Bind::wrong;
  }

  std::uint64_t operations() const override { return m_connector.operations(); }

private:
  // One search, appending the entries found to `out`. A pooled connection that turns out to be
  // dead (the server restarted) is replaced once, by a new connection: taking another pooled
  // one would find it dead too, and the lookup would fail although the server is back.
  Expected<void> search(const std::string& base, int scope, const std::string& filter,
                        int size_limit, Deadline deadline, std::vector<DirectoryEntry>& out)
  {
    char attr_required[] = "studio2faRequired";
    char attr_exempt[] = "studio2faExempt";
    char attr_grace[] = "studio2faGracePeriod";
    std::string phone = m_settings.phone_attribute;
    char* attributes[] = {attr_required, attr_exempt, attr_grace,
                          phone.empty() ? nullptr : phone.data(), nullptr};
    auto rc = m_connector.run(deadline, [&](LDAP* ld, timeval* left) {
      LDAPMessage* raw = nullptr;
      const int result = ldap_search_ext_s(ld, base.c_str(), scope, filter.c_str(), attributes, 0,
                                           nullptr, nullptr, left, size_limit, &raw);
      LdapMessagePtr message(raw);
      if (result == LDAP_SUCCESS || (result == LDAP_SIZELIMIT_EXCEEDED && size_limit > 0)) {
        for (LDAPMessage* entry = message ? ldap_first_entry(ld, message.get()) : nullptr;
             entry != nullptr;
             entry = ldap_next_entry(ld, entry)) {
          out.push_back(read_entry(ld, entry, m_settings.phone_attribute));
        }
      }
      return result;
    });
    if (!rc) {
      return Unexpected<Error>{rc.error()};
    }
    if (*rc == LDAP_SUCCESS || *rc == LDAP_NO_SUCH_OBJECT ||
        (*rc == LDAP_SIZELIMIT_EXCEEDED && size_limit > 0)) {
      return {};
    }
    return make_error(std::string("search of ") + base + " failed: " + ldap_err2string(*rc));
  }

  LdapConnector m_connector;
  DirectorySettings m_settings; // its connection part moved into m_connector
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
  return lower(uri_scheme(uri)) == "ldap" && !starttls;
}

} // namespace studio2fa
