// Checks a user's password. The local implementation reads the shadow database through NSS and
// crypt_r(3); a directory-backed one (an LDAP bind) will sit beside it.
#pragma once

#include <string>
#include <string_view>

namespace studio2fa {

class PasswordChecker {
public:
  virtual ~PasswordChecker() = default;
  // True only for a non-empty password that matches. Must take about as long for an unknown
  // user as for a known one.
  virtual bool check(std::string_view user, std::string_view password) = 0;
};

class ShadowPasswordChecker final : public PasswordChecker {
public:
  // Prepares the stand-in hash used for unknown and locked accounts with the system's preferred
  // method (yescrypt on Debian 12, SHA-512 on EL 8), so that they cost what a real account does.
  ShadowPasswordChecker();
  bool check(std::string_view user, std::string_view password) override;

private:
  std::string m_dummy_hash;
};

} // namespace studio2fa
