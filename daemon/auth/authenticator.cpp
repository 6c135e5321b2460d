#include "authenticator.hpp"

#include "account_names.hpp"
#include "log.hpp"

#include <algorithm>
#include <functional>
#include <limits>

namespace studio2fa {

namespace {

using protocol::AuthMode;
using protocol::AuthResult;
using protocol::CodeResult;
using protocol::EnrollResult;
using protocol::LockState;

constexpr std::string_view k_purpose_active = "totp";
constexpr std::string_view k_purpose_pending = "pending";
constexpr std::size_t k_secret_bytes = 20; // 160 bits, RFC 4226's recommendation
constexpr const char* k_already_enrolled = "already enrolled";
constexpr const char* k_password_unavailable =
  "password not checked: the directory holding it cannot be reached";
constexpr const char* k_locked = "locked: contact your administrator";
constexpr std::int64_t k_prune_interval = 24 * 3600;
constexpr const char* k_no_policy = "no policy requires it";

void clear_pending(UserRecord& record)
{
  record.pending_secret.clear();
  record.pending_created_at = 0;
  record.pending_params = {};
}

std::uint32_t saturating_increment(std::uint32_t value)
{
  return value == std::numeric_limits<std::uint32_t>::max() ? value : value + 1;
}

} // namespace

Authenticator::Authenticator(SecretStore& store, const Sealer& sealer,
                             const BackupCodeHasher& backup_codes, PasswordChecker& passwords,
                             const Clock& clock, AuthenticatorSettings settings,
                             PolicyResolver* policy)
  : m_store(store), m_sealer(sealer), m_backup_codes(backup_codes), m_passwords(passwords),
    m_clock(clock), m_settings(settings), m_policy(policy)
{
}

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
  if (record.enrolled() || record.pass_until > now) {
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

std::mutex& Authenticator::lock_for(std::string_view user)
{
  return m_user_locks[std::hash<std::string_view>{}(user) % m_user_locks.size()];
}

std::uint32_t Authenticator::throttle_wait(const UserRecord& record, std::int64_t now) const
{
  if (record.failures < m_settings.throttle_after) {
    return 0;
  }
  // throttle_base after the throttle_after-th failure, doubling for each one after it.
  std::uint32_t doublings = std::min<std::uint32_t>(record.failures - m_settings.throttle_after, 31);
  std::uint64_t delay = static_cast<std::uint64_t>(m_settings.throttle_base) << doublings;
  delay = std::min<std::uint64_t>(delay, m_settings.throttle_max);
  std::int64_t until = record.last_failure_at + static_cast<std::int64_t>(delay);
  if (until <= now) {
    return 0;
  }
  // A clock stepped backwards must not stretch the wait past the delay itself.
  return static_cast<std::uint32_t>(std::min<std::int64_t>(until - now, static_cast<std::int64_t>(delay)));
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
  if (record->enrolled()) {
    status.state = protocol::EnrollmentState::active;
    status.enrolled_at = record->enrolled_at;
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

UserStatus Authenticator::describe(const UserRecord* record, const PolicyAnswer& policy,
                                   std::int64_t now) const
{
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
  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  return describe(loaded->has_value() ? &**loaded : nullptr, policy, m_clock.now());
}

Expected<std::uint64_t> Authenticator::match_code(std::string_view user, std::string_view purpose,
                                                  const std::vector<std::uint8_t>& sealed,
                                                  const totp::Parameters& params,
                                                  std::uint64_t last_step, std::string_view code,
                                                  std::int64_t now) const
{
  auto secret = m_sealer.open(sealed, user, purpose);
  if (!secret) {
    return make_error("the secret of " + log::sanitize(user) +
                      " cannot be opened (wrong master key, or the database was altered)");
  }
  // A malformed code is still run through the comparison (against a value no code has), so
  // that its timing matches a wrong code's.
  auto value = totp::parse_code(code, params.digits);
  std::uint32_t candidate = value ? *value : UINT32_MAX;
  auto step = totp::match_step(secret->span(), candidate,
                               totp::time_step(now, params.period), m_settings.window, params);
  if (!value || !step || *step <= last_step) {
    return std::uint64_t{0};
  }
  return *step;
}

Expected<Authenticator::CodeVerdict> Authenticator::verify(const UserRecord& record,
                                                           std::string_view code,
                                                           std::int64_t now,
                                                           bool allow_backup) const
{
  auto step = match_code(record.user, k_purpose_active, record.sealed_secret, record.params,
                         record.last_step, code, now);
  if (!step) {
    return Unexpected<Error>{step.error()};
  }
  const CodeShape shape = code_shape(code, record.params.digits);
  std::optional<std::size_t> backup;
  if (allow_backup) {
    backup = m_backup_codes.find(record.user, code, record.backup_codes);
  }
  if (shape == CodeShape::totp) {
    if (*step != 0) {
      return CodeVerdict{CodeKind::totp, *step, 0};
    }
    // Numeric backup codes (imported scratch codes) may have as many digits as a TOTP code;
    // a wrong one still counts as a wrong TOTP code, as its shape says.
    if (backup) {
      return CodeVerdict{CodeKind::backup_code, 0, *backup};
    }
    return CodeVerdict{};
  }
  if (shape == CodeShape::backup_code && allow_backup) {
    if (backup) {
      return CodeVerdict{CodeKind::backup_code, 0, *backup};
    }
    // Only someone with backup codes can be guessing them.
    return CodeVerdict{record.backup_codes.empty() ? CodeKind::wrong_code
                                                   : CodeKind::wrong_backup_code,
                       0, 0};
  }
  return CodeVerdict{};
}

bool Authenticator::count_failure(UserRecord& record, CodeKind kind, std::int64_t now) const
{
  record.failures = saturating_increment(record.failures);
  record.last_failure_at = now;
  bool locked_now = false;
  if (kind == CodeKind::wrong_backup_code) {
    record.backup_failures = saturating_increment(record.backup_failures);
    if (record.backup_failures >= m_settings.backup_lockout_after &&
        record.lock == LockState::none) {
      record.lock = LockState::second_factor;
      record.locked_at = now;
      locked_now = true;
    }
  }
  if (m_settings.lockout_after > 0 && record.failures >= m_settings.lockout_after &&
      record.lock != LockState::account) {
    record.lock = LockState::account;
    record.locked_at = now;
    locked_now = true;
  }
  return locked_now;
}

void Authenticator::count_success(UserRecord& record, const CodeVerdict& verdict)
{
  record.failures = 0;
  record.last_failure_at = 0;
  record.backup_failures = 0;
  if (verdict.kind == CodeKind::totp) {
    record.last_step = verdict.step;
  } else if (verdict.kind == CodeKind::backup_code) {
    record.backup_codes.erase(record.backup_codes.begin() +
                              static_cast<std::ptrdiff_t>(verdict.backup_index));
  }
}

// --- the audit trail ---------------------------------------------------------------------------

AuditEvent Authenticator::event(const Requester& who, std::string_view action,
                                std::string_view subject, std::string_view outcome,
                                std::string_view detail) const
{
  AuditEvent event;
  event.at = m_clock.now();
  event.actor_uid = who.uid;
  event.actor = who.name;
  event.action = action;
  event.subject = subject;
  event.service = who.service;
  event.rhost = who.rhost;
  event.tty = who.tty;
  event.outcome = outcome;
  event.detail = detail;
  return event;
}

std::int64_t Authenticator::prune_before()
{
  const std::int64_t now = m_clock.now();
  std::int64_t next = m_next_prune.load();
  if (now < next || !m_next_prune.compare_exchange_strong(next, now + k_prune_interval)) {
    return 0;
  }
  return now - static_cast<std::int64_t>(m_settings.audit_retention);
}

Expected<void> Authenticator::commit(std::span<const UserRecord> records, const AuditEvent& event)
{
  if (!m_audit_budget.allow(event.actor_uid, event.at)) {
    log::notice("audit row not stored (uid %u over its audit budget): actor=%s action=%s "
                "user=%s outcome=%s",
                event.actor_uid, log::sanitize(event.actor).c_str(),
                log::sanitize(event.action).c_str(), log::sanitize(event.subject).c_str(),
                log::sanitize(event.outcome).c_str());
    if (records.empty()) {
      return {};
    }
    return m_store.commit({records, {}, prune_before()});
  }
  return m_store.commit({records, {&event, 1}, prune_before()});
}

void Authenticator::record_event(const AuditEvent& event)
{
  if (auto done = commit(std::span<const UserRecord>(), event); !done) {
    log::error("audit: %s", done.error().message.c_str());
  }
}

// --- login ---------------------------------------------------------------------------------

AuthOutcome Authenticator::authenticate(std::string_view user, AuthMode mode,
                                        std::string_view password, std::string_view code,
                                        const Requester& who)
{
  // Every outcome but those of check_code() is recorded here, with nothing else to write.
  auto audited = [&](AuthOutcome outcome) {
    record_event(event(who, "login", user, protocol::name(outcome.result), outcome.reason));
    return outcome;
  };

  if (mode == AuthMode::code_only) {
    // No password to hash: one pass under the user's lock does it all (check_code sends a user
    // who is not enrolled on to admit_unenrolled).
    return check_code(user, mode, PasswordVerdict::match, code, who);
  }
  if (password.empty()) {
    return audited({AuthResult::denied, 0, "empty password"});
  }

  // First look: enrollment state, lock and throttle, before any expensive or counted work.
  std::optional<UserRecord> record;
  {
    std::lock_guard lock(lock_for(user));
    auto loaded = m_store.load(user);
    if (!loaded) {
      log::error("store: %s", loaded.error().message.c_str());
      return audited({AuthResult::unavailable, 0, "store error"});
    }
    record = std::move(*loaded);
  }
  // Whatever the password: the answer must not tell whether it was right.
  if (record && record->lock != LockState::none) {
    return audited({AuthResult::locked, 0, "locked"});
  }
  const bool enrolled = record && record->enrolled();

  if (mode == AuthMode::password_only) {
    if (enrolled) {
      // Never a way around the second factor: the client must ask for the code.
      m_passwords.check(user, password); // same timing as a real attempt
      return audited({AuthResult::denied, 0, "password-only login refused: the account has 2FA"});
    }
    switch (m_passwords.check(user, password)) {
    case PasswordVerdict::match:
      return admit_unenrolled(user, mode, who);
    case PasswordVerdict::unavailable:
      return audited({AuthResult::unavailable, 0, k_password_unavailable});
    case PasswordVerdict::mismatch:
      break;
    }
    return audited({AuthResult::denied, 0, "wrong password"});
  }

  if (!enrolled) {
    m_passwords.check(user, password);
    return audited({AuthResult::denied, 0, "not enrolled, code given"});
  }
  if (std::uint32_t wait = throttle_wait(*record, m_clock.now()); wait > 0) {
    return audited({AuthResult::throttled, wait, "throttled"});
  }

  return check_code(user, mode, m_passwords.check(user, password), code, who);
}

AuthOutcome Authenticator::admit_unenrolled(std::string_view user, AuthMode mode,
                                            const Requester& who)
{
  auto audited = [&](AuthOutcome outcome) {
    record_event(event(who, "login", user, protocol::name(outcome.result), outcome.reason));
    return outcome;
  };
  // Before the lock: the directory may take a while to answer.
  const PolicyAnswer policy = decide(user);
  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    log::error("store: %s", loaded.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "store error"});
  }
  UserRecord updated = record_or_new(std::move(*loaded), user);
  if (updated.lock != LockState::none) {
    return audited({AuthResult::locked, 0, "locked"});
  }
  if (updated.enrolled()) {
    // Enrolled since the first look: only a code can let this login through.
    return audited(mode == AuthMode::code_only
                     ? AuthOutcome{AuthResult::denied, 0, "enrolled during the login"}
                     : AuthOutcome{AuthResult::denied, 0, "the account changed during the login"});
  }
  const std::int64_t now = m_clock.now();
  if (!policy.known() && updated.pass_until <= now) {
    // Fail closed: without the policy nobody can say this login may skip the second factor.
    return audited({AuthResult::unavailable, 0, "policy unknown (directory unreachable, no cached answer)"});
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
  if (!keep) {
    record_event(event(who, "login", user, protocol::name(outcome.result), detail));
    return outcome;
  }
  if (auto saved = commit(updated, event(who, "login", user, protocol::name(outcome.result), detail));
      !saved) {
    log::error("store: %s", saved.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "store error"});
  }
  return outcome;
}

AuthOutcome Authenticator::check_code(std::string_view user, AuthMode mode, PasswordVerdict password,
                                      std::string_view code, const Requester& who)
{
  auto audited = [&](AuthOutcome outcome) {
    record_event(event(who, "login", user, protocol::name(outcome.result), outcome.reason));
    return outcome;
  };

  std::unique_lock lock(lock_for(user));
  // Reload under the lock: another login may have used a step or failed in the meantime.
  auto loaded = m_store.load(user);
  if (!loaded) {
    log::error("store: %s", loaded.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "store error"});
  }
  if (mode == AuthMode::code_only) {
    if (!loaded->has_value() ||
        (!(*loaded)->enrolled() && (*loaded)->lock == LockState::none)) {
      // Not enrolled: the policy says whether this login needs an enrollment. It may ask the
      // directory, so not under the lock.
      lock.unlock();
      return admit_unenrolled(user, mode, who);
    }
    if (code.empty()) {
      // The client took the user for unenrolled (they enrolled meanwhile): no code to count.
      return audited({AuthResult::denied, 0, "no code given"});
    }
  }
  if (loaded->has_value() && (*loaded)->lock != LockState::none) {
    return audited({AuthResult::locked, 0, "locked"});
  }
  if (!loaded->has_value() || !(*loaded)->enrolled()) {
    // Code only: the normal answer for a user without 2FA. After a password: the enrollment
    // went away between the two looks; no code can be checked, so no success.
    return audited(mode == AuthMode::code_only
                     ? AuthOutcome{AuthResult::not_enrolled, 0, "not enrolled"}
                     : AuthOutcome{AuthResult::denied, 0, "not enrolled"});
  }
  UserRecord& record = **loaded;
  const std::int64_t now = m_clock.now();
  if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
    return audited({AuthResult::throttled, wait, "throttled"});
  }

