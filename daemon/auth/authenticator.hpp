// The flows of studio2fad a user goes through: a login (password, throttle, lock, the code, or
// what the policy demands of a user who is not enrolled), the enrollment life cycle, and the
// self-service requests a code proves. The codes themselves are the factors' business
// (factors.hpp), the records and the audit trail the AccountLedger's. Transport-free: the
// request handler turns protocol messages into these calls, and unit tests call them directly
// with a set clock. The implementation is split by topic: authenticator.cpp (login),
// enrollment_demand.cpp (status, policy and grace), enrollment.cpp, self_service.cpp.
#pragma once

#include "account_ledger.hpp"
#include "factors.hpp"
#include "password_checker.hpp"
#include "password_queue.hpp"
#include "phone_dispatch.hpp"
#include "policy.hpp"
#include "protocol.hpp"
#include "sealer.hpp"
#include "secret_bytes.hpp"
#include "store.hpp"
#include "totp.hpp"

#include <cstdint>
#include <optional>
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
  unsigned lockout_after = 20; // 0: never
  unsigned backup_lockout_after = 3;
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
  // Nothing was evaluated: the password check got no turn (PasswordQueue). Answered ERROR busy;
  // `result` is then unavailable.
  bool busy = false;
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

// Codes by text message and voice call; without `dispatch`, no code is ever sent.
struct PhoneLogin {
  const PhoneCodes* codes = nullptr;
  PhoneDispatch* dispatch = nullptr;
  bool self_enroll = true; // users may register their own number (phone_self_enroll)
};

// The answer to SEND_CODE.
struct SendCodeOutcome {
  protocol::SendCodeResult result = protocol::SendCodeResult::denied;
  std::uint32_t retry_after = 0;
  PhoneChannel channel = PhoneChannel::sms; // with sent
  std::string masked;                       // with sent: the number's mask
  const char* reason = "";                  // for the log
  bool busy = false;                        // the password check got no turn
};

// What PHONE_STATUS says of a user.
struct PhoneStatus {
  std::uint8_t methods = 0; // protocol::k_method_* bits
  std::string masked;
  bool self_enroll = false;
  bool from_directory = false;
  std::uint8_t pending = 0;
};

struct PhoneEnrollOutcome {
  protocol::PhoneEnrollResult result = protocol::PhoneEnrollResult::bad_number;
  std::uint32_t retry_after = 0;
  std::string masked;
  std::int64_t expires_at = 0;
};

class Authenticator {
public:
  // `ledger` is shared with AccountAdmin. Without `policy`, nobody is required to use 2FA.
  // Password checks wait for their turn in `password_queue`; without one they run at once.
  Authenticator(AccountLedger& ledger, const Sealer& sealer, const BackupCodeHasher& backup_codes,
                PasswordChecker& passwords, AuthenticatorSettings settings,
                PolicyResolver* policy = nullptr, PasswordQueue* password_queue = nullptr,
                PhoneLogin phone = {});

  Expected<UserStatus> status(std::string_view user);

  // Evaluates the factors that `mode` asks for (see PROTOCOL.md, AUTHENTICATE).
  AuthOutcome authenticate(std::string_view user, protocol::AuthMode mode,
                           std::string_view password, std::string_view code, const Requester& who);

