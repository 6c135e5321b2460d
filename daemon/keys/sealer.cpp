#include "sealer.hpp"


#include <algorithm>
#include <limits>
#include <memory>
#include <openssl/evp.h>
#include <string>

namespace studio2fa {

namespace {

constexpr std::uint8_t k_format_v1 = 0x01;
constexpr std::uint8_t k_format_v2 = 0x02;
constexpr std::size_t k_nonce_size = 12;
constexpr std::size_t k_tag_size = 16;
constexpr std::size_t k_header_v1 = 1;
constexpr std::size_t k_header_v2 = 1 + k_key_id_size;
constexpr std::string_view k_aad_label_v1 = "studio2fa-seal-v1";
constexpr std::string_view k_aad_label_v2 = "studio2fa-seal-v2";

// Every failure to open looks the same to the caller (but a key this host lacks): saying which
// check failed would help only someone probing blobs.
constexpr const char* k_open_failed = "sealed secret cannot be opened";

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

bool contains_nul(std::string_view text)
{
  return text.find('\0') != std::string_view::npos;
}

// Format 1: label NUL purpose NUL user. Format 2: label NUL key id (8 bytes) purpose NUL user.
// Unambiguous: the label and the key id have fixed lengths, and neither user nor purpose may
// contain a NUL.
std::string additional_data(std::string_view label, const KeyId* id, std::string_view user,
                            std::string_view purpose)
{
  std::string aad;
  aad.reserve(label.size() + k_key_id_size + purpose.size() + user.size() + 2);
  aad.append(label);
  aad.push_back('\0');
  if (id != nullptr) {
    aad.append(reinterpret_cast<const char*>(id->data()), id->size());
  }
  aad.append(purpose);
  aad.push_back('\0');
  aad.append(user);
  return aad;
}

bool fits_int(std::size_t size)
{
  return size <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

// The parts of a sealed blob after its header.
struct Body {
  const std::uint8_t* nonce;
  std::span<const std::uint8_t> ciphertext;
  const std::uint8_t* tag;
};

std::optional<Body> body_of(std::span<const std::uint8_t> sealed, std::size_t header)
{
  if (sealed.size() < header + k_nonce_size + k_tag_size || !fits_int(sealed.size())) {
    return std::nullopt;
  }
  const std::uint8_t* nonce = sealed.data() + header;
  const std::size_t ciphertext_size = sealed.size() - header - k_nonce_size - k_tag_size;
  return Body{nonce, {nonce + k_nonce_size, ciphertext_size},
              nonce + k_nonce_size + ciphertext_size};
}

// AES-256-GCM decryption of `body` under `key` with `aad`; nothing decrypted is returned unless
// the tag verifies.
std::optional<SecretBytes> decrypt(const SecretBytes& key, const Body& body, std::string_view aad)
{
  if (!fits_int(aad.size())) {
    return std::nullopt;
  }
  // OpenSSL's SET_TAG takes a non-const pointer.
  std::uint8_t tag[k_tag_size];
  std::copy_n(body.tag, k_tag_size, tag);

  SecretBytes plaintext(body.ciphertext.size());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, k_nonce_size, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), body.nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1;
  if (ok && !body.ciphertext.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, body.ciphertext.data(),
                           static_cast<int>(body.ciphertext.size())) == 1 &&
         static_cast<std::size_t>(len) == body.ciphertext.size();
  }
  std::uint8_t final_block[16];
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, k_tag_size, tag) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), final_block, &len) == 1 && len == 0;
  if (!ok) {
    return std::nullopt;
  }
  return plaintext;
}

} // namespace

Expected<Sealer> Sealer::create(Keyring keyring)
{
  return Sealer(std::move(keyring));
}

Expected<Sealer> Sealer::create(SecretBytes key)
{
  auto keyring = Keyring::create(std::move(key));
  if (!keyring) {
    return make_error("the sealing key: " + keyring.error().message);
  }
  return Sealer(std::move(*keyring));
}

