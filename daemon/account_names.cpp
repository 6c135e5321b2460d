#include "account_names.hpp"

#include <pwd.h>

#include <vector>

namespace studio2fa {

std::string canonical_account_name(std::string_view user, const AccountLookup& lookup)
{
  std::string name(user);
  auto canonical = lookup(name);
  return canonical && !canonical->empty() ? *canonical : name;
}

std::string canonical_account_name(std::string_view user)
{
  return canonical_account_name(user, [](const std::string& name) -> std::optional<std::string> {
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* result = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result) != 0 ||
        result == nullptr || pw.pw_name == nullptr) {
      return std::nullopt;
    }
    return std::string(pw.pw_name);
  });
}

} // namespace studio2fa
