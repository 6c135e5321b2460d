// Seals TOTP secrets with AES-256-GCM under the master key.
//
// Sealed blob: 0x01 (format version) | 12-byte random nonce | ciphertext | 16-byte tag.
// The additional authenticated data binds the blob to its user and purpose, so a blob copied to
// another user's row, or from the "pending" to the "active" column, fails to open.
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace studio2fa {

class Sealer {
public:
  // `key` must be exactly 32 bytes.
  static Expected<Sealer> create(SecretBytes key);

  Expected<std::vector<std::uint8_t>> seal(std::span<const std::uint8_t> plaintext,
                                           std::string_view user,
                                           std::string_view purpose) const;
  // Fails (without saying more than "cannot be opened") on a wrong key, user, purpose, or any
  // tampering.
  Expected<SecretBytes> open(std::span<const std::uint8_t> sealed, std::string_view user,
                             std::string_view purpose) const;

private:
  explicit Sealer(SecretBytes key) : m_key(std::move(key)) {}
  SecretBytes m_key;
};

} // namespace studio2fa
