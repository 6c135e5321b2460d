// The studio keys this host holds: the current one, which seals, and older ones kept only to
// open what was sealed (or hashed) before a rotation. Each key is named by its key id, which
// sealed blobs and backup-code hashes carry so that the right key is found without trying, and
// so that a blob under a key this host lacks fails with a message that names it.
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace studio2fa {

inline constexpr std::size_t k_key_id_size = 8;
using KeyId = std::array<std::uint8_t, k_key_id_size>;

// The first 8 bytes of HMAC-SHA256(key, "studio2fa key id v1"): names a key without telling
// anything about it. An error only if `key` is empty or the HMAC fails.
Expected<KeyId> key_id_of(std::span<const std::uint8_t> key);

// Lower-case hex of a key id, for logs and the CLI.
std::string key_id_text(const KeyId& id);

// Where keys come from, for messages about a key this host does not hold.
inline constexpr const char* k_key_sources_hint =
    "copy the studio key to key_path or list the old one in previous_key_paths";

class Keyring {
public:
  struct Key {
    KeyId id{};
    SecretBytes bytes;
  };

  // `current` seals; `previous` only open. Every key must be exactly 32 bytes. A previous key
  // equal to the current one, or to another previous key, is kept once.
  static Expected<Keyring> create(SecretBytes current, std::vector<SecretBytes> previous = {});

  const Key& current() const { return m_keys.front(); }
  // Every key, the current one first.
  std::span<const Key> keys() const { return m_keys; }
  // The key named `id`; nullptr when this host does not hold it.
  const Key* find(const KeyId& id) const;

private:
  explicit Keyring(std::vector<Key> keys) : m_keys(std::move(keys)) {}
  std::vector<Key> m_keys;
};

// The host's keyring from the config: key_path (created if it does not exist, as
// load_or_create_master_key does) and each of previous_key_paths (which must exist and pass the
// same checks: root's, mode 0600 or stricter, 32 bytes).
Expected<Keyring> load_keyring(const std::string& key_path,
                               const std::vector<std::string>& previous_key_paths);

} // namespace studio2fa
