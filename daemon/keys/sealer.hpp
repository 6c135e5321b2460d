// Seals TOTP secrets with AES-256-GCM under the studio key (Keyring).
//
// Sealed blob, format 2: 0x02 | 8-byte key id | 12-byte random nonce | ciphertext | 16-byte tag.
// The additional authenticated data binds the blob to its key id, user and purpose, so a blob
// copied to another user's record, or from the "pending" to the "active" field, fails to open,
// and so does one whose key id was changed to name another key.
//
// Format 1 (before key ids): 0x01 | nonce | ciphertext | tag, with the user and purpose as
// additional data. Such blobs still open, with whichever held key sealed them; new blobs are
// always format 2.
#pragma once

#include "expected.hpp"
#include "keyring.hpp"
#include "secret_bytes.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace studio2fa {

class Sealer {
public:
  // Seals under keyring.current(); opens under any key of the keyring.
  static Expected<Sealer> create(Keyring keyring);
  // A keyring of one key; `key` must be exactly 32 bytes.
  static Expected<Sealer> create(SecretBytes key);

  Expected<std::vector<std::uint8_t>> seal(std::span<const std::uint8_t> plaintext,
                                           std::string_view user,
                                           std::string_view purpose) const;
  // A blob under a key id this host does not hold fails with Errc::unknown_key and a message
  // naming the key id and where keys come from. Every other failure (a wrong user or purpose,
  // any tampering) says no more than "cannot be opened".
  Expected<SecretBytes> open(std::span<const std::uint8_t> sealed, std::string_view user,
                             std::string_view purpose) const;

  // The key id a blob names: nullopt for a format 1 blob (which names none) or for what is not a
  // sealed blob at all.
  static std::optional<KeyId> key_id(std::span<const std::uint8_t> sealed);
  // Whether `sealed` is a format 2 blob under the current key (what rekey leaves alone).
  bool sealed_under_current_key(std::span<const std::uint8_t> sealed) const;

  const Keyring& keyring() const { return m_keyring; }

private:
  explicit Sealer(Keyring keyring) : m_keyring(std::move(keyring)) {}
  Keyring m_keyring;
};

} // namespace studio2fa
