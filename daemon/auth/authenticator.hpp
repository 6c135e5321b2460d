// The decisions of studio2fad: who is enrolled, whether a login's password and code are right,
// backup codes, throttling and locks, and the enrollment life cycle; each outcome written to the
// audit trail together with the record it changed. Transport-free: the request handler turns
// protocol messages into these calls, and unit tests call them directly with a set clock.
#pragma once

#include "backup_codes.hpp"
#include "audit_budget.hpp"
#include "clock.hpp"
#include "password_checker.hpp"
#include "policy.hpp"
#include "protocol.hpp"
#include "sealer.hpp"
#include "secret_bytes.hpp"
#include "store.hpp"
#include "totp.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

struct AuthenticatorSettings {
  totp::Parameters new_enrollment; // parameters given to new enrollments
  unsigned window = 1;
  unsigned enroll_timeout = 600;
  unsigned throttle_after = 5;
  unsigned throttle_base = 2;
  unsigned throttle_max = 900;
  unsigned lockout_after = 20;        // 0: never
  unsigned backup_lockout_after = 3;
  unsigned audit_retention = 365 * 86400;
};

// Who asked, for the audit trail: the peer, and for a login where it came from.
struct Requester {
  std::uint32_t uid = 0;
  std::string name;
  std::string service;
  std::string rhost;
  std::string tty;
};

struct UserStatus {
  protocol::EnrollmentState state = protocol::EnrollmentState::none;
  std::int64_t enrolled_at = 0;
  std::uint32_t failures = 0;
  std::uint32_t retry_after = 0;
  protocol::LockState lock = protocol::LockState::none;
  unsigned backup_codes = 0;
  std::int64_t pass_until = 0;
  std::int64_t last_login = 0;
  bool replacing = false;
  // What the policy (PolicyResolver) says, and for a required user who is not enrolled the end
  // of their grace period (UserRecord::k_enroll_now: none left).
  bool required = false;
  std::int64_t grace_until = 0;
  std::string reason;
};

struct AuthOutcome {
  protocol::AuthResult result = protocol::AuthResult::denied;
  std::uint32_t retry_after = 0;
  // Why, for the log and the audit trail only (never shown to the client): e.g. "wrong code".
  const char* reason = "";
  protocol::SecondFactor factor = protocol::SecondFactor::none;
  unsigned backup_codes_left = 0; // with factor backup_code
  std::int64_t grace_until = 0;   // success in mode 1 / not_enrolled in mode 3 during grace
};

struct EnrollmentOffer {
  SecretBytes secret; // raw bytes; the caller encodes them for the reply and drops them
  totp::Parameters params;
  std::int64_t expires_at = 0;
};

struct EnrollOutcome {
  protocol::EnrollResult result = protocol::EnrollResult::bad_code;
  std::uint32_t retry_after = 0;
};

// The answer to a code-proven self-service request.
struct CodeOutcome {
  protocol::CodeResult result = protocol::CodeResult::bad_code;
  std::uint32_t retry_after = 0;
};

struct ReplaceOutcome {
  CodeOutcome code;
  EnrollmentOffer offer; // with CodeResult::ok
};

struct BackupCodesOutcome {
  CodeOutcome code;
  std::vector<SecretBytes> codes; // with CodeResult::ok: the new set, XXXX-XXXX-XXXX
};

class AccountAdmin;

class Authenticator {
public:
  // Without `policy`, nobody is required to use 2FA.
  Authenticator(Store& store, const Sealer& sealer, const BackupCodeHasher& backup_codes,
                PasswordChecker& passwords, const Clock& clock, AuthenticatorSettings settings,
                PolicyResolver* policy = nullptr);

  Expected<UserStatus> status(std::string_view user);

  // Evaluates the factors that `mode` asks for (see PROTOCOL.md, AUTHENTICATE).
  AuthOutcome authenticate(std::string_view user, protocol::AuthMode mode,
                           std::string_view password, std::string_view code,
                           const Requester& who);

  // Errors: Errc::already_enrolled, Errc::locked, or a store or crypto failure.
  Expected<EnrollmentOffer> begin_enrollment(std::string_view user, const Requester& who);

  Expected<EnrollOutcome> confirm_enrollment(std::string_view user, std::string_view code,
                                             const Requester& who);

  // A new pending secret beside the active one, once `code` (a TOTP or a backup code of the
  // active secret) proves the second factor. ENROLL_CONFIRM then swaps them.
  Expected<ReplaceOutcome> replace_enrollment(std::string_view user, std::string_view code,
                                              const Requester& who);

  // A new set of backup codes (voiding the old), once `code` (a TOTP code) proves the factor.
  Expected<BackupCodesOutcome> new_backup_codes(std::string_view user, std::string_view code,
                                                const Requester& who);

  // Turns the second factor off, once `code` (a TOTP or a backup code) proves it.
  Expected<CodeOutcome> disable(std::string_view user, std::string_view code,
                                const Requester& who);

private:
  friend class AccountAdmin;

  // What a code turned out to be, under the user's lock.
  enum class CodeKind { totp, backup_code, wrong_code, wrong_backup_code };
  struct CodeVerdict {
    CodeKind kind = CodeKind::wrong_code;
    std::uint64_t step = 0;         // with totp
    std::size_t backup_index = 0;   // with backup_code
  };

