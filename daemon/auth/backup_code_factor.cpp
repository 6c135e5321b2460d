#include "backup_code_factor.hpp"

#include <algorithm>
#include <limits>

namespace studio2fa {

CodeClaim BackupCodeFactor::claim(const UserRecord& record, std::string_view code) const
{
  switch (code_shape(code, record.params.digits)) {
  case CodeShape::totp:
    return CodeClaim::also;
  case CodeShape::backup_code:
    return record.backup_codes.empty() ? CodeClaim::none : CodeClaim::own;
  case CodeShape::neither:
    break;
  }
  return CodeClaim::none;
}

Expected<FactorMatch> BackupCodeFactor::check(const UserRecord& record, std::string_view code,
                                              std::int64_t) const
{
  const auto found = m_hasher.find(record.user, code, record.backup_codes);
  return FactorMatch{found.has_value(), found.value_or(0)};
}

void BackupCodeFactor::use(UserRecord& record, const FactorMatch& match) const
{
  record.backup_codes.erase(record.backup_codes.begin() + static_cast<std::ptrdiff_t>(match.token));
}

bool BackupCodeFactor::count_failure(UserRecord& record, std::int64_t now) const
{
  if (record.backup_failures != std::numeric_limits<std::uint32_t>::max()) {
    ++record.backup_failures;
  }
  if (record.backup_failures < m_lockout_after || record.lock != protocol::LockState::none) {
    return false;
  }
  record.lock = protocol::LockState::second_factor;
  record.locked_at = now;
  return true;
}

void BackupCodeFactor::clear_failures(UserRecord& record) const
{
  record.backup_failures = 0;
}

void BackupCodeFactor::remove(UserRecord& record) const
{
  record.backup_codes.clear();
}

Expected<void> BackupCodeFactor::replace(UserRecord& record,
                                         std::span<const std::string_view> codes) const
{
  record.backup_codes.clear();
  for (const std::string_view code : codes) {
    auto hash = m_hasher.hash(record.user, code);
    if (!hash) {
      return make_error("cannot hash a backup code");
    }
    record.backup_codes.push_back(*hash);
  }
  return {};
}

bool BackupCodeFactor::has_codes_under_old_key(const UserRecord& record) const
{
  return std::any_of(record.backup_codes.begin(), record.backup_codes.end(),
                     [this](const BackupCodeHash& hash) { return !m_hasher.under_current_key(hash); });
}

} // namespace studio2fa
