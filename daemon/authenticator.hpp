// The decisions of studio2fad: who is enrolled, whether a login's password and code are right,
// throttling of wrong codes, and the enrollment life cycle. Transport-free: the request handler
// turns protocol messages into these calls, and unit tests call them directly with a set clock.
#pragma once

#include "clock.hpp"
#include "password_checker.hpp"
#include "protocol.hpp"
#include "sealer.hpp"
#include "secret_bytes.hpp"
#include "secret_store.hpp"
#include "totp.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace studio2fa {

struct AuthenticatorSettings {
  totp::Parameters new_enrollment; // parameters given to new enrollments
  unsigned window = 1;
  unsigned enroll_timeout = 600;
  unsigned throttle_after = 5;
  unsigned throttle_base = 2;
  unsigned throttle_max = 900;
};

struct UserStatus {
  protocol::EnrollmentState state = protocol::EnrollmentState::none;
  std::int64_t enrolled_at = 0;
  std::uint32_t failures = 0;
  std::uint32_t retry_after = 0;
};

struct AuthOutcome {
  protocol::AuthResult result = protocol::AuthResult::denied;
  std::uint32_t retry_after = 0;
  // Why, for the log only (never shown to the client): e.g. "wrong code", "wrong password".
  const char* reason = "";
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

class Authenticator {
public:
  Authenticator(SecretStore& store, const Sealer& sealer, PasswordChecker& passwords,
                const Clock& clock, AuthenticatorSettings settings);

  Expected<UserStatus> status(std::string_view user);

  // Evaluates the factors that `mode` asks for (see PROTOCOL.md, AUTHENTICATE).
  AuthOutcome authenticate(std::string_view user, protocol::AuthMode mode,
                           std::string_view password, std::string_view code);

  // Errors: "already enrolled" (see is_already_enrolled) or a store/crypto failure.
  Expected<EnrollmentOffer> begin_enrollment(std::string_view user);
  static bool is_already_enrolled(const Error& error);

  Expected<EnrollOutcome> confirm_enrollment(std::string_view user, std::string_view code);

private:
  std::mutex& lock_for(std::string_view user);
  // Seconds until a code may be tried again; 0 when not throttled.
  std::uint32_t throttle_wait(const UserRecord& record, std::int64_t now) const;
  // Checks `code` against a sealed secret; returns the matched step, or 0 for no match.
  // Steps at or before `last_step` never match (replay). Error when the secret cannot be opened.
  Expected<std::uint64_t> match_code(std::string_view user, std::string_view purpose,
                                     const std::vector<std::uint8_t>& sealed,
                                     const totp::Parameters& params, std::uint64_t last_step,
                                     std::string_view code, std::int64_t now) const;
  // Under the user's lock: throttle, code (replay-checked), and the durable update.
  AuthOutcome check_code(std::string_view user, protocol::AuthMode mode, bool password_ok,
                         std::string_view code);

  SecretStore& m_store;
  const Sealer& m_sealer;
  PasswordChecker& m_passwords;
  const Clock& m_clock;
  AuthenticatorSettings m_settings;
  // Requests for one user are serialised (replay check and counters are read-modify-write);
  // different users rarely share a stripe.
  std::array<std::mutex, 64> m_user_locks;
};

} // namespace studio2fa
