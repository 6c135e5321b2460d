// Backup codes: making a set, telling a backup code from a TOTP code by its shape, and the keyed
// hash that is all the store ever keeps of one (PROTOCOL.md, "Codes").
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"
#include "user_record.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace studio2fa {

// Crockford base32 without I, L, O and U: nothing a person can misread.
inline constexpr std::string_view k_backup_code_alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr std::size_t k_backup_code_symbols = 12; // 60 bits
inline constexpr std::size_t k_backup_code_min_length = 8; // Google Authenticator's scratch codes
inline constexpr std::size_t k_backup_code_max_length = 32;

enum class CodeShape {
  totp,        // exactly `digits` decimal digits
  backup_code, // 8 to 32 characters of 0-9 A-Z once normalised, and not a TOTP code
  neither,
};

// Spaces and '-' are ignored, letters are upper-cased, I and L read as 1 and O as 0.
CodeShape code_shape(std::string_view code, unsigned digits);

// The normalised form of a backup code (as above); empty when `code` is not shaped like one.
SecretBytes normalise_backup_code(std::string_view code);

// `count` new codes from the CSPRNG, each XXXX-XXXX-XXXX; an error only if the CSPRNG fails.
Expected<std::vector<SecretBytes>> generate_backup_codes(std::size_t count);

class BackupCodeHasher {
public:
  // Derives the hashing key from the master key: HMAC-SHA256(master, "studio2fa backup-code key
  // v1"), so that a stolen database alone does not allow guessing codes offline.
  static Expected<BackupCodeHasher> create(std::span<const std::uint8_t> master_key);

  // HMAC-SHA256(key, user || 0x00 || normalised code); nullopt when `code` is not shaped like a
  // backup code.
  std::optional<BackupCodeHash> hash(std::string_view user, std::string_view code) const;

  // The index in `stored` of the hash of `code`. Every stored hash is compared, in constant
  // time, whatever matches.
  std::optional<std::size_t> find(std::string_view user, std::string_view code,
                                  std::span<const BackupCodeHash> stored) const;

private:
  explicit BackupCodeHasher(SecretBytes key) : m_key(std::move(key)) {}
  SecretBytes m_key;
};

} // namespace studio2fa