  // A record whose owner proved the second factor for a self-service action.
  struct ProvenRecord {
    UserRecord record;
    CodeVerdict verdict;
  };
  // Under the user's lock: loads the record, checks the code (a backup code too when
  // `accept_backup`) and settles it (a failure counted, or the code used up). Empty when the
  // action may not go ahead; `outcome` then says why.
  Expected<std::optional<ProvenRecord>> prove_code(std::string_view user, std::string_view code,
                                                   bool accept_backup, std::int64_t now,
                                                   const Requester& who, std::string_view action,
                                                   CodeOutcome& outcome);

  std::mutex& lock_for(std::string_view user);
  // A fresh pending secret in `record` (sealed for record.user), and the offer that shows it.
  Expected<EnrollmentOffer> start_pending(UserRecord& record, std::int64_t now) const;

  // What a user who is not enrolled owes: under the user's lock, starts the grace period the
  // first time the user is found required (`record` changed: the caller saves it).
  struct Demand {
    bool required = false;
    std::int64_t grace_until = 0;
    bool enroll_now = false; // no login without enrolling first
    bool changed = false;
    const char* why = nullptr; // when not the policy's reason
  };
  Demand demand(UserRecord& record, const PolicyAnswer& policy, std::int64_t now) const;
  PolicyAnswer decide(std::string_view user);
  // Mode 1 after a right password, and mode 3, for a user who is not enrolled.
  AuthOutcome admit_unenrolled(std::string_view user, protocol::AuthMode mode,
                               const Requester& who);
  // Seconds until a code may be tried again; 0 when not throttled.
  std::uint32_t throttle_wait(const UserRecord& record, std::int64_t now) const;
  UserStatus describe(const UserRecord* record, std::int64_t now) const;
  // The same with what `policy` demands of the user (required, grace, why), starting nothing.
  UserStatus describe(const UserRecord* record, const PolicyAnswer& policy,
                      std::int64_t now) const;
  // Checks `code` against a sealed secret; returns the matched step, or 0 for no match.
  // Steps at or before `last_step` never match (replay). Error when the secret cannot be opened.
  Expected<std::uint64_t> match_code(std::string_view user, std::string_view purpose,
                                     const std::vector<std::uint8_t>& sealed,
                                     const totp::Parameters& params, std::uint64_t last_step,
                                     std::string_view code, std::int64_t now) const;
  // Checks `code` against the active secret and, when `allow_backup`, the backup codes.
  Expected<CodeVerdict> verify(const UserRecord& record, std::string_view code, std::int64_t now,
                               bool allow_backup) const;
  // Counts a wrong code; true when it locked the second factor or the account.
  bool count_failure(UserRecord& record, CodeKind kind, std::int64_t now) const;
  // Uses up what a right code proved (its step, or the backup code) and resets the counters.
  static void count_success(UserRecord& record, const CodeVerdict& verdict);
  // Under the user's lock: throttle, code (replay-checked), and the durable update. In code-only
  // mode a user who is not enrolled goes on to admit_unenrolled() (the policy) instead.
  AuthOutcome check_code(std::string_view user, protocol::AuthMode mode, PasswordVerdict password,
                         std::string_view code, const Requester& who);
  // The common start of code-proven requests: loads the record under the lock the caller holds
  // and checks enrollment, lock and throttle. Sets `refused` when the request ends there.
  Expected<std::optional<UserRecord>> load_for_code(std::string_view user, std::int64_t now,
                                                    CodeOutcome& refused) const;
  // Counts the verdict of a code-proven request into `record`; false (with `refused` set and
  // the record already committed with `event_action`) when the code was wrong.
  Expected<bool> settle_code(UserRecord& record, const CodeVerdict& verdict, std::int64_t now,
                             const Requester& who, std::string_view action, CodeOutcome& refused);

  // The audit trail.
  AuditEvent event(const Requester& who, std::string_view action, std::string_view subject,
                   std::string_view outcome, std::string_view detail) const;
  // Commits `records` (0 or 1 here) with `event`, pruning the audit trail once a day.
  Expected<void> commit(std::span<const UserRecord> records, const AuditEvent& event);
  Expected<void> commit(const UserRecord& record, const AuditEvent& event)
  {
    return commit({&record, 1}, event);
  }
  // For outcomes that change no record: the event alone; a failure is logged, not returned.
  void record_event(const AuditEvent& event);
  std::int64_t prune_before();

  Store& m_store;
  const Sealer& m_sealer;
  const BackupCodeHasher& m_backup_codes;
  PasswordChecker& m_passwords;
  const Clock& m_clock;
  AuthenticatorSettings m_settings;
  PolicyResolver* m_policy;
  // Audit rows a non-root peer may add: 60 at once, then one a second (SECURITY.md).
  AuditBudget m_audit_budget{60, 1};
  std::atomic<std::int64_t> m_next_prune{0};
  // Requests for one user are serialised (replay check and counters are read-modify-write);
  // different users rarely share a stripe.
  std::array<std::mutex, 64> m_user_locks;
};

} // namespace studio2fa
