#include "authenticator.hpp"

#include "base32.hpp"
#include "log.hpp"

#include <algorithm>
#include <functional>

namespace studio2fa {

namespace {

constexpr std::string_view k_purpose_active = "totp";
constexpr std::string_view k_purpose_pending = "pending";
constexpr std::size_t k_secret_bytes = 20; // 160 bits, RFC 4226's recommendation
constexpr const char* k_already_enrolled = "already enrolled";

void clear_pending(UserRecord& record)
{
  record.pending_secret.clear();
  record.pending_created_at = 0;
  record.pending_params = {};
}

} // namespace

Authenticator::Authenticator(SecretStore& store, const Sealer& sealer, PasswordChecker& passwords,
                             const Clock& clock, AuthenticatorSettings settings)
  : m_store(store), m_sealer(sealer), m_passwords(passwords), m_clock(clock),
    m_settings(settings)
{
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

Expected<UserStatus> Authenticator::status(std::string_view user)
{
  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  UserStatus status;
  if (!loaded->has_value()) {
    return status;
  }
  const UserRecord& record = **loaded;
  std::int64_t now = m_clock.now();
  if (record.enrolled()) {
    status.state = protocol::EnrollmentState::active;
    status.enrolled_at = record.enrolled_at;
  } else if (record.has_pending() &&
             now - record.pending_created_at < static_cast<std::int64_t>(m_settings.enroll_timeout)) {
    status.state = protocol::EnrollmentState::pending;
  }
  status.failures = record.failures;
  status.retry_after = throttle_wait(record, now);
  return status;
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

AuthOutcome Authenticator::authenticate(std::string_view user, protocol::AuthMode mode,
                                        std::string_view password, std::string_view code)
{
  using protocol::AuthMode;
  using protocol::AuthResult;

  if (mode == AuthMode::code_only) {
    // No password to hash: one pass under the user's lock does it all.
    return check_code(user, mode, true, code);
  }
  if (password.empty()) {
    return {AuthResult::denied, 0, "empty password"};
  }

  // First look: enrollment state and throttle, before any expensive or counted work.
  std::optional<UserRecord> record;
  {
    std::lock_guard lock(lock_for(user));
    auto loaded = m_store.load(user);
    if (!loaded) {
      log::error("store: %s", loaded.error().message.c_str());
      return {AuthResult::unavailable, 0, "store error"};
    }
    record = std::move(*loaded);
  }
  bool enrolled = record && record->enrolled();

  if (mode == AuthMode::password_only) {
    if (enrolled) {
      // Never a way around the second factor: the client must ask for the code.
      m_passwords.check(user, password); // same timing as a real attempt
      return {AuthResult::denied, 0, "password-only login refused: the account has 2FA"};
    }
    bool ok = m_passwords.check(user, password);
    return ok ? AuthOutcome{AuthResult::success, 0, "password"}
              : AuthOutcome{AuthResult::denied, 0, "wrong password"};
  }

  if (!enrolled) {
    m_passwords.check(user, password);
    return {AuthResult::denied, 0, "not enrolled, code given"};
  }
  if (std::uint32_t wait = throttle_wait(*record, m_clock.now()); wait > 0) {
    return {AuthResult::throttled, wait, "throttled"};
  }

  return check_code(user, mode, m_passwords.check(user, password), code);
}

AuthOutcome Authenticator::check_code(std::string_view user, protocol::AuthMode mode,
                                      bool password_ok, std::string_view code)
{
  using protocol::AuthResult;

  std::lock_guard lock(lock_for(user));
  // Reload under the lock: another login may have used a step or failed in the meantime.
  auto loaded = m_store.load(user);
  if (!loaded) {
    log::error("store: %s", loaded.error().message.c_str());
    return {AuthResult::unavailable, 0, "store error"};
  }
  if (!loaded->has_value() || !(*loaded)->enrolled()) {
    // Code only: the normal answer for a user without 2FA. After a password: the enrollment
    // went away between the two looks; no code can be checked, so no success.
    return mode == protocol::AuthMode::code_only ? AuthOutcome{AuthResult::not_enrolled, 0, "not enrolled"}
                                 : AuthOutcome{AuthResult::denied, 0, "not enrolled"};
  }
  UserRecord& record = **loaded;
  std::int64_t now = m_clock.now();
  if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
    return {AuthResult::throttled, wait, "throttled"};
  }

  auto step = match_code(user, k_purpose_active, record.sealed_secret, record.params,
                         record.last_step, code, now);
  if (!step) {
    log::error("%s", step.error().message.c_str());
    return {AuthResult::unavailable, 0, "secret unreadable"};
  }
  if (!password_ok) {
    // A wrong password never counts toward the code throttle: nobody can throttle an account
    // without knowing its password.
    return {AuthResult::denied, 0, "wrong password"};
  }
  if (*step == 0) {
    record.failures += 1;
    record.last_failure_at = now;
    if (auto saved = m_store.save(record); !saved) {
      log::error("store: %s", saved.error().message.c_str());
      return {AuthResult::unavailable, 0, "store error"};
    }
    return {AuthResult::denied, 0, "wrong or reused code"};
  }
  record.last_step = *step;
  record.failures = 0;
  record.last_failure_at = 0;
  // The step is on disk before the client hears "success": a code is never accepted twice.
  if (auto saved = m_store.save(record); !saved) {
    log::error("store: %s", saved.error().message.c_str());
    return {AuthResult::unavailable, 0, "store error"};
  }
  return {AuthResult::success, 0, "password and code"};
}

bool Authenticator::is_already_enrolled(const Error& error)
{
  return error.message == k_already_enrolled;
}

Expected<EnrollmentOffer> Authenticator::begin_enrollment(std::string_view user)
{
  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  UserRecord record;
  if (loaded->has_value()) {
    record = std::move(**loaded);
  } else {
    record.user = std::string(user);
  }
  if (record.enrolled()) {
    return make_error(k_already_enrolled);
  }

  EnrollmentOffer offer;
  offer.secret = SecretBytes(k_secret_bytes);
  if (!random_bytes({offer.secret.data(), offer.secret.size()})) {
    return make_error("the random number generator failed");
  }
  auto sealed = m_sealer.seal(offer.secret.span(), user, k_purpose_pending);
  if (!sealed) {
    return Unexpected<Error>{sealed.error()};
  }
  std::int64_t now = m_clock.now();
  record.pending_secret = std::move(*sealed);
  record.pending_params = m_settings.new_enrollment;
  record.pending_created_at = now;
  if (auto saved = m_store.save(record); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  offer.params = m_settings.new_enrollment;
  offer.expires_at = now + m_settings.enroll_timeout;
  return offer;
}

Expected<EnrollOutcome> Authenticator::confirm_enrollment(std::string_view user,
                                                          std::string_view code)
{
  using protocol::EnrollResult;

  std::lock_guard lock(lock_for(user));
  auto loaded = m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value() || !(*loaded)->has_pending()) {
    return EnrollOutcome{EnrollResult::no_pending, 0};
  }
  UserRecord& record = **loaded;
  std::int64_t now = m_clock.now();
  if (now - record.pending_created_at >= static_cast<std::int64_t>(m_settings.enroll_timeout)) {
    clear_pending(record);
    if (auto saved = m_store.save(record); !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return EnrollOutcome{EnrollResult::expired, 0};
  }
  if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
    return EnrollOutcome{EnrollResult::throttled, wait};
  }

  auto step = match_code(user, k_purpose_pending, record.pending_secret, record.pending_params, 0,
                         code, now);
  if (!step) {
    return Unexpected<Error>{step.error()};
  }
  if (*step == 0) {
    record.failures += 1;
    record.last_failure_at = now;
    if (auto saved = m_store.save(record); !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return EnrollOutcome{EnrollResult::bad_code, 0};
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
  record.sealed_secret = std::move(*sealed);
  record.params = record.pending_params;
  record.enrolled_at = now;
  record.last_step = *step; // the confirming code may not be replayed for a login
  record.failures = 0;
  record.last_failure_at = 0;
  clear_pending(record);
  if (auto saved = m_store.save(record); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return EnrollOutcome{EnrollResult::confirmed, 0};
}

} // namespace studio2fa
