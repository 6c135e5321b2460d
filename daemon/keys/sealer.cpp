#include "sealer.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <openssl/evp.h>
#include <string>

namespace studio2fa {

namespace {

constexpr std::uint8_t k_format_version = 0x01;
constexpr std::size_t k_key_size = 32;
constexpr std::size_t k_nonce_size = 12;
constexpr std::size_t k_tag_size = 16;
constexpr std::size_t k_overhead = 1 + k_nonce_size + k_tag_size;
constexpr std::string_view k_aad_label = "studio2fa-seal-v1";

// Every failure to open looks the same to the caller: saying which check failed would help
// only someone probing blobs.
constexpr const char* k_open_failed = "sealed secret cannot be opened";

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

bool contains_nul(std::string_view text)
{
  return text.find('\0') != std::string_view::npos;
}

// label NUL purpose NUL user: unambiguous because neither part may contain a NUL.
std::string additional_data(std::string_view user, std::string_view purpose)
{
  std::string aad;
  aad.reserve(k_aad_label.size() + purpose.size() + user.size() + 2);
  aad.append(k_aad_label);
  aad.push_back('\0');
  aad.append(purpose);
  aad.push_back('\0');
  aad.append(user);
  return aad;
}

bool fits_int(std::size_t size)
{
  return size <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

} // namespace

Expected<Sealer> Sealer::create(SecretBytes key)
{
  if (key.size() != k_key_size) {
    return make_error("the sealing key must be " + std::to_string(k_key_size) + " bytes, not " +
                      std::to_string(key.size()));
  }
  return Sealer(std::move(key));
}

Expected<std::vector<std::uint8_t>> Sealer::seal(std::span<const std::uint8_t> plaintext,
                                                 std::string_view user,
                                                 std::string_view purpose) const
{
  if (contains_nul(user) || contains_nul(purpose)) {
    return make_error("cannot seal: user or purpose contains a NUL byte");
  }
  const std::string aad = additional_data(user, purpose);
  if (!fits_int(plaintext.size() + k_overhead) || !fits_int(aad.size())) {
    return make_error("cannot seal: input too large");
  }

  std::vector<std::uint8_t> sealed(k_overhead + plaintext.size());
  sealed[0] = k_format_version;
  std::uint8_t* nonce = sealed.data() + 1;
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
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, m_key.data(), nonce) == 1 &&
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
  if (sealed.size() < k_overhead || !fits_int(sealed.size()) || sealed[0] != k_format_version ||
      contains_nul(user) || contains_nul(purpose)) {
    return make_error(k_open_failed);
  }
  const std::string aad = additional_data(user, purpose);
  if (!fits_int(aad.size())) {
    return make_error(k_open_failed);
  }
  const std::uint8_t* nonce = sealed.data() + 1;
  const std::uint8_t* ciphertext = nonce + k_nonce_size;
  const std::size_t ciphertext_size = sealed.size() - k_overhead;
  // OpenSSL's SET_TAG takes a non-const pointer.
  std::uint8_t tag[k_tag_size];
  std::copy_n(ciphertext + ciphertext_size, k_tag_size, tag);

  SecretBytes plaintext(ciphertext_size);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, k_nonce_size, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, m_key.data(), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1;
  if (ok && ciphertext_size > 0) {
    ok = EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, ciphertext,
                           static_cast<int>(ciphertext_size)) == 1 &&
         static_cast<std::size_t>(len) == ciphertext_size;
  }
  // Final verifies the tag; nothing decrypted is returned unless it succeeds.
  std::uint8_t final_block[16];
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, k_tag_size, tag) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), final_block, &len) == 1 && len == 0;
  if (!ok) {
    return make_error(k_open_failed);
  }
  return plaintext;
}

} // namespace studio2fa
