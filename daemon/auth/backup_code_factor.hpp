// Backup codes as a second factor: single-use codes of their own shape (backup_codes.hpp), of
// which the record keeps only keyed hashes. Wrong ones are counted apart: guessing them locks
// the second factor sooner than wrong TOTP codes lock the account.
#pragma once

#include "backup_codes.hpp"
#include "factor.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace studio2fa {

class BackupCodeFactor final : public FactorVerifier {
public:
  // `lockout_after` wrong backup codes in a row lock the second factor.
  BackupCodeFactor(const BackupCodeHasher& hasher, unsigned lockout_after)
      : m_hasher(hasher), m_lockout_after(lockout_after)
  {
  }

  protocol::SecondFactor kind() const override { return protocol::SecondFactor::backup_code; }
  // A backup code's shape is its own when the record has codes (only someone with backup codes
  // can be guessing them); a TOTP code's shape may also be one (numeric imported codes).
  CodeClaim claim(const UserRecord& record, std::string_view code) const override;
  // Every stored hash is compared, whatever matches (BackupCodeHasher::find).
  Expected<FactorMatch> check(const UserRecord& record, std::string_view code,
                              std::int64_t now) const override;
  void use(UserRecord& record, const FactorMatch& match) const override;
  bool count_failure(UserRecord& record, std::int64_t now) const override;
  void clear_failures(UserRecord& record) const override;
  void remove(UserRecord& record) const override;

  // Makes `codes` the record's set, hashed, voiding the old one.
  Expected<void> replace(UserRecord& record, std::span<const std::string_view> codes) const;

  // Whether any of the record's codes was hashed under a studio key other than the current one
  // (or before key ids): it stops matching once that key leaves the keyring, and only a new set
  // replaces it (a hash cannot be moved to another key without the code).
  bool has_codes_under_old_key(const UserRecord& record) const;

private:
  const BackupCodeHasher& m_hasher;
  unsigned m_lockout_after;
};

} // namespace studio2fa
