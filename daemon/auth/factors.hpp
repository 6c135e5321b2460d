// The second factors a record can hold, asked in turn, and the rules between them: which factor
// a code proves, what a right code uses up, what a wrong one counts and when that locks. A new
// kind of code is a FactorVerifier added here; the flows that ask (Authenticator, AccountAdmin)
// do not change.
#pragma once

#include "backup_code_factor.hpp"
#include "factor.hpp"
#include "phone_code_factor.hpp"
#include "totp_factor.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace studio2fa {

struct FactorRules {
  unsigned window = 1;               // TOTP steps either side of now
  unsigned lockout_after = 20;       // wrong codes of any kind that lock the account; 0: never
  unsigned backup_lockout_after = 3; // wrong backup codes that lock the second factor
};

// What a code proved, or what it was taken for.
struct CodeVerdict {
  const FactorVerifier* proved = nullptr; // the factor the code proved; null: a wrong code
  FactorMatch match;                      // with `proved`
  const FactorVerifier* owner = nullptr; // whose shape the code had (a wrong code is charged to it)
  // Every factor that claimed the code as its own, owner first: a wrong code is charged to each
  // (a six-digit code may be a TOTP code and the code sent by text at once).
  std::array<const FactorVerifier*, 3> owners{};

  bool right() const { return proved != nullptr; }
  // The kind of the factor proved, or (for a wrong code) of its owner; none for neither.
  protocol::SecondFactor kind() const;
};

class Factors {
public:
  // Without `phone_codes`, no code sent by text or voice is ever accepted.
  Factors(const Sealer& sealer, const BackupCodeHasher& hasher, FactorRules rules,
          const PhoneCodes* phone_codes = nullptr);
  Factors(const Factors&) = delete;
  Factors& operator=(const Factors&) = delete;

  enum class Accept { any, not_backup_codes };
  // Which factor of `record` `code` proves. Every accepted factor compares the code whatever it
  // looks like, TOTP first, so that the answer takes as long for any code. A factor's match
  // counts only for a code of its shape; a code of TOTP shape that is not the right TOTP code
  // may still be a backup code. An error when a secret cannot be opened.
  Expected<CodeVerdict> verify(const UserRecord& record, std::string_view code, std::int64_t now,
                               Accept accept = Accept::any) const;

  // A right code: what it proved is used up and the failure counts are cleared. A wrong one is
  // counted (toward the throttle, the owner's own count and the account lock). True when the
  // wrong code locked the second factor or the account.
  bool settle(UserRecord& record, const CodeVerdict& verdict, std::int64_t now) const;

  // Makes `secret` the active TOTP secret of `record` from `now`, with a clean slate: no
  // failures, no lock, no pending secret, no temporary pass. Steps up to `last_step` stay used.
  Expected<void> activate(UserRecord& record, std::span<const std::uint8_t> secret,
                          totp::Parameters params, std::uint64_t last_step, std::int64_t now) const;
  // Every factor gone from the record (its counters and locks are left as they are).
  void remove_all(UserRecord& record) const;
  // The failure counts and any lock cleared.
  void unlock(UserRecord& record) const;
  // The failure counts cleared (what a successful login does).
  void clear_failures(UserRecord& record) const;

  const TotpFactor& totp() const { return m_totp; }
  const BackupCodeFactor& backup_codes() const { return m_backup_codes; }

private:
  TotpFactor m_totp;
  BackupCodeFactor m_backup_codes;
  std::optional<PhoneCodeFactor> m_phone_code;
  unsigned m_lockout_after;
  // In the order they are asked: TOTP first, whatever the code looks like; null past the last.
  std::array<const FactorVerifier*, 3> m_order{};
};

} // namespace studio2fa
