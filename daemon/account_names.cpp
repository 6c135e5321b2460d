#include "account_names.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
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

bool account_exists(const std::string& user)
{
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* account = nullptr;
  return getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &account) == 0 &&
         account != nullptr;
}

std::optional<bool> account_in_group(const std::string& user, const std::string& group_name)
{
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* account = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &account) != 0 ||
      account == nullptr) {
    return std::nullopt;
  }
  const gid_t primary = pw.pw_gid;
  const std::string name = pw.pw_name;
  struct group gr{};
  struct group* found = nullptr;
  if (getgrnam_r(group_name.c_str(), &gr, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  const gid_t wanted = gr.gr_gid;
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    int count = static_cast<int>(groups.size());
    if (getgrouplist(name.c_str(), primary, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      return std::find(groups.begin(), groups.end(), wanted) != groups.end();
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 1)) * 2);
  }
  return std::nullopt;
}

} // namespace studio2fa
