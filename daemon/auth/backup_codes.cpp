#include "backup_codes.hpp"

#include "keyed_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <climits>
#include <vector>

namespace studio2fa {

namespace {

constexpr std::string_view k_key_label = "studio2fa backup-code key v1";
constexpr std::size_t k_key_size = 32;

bool is_separator(char c)
{
  return c == ' ' || c == '-';
}

// The normalised symbol for `c`, or '\0' for a character no backup code has.
char normalise_symbol(char c)
{
  if (c >= 'a' && c <= 'z') {
    c = static_cast<char>(c - 'a' + 'A');
  }
  if (c == 'I' || c == 'L') {
    return '1';
  }
  if (c == 'O') {
    return '0';
  }
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
    return c;
  }
  return '\0';
}

// HMAC-SHA256(key, user || 0x00 || normalised code) in full; nullopt when `code` is not shaped
// like a backup code.
std::optional<BackupCodeHash> full_hmac(const SecretBytes& key, std::string_view user,
                                        std::string_view code)
{
  const SecretBytes normalised = normalise_backup_code(code);
  if (normalised.empty()) {
    return std::nullopt;
  }
  // user NUL code: unambiguous, since a user name never holds a NUL.
  SecretBytes message(user.size() + 1 + normalised.size());
  std::copy(user.begin(), user.end(), message.data());
  message.data()[user.size()] = 0;
  std::copy(normalised.data(), normalised.data() + normalised.size(),
            message.data() + user.size() + 1);
  BackupCodeHash out{};
  if (!hmac_sha256(key.span(), message.span(), out.data())) {
    return std::nullopt;
  }
  return out;
}


} // namespace

CodeShape code_shape(std::string_view code, unsigned digits)
{
  std::size_t length = 0;
  bool all_digits = true;
  for (const char c : code) {
    if (is_separator(c)) {
      continue;
    }
    if (normalise_symbol(c) == '\0') {
      return CodeShape::neither;
    }
    all_digits = all_digits && c >= '0' && c <= '9';
    ++length;
  }
  // A TOTP code is typed as digits, possibly with a space in the middle; never with letters.
  if (all_digits && length == digits && code.find('-') == std::string_view::npos) {
    return CodeShape::totp;
  }
  if (length >= k_backup_code_min_length && length <= k_backup_code_max_length) {
    return CodeShape::backup_code;
  }
  return CodeShape::neither;
}

SecretBytes normalise_backup_code(std::string_view code)
{
  if (code.size() > 4 * k_backup_code_max_length) {
    return {};
  }
  SecretBytes out(code.size());
  std::size_t length = 0;
  for (const char c : code) {
    if (is_separator(c)) {
      continue;
    }
    const char symbol = normalise_symbol(c);
    if (symbol == '\0') {
      return {};
    }
    out.data()[length++] = static_cast<std::uint8_t>(symbol);
  }
  if (length < k_backup_code_min_length || length > k_backup_code_max_length) {
    return {};
  }
  out.truncate(length);
  return out;
}

Expected<std::vector<SecretBytes>> generate_backup_codes(std::size_t count)
{
  static_assert(k_backup_code_alphabet.size() == 32, "five bits per symbol");
  std::vector<SecretBytes> codes;
  codes.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    SecretBytes random(k_backup_code_symbols);
    if (!random_bytes({random.data(), random.size()})) {
      return make_error("the random number generator failed");
    }
    // XXXX-XXXX-XXXX: 12 symbols and two dashes. 256 is a multiple of 32, so byte & 31 is
    // uniform.
    SecretBytes code(k_backup_code_symbols + 2);
    std::size_t pos = 0;
    for (std::size_t i = 0; i < k_backup_code_symbols; ++i) {
      if (i == 4 || i == 8) {
        code.data()[pos++] = '-';
      }
      code.data()[pos++] = static_cast<std::uint8_t>(k_backup_code_alphabet[random.data()[i] & 31]);
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

Expected<BackupCodeHasher> BackupCodeHasher::create(const Keyring& keyring)
{
  std::vector<Key> keys;
  const std::span<const std::uint8_t> label(reinterpret_cast<const std::uint8_t*>(k_key_label.data()),
                                            k_key_label.size());
  for (const Keyring::Key& studio_key : keyring.keys()) {
    SecretBytes hmac_key(k_key_size);
    if (!hmac_sha256(studio_key.bytes.span(), label, hmac_key.data())) {
      return make_error("cannot derive the backup-code key");
    }
    keys.push_back(Key{studio_key.id, std::move(hmac_key)});
  }
  return BackupCodeHasher(std::move(keys));
}

Expected<BackupCodeHasher> BackupCodeHasher::create(std::span<const std::uint8_t> master_key)
{
  if (master_key.empty()) {
    return make_error("no master key to derive the backup-code key from");
  }
  auto keyring = Keyring::create(SecretBytes(master_key));
  if (!keyring) {
    return Unexpected<Error>{keyring.error()};
  }
  return create(*keyring);
}

std::optional<BackupCodeHash> BackupCodeHasher::hash(std::string_view user,
                                                     std::string_view code) const
{
  const Key& current = m_keys.front();
  auto full = full_hmac(current.hmac_key, user, code);
  if (!full) {
    return std::nullopt;
  }
  BackupCodeHash out{};
  std::copy(current.id.begin(), current.id.end(), out.begin());
  std::copy_n(full->begin(), out.size() - k_key_id_size, out.begin() + k_key_id_size);
  return out;
}

std::optional<std::size_t> BackupCodeHasher::find(std::string_view user, std::string_view code,
                                                  std::span<const BackupCodeHash> stored) const
{
  // One HMAC per held key: a format 2 hash is its key's id and the first 24 bytes of it, a
  // format 1 hash all of it.
  std::vector<BackupCodeHash> candidates;
  candidates.reserve(m_keys.size());
  for (const Key& key : m_keys) {
    auto full = full_hmac(key.hmac_key, user, code);
    if (!full) {
      return std::nullopt; // not shaped like a backup code: the same for every key
    }
    candidates.push_back(*full);
  }
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const std::uint8_t* value = stored[i].data();
    int matches = 0;
    for (std::size_t k = 0; k < m_keys.size(); ++k) {
      const std::uint8_t* candidate = candidates[k].data();
      const bool v2 = (CRYPTO_memcmp(value, m_keys[k].id.data(), k_key_id_size) |
                       CRYPTO_memcmp(value + k_key_id_size, candidate,
                                     stored[i].size() - k_key_id_size)) == 0;
      const bool v1 = CRYPTO_memcmp(value, candidate, stored[i].size()) == 0;
      matches |= static_cast<int>(v2) | static_cast<int>(v1);
    }
    if (matches != 0 && !found) {
      found = i;
    }
  }
  return found;
}

bool BackupCodeHasher::under_current_key(const BackupCodeHash& stored) const
{
  return std::equal(m_keys.front().id.begin(), m_keys.front().id.end(), stored.begin());
}

} // namespace studio2fa
