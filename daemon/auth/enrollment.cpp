// The enrollment life cycle: a pending secret (ENROLL_BEGIN) that only its first right code
// makes active (ENROLL_CONFIRM). A replacement (self_service.cpp) confirms the same way.
#include "authenticator.hpp"

namespace studio2fa {

using protocol::EnrollResult;
using protocol::LockState;

namespace {

constexpr const char* k_already_enrolled = "already enrolled";
constexpr const char* k_locked = "locked: contact your administrator";

} // namespace

Expected<EnrollmentOffer> Authenticator::start_pending(UserRecord& record, std::int64_t now,
                                                       const AuditEvent& event)
{
  auto secret = m_factors.totp().start_pending(record, m_settings.new_enrollment, now);
  if (!secret) {
    return Unexpected<Error>{secret.error()};
  }
  if (auto saved = m_ledger.commit(record, event); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  EnrollmentOffer offer;
  offer.secret = std::move(*secret);
  offer.params = m_settings.new_enrollment;
  offer.expires_at = now + m_settings.enroll_timeout;
  return offer;
}

Expected<EnrollmentOffer> Authenticator::begin_enrollment(std::string_view user,
                                                          const Requester& who)
{
  auto held = m_ledger.lock(user);
  return m_ledger.retry_on_conflict([&] { return begin_enrollment_held(user, who); });
}

Expected<EnrollmentOffer> Authenticator::begin_enrollment_held(std::string_view user,
                                                               const Requester& who)
{
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  UserRecord record = record_or_new(std::move(*loaded), user);
  if (record.lock != LockState::none) {
    m_ledger.record(m_ledger.event(who, "enroll-begin", user, "locked", ""));
    return make_error(Errc::locked, k_locked);
  }
  if (record.has_second_factor()) {
    m_ledger.record(m_ledger.event(who, "enroll-begin", user, "refused", "already enrolled"));
    return make_error(Errc::already_enrolled, k_already_enrolled);
  }

  const std::int64_t now = m_ledger.now();
  // A pending secret still in its window is shown again, not replaced: the user may have scanned
  // it in a login or a run of the CLI that ended before a code confirmed it.
  if (record.has_pending() &&
      now - record.pending_created_at < static_cast<std::int64_t>(m_settings.enroll_timeout)) {
    auto secret = m_factors.totp().open_pending(record);
    if (!secret) {
      return Unexpected<Error>{secret.error()};
    }
    m_ledger.record(
        m_ledger.event(who, "enroll-begin", user, "resumed", "the pending secret is shown again"));
    return EnrollmentOffer{std::move(*secret), record.pending_params,
                           record.pending_created_at + m_settings.enroll_timeout};
  }
  return start_pending(record, now, m_ledger.event(who, "enroll-begin", user, "started", ""));
}

Expected<EnrollOutcome> Authenticator::confirm_enrollment(std::string_view user,
                                                          std::string_view code,
                                                          const Requester& who)
{
  auto held = m_ledger.lock(user);
  return m_ledger.retry_on_conflict([&] { return confirm_enrollment_held(user, code, who); });
}

Expected<EnrollOutcome> Authenticator::confirm_enrollment_held(std::string_view user,
                                                               std::string_view code,
                                                               const Requester& who)
{
  constexpr std::string_view k_action = "enroll-confirm";
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value() || !(*loaded)->has_pending()) {
    m_ledger.record(m_ledger.event(who, k_action, user, "no-pending", ""));
    return EnrollOutcome{EnrollResult::no_pending, 0};
  }
  UserRecord& record = **loaded;
  const std::int64_t now = m_ledger.now();
  if (now - record.pending_created_at >= static_cast<std::int64_t>(m_settings.enroll_timeout)) {
    TotpFactor::clear_pending(record);
    if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "expired", ""));
        !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return EnrollOutcome{EnrollResult::expired, 0};
  }
  if (record.lock != LockState::none) {
    m_ledger.record(m_ledger.event(who, k_action, user, "locked", ""));
    return EnrollOutcome{EnrollResult::locked, 0};
  }
  if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
    m_ledger.record(m_ledger.event(who, k_action, user, "throttled", ""));
    return EnrollOutcome{EnrollResult::throttled, wait};
  }

  auto step = m_factors.totp().match_pending(record, code, now);
  if (!step) {
    return Unexpected<Error>{step.error()};
  }
  if (*step == 0) {
    const bool locked_now = m_factors.settle(record, CodeVerdict{}, now);
    if (auto saved = m_ledger.commit(
            record,
            m_ledger.event(who, k_action, user, locked_now ? "locked" : "bad-code", "wrong code"));
        !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return EnrollOutcome{locked_now ? EnrollResult::locked : EnrollResult::bad_code, 0};
  }

  // Sealed again as the active secret: a pending blob can never be mistaken for an active one.
  auto secret = m_factors.totp().open_pending(record);
  if (!secret) {
    return Unexpected<Error>{secret.error()};
  }
  const bool replacing = record.enrolled();
  // The confirming code may not be replayed for a login.
  if (auto activated =
          m_factors.activate(record, secret->span(), record.pending_params, *step, now);
      !activated) {
    return Unexpected<Error>{activated.error()};
  }
  record.grace_until = 0;
  if (auto saved = m_ledger.commit(
          record, m_ledger.event(who, k_action, user, "confirmed",
                                 replacing ? "the new secret replaced the old one" : ""));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return EnrollOutcome{EnrollResult::confirmed, 0};
}

} // namespace studio2fa