  // Sends a login code to the subject's phone, only once `password` is right, or with none
  // from root (the PAM stack's earlier modules checked it). See PROTOCOL.md, SEND_CODE.
  SendCodeOutcome send_code(std::string_view user, std::string_view password,
                            std::optional<PhoneChannel> channel, const Requester& who);
  Expected<PhoneStatus> phone_status(std::string_view user);
  // Registers `number` as the subject's pending number and sends it a confirmation code; a
  // subject with a second factor proves it with `code` first.
  Expected<PhoneEnrollOutcome> phone_enroll(std::string_view user, std::string_view number,
                                            std::uint8_t methods, std::string_view code,
                                            const Requester& who);
  // The confirmation code of the pending number: right, the number becomes the active one.
  Expected<EnrollOutcome> phone_confirm(std::string_view user, std::string_view code,
                                        const Requester& who);
  // Removes the number (and any number being confirmed), once `code` proves the second factor.
  Expected<CodeOutcome> phone_remove(std::string_view user, std::string_view code,
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
  Expected<CodeOutcome> disable(std::string_view user, std::string_view code, const Requester& who);

  // What AccountAdmin shares: the policy's answer for `user` (everyone optional without a
  // resolver; may ask the directory, so call it before taking a lock), the status of a record
  // (null: none) with what that answer demands, starting nothing, and the factors.
  PolicyAnswer decide(std::string_view user);
  UserStatus describe(const UserRecord* record, const PolicyAnswer& policy) const;
  PolicyResolver* policy_resolver() const { return m_policy; }
  const Factors& factors() const { return m_factors; }

private:
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
  // With phone_attribute: makes the record's number the directory's (the administrators' to
  // set), committing a change with its audit row. Whether the directory manages the user's
  // number; false too when it cannot be reached (the record's number is used meanwhile).
  bool sync_directory_phone(std::string_view user);
  // Records a login's outcome that changes no record, and returns it.
  AuthOutcome record_login(const Requester& who, std::string_view user, AuthOutcome outcome);
  // A wrong password in mode 1 from a peer other than root: counted like a wrong code (toward
  // the throttle and the account lock), with its audit row.
  AuthOutcome count_wrong_password(std::string_view user, const Requester& who);
  // Mode 1 after a right password, and mode 3, for a user who is not enrolled.
  AuthOutcome admit_unenrolled(std::string_view user, protocol::AuthMode mode,
                               const Requester& who);
  // `password` checked in its turn; nullopt when it got none (the login is answered busy).
  std::optional<PasswordVerdict> check_password(std::string_view user, std::string_view password,
                                                const Requester& who);
  // Seconds until a code may be tried again; 0 when not throttled.
  std::uint32_t throttle_wait(const UserRecord& record, std::int64_t now) const;
  // Whether a code login on `record` as loaded goes as far as a commit: an enrolled, unlocked,
  // unthrottled user and a code to check. Anything else ends without one.
  bool leads_to_commit(const std::optional<UserRecord>& record, std::string_view code,
                       std::int64_t now) const;
  UserStatus describe(const UserRecord* record, std::int64_t now) const;
  // Under the user's lock: throttle, code (replay-checked), and the durable update. In code-only
  // mode a user who is not enrolled goes on to admit_unenrolled() (the policy) instead.
  AuthOutcome check_code(std::string_view user, protocol::AuthMode mode, PasswordVerdict password,
                         std::string_view code, const Requester& who);

  // begin_enrollment and confirm_enrollment once, under the user's lock: a fresh load, the
  // decision, its commit (Errc::conflict when another host wrote the record meanwhile:
  // AccountLedger::retry_on_conflict).
  Expected<EnrollmentOffer> begin_enrollment_held(std::string_view user, const Requester& who);
  Expected<EnrollOutcome> confirm_enrollment_held(std::string_view user, std::string_view code,
                                                  const Requester& who);
  // The code-proven self-service requests once: each takes the user's lock (prove_code).
  Expected<ReplaceOutcome> replace_enrollment_once(std::string_view user, std::string_view code,
                                                   const Requester& who);
  Expected<BackupCodesOutcome> new_backup_codes_once(std::string_view user, std::string_view code,
                                                     const Requester& who);
  Expected<CodeOutcome> disable_once(std::string_view user, std::string_view code,
                                     const Requester& who);
  Expected<CodeOutcome> phone_remove_once(std::string_view user, std::string_view code,
                                          const Requester& who);
  // phone_enroll's record part once: the proof (or a fresh load) and the pending number's
  // commit. Empty when stored (the code is sent then); otherwise the answer.
  Expected<std::optional<PhoneEnrollOutcome>>
  store_pending_phone_once(std::string_view user, const std::string& number, std::uint8_t methods,
                           std::string_view code, const Requester& who);
  Expected<EnrollOutcome> phone_confirm_once(std::string_view user, std::string_view code,
                                             const Requester& who);

  // A fresh pending secret in `record`, committed with `event`, and the offer that shows it.
  Expected<EnrollmentOffer> start_pending(UserRecord& record, std::int64_t now,
                                          const AuditEvent& event);

  // A self-service request's code, proved or refused; the user's lock held while it lives.
  struct CodeProof {
    std::unique_lock<std::mutex> held;
    std::int64_t now = 0;
    CodeOutcome refusal{protocol::CodeResult::ok, 0}; // ok: proved; otherwise the answer
    UserRecord record;                                // with the code used up, when proved
    CodeVerdict verdict;                              // when proved
    bool proved() const { return refusal.result == protocol::CodeResult::ok; }
  };
  // Takes the user's lock, loads the record, checks enrollment, lock and throttle, checks the
  // code (a backup code too unless `accept` says not) and settles it: a failure counted and
  // committed with `action`'s audit row, or the code used up (the caller commits the record).
  Expected<CodeProof> prove_code(std::string_view user, std::string_view code,
                                 Factors::Accept accept, const Requester& who,
                                 std::string_view action);
  // Why a code-proven request cannot go on with `record` (null: none), or ok.
  CodeOutcome refusal_for(const UserRecord* record, std::int64_t now) const;
  // Settles `verdict` in `record`: ok for a right code; for a wrong one the refusal, with the
  // record already committed with `action`'s audit row.
  Expected<CodeOutcome> settle_code(UserRecord& record, const CodeVerdict& verdict,
                                    std::int64_t now, const Requester& who,
                                    std::string_view action);

  AccountLedger& m_ledger;
  Factors m_factors;
  PasswordChecker& m_passwords;
  AuthenticatorSettings m_settings;
  PolicyResolver* m_policy;
  PasswordQueue* m_password_queue;
  PhoneLogin m_phone;
};

} // namespace studio2fa
