#include "ldap_config.hpp"

namespace studio2fa {

LdapConnectionSettings ldap_connection_settings(const Config& config,
                                                const std::vector<std::string>& uris,
                                                std::string bind_password)
{
  LdapConnectionSettings settings;
  settings.uris = uris;
  settings.bind_dn = config.ldap_bind_dn;
  settings.bind_password = std::move(bind_password);
  settings.sasl_external = config.ldap_sasl_external;
  settings.starttls = config.ldap_starttls;
  settings.ca_file = config.ldap_ca_file;
  settings.tls_verify = config.ldap_tls_verify;
  settings.connect_timeout = std::chrono::milliseconds(config.ldap_connect_timeout);
  return settings;
}

} // namespace studio2fa
