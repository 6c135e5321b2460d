#include "keyring.hpp"

#include "master_key.hpp"

#include <algorithm>
#include <climits>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace studio2fa {

namespace {

constexpr std::string_view k_key_id_label = "studio2fa key id v1";

} // namespace

Expected<KeyId> key_id_of(std::span<const std::uint8_t> key)
{
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (key.empty() || key.size() > static_cast<std::size_t>(INT_MAX) ||
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(k_key_id_label.data()), k_key_id_label.size(),
           digest, &length) == nullptr ||
      length < k_key_id_size) {
    return make_error("cannot derive a key id");
  }
  KeyId id{};
  std::copy_n(digest, k_key_id_size, id.begin());
  return id;
}

std::string key_id_text(const KeyId& id)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(2 * id.size());
  for (const std::uint8_t byte : id) {
    text.push_back(k_hex[byte >> 4]);
    text.push_back(k_hex[byte & 0x0f]);
  }
  return text;
}

Expected<Keyring> Keyring::create(SecretBytes current, std::vector<SecretBytes> previous)
{
  std::vector<Key> keys;
  keys.reserve(1 + previous.size());
  auto add = [&keys](SecretBytes bytes) -> Expected<void> {
    if (bytes.size() != k_master_key_size) {
      return make_error(Errc::invalid, "a studio key must be " + std::to_string(k_master_key_size) +
                                           " bytes, not " + std::to_string(bytes.size()));
    }
    auto id = key_id_of(bytes.span());
    if (!id) {
      return Unexpected<Error>{id.error()};
    }
    // Two different keys with one id would need a collision of 64 bits of HMAC output; the same
    // key listed twice is the case met in practice.
    const bool known =
        std::any_of(keys.begin(), keys.end(), [&](const Key& key) { return key.id == *id; });
    if (!known) {
      keys.push_back(Key{*id, std::move(bytes)});
    }
    return {};
  };
  if (auto added = add(std::move(current)); !added) {
    return Unexpected<Error>{added.error()};
  }
  for (SecretBytes& key : previous) {
    if (auto added = add(std::move(key)); !added) {
      return Unexpected<Error>{added.error()};
    }
  }
  return Keyring(std::move(keys));
}

const Keyring::Key* Keyring::find(const KeyId& id) const
{
  for (const Key& key : m_keys) {
    if (key.id == id) {
      return &key;
    }
  }
  return nullptr;
}

Expected<Keyring> load_keyring(const std::string& key_path,
                               const std::vector<std::string>& previous_key_paths)
{
  auto current = load_or_create_master_key(key_path);
  if (!current) {
    return Unexpected<Error>{current.error()};
  }
  std::vector<SecretBytes> previous;
  for (const std::string& path : previous_key_paths) {
    auto key = load_master_key(path);
    if (!key) {
      return Unexpected<Error>{key.error()};
    }
    previous.push_back(std::move(*key));
  }
  return Keyring::create(std::move(*current), std::move(previous));
}

} // namespace studio2fa
