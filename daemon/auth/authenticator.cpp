// The login flow: AUTHENTICATE in its three modes (PROTOCOL.md).
#include "authenticator.hpp"

#include "log.hpp"

#include <algorithm>
#include <optional>

namespace studio2fa {

namespace {

using protocol::AuthMode;
using protocol::AuthResult;
using protocol::LockState;

constexpr const char* k_password_unavailable =
    "password not checked: the directory holding it cannot be reached";

// Whether wrong passwords of this request count like wrong codes. Root's callers are the PAM
// stacks of sshd, login, su and sudo: there a wrong password counts for nothing, so nobody can
// throttle or lock an account without knowing its password. Any other peer asks about its own
// account (a screen locker, the CLI, or whatever else runs as the user): unthrottled, it could
// test the user's password at full speed and learn the one sudo wants.
bool counts_wrong_passwords(const Requester& who)
{
  return who.uid != 0;
}

// A login whose password check got no turn (PasswordQueue): nothing was evaluated.
AuthOutcome busy()
{
  AuthOutcome outcome{AuthResult::unavailable, 0, "password check not run: too many waiting"};
  outcome.busy = true;
  return outcome;
}

} // namespace

Authenticator::Authenticator(AccountLedger& ledger, const Sealer& sealer,
                             const BackupCodeHasher& backup_codes, PasswordChecker& passwords,
                             AuthenticatorSettings settings, PolicyResolver* policy,
                             PasswordQueue* password_queue, PhoneLogin phone)
    : m_ledger(ledger),
      m_factors(sealer, backup_codes,
                FactorRules{settings.window, settings.lockout_after, settings.backup_lockout_after},
                phone.codes),
      m_passwords(passwords), m_settings(settings), m_policy(policy),
      m_password_queue(password_queue), m_phone(phone)
{
}

std::uint32_t Authenticator::throttle_wait(const UserRecord& record, std::int64_t now) const
{
  if (record.failures < m_settings.throttle_after) {
    return 0;
  }
  // throttle_base after the throttle_after-th failure, doubling for each one after it.
  std::uint32_t doublings =
      std::min<std::uint32_t>(record.failures - m_settings.throttle_after, 31);
  std::uint64_t delay = static_cast<std::uint64_t>(m_settings.throttle_base) << doublings;
  delay = std::min<std::uint64_t>(delay, m_settings.throttle_max);
  std::int64_t until = record.last_failure_at + static_cast<std::int64_t>(delay);
  if (until <= now) {
    return 0;
  }
  // A clock stepped backwards must not stretch the wait past the delay itself.
  return static_cast<std::uint32_t>(
      std::min<std::int64_t>(until - now, static_cast<std::int64_t>(delay)));
}

bool Authenticator::leads_to_commit(const std::optional<UserRecord>& record, std::string_view code,
                                    std::int64_t now) const
{
  return record && record->has_second_factor() && record->lock == LockState::none && !code.empty() &&
         throttle_wait(*record, now) == 0;
}

AuthOutcome Authenticator::record_login(const Requester& who, std::string_view user,
                                        AuthOutcome outcome)
{
  m_ledger.record(
      m_ledger.event(who, "login", user, protocol::name(outcome.result), outcome.reason));
  return outcome;
}

AuthOutcome Authenticator::authenticate(std::string_view user, AuthMode mode,
                                        std::string_view password, std::string_view code,
                                        const Requester& who)
{
  // Every outcome but those of check_code() is recorded here, with nothing else to write.
  auto audited = [&](AuthOutcome outcome) { return record_login(who, user, outcome); };

  if (mode == AuthMode::code_only) {
    // No password to hash: one pass under the user's lock does it all (check_code sends a user
    // who is not enrolled on to admit_unenrolled).
    return check_code(user, mode, PasswordVerdict::match, code, who);
  }
  if (password.empty()) {
    return audited({AuthResult::denied, 0, "empty password"});
  }

  // First look: enrollment state, lock and throttle, before any expensive or counted work. With
  // a code, the store's own copy of the record will do (load_for_commit: a directory store then
  // reads nothing here) when it leads on to check_code, whose decision is a commit that checks
  // the copy; whatever a copy would decide here without one is decided on a fresh load.
  std::optional<UserRecord> record;
  {
    auto held = m_ledger.lock(user);
    auto loaded = [&]() -> Expected<std::optional<UserRecord>> {
      if (mode == AuthMode::password_and_code) {
        auto first = m_ledger.load_for_commit(user);
        if (!first) {
          return Unexpected<Error>{first.error()};
        }
        if (!first->copy || leads_to_commit(first->record, code, m_ledger.now())) {
          return std::move(first->record);
        }
      }
      return m_ledger.load(user);
    }();
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
  const bool enrolled = record && record->has_second_factor();

  // A throttled subject's password is not checked when a wrong one would count (a peer other
  // than root), nor before a code.
  const bool throttles =
      counts_wrong_passwords(who) || (mode != AuthMode::password_only && enrolled);
  if (throttles && record) {
    if (std::uint32_t wait = throttle_wait(*record, m_ledger.now()); wait > 0) {
      return audited({AuthResult::throttled, wait, "throttled"});
    }
  }

  const std::optional<PasswordVerdict> password_verdict = check_password(user, password, who);
  if (!password_verdict) {
    return busy();
  }
  if (mode == AuthMode::password_only) {
    if (enrolled) {
      // Never a way around the second factor: the client must ask for the code. The password
      // was checked all the same, for the timing of a real attempt.
      return audited({AuthResult::denied, 0, "password-only login refused: the account has 2FA"});
    }
    switch (*password_verdict) {
    case PasswordVerdict::match:
      return admit_unenrolled(user, mode, who);
    case PasswordVerdict::unavailable:
      return audited({AuthResult::unavailable, 0, k_password_unavailable});
    case PasswordVerdict::mismatch:
      break;
    }
    if (counts_wrong_passwords(who)) {
      return count_wrong_password(user, who);
    }
    return audited({AuthResult::denied, 0, "wrong password"});
  }

  if (!enrolled) {
    return audited({AuthResult::denied, 0, "not enrolled, code given"});
  }
  return check_code(user, mode, *password_verdict, code, who);
}

std::optional<PasswordVerdict> Authenticator::check_password(std::string_view user,
                                                             std::string_view password,
                                                             const Requester& who)
{
  if (m_password_queue == nullptr) {
    return m_passwords.check(user, password);
  }
  auto turn = m_password_queue->wait_turn(who.uid);
  if (!turn) {
    log::warning("password check for %s not run: %s; answering busy", log::sanitize(user).c_str(),
                 turn.error().message.c_str());
    return std::nullopt;
  }
  return m_passwords.check(user, password);
}

AuthOutcome Authenticator::check_code(std::string_view user, AuthMode mode,
                                      PasswordVerdict password, std::string_view code,
                                      const Requester& who)
{
  auto audited = [&](AuthOutcome outcome) { return record_login(who, user, outcome); };

  auto held = m_ledger.lock(user);
  // Another host sharing the records may write between the load and the commit: the commit
  // then fails with Errc::conflict, and the login is decided again on what that host wrote (its
  // use of this very code makes it a replay; its lock is seen).
  //
  // The first look may be the store's own copy of the record (load_for_commit: a directory store
  // then sends no read, only the conditional write). A copy only ever leads to a commit, which
  // checks it; anything a copy would decide without one is decided again on a fresh load.
  for (unsigned attempt = 1;; ++attempt) {
    // Reload under the lock: another login may have used a step or failed in the meantime.
    bool from_copy = false;
    auto loaded = [&]() -> Expected<std::optional<UserRecord>> {
      if (attempt > 1) {
        return m_ledger.load(user);
      }
      auto first = m_ledger.load_for_commit(user);
      if (!first) {
        return Unexpected<Error>{first.error()};
      }
      from_copy = first->copy;
      return std::move(first->record);
    }();
    if (!loaded) {
      log::error("store: %s", loaded.error().message.c_str());
      return audited({AuthResult::unavailable, 0, "store error"});
    }
    if (from_copy && !leads_to_commit(*loaded, code, m_ledger.now())) {
      continue;
    }
    if (mode == AuthMode::code_only) {
      if (!loaded->has_value() ||
          (!(*loaded)->has_second_factor() && (*loaded)->lock == LockState::none)) {
        // Not enrolled: the policy says whether this login needs an enrollment. It may ask the
        // directory, so not under the lock.
        held.unlock();
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
    if (!loaded->has_value() || !(*loaded)->has_second_factor()) {
      // Code only: the normal answer for a user without 2FA. After a password: the enrollment
      // went away between the two looks; no code can be checked, so no success.
      return audited(mode == AuthMode::code_only
                         ? AuthOutcome{AuthResult::not_enrolled, 0, "not enrolled"}
                         : AuthOutcome{AuthResult::denied, 0, "not enrolled"});
    }
    UserRecord& record = **loaded;
    const std::int64_t now = m_ledger.now();
    if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
      return audited({AuthResult::throttled, wait, "throttled"});
    }

    auto verdict = m_factors.verify(record, code, now);
    if (!verdict && from_copy) {
      continue;
    }
    if (!verdict) {
      log::error("%s", verdict.error().message.c_str());
      return audited({AuthResult::unavailable, 0, "secret unreadable"});
    }
    if (password == PasswordVerdict::unavailable) {
      // Nothing is known about the password: the code is neither counted nor used up, and the
      // same code works once the directory answers again.
      return audited({AuthResult::unavailable, 0, k_password_unavailable});
    }
    const bool wrong_password = password != PasswordVerdict::match;
    if (wrong_password) {
      if (!counts_wrong_passwords(who)) {
        return audited({AuthResult::denied, 0, "wrong password"});
      }
      // Counted exactly as the same code after a right password would be, so that neither the
      // answer nor the counters tell whether the password was right; a right code is not used up.
      verdict->proved = nullptr;
    }

    const bool backup_code = verdict->kind() == protocol::SecondFactor::backup_code;
    const bool locked_now = m_factors.settle(record, *verdict, now);
    AuthOutcome outcome;
    std::string detail;
    if (!verdict->right()) {
      outcome = {locked_now ? AuthResult::locked : AuthResult::denied, 0,
                 wrong_password ? "wrong password"
                 : backup_code  ? "wrong backup code"
                                : "wrong or reused code"};
      detail = outcome.reason;
      if (locked_now) {
        detail += record.lock == LockState::account ? "; the account is now locked"
                                                    : "; the second factor is now locked";
      }
    } else {
      record.last_login_at = now;
      outcome.result = AuthResult::success;
      outcome.factor = verdict->kind();
      if (backup_code) {
        outcome.reason = "password and backup code";
        outcome.backup_codes_left = static_cast<unsigned>(record.backup_codes.size());
        detail = "password and backup code, " + std::to_string(outcome.backup_codes_left) + " left";
      } else {
        outcome.reason = mode == AuthMode::code_only ? "code" : "password and code";
        detail = outcome.reason;
      }
    }
    // The step (or the backup code) is gone from disk before the client hears "success": a code
    // is never accepted twice. The audit event rides in the same commit.
    if (auto saved = m_ledger.commit(
            record, m_ledger.event(who, "login", user, protocol::name(outcome.result), detail));
        !saved) {
      // A copy that could not be written for any other reason (the directory did not answer)
      // is decided again on a load, which knows what to do then (offline_logins).
      if (AccountLedger::try_again(saved.error(), attempt) || from_copy) {
        continue;
      }
      log::error("store: %s", saved.error().message.c_str());
      return audited({AuthResult::unavailable, 0, "store error"});
    }
    return outcome;
  }
}

AuthOutcome Authenticator::count_wrong_password(std::string_view user, const Requester& who)
{
  auto held = m_ledger.lock(user);
  for (unsigned attempt = 1;; ++attempt) {
    auto loaded = m_ledger.load(user);
    if (!loaded) {
      log::error("store: %s", loaded.error().message.c_str());
      return record_login(who, user, {AuthResult::unavailable, 0, "store error"});
    }
    UserRecord record = record_or_new(std::move(*loaded), user);
    const std::int64_t now = m_ledger.now();
    const bool locked_now = m_factors.settle(record, CodeVerdict{}, now);
    AuthOutcome outcome{locked_now ? AuthResult::locked : AuthResult::denied, 0, "wrong password"};
    std::string detail = "wrong password";
    if (locked_now) {
      detail += "; the account is now locked";
    }
    if (auto saved = m_ledger.commit(
            record, m_ledger.event(who, "login", user, protocol::name(outcome.result), detail));
        !saved) {
      if (AccountLedger::try_again(saved.error(), attempt)) {
        continue;
      }
      log::error("store: %s", saved.error().message.c_str());
      return record_login(who, user, {AuthResult::unavailable, 0, "store error"});
    }
    return outcome;
  }
}

} // namespace studio2fa