  auto verdict = verify(record, code, now, true);
  if (!verdict) {
    log::error("%s", verdict.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "secret unreadable"});
  }
  if (password == PasswordVerdict::unavailable) {
    // Nothing is known about the password: the code is neither counted nor used up, and the
    // same code works once the directory answers again.
    return audited({AuthResult::unavailable, 0, k_password_unavailable});
  }
  if (password != PasswordVerdict::match) {
    // A wrong password never counts toward the throttle or a lock: nobody can throttle or lock
    // an account without knowing its password.
    return audited({AuthResult::denied, 0, "wrong password"});
  }

  AuthOutcome outcome;
  std::string detail;
  if (verdict->kind == CodeKind::wrong_code || verdict->kind == CodeKind::wrong_backup_code) {
    const bool wrong_backup = verdict->kind == CodeKind::wrong_backup_code;
    const bool locked_now = count_failure(record, verdict->kind, now);
    outcome = {locked_now ? AuthResult::locked : AuthResult::denied, 0,
               wrong_backup ? "wrong backup code" : "wrong or reused code"};
    detail = outcome.reason;
    if (locked_now) {
      detail += record.lock == LockState::account ? "; the account is now locked"
                                                  : "; the second factor is now locked";
    }
  } else {
    count_success(record, *verdict);
    record.last_login_at = now;
    outcome.result = AuthResult::success;
    if (verdict->kind == CodeKind::backup_code) {
      outcome.reason = "password and backup code";
      outcome.factor = protocol::SecondFactor::backup_code;
      outcome.backup_codes_left = static_cast<unsigned>(record.backup_codes.size());
      detail = "password and backup code, " + std::to_string(outcome.backup_codes_left) + " left";
    } else {
      outcome.reason = mode == AuthMode::code_only ? "code" : "password and code";
      outcome.factor = protocol::SecondFactor::totp;
      detail = outcome.reason;
    }
  }
  // The step (or the backup code) is gone from disk before the client hears "success": a code
  // is never accepted twice. The audit event rides in the same commit.
  if (auto saved = commit(record, event(who, "login", user, protocol::name(outcome.result), detail));
      !saved) {
    log::error("store: %s", saved.error().message.c_str());
    return audited({AuthResult::unavailable, 0, "store error"});
  }
  return outcome;
}

