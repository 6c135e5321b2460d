#include "factors.hpp"

#include <limits>

namespace studio2fa {

namespace {

std::uint32_t saturating_increment(std::uint32_t value)
{
  return value == std::numeric_limits<std::uint32_t>::max() ? value : value + 1;
}

} // namespace

protocol::SecondFactor CodeVerdict::kind() const
{
  const FactorVerifier* factor = proved != nullptr ? proved : owner;
  return factor != nullptr ? factor->kind() : protocol::SecondFactor::none;
}

Factors::Factors(const Sealer& sealer, const BackupCodeHasher& hasher, FactorRules rules,
                 const PhoneCodes* phone_codes)
    : m_totp(sealer, rules.window), m_backup_codes(hasher, rules.backup_lockout_after),
      m_lockout_after(rules.lockout_after), m_order{&m_totp, &m_backup_codes}
{
  if (phone_codes != nullptr) {
    m_phone_code.emplace(*phone_codes);
    m_order[2] = &*m_phone_code;
  }
}

Expected<CodeVerdict> Factors::verify(const UserRecord& record, std::string_view code,
                                      std::int64_t now, Accept accept) const
{
  CodeVerdict verdict;
  CodeVerdict fallback; // a match of a factor that only `also` claims the code
  std::size_t owners = 0;
  for (const FactorVerifier* factor : m_order) {
    if (factor == nullptr || (accept == Accept::not_backup_codes && factor == &m_backup_codes)) {
      continue;
    }
    auto match = factor->check(record, code, now);
    if (!match) {
      return Unexpected<Error>{match.error()};
    }
    switch (factor->claim(record, code)) {
    case CodeClaim::own:
      if (verdict.owner == nullptr) {
        verdict.owner = factor;
      }
      verdict.owners[owners++] = factor;
      if (match->matched && verdict.proved == nullptr) {
        verdict.proved = factor;
        verdict.match = *match;
      }
      break;
    case CodeClaim::also:
      if (match->matched && fallback.proved == nullptr) {
        fallback.proved = factor;
        fallback.match = *match;
      }
      break;
    case CodeClaim::none:
      break;
    }
  }
  if (verdict.proved == nullptr && fallback.proved != nullptr) {
    verdict.proved = fallback.proved;
    verdict.match = fallback.match;
  }
  return verdict;
}

bool Factors::settle(UserRecord& record, const CodeVerdict& verdict, std::int64_t now) const
{
  if (verdict.right()) {
    clear_failures(record);
    verdict.proved->use(record, verdict.match);
    return false;
  }
  record.failures = saturating_increment(record.failures);
  record.last_failure_at = now;
  bool locked_now = false;
  for (const FactorVerifier* owner : verdict.owners) {
    locked_now = (owner != nullptr && owner->count_failure(record, now)) || locked_now;
  }
  if (m_lockout_after > 0 && record.failures >= m_lockout_after &&
      record.lock != protocol::LockState::account) {
    record.lock = protocol::LockState::account;
    record.locked_at = now;
    locked_now = true;
  }
  return locked_now;
}

Expected<void> Factors::activate(UserRecord& record, std::span<const std::uint8_t> secret,
                                 totp::Parameters params, std::uint64_t last_step,
                                 std::int64_t now) const
{
  auto sealed = m_totp.seal_active(record.user, secret);
  if (!sealed) {
    return Unexpected<Error>{sealed.error()};
  }
  record.sealed_secret = std::move(*sealed);
  record.params = params;
  record.enrolled_at = now;
  record.last_step = last_step;
  TotpFactor::clear_pending(record);
  unlock(record);
  record.pass_until = 0;
  return {};
}

void Factors::remove_all(UserRecord& record) const
{
  for (const FactorVerifier* factor : m_order) {
    if (factor != nullptr) {
      factor->remove(record);
    }
  }
}

void Factors::unlock(UserRecord& record) const
{
  clear_failures(record);
  record.lock = protocol::LockState::none;
  record.locked_at = 0;
}

void Factors::clear_failures(UserRecord& record) const
{
  record.failures = 0;
  record.last_failure_at = 0;
  for (const FactorVerifier* factor : m_order) {
    if (factor != nullptr) {
      factor->clear_failures(record);
    }
  }
}

} // namespace studio2fa
