// Checks a user's password. The local implementation reads the shadow database through NSS and
// crypt_r(3); a directory-backed one (an LDAP bind) will sit beside it.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

namespace studio2fa {

// What a password check found. `unavailable`: the source that holds the password (the
// directory) could not be asked, so nothing is known about the password; the login is answered
// "unavailable", not "wrong password", and nothing is counted or consumed.
enum class PasswordVerdict { match, mismatch, unavailable };

class PasswordChecker {
public:
  virtual ~PasswordChecker() = default;
  // `match` only for a non-empty password that matches. Must take about as long for an unknown
  // user as for a known one.
  virtual PasswordVerdict check(std::string_view user, std::string_view password) = 0;
};

// How many hashes run at once is not its business: the daemon's checks take turns in a
// PasswordQueue (password_queue.hpp), one per CPU.
class ShadowPasswordChecker final : public PasswordChecker {
public:
  PasswordVerdict check(std::string_view user, std::string_view password) override;

private:
  // The stand-in hash used for unknown and locked accounts, made on first need with the
  // system's preferred method (yescrypt on Debian 12, SHA-512 on EL 8) so that they cost what a
  // real account does. Lazily: yescrypt needs 16 MiB per hash, which a daemon that never
  // checks passwords (otp_only stacks) should not pay at start.
  const std::string& dummy_hash();

  std::once_flag m_dummy_once;
  std::string m_dummy_hash;
};

class Directory;
class PolicyResolver;

// Users in the directory by a bind as their own entry; everyone else (and everyone when the
// directory can neither be reached nor has a cached answer) by `local`.
class DirectoryPasswordChecker final : public PasswordChecker {
public:
  // `directory` may be null: every password is checked locally.
  DirectoryPasswordChecker(PolicyResolver& policy, Directory* directory, PasswordChecker& local,
                           std::chrono::milliseconds timeout);
  PasswordVerdict check(std::string_view user, std::string_view password) override;

private:
  PolicyResolver& m_policy;
  Directory* m_directory;
  PasswordChecker& m_local;
  std::chrono::milliseconds m_timeout;
};

} // namespace studio2fa
