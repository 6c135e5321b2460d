// The name a directory knows an account by.
//
// NSS back ends such as SSSD can match names case-insensitively, so "ALICE" finds alice. The
// daemon keys everything it keeps by the canonical name (pw_name), so that one person is one
// record however they type their name: otherwise "ALICE" would be a separate account with no
// second factor, and an otp_only stack would let it through.
#pragma once

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

} // namespace studio2fa
