// The name a directory knows an account by.
//
// NSS back ends such as SSSD can match names case-insensitively, so "ALICE" finds alice. The
// daemon keys everything it keeps by the canonical name (pw_name), so that one person is one
// record however they type their name: otherwise "ALICE" would be a separate account with no
// second factor, and an otp_only stack would let it through.
#pragma once

#include "clock.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace studio2fa {

// The canonical name of `user` per NSS; `user` itself when no such account is found. Answers
// are remembered for a short while (AccountNameCache, with the TTLs below).
std::string canonical_account_name(std::string_view user);

// The same with the lookup given (name → canonical name, or nullopt), for tests.
using AccountLookup = std::function<std::optional<std::string>(const std::string&)>;
std::string canonical_account_name(std::string_view user, const AccountLookup& lookup);

// What one lookup of a name found. A failed lookup (a back end unreachable, a reply too large)
// is not an answer, and is never remembered.
struct AccountAnswer {
  enum class Kind { found, no_such_account, failed };
  Kind kind = Kind::failed;
  std::string name; // the canonical name, with found
};
using AccountAnswerLookup = std::function<AccountAnswer(const std::string&)>;

// Canonical names remembered for a short while. A login asks about its user twice within
// seconds (PHONE_STATUS, then AUTHENTICATE), and one NSS lookup can cost more than all the rest of a
// request: a name in /etc/passwd takes about 5 µs here, a name that no source knows about 50 µs
// (files, then systemd's userdb directories), and a remote directory a network round trip.
// Directories rename accounts rarely: a new name shows after at most `found_ttl`. "No such
// account" is kept for `missing_ttl` only, so that a new account, or a directory back from an
// outage, is seen within seconds. Thread-safe; lookups run outside its lock.
class AccountNameCache {
public:
  struct Settings {
    std::int64_t found_ttl = 60;  // seconds
    std::int64_t missing_ttl = 5; // seconds
    std::size_t capacity = 4096;  // names; past it, expired ones go, then all if none had
  };

  AccountNameCache(AccountAnswerLookup lookup, const Clock& clock, Settings settings);

  std::string canonical(std::string_view user);

private:
  struct Entry {
    std::string name;
    std::int64_t stored_at = 0;
    std::int64_t expires_at = 0;
  };
  void remember(const std::string& user, Entry entry, std::int64_t now);

  AccountAnswerLookup m_lookup;
  const Clock& m_clock;
  Settings m_settings;
  std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries;
};

// An account as NSS has it; `found` false when NSS has no such account or could not answer, and
// `failed` true in the second case only (a back end unreachable, a reply too large): an answer
// that says nothing about the account, which a caller that must fail closed cannot take as "none".
struct Account {
  bool found = false;
  bool failed = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name; // the canonical name (pw_name)
};
Account account_named(std::string_view user);
Account account_of(uid_t uid);

// Whether `account` (primary and supplementary groups, over NSS) belongs to the group named
// `group_name`; nullopt when the group cannot be found or its members cannot be listed.
std::optional<bool> account_in_group(const Account& account, const std::string& group_name);

} // namespace studio2fa