Expected<std::vector<std::uint8_t>> Sealer::seal(std::span<const std::uint8_t> plaintext,
                                                 std::string_view user,
                                                 std::string_view purpose) const
{
  if (contains_nul(user) || contains_nul(purpose)) {
    return make_error("cannot seal: user or purpose contains a NUL byte");
  }
  const Keyring::Key& key = m_keyring.current();
  const std::string aad = additional_data(k_aad_label_v2, &key.id, user, purpose);
  const std::size_t overhead = k_header_v2 + k_nonce_size + k_tag_size;
  if (!fits_int(plaintext.size() + overhead) || !fits_int(aad.size())) {
    return make_error("cannot seal: input too large");
  }

  std::vector<std::uint8_t> sealed(overhead + plaintext.size());
  sealed[0] = k_format_v2;
  std::copy(key.id.begin(), key.id.end(), sealed.begin() + 1);
  std::uint8_t* nonce = sealed.data() + k_header_v2;
  std::uint8_t* ciphertext = nonce + k_nonce_size;
  std::uint8_t* tag = ciphertext + plaintext.size();
  if (!random_bytes({nonce, k_nonce_size})) {
    return make_error("cannot seal: the random number generator failed");
  }

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, k_nonce_size, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1;
  // A null output pointer means "additional data" to OpenSSL, so an empty plaintext skips the
  // update rather than passing one.
  if (ok && !plaintext.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), ciphertext, &len, plaintext.data(),
                           static_cast<int>(plaintext.size())) == 1 &&
         static_cast<std::size_t>(len) == plaintext.size();
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), ciphertext + plaintext.size(), &len) == 1 && len == 0 &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, k_tag_size, tag) == 1;
  if (!ok) {
    return make_error("cannot seal: encryption failed");
  }
  return sealed;
}

Expected<SecretBytes> Sealer::open(std::span<const std::uint8_t> sealed, std::string_view user,
                                   std::string_view purpose) const
{
  if (sealed.empty() || contains_nul(user) || contains_nul(purpose)) {
    return make_error(k_open_failed);
  }
  if (sealed[0] == k_format_v2) {
    const auto body = body_of(sealed, k_header_v2);
    if (!body) {
      return make_error(k_open_failed);
    }
    KeyId id{};
    std::copy_n(sealed.data() + 1, k_key_id_size, id.begin());
    const Keyring::Key* key = m_keyring.find(id);
    if (key == nullptr) {
      // Fail closed, and say what would open it: no other key is tried.
      return make_error(Errc::unknown_key, "sealed under key " + key_id_text(id) +
                                             ", which this host does not have: " +
                                             k_key_sources_hint);
    }
    auto opened = decrypt(key->bytes, *body, additional_data(k_aad_label_v2, &id, user, purpose));
    if (!opened) {
      return make_error(k_open_failed);
    }
    return std::move(*opened);
  }
  if (sealed[0] == k_format_v1) {
    const auto body = body_of(sealed, k_header_v1);
    if (!body) {
      return make_error(k_open_failed);
    }
    // A format 1 blob names no key: each held key is tried, the current one first. The tag
    // tells a wrong key from the right one.
    const std::string aad = additional_data(k_aad_label_v1, nullptr, user, purpose);
    for (const Keyring::Key& key : m_keyring.keys()) {
      if (auto opened = decrypt(key.bytes, *body, aad)) {
        return std::move(*opened);
      }
    }
  }
  return make_error(k_open_failed);
}

std::optional<KeyId> Sealer::key_id(std::span<const std::uint8_t> sealed)
{
  if (sealed.empty() || sealed[0] != k_format_v2 || !body_of(sealed, k_header_v2)) {
    return std::nullopt;
  }
  KeyId id{};
  std::copy_n(sealed.data() + 1, k_key_id_size, id.begin());
  return id;
}

bool Sealer::sealed_under_current_key(std::span<const std::uint8_t> sealed) const
{
  const auto id = key_id(sealed);
  return id && *id == m_keyring.current().id;
}

} // namespace studio2fa
