// The connection part of studio2fad.conf's ldap_* keys, for everything that opens connections
// to the directory (the policy lookups and the directory store).
#pragma once

#include "config.hpp"
#include "ldap_connection.hpp"

#include <string>

namespace studio2fa {

// `uris` and the rest from `config`; `bind_password` is the content of ldap_bind_password_file
// (empty when none is configured).
LdapConnectionSettings ldap_connection_settings(const Config& config,
                                                const std::vector<std::string>& uris,
                                                std::string bind_password);

} // namespace studio2fa
