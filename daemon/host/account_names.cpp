#include "account_names.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>

#include <algorithm>
#include <utility>
#include <vector>

namespace studio2fa {

std::string canonical_account_name(std::string_view user, const AccountLookup& lookup)
{
  std::string name(user);
  auto canonical = lookup(name);
  return canonical && !canonical->empty() ? *canonical : name;
}

namespace {

constexpr std::size_t k_nss_buffer = 16384;

AccountAnswer look_up_in_nss(const std::string& name)
{
  std::vector<char> buffer(k_nss_buffer);
  passwd pw{};
  passwd* result = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result) != 0) {
    return {};
  }
  if (result == nullptr || pw.pw_name == nullptr) {
    return {AccountAnswer::Kind::no_such_account, {}};
  }
  return {AccountAnswer::Kind::found, pw.pw_name};
}

} // namespace

AccountNameCache::AccountNameCache(AccountAnswerLookup lookup, const Clock& clock,
                                   Settings settings)
    : m_lookup(std::move(lookup)), m_clock(clock), m_settings(settings)
{
}

std::string AccountNameCache::canonical(std::string_view user)
{
  std::string name(user);
  const std::int64_t now = m_clock.now();
  {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(name);
    // A clock stepped backwards ends an entry too: it must not outlive its TTL.
    if (it != m_entries.end() && it->second.stored_at <= now && now < it->second.expires_at) {
      return it->second.name;
    }
  }
  AccountAnswer answer = m_lookup(name);
  switch (answer.kind) {
  case AccountAnswer::Kind::found:
    if (!answer.name.empty()) {
      remember(name, {answer.name, now, now + m_settings.found_ttl}, now);
      return answer.name;
    }
    return name;
  case AccountAnswer::Kind::no_such_account:
    remember(name, {name, now, now + m_settings.missing_ttl}, now);
    return name;
  case AccountAnswer::Kind::failed:
    break;
  }
  return name;
}

void AccountNameCache::remember(const std::string& user, Entry entry, std::int64_t now)
{
  std::lock_guard lock(m_mutex);
  if (m_entries.size() >= m_settings.capacity && m_entries.find(user) == m_entries.end()) {
    std::erase_if(m_entries, [now](const auto& item) {
      return item.second.stored_at > now || now >= item.second.expires_at;
    });
    if (m_entries.size() >= m_settings.capacity) {
      m_entries.clear();
    }
  }
  m_entries.insert_or_assign(user, std::move(entry));
}

std::string canonical_account_name(std::string_view user)
{
  static const SystemClock clock;
  static AccountNameCache cache(look_up_in_nss, clock, AccountNameCache::Settings{});
  return cache.canonical(user);
}

namespace {

Account account_from(const passwd& pw)
{
  return {true, false, pw.pw_uid, pw.pw_gid, pw.pw_name};
}

// What getpwnam_r and getpwuid_r answered: an account, none, or a failure. The error numbers that
// getpwnam_r(3) lists for "the name or uid was not found" mean no such account.
Account account_from(int rc, const passwd& pw, const passwd* result)
{
  if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
    Account failed;
    failed.failed = true;
    return failed;
  }
  if (rc != 0 || result == nullptr) {
    return {};
  }
  return account_from(pw);
}

} // namespace

Account account_named(std::string_view user)
{
  const std::string name(user);
  std::vector<char> buffer(k_nss_buffer);
  passwd pw{};
  passwd* result = nullptr;
  const int rc = getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result);
  return account_from(rc, pw, result);
}

Account account_of(uid_t uid)
{
  std::vector<char> buffer(k_nss_buffer);
  passwd pw{};
  passwd* result = nullptr;
  const int rc = getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &result);
  return account_from(rc, pw, result);
}

std::optional<bool> account_in_group(const Account& account, const std::string& group_name)
{
  if (!account.found) {
    return std::nullopt;
  }
  std::vector<char> buffer(k_nss_buffer);
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
    if (getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      return std::find(groups.begin(), groups.end(), wanted) != groups.end();
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 1)) * 2);
  }
  return std::nullopt;
}

} // namespace studio2fa