// --- enrollment ----------------------------------------------------------------------------

Expected<EnrollmentOffer> Authenticator::start_pending(UserRecord& record, std::int64_t now) const
{
  EnrollmentOffer offer;
  offer.secret = SecretBytes(k_secret_bytes);
  if (!random_bytes({offer.secret.data(), offer.secret.size()})) {
    return make_error("the random number generator failed");
  }
  auto sealed = m_sealer.seal(offer.secret.span(), record.user, k_purpose_pending);
  if (!sealed) {
    return Unexpected<Error>{sealed.error()};
  }
  record.pending_secret = std::move(*sealed);
  record.pending_params = m_settings.new_enrollment;
  record.pending_created_at = now;
  offer.params = m_settings.new_enrollment;
  offer.expires_at = now + m_settings.enroll_timeout;
  return offer;
}

Expected<EnrollmentOffer> Authenticator::begin_enrollment(std::string_view user,
                                                          const Requester& who)
{
  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  UserRecord record = record_or_new(std::move(*loaded), user);
  if (record.lock != LockState::none) {
    record_event(event(who, "enroll-begin", user, "locked", ""));
    return make_error(Errc::locked, k_locked);
  }
  if (record.enrolled()) {
    record_event(event(who, "enroll-begin", user, "refused", "already enrolled"));
    return make_error(Errc::already_enrolled, k_already_enrolled);
  }

  const std::int64_t now = m_clock.now();
  // A pending secret still in its window is shown again, not replaced: the user may have scanned
  // it in a login or a run of the CLI that ended before a code confirmed it.
  if (record.has_pending() &&
      now - record.pending_created_at < static_cast<std::int64_t>(m_settings.enroll_timeout)) {
    auto secret = m_sealer.open(record.pending_secret, user, k_purpose_pending);
    if (!secret) {
      return Unexpected<Error>{secret.error()};
    }
    record_event(event(who, "enroll-begin", user, "resumed", "the pending secret is shown again"));
    return EnrollmentOffer{std::move(*secret), record.pending_params,
                           record.pending_created_at + m_settings.enroll_timeout};
  }
  auto offer = start_pending(record, now);
  if (!offer) {
    return Unexpected<Error>{offer.error()};
  }
  if (auto saved = commit(record, event(who, "enroll-begin", user, "started", "")); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return offer;
}

Expected<EnrollOutcome> Authenticator::confirm_enrollment(std::string_view user,
                                                          std::string_view code,
                                                          const Requester& who)
{
  constexpr std::string_view k_action = "enroll-confirm";
  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value() || !(*loaded)->has_pending()) {
    record_event(event(who, k_action, user, "no-pending", ""));
    return EnrollOutcome{EnrollResult::no_pending, 0};
  }
  UserRecord& record = **loaded;
  std::int64_t now = m_clock.now();
  if (now - record.pending_created_at >= static_cast<std::int64_t>(m_settings.enroll_timeout)) {
    clear_pending(record);
    if (auto saved = commit(record, event(who, k_action, user, "expired", "")); !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return EnrollOutcome{EnrollResult::expired, 0};
  }
  if (record.lock != LockState::none) {
    record_event(event(who, k_action, user, "locked", ""));
    return EnrollOutcome{EnrollResult::locked, 0};
  }
  if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
    record_event(event(who, k_action, user, "throttled", ""));
    return EnrollOutcome{EnrollResult::throttled, wait};
  }

  auto step = match_code(user, k_purpose_pending, record.pending_secret, record.pending_params, 0,
                         code, now);
  if (!step) {
    return Unexpected<Error>{step.error()};
  }
  if (*step == 0) {
    const bool locked_now = count_failure(record, CodeKind::wrong_code, now);
    if (auto saved = commit(record, event(who, k_action, user, locked_now ? "locked" : "bad-code",
                                          "wrong code"));
        !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return EnrollOutcome{locked_now ? EnrollResult::locked : EnrollResult::bad_code, 0};
  }

  // Re-seal under the "active" purpose: a pending blob can never be mistaken for an active one.
  auto secret = m_sealer.open(record.pending_secret, user, k_purpose_pending);
  if (!secret) {
    return Unexpected<Error>{secret.error()};
  }
  auto sealed = m_sealer.seal(secret->span(), user, k_purpose_active);
  if (!sealed) {
    return Unexpected<Error>{sealed.error()};
  }
  const bool replacing = record.enrolled();
  record.sealed_secret = std::move(*sealed);
  record.params = record.pending_params;
  record.enrolled_at = now;
  record.last_step = *step; // the confirming code may not be replayed for a login
  record.failures = 0;
  record.last_failure_at = 0;
  record.backup_failures = 0;
  record.pass_until = 0; // a new phone ends a temporary pass
  record.grace_until = 0;
  clear_pending(record);
  if (auto saved = commit(record, event(who, k_action, user, "confirmed",
                                        replacing ? "the new secret replaced the old one" : ""));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return EnrollOutcome{EnrollResult::confirmed, 0};
}

// --- code-proven self-service --------------------------------------------------------------

Expected<std::optional<UserRecord>> Authenticator::load_for_code(std::string_view user,
                                                                 std::int64_t now,
                                                                 CodeOutcome& refused) const
{
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value() || !(*loaded)->enrolled()) {
    refused = {CodeResult::not_enrolled, 0};
    return std::optional<UserRecord>{};
  }
  if ((*loaded)->lock != LockState::none) {
    refused = {CodeResult::locked, 0};
    return std::optional<UserRecord>{};
  }
  if (std::uint32_t wait = throttle_wait(**loaded, now); wait > 0) {
    refused = {CodeResult::throttled, wait};
    return std::optional<UserRecord>{};
  }
  return std::move(*loaded);
}

Expected<bool> Authenticator::settle_code(UserRecord& record, const CodeVerdict& verdict,
                                          std::int64_t now, const Requester& who,
                                          std::string_view action, CodeOutcome& refused)
{
  if (verdict.kind == CodeKind::totp || verdict.kind == CodeKind::backup_code) {
    count_success(record, verdict);
    return true;
  }
  const bool locked_now = count_failure(record, verdict.kind, now);
  refused = {locked_now ? CodeResult::locked : CodeResult::bad_code, 0};
  const char* detail =
    verdict.kind == CodeKind::wrong_backup_code ? "wrong backup code" : "wrong code";
  if (auto saved = commit(record, event(who, action, record.user, protocol::name(refused.result),
                                        detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return false;
}

Expected<std::optional<Authenticator::ProvenRecord>>
Authenticator::prove_code(std::string_view user, std::string_view code, bool accept_backup,
                          std::int64_t now, const Requester& who, std::string_view action,
                          CodeOutcome& outcome)
{
  auto loaded = load_for_code(user, now, outcome);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value()) {
    record_event(event(who, action, user, protocol::name(outcome.result), ""));
    return std::optional<ProvenRecord>{};
  }
  UserRecord& record = **loaded;
  auto verdict = verify(record, code, now, accept_backup);
  if (!verdict) {
    return Unexpected<Error>{verdict.error()};
  }
  auto settled = settle_code(record, *verdict, now, who, action, outcome);
  if (!settled) {
    return Unexpected<Error>{settled.error()};
  }
  if (!*settled) {
    return std::optional<ProvenRecord>{};
  }
  return std::optional<ProvenRecord>{ProvenRecord{std::move(record), *verdict}};
}

Expected<ReplaceOutcome> Authenticator::replace_enrollment(std::string_view user,
                                                           std::string_view code,
                                                           const Requester& who)
{
  constexpr std::string_view k_action = "enroll-replace";
  std::lock_guard lock(lock_for(user));
  const std::int64_t now = m_clock.now();
  ReplaceOutcome outcome;
  auto proven = prove_code(user, code, true, now, who, k_action, outcome.code);
  if (!proven) {
    return Unexpected<Error>{proven.error()};
  }
  if (!proven->has_value()) {
    return outcome;
  }
  UserRecord& record = (*proven)->record;
  const CodeVerdict& verdict = (*proven)->verdict;

  auto offer = start_pending(record, now);
  if (!offer) {
    return Unexpected<Error>{offer.error()};
  }
  const char* detail = verdict.kind == CodeKind::backup_code
                         ? "proved with a backup code; the old secret works until confirmation"
                         : "the old secret works until confirmation";
  if (auto saved = commit(record, event(who, k_action, user, "success", detail)); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  outcome.code = {CodeResult::ok, 0};
  outcome.offer = std::move(*offer);
  return outcome;
}

Expected<BackupCodesOutcome> Authenticator::new_backup_codes(std::string_view user,
                                                             std::string_view code,
                                                             const Requester& who)
{
  constexpr std::string_view k_action = "backup-codes";
  std::lock_guard lock(lock_for(user));
  const std::int64_t now = m_clock.now();
  BackupCodesOutcome outcome;
  // A TOTP code only: a set of backup codes must not be able to renew itself.
  auto proven = prove_code(user, code, false, now, who, k_action, outcome.code);
  if (!proven) {
    return Unexpected<Error>{proven.error()};
  }
  if (!proven->has_value()) {
    return outcome;
  }
  UserRecord& record = (*proven)->record;

  auto codes = generate_backup_codes(protocol::k_backup_codes_per_set);
  if (!codes) {
    return Unexpected<Error>{codes.error()};
  }
  record.backup_codes.clear();
  for (const SecretBytes& new_code : *codes) {
    auto hash = m_backup_codes.hash(user, new_code.view());
    if (!hash) {
      return make_error("cannot hash a backup code");
    }
    record.backup_codes.push_back(*hash);
  }
  if (auto saved = commit(record, event(who, k_action, user, "success",
                                        "a new set of 10; the old set is void"));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  outcome.code = {CodeResult::ok, 0};
  outcome.codes = std::move(*codes);
  return outcome;
}

Expected<CodeOutcome> Authenticator::disable(std::string_view user, std::string_view code,
                                             const Requester& who)
{
  constexpr std::string_view k_action = "disable";
  std::lock_guard lock(lock_for(user));
  const std::int64_t now = m_clock.now();
  CodeOutcome outcome;
  auto proven = prove_code(user, code, true, now, who, k_action, outcome);
  if (!proven) {
    return Unexpected<Error>{proven.error()};
  }
  if (!proven->has_value()) {
    return outcome;
  }
  UserRecord& record = (*proven)->record;
  const CodeVerdict& verdict = (*proven)->verdict;
  record.sealed_secret.clear();
  record.enrolled_at = 0;
  record.backup_codes.clear();
  clear_pending(record);
  const char* detail = verdict.kind == CodeKind::backup_code ? "proved with a backup code" : "";
  if (auto saved = commit(record, event(who, k_action, user, "success", detail)); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return CodeOutcome{CodeResult::ok, 0};
}

} // namespace studio2fa
