// Codes sent by text message or voice call (NIST SP 800-63B, 5.1.3, out-of-band devices): six
// digits from the CSPRNG, valid for a few minutes, used once, kept only as a keyed hash, voided
// after a few wrong tries or when a newer one is sent. Sending is rationed per user (one resend
// a minute, a cap an hour); the cap per host is SendBudget's (send_budget.hpp).
//
// All of a code's state lives in the UserRecord (phone_code*, phone_sends*), so a code sent by
// one host is checked, used and voided the same way by every host sharing the store.
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"
#include "user_record.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace studio2fa {

inline constexpr std::size_t k_phone_code_digits = 6;
inline constexpr unsigned k_phone_code_max_lifetime = 600; // 800-63B: ten minutes at most

struct PhoneCodeRules {
  unsigned lifetime = 300;          // seconds a code works; 1 to k_phone_code_max_lifetime
  unsigned max_tries = 3;           // wrong tries that void a code
  unsigned resend_after = 60;       // seconds between two codes sent to one user
  unsigned sends_per_user_hour = 5; // codes sent to one user in an hour; 0: no cap
};

// HMAC-SHA256 under a key derived from the master key, so that the store alone (a stolen
// database, a directory replica) does not let anyone try the 10^6 codes offline.
class PhoneCodeHasher {
public:
  // The key: HMAC-SHA256(master, "studio2fa phone-code key v1").
  static Expected<PhoneCodeHasher> create(std::span<const std::uint8_t> master_key);

  // HMAC(key, user 0x00 purpose number 0x00 code 0x00 sent_at): a code proves only the purpose
  // and number it was sent for, and only as the code of that one sending.
  PhoneCodeHash hash(std::string_view user, PhoneCodePurpose purpose, std::string_view number,
                     std::string_view code, std::int64_t sent_at) const;

private:
  explicit PhoneCodeHasher(SecretBytes key) : m_key(std::move(key)) {}
  SecretBytes m_key;
};

// The answer to a request for a new code.
struct PhoneCodeIssue {
  // Non-zero: refused; the seconds until a code may be sent, and why (for people and the log).
  std::uint32_t retry_after = 0;
  const char* refusal = "";
  // With retry_after 0: the code, to be put in the message and dropped. The record holds its
  // hash from now on (the caller commits it before sending).
  SecretBytes code;
  std::int64_t expires_at = 0;

  bool refused() const { return retry_after != 0; }
};

enum class PhoneCodeCheck {
  match,   // the live code of that purpose
  wrong,   // a live code of that purpose exists and this is not it
  no_code, // none was sent for that purpose, or it expired (and with it went its tries)
};

class PhoneCodes {
public:
  PhoneCodes(const PhoneCodeHasher& hasher, PhoneCodeRules rules);

  // A new code for `purpose` (to record.phone for login, record.pending_phone for confirm),
  // voiding any earlier one, unless the per-user rations refuse it. Errc::invalid when the
  // record has no number for that purpose; an internal error when the CSPRNG fails.
  Expected<PhoneCodeIssue> issue(UserRecord& record, PhoneCodePurpose purpose,
                                 std::int64_t now) const;

  // Compares `code` with the live code of `purpose` in constant time: the hash is computed and
  // compared whatever the record holds and whatever `code` looks like. Changes nothing.
  PhoneCodeCheck check(const UserRecord& record, PhoneCodePurpose purpose, std::string_view code,
                       std::int64_t now) const;

  // Uses up the live code (a match): it never works again.
  static void use(UserRecord& record);
  // Counts a wrong try at the live code; at max_tries the code is voided. True when it was.
  bool count_wrong(UserRecord& record) const;

  // Whether `code` has a sent code's shape: six ASCII digits, spaces aside.
  static bool has_shape(std::string_view code);

  const PhoneCodeRules& rules() const { return m_rules; }

private:
  // The number a code for `purpose` goes to; empty when the record has none.
  static std::string_view number_for(const UserRecord& record, PhoneCodePurpose purpose);

  const PhoneCodeHasher& m_hasher;
  PhoneCodeRules m_rules;
};

} // namespace studio2fa
