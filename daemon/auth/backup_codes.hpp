// Backup codes: making a set, telling a backup code from a TOTP code by its shape, and the keyed
// hash that is all the store ever keeps of one (PROTOCOL.md, "Codes").
#pragma once

#include "expected.hpp"
#include "keyring.hpp"
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

// The keyed hash of a backup code. A hash names the studio key it was made under: the first 8
// bytes are that key's id (keyring.hpp), the other 24 the first 24 bytes of
// HMAC-SHA256(K, user || 0x00 || normalised code), where K = HMAC-SHA256(studio key,
// "studio2fa backup-code key v1"), so that a stolen record alone does not allow guessing codes
// offline. Hashes made before key ids (format 1: the whole 32-byte HMAC) still match under
// whichever held key made them.
//
// After a rotation, hashes made under an older key keep matching as long as that key is in the
// keyring (previous_key_paths); once it is removed they match nothing, and the user needs a new
// set (rekey counts such users; a hash cannot be moved to a new key without the code).
class BackupCodeHasher {
public:
  // Hashes under keyring.current(); matches under any key of the keyring.
  static Expected<BackupCodeHasher> create(const Keyring& keyring);
  // A keyring of one key.
  static Expected<BackupCodeHasher> create(std::span<const std::uint8_t> master_key);

  // The hash of `code` under the current key; nullopt when `code` is not shaped like a backup
  // code.
  std::optional<BackupCodeHash> hash(std::string_view user, std::string_view code) const;

  // The index in `stored` of the hash of `code`, under any held key. Every stored hash is
  // compared against every key's hash, in constant time, whatever matches.
  std::optional<std::size_t> find(std::string_view user, std::string_view code,
                                  std::span<const BackupCodeHash> stored) const;

  // Whether `stored` was made under the current key (a format 1 hash names no key: false).
  bool under_current_key(const BackupCodeHash& stored) const;

private:
  struct Key {
    KeyId id{};
    SecretBytes hmac_key;
  };
  explicit BackupCodeHasher(std::vector<Key> keys) : m_keys(std::move(keys)) {}
  std::vector<Key> m_keys; // the current key's first
};

} // namespace studio2fa
