// Requests a user makes about their own second factor, each proved by a current code: a new
// secret beside the old one (ENROLL_REPLACE), a new set of backup codes (BACKUP_CODES), turning
// the second factor off (DISABLE).
#include "authenticator.hpp"

namespace studio2fa {

namespace {

using protocol::CodeResult;
using protocol::LockState;

} // namespace

CodeOutcome Authenticator::refusal_for(const UserRecord* record, std::int64_t now) const
{
  if (record == nullptr || !record->has_second_factor()) {
    return {CodeResult::not_enrolled, 0};
  }
  if (record->lock != LockState::none) {
    return {CodeResult::locked, 0};
  }
  if (std::uint32_t wait = throttle_wait(*record, now); wait > 0) {
    return {CodeResult::throttled, wait};
  }
  return {CodeResult::ok, 0};
}

Expected<CodeOutcome> Authenticator::settle_code(UserRecord& record, const CodeVerdict& verdict,
                                                 std::int64_t now, const Requester& who,
                                                 std::string_view action)
{
  const bool locked_now = m_factors.settle(record, verdict, now);
  if (verdict.right()) {
    return CodeOutcome{CodeResult::ok, 0};
  }
  const CodeOutcome refused{locked_now ? CodeResult::locked : CodeResult::bad_code, 0};
  const char* detail =
      verdict.kind() == protocol::SecondFactor::backup_code ? "wrong backup code" : "wrong code";
  if (auto saved = m_ledger.commit(
          record, m_ledger.event(who, action, record.user, protocol::name(refused.result), detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return refused;
}

Expected<Authenticator::CodeProof>
Authenticator::prove_code(std::string_view user, std::string_view code, Factors::Accept accept,
                          const Requester& who, std::string_view action)
{
  CodeProof proof;
  proof.held = m_ledger.lock(user);
  proof.now = m_ledger.now();
  const std::int64_t now = proof.now;
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  proof.refusal = refusal_for(loaded->has_value() ? &**loaded : nullptr, now);
  if (!proof.proved()) {
    m_ledger.record(m_ledger.event(who, action, user, protocol::name(proof.refusal.result), ""));
    return proof;
  }
  proof.record = std::move(**loaded);
  auto verdict = m_factors.verify(proof.record, code, now, accept);
  if (!verdict) {
    return Unexpected<Error>{verdict.error()};
  }
  proof.verdict = *verdict;
  auto settled = settle_code(proof.record, proof.verdict, now, who, action);
  if (!settled) {
    return Unexpected<Error>{settled.error()};
  }
  proof.refusal = *settled;
  return proof;
}

// Each request below is decided again, code proof included, when its commit loses to a write
// another host made meanwhile (AccountLedger::retry_on_conflict): a code that host used is
// then a replay.
Expected<ReplaceOutcome> Authenticator::replace_enrollment(std::string_view user,
                                                           std::string_view code,
                                                           const Requester& who)
{
  return m_ledger.retry_on_conflict([&] { return replace_enrollment_once(user, code, who); });
}

Expected<BackupCodesOutcome>
Authenticator::new_backup_codes(std::string_view user, std::string_view code, const Requester& who)
{
  return m_ledger.retry_on_conflict([&] { return new_backup_codes_once(user, code, who); });
}

Expected<CodeOutcome> Authenticator::disable(std::string_view user, std::string_view code,
                                             const Requester& who)
{
  return m_ledger.retry_on_conflict([&] { return disable_once(user, code, who); });
}

Expected<ReplaceOutcome> Authenticator::replace_enrollment_once(std::string_view user,
                                                                std::string_view code,
                                                                const Requester& who)
{
  constexpr std::string_view k_action = "enroll-replace";
  auto proof = prove_code(user, code, Factors::Accept::any, who, k_action);
  if (!proof) {
    return Unexpected<Error>{proof.error()};
  }
  if (!proof->proved()) {
    return ReplaceOutcome{proof->refusal, {}};
  }
  const char* detail = proof->verdict.kind() == protocol::SecondFactor::backup_code
                           ? "proved with a backup code; the old secret works until confirmation"
                           : "the old secret works until confirmation";
  auto offer = start_pending(proof->record, proof->now,
                             m_ledger.event(who, k_action, user, "success", detail));
  if (!offer) {
    return Unexpected<Error>{offer.error()};
  }
  return ReplaceOutcome{{CodeResult::ok, 0}, std::move(*offer)};
}

Expected<BackupCodesOutcome> Authenticator::new_backup_codes_once(std::string_view user,
                                                                  std::string_view code,
                                                                  const Requester& who)
{
  constexpr std::string_view k_action = "backup-codes";
  // A TOTP code only: a set of backup codes must not be able to renew itself.
  auto proof = prove_code(user, code, Factors::Accept::not_backup_codes, who, k_action);
  if (!proof) {
    return Unexpected<Error>{proof.error()};
  }
  if (!proof->proved()) {
    return BackupCodesOutcome{proof->refusal, {}};
  }
  UserRecord& record = proof->record;
  auto codes = generate_backup_codes(protocol::k_backup_codes_per_set);
  if (!codes) {
    return Unexpected<Error>{codes.error()};
  }
  std::vector<std::string_view> views;
  for (const SecretBytes& new_code : *codes) {
    views.push_back(new_code.view());
  }
  if (auto replaced = m_factors.backup_codes().replace(record, views); !replaced) {
    return Unexpected<Error>{replaced.error()};
  }
  if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "success",
                                                          "a new set of 10; the old set is void"));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return BackupCodesOutcome{{CodeResult::ok, 0}, std::move(*codes)};
}

Expected<CodeOutcome> Authenticator::disable_once(std::string_view user, std::string_view code,
                                                  const Requester& who)
{
  constexpr std::string_view k_action = "disable";
  auto proof = prove_code(user, code, Factors::Accept::any, who, k_action);
  if (!proof) {
    return Unexpected<Error>{proof.error()};
  }
  if (!proof->proved()) {
    return proof->refusal;
  }
  UserRecord& record = proof->record;
  m_factors.remove_all(record);
  const char* detail = proof->verdict.kind() == protocol::SecondFactor::backup_code
                           ? "proved with a backup code"
                           : "";
  if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "success", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return CodeOutcome{CodeResult::ok, 0};
}

} // namespace studio2fa
