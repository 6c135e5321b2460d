// What the policy demands of a user who is not enrolled (PolicyResolver's answer, the grace
// period, the enrollment due after a temporary pass), as a login and a status query see it.
#include "account_names.hpp"
#include "authenticator.hpp"
#include "log.hpp"

namespace studio2fa {

namespace {

using protocol::AuthMode;
using protocol::AuthResult;
using protocol::LockState;

constexpr const char* k_no_policy = "no policy requires it";

} // namespace

PolicyAnswer Authenticator::decide(std::string_view user)
{
  if (m_policy != nullptr) {
    return m_policy->decide(user);
  }
  PolicyAnswer answer;
  answer.decision = protocol::PolicyDecision::optional;
  answer.source = protocol::PolicySource::local;
  answer.reason = k_no_policy;
  return answer;
}

Authenticator::Demand Authenticator::demand(UserRecord& record, const PolicyAnswer& policy,
                                            std::int64_t now) const
{
  Demand owed;
  owed.required = policy.required();
  if (record.has_second_factor() || record.pass_until > now) {
    return owed; // enrolled, or a temporary pass: nothing to demand now
  }
  if (record.pass_until > 0) {
    // A temporary pass ended: the old secret is void and a new one is due now, whatever the
    // policy says.
    owed.required = true;
    owed.grace_until = UserRecord::k_enroll_now;
    owed.enroll_now = true;
    owed.why = "a temporary pass ended: enroll again";
    return owed;
  }
  if (!owed.required) {
    if (record.grace_until > UserRecord::k_enroll_now) {
      record.grace_until = 0; // a later requirement starts a new grace period
      owed.changed = true;
    }
    return owed;
  }
  if (record.grace_until == 0) {
    record.grace_until = now + static_cast<std::int64_t>(policy.grace_period);
    owed.changed = true;
  }
  owed.grace_until = record.grace_until;
  owed.enroll_now = record.grace_until <= now;
  return owed;
}

UserStatus Authenticator::describe(const UserRecord* record, std::int64_t now) const
{
  UserStatus status;
  status.reason = k_no_policy;
  if (record == nullptr) {
    return status;
  }
  const bool pending_alive =
      record->has_pending() &&
      now - record->pending_created_at < static_cast<std::int64_t>(m_settings.enroll_timeout);
  if (record->has_second_factor()) {
    status.state = protocol::EnrollmentState::active;
    status.enrolled_at = record->enrolled() ? record->enrolled_at : record->phone_enrolled_at;
    status.replacing = pending_alive;
  } else if (pending_alive) {
    status.state = protocol::EnrollmentState::pending;
  }
  status.failures = record->failures;
  status.lock = record->lock;
  status.retry_after = record->lock == LockState::none ? throttle_wait(*record, now) : 0;
  status.backup_codes = static_cast<unsigned>(record->backup_codes.size());
  status.pass_until = record->pass_until;
  status.last_login = record->last_login_at;
  return status;
}

UserStatus Authenticator::describe(const UserRecord* record, const PolicyAnswer& policy) const
{
  const std::int64_t now = m_ledger.now();
  UserStatus status = describe(record, now);
  status.reason = policy.reason;
  if (!policy.known()) {
    return status;
  }
  // On a copy: only a login that got past the password starts a grace period, so that a
  // status query, or a login attempt with a wrong password, cannot start anyone's clock.
  UserRecord copy = record != nullptr ? *record : UserRecord{};
  const Demand owed = demand(copy, policy, now);
  status.required = owed.required;
  status.grace_until = owed.grace_until;
  if (owed.why != nullptr) {
    status.reason = owed.why;
  }
  return status;
}

Expected<UserStatus> Authenticator::status(std::string_view user)
{
  // Before the lock: the directory may take a while to answer.
  const PolicyAnswer policy = decide(user);
  sync_directory_phone(user);
  auto held = m_ledger.lock(user);
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  return describe(loaded->has_value() ? &**loaded : nullptr, policy);
}

AuthOutcome Authenticator::admit_unenrolled(std::string_view user, AuthMode mode,
                                            const Requester& who)
{
  auto audited = [&](AuthOutcome outcome) { return record_login(who, user, outcome); };
  // Before the lock: the directory may take a while to answer.
  const PolicyAnswer policy = decide(user);
  auto held = m_ledger.lock(user);
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    log::error("store: %s", loaded.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "store error"});
  }
  UserRecord updated = record_or_new(std::move(*loaded), user);
  if (updated.lock != LockState::none) {
    return audited({AuthResult::locked, 0, "locked"});
  }
  if (updated.has_second_factor()) {
    // Enrolled since the first look: only a code can let this login through.
    return audited(
        mode == AuthMode::code_only
            ? AuthOutcome{AuthResult::denied, 0, "enrolled during the login"}
            : AuthOutcome{AuthResult::denied, 0, "the account changed during the login"});
  }
  const std::int64_t now = m_ledger.now();
  if (!policy.known() && updated.pass_until <= now) {
    // Fail closed: without the policy nobody can say this login may skip the second factor.
    return audited(
        {AuthResult::unavailable, 0, "policy unknown (directory unreachable, no cached answer)"});
  }
  const Demand owed = demand(updated, policy, now);
  AuthOutcome outcome;
  std::string detail;
  if (owed.enroll_now) {
    outcome = {AuthResult::enroll_required, 0, "2FA required: enrollment due"};
    detail = std::string(outcome.reason) + " (" + (owed.why ? owed.why : policy.reason) + ")";
  } else {
    if (mode == AuthMode::password_only) {
      updated.last_login_at = now;
      m_factors.clear_failures(updated); // wrong passwords a screen locker counted
      outcome = {AuthResult::success, 0,
                 updated.pass_until > now ? "password (temporary pass)" : "password"};
    } else {
      outcome = {AuthResult::not_enrolled, 0, "not enrolled"};
    }
    detail = outcome.reason;
    if (owed.required) {
      outcome.grace_until = owed.grace_until;
      detail += "; 2FA required, grace until " + std::to_string(owed.grace_until);
    }
  }
  // Mode 1 keeps the last login, with the audit event in one commit. Mode 3 keeps a grace period
  // that starts, only for an account that exists: it is asked about any name an ssh prompt
  // takes, and made-up names must add nothing to the database.
  const bool keep =
      mode == AuthMode::password_only || (owed.changed && account_named(updated.user).found);
  const AuditEvent event =
      m_ledger.event(who, "login", user, protocol::name(outcome.result), detail);
  if (!keep) {
    m_ledger.record(event);
    return outcome;
  }
  if (auto saved = m_ledger.commit(updated, event); !saved) {
    log::error("store: %s", saved.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "store error"});
  }
  return outcome;
}

} // namespace studio2fa
