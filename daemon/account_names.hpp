// The name a directory knows an account by.
//
// NSS back ends such as SSSD can match names case-insensitively, so "ALICE" finds alice. The
// daemon keys everything it keeps by the canonical name (pw_name), so that one person is one
// record however they type their name: otherwise "ALICE" would be a separate account with no
// second factor, and an otp_only stack would let it through.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace studio2fa {

// The canonical name of `user` per NSS; `user` itself when no such account is found.
std::string canonical_account_name(std::string_view user);

// The same with the lookup given (name → canonical name, or nullopt), for tests.
using AccountLookup = std::function<std::optional<std::string>(const std::string&)>;
std::string canonical_account_name(std::string_view user, const AccountLookup& lookup);

// Whether the account `user` (primary and supplementary groups, over NSS) belongs to the group
// named `group_name`; nullopt when the account or the group cannot be found.
std::optional<bool> account_in_group(const std::string& user, const std::string& group_name);

// Whether NSS knows an account named `user`.
bool account_exists(const std::string& user);

} // namespace studio2fa
