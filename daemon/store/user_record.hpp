// A user's second-factor record: what every host that the user logs in to must agree on, and so
// what a store shared by many hosts holds (EnrollmentStore).
//
// Secrets are only ever in it sealed (see Sealer), and backup codes only as keyed hashes (see
// BackupCodeHasher); a store never sees plaintext.
#pragma once

#include "protocol.hpp"
#include "totp.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace studio2fa {

// HMAC-SHA256 of one backup code (BackupCodeHasher::hash).
using BackupCodeHash = std::array<std::uint8_t, 32>;
// HMAC-SHA256 of a code sent by text or voice (PhoneCodeHasher::hash).
using PhoneCodeHash = std::array<std::uint8_t, 32>;

// How codes reach a phone: bits of UserRecord::phone_methods.
inline constexpr std::uint8_t k_phone_sms = 1;
inline constexpr std::uint8_t k_phone_voice = 2;
inline constexpr std::uint8_t k_phone_methods_all = k_phone_sms | k_phone_voice;

// What a code sent to a phone proves.
enum class PhoneCodePurpose : std::uint8_t {
  none = 0,    // no code sent
  login = 1,   // the second factor of a login, to UserRecord::phone
  confirm = 2, // that UserRecord::pending_phone is the user's
};

struct UserRecord {
  std::string user;

  // The active second factor; empty when not enrolled.
  std::vector<std::uint8_t> sealed_secret;
  totp::Parameters params;
  std::int64_t enrolled_at = 0;
  std::uint64_t last_step = 0; // last time step accepted (replay guard); 0 = none yet

  // Throttling: consecutive wrong codes (of either kind) and when the last one came.
  std::uint32_t failures = 0;
  std::int64_t last_failure_at = 0;

  // An enrollment waiting for its first code; empty when none. With an active secret too, it is
  // a replacement (a new phone): the active one works until this one is confirmed.
  std::vector<std::uint8_t> pending_secret;
  totp::Parameters pending_params;
  std::int64_t pending_created_at = 0;

  // The unused backup codes, at most protocol::k_backup_codes_per_set.
  std::vector<BackupCodeHash> backup_codes;
  std::uint32_t backup_failures = 0; // consecutive wrong backup codes

  protocol::LockState lock = protocol::LockState::none;
  std::int64_t locked_at = 0;

  // The end of a temporary pass (second factor skipped); 0 when none was ever given.
  std::int64_t pass_until = 0;
  std::int64_t last_login_at = 0;

  // When 2FA is required of a user who is not enrolled: the end of their grace period (set the
  // first time the daemon finds them required). k_enroll_now: no grace at all (a temporary pass
  // ended, or an administrator turned the second factor off). 0: no grace period running.
  std::int64_t grace_until = 0;
  static constexpr std::int64_t k_enroll_now = 1;

  // The phone factor (codes by text message or voice call): the number in E.164 form
  // (phone::parse_e164) and how codes reach it (k_phone_* bits); empty and 0 when none.
  std::string phone;
  std::uint8_t phone_methods = 0;
  std::int64_t phone_enrolled_at = 0;
  // A number waiting for the code sent to it to confirm it; empty when none. With `phone` too,
  // it is a change of number: the old one works until this one is confirmed.
  std::string pending_phone;
  std::uint8_t pending_phone_methods = 0;
  // The code last sent, kept only as its keyed hash: what it proves, when it was sent (0: no
  // code), until when it works and the wrong tries at it. A new code voids the old one.
  PhoneCodeHash phone_code{};
  PhoneCodePurpose phone_code_purpose = PhoneCodePurpose::none;
  std::int64_t phone_code_sent_at = 0;
  std::int64_t phone_code_expires_at = 0;
  std::uint32_t phone_code_tries = 0;
  // Codes sent to this user in the hour that began at phone_sends_since (the per-user cap).
  std::int64_t phone_sends_since = 0;
  std::uint32_t phone_sends = 0;

  // The store's version of this record: 0 for a record that was never stored; R for one loaded
  // at revision R. A commit of it succeeds only if the store still holds revision R (or, for 0,
  // no record of the user), and the stored record then has revision R + 1 (EnrollmentStore).
  std::uint64_t revision = 0;

  bool enrolled() const { return !sealed_secret.empty(); }
  bool has_pending() const { return !pending_secret.empty(); }
  bool has_phone() const { return !phone.empty() && phone_methods != 0; }
  bool has_phone_code() const { return phone_code_purpose != PhoneCodePurpose::none; }
  // An active second factor of any kind: an app's secret or a confirmed phone number.
  bool has_second_factor() const { return enrolled() || has_phone(); }
};

// The stored record of `user`, or a new, empty one when there is none.
inline UserRecord record_or_new(std::optional<UserRecord>&& stored, std::string_view user)
{
  if (stored) {
    return std::move(*stored);
  }
  UserRecord record;
  record.user = std::string(user);
  return record;
}

} // namespace studio2fa
