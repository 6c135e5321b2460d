#include "totp.hpp"

#include <climits>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace studio2fa::totp {

namespace {

const EVP_MD* message_digest(Algorithm algorithm)
{
  switch (algorithm) {
  case Algorithm::sha1:
    return EVP_sha1();
  case Algorithm::sha256:
    return EVP_sha256();
  case Algorithm::sha512:
    return EVP_sha512();
  }
  return nullptr;
}

// 10^digits; from 10 digits on, the 31-bit truncated value is used whole.
std::uint64_t modulus(unsigned digits)
{
  std::uint64_t result = 1;
  for (unsigned i = 0; i < digits && i < 10; ++i) {
    result *= 10;
  }
  return result;
}

void store_be32(std::uint32_t value, std::uint8_t* out)
{
  out[0] = static_cast<std::uint8_t>(value >> 24);
  out[1] = static_cast<std::uint8_t>(value >> 16);
  out[2] = static_cast<std::uint8_t>(value >> 8);
  out[3] = static_cast<std::uint8_t>(value);
}

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
    if (c != b[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

std::optional<Algorithm> parse_algorithm(std::string_view name)
{
  for (const Algorithm algorithm : {Algorithm::sha1, Algorithm::sha256, Algorithm::sha512}) {
    if (equals_ignoring_case(name, algorithm_name(algorithm))) {
      return algorithm;
    }
  }
  return std::nullopt;
}

const char* algorithm_name(Algorithm algorithm)
{
  switch (algorithm) {
  case Algorithm::sha1:
    return "SHA1";
  case Algorithm::sha256:
    return "SHA256";
  case Algorithm::sha512:
    return "SHA512";
  }
  return "?";
}

std::optional<std::uint32_t> hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                                  Algorithm algorithm, unsigned digits)
{
  const EVP_MD* md = message_digest(algorithm);
  if (md == nullptr || key.size() > static_cast<std::size_t>(INT_MAX)) {
    return std::nullopt;
  }
  std::uint8_t message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<std::uint8_t>(counter & 0xFF);
    counter >>= 8;
  }
  // OpenSSL 3 refuses a null key even with length 0; an empty key is still a valid HMAC key.
  static const std::uint8_t empty_key = 0;
  const std::uint8_t* key_data = key.empty() ? &empty_key : key.data();

  std::uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(md, key_data, static_cast<int>(key.size()), message, sizeof(message), mac,
           &mac_length) == nullptr ||
      mac_length < 20) {
    OPENSSL_cleanse(mac, sizeof(mac));
    return std::nullopt;
  }
  // RFC 4226 §5.3 dynamic truncation.
  const unsigned offset = mac[mac_length - 1] & 0x0F;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7F) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  OPENSSL_cleanse(mac, sizeof(mac));
  return static_cast<std::uint32_t>(binary % modulus(digits));
}

std::uint64_t time_step(std::int64_t unix_time, unsigned period)
{
  // Times before the epoch and a zero period have no meaningful step; step 0 keeps the
  // arithmetic defined.
  if (unix_time < 0 || period == 0) {
    return 0;
  }
  return static_cast<std::uint64_t>(unix_time) / period;
}

void format_code(std::uint32_t value, unsigned digits, char* out)
{
  for (unsigned i = digits; i > 0; --i) {
    out[i - 1] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out[digits] = '\0';
}

std::optional<std::uint32_t> parse_code(std::string_view text, unsigned digits)
{
  // More than 9 digits could overflow the value.
  if (digits == 0 || digits > 9) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  unsigned count = 0;
  for (const char c : text) {
    if (c == ' ') {
      continue;
    }
    if (c < '0' || c > '9' || count == digits) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    ++count;
  }
  if (count != digits) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> match_step(std::span<const std::uint8_t> key, std::uint32_t code,
                                        std::uint64_t step, unsigned window,
                                        const Parameters& params)
{
  // Every candidate is computed and compared, and the result is selected with masks, so that
  // the time taken says nothing about whether or where the code matched. Steps below 0 or past
  // the end of the counter do not exist and are skipped; which those are depends only on the
  // public step and window. Should a code match twice (a 10^-digits coincidence), the later
  // step wins: the caller's replay check then refuses nothing the user could have meant.
  const std::uint64_t first = step >= window ? step - window : 0;
  const std::uint64_t last = UINT64_MAX - step >= window ? step + window : UINT64_MAX;

  std::uint8_t wanted[4];
  store_be32(code, wanted);
  std::uint64_t found_step = 0;
  std::uint64_t found = 0;
  bool failed = false;
  for (std::uint64_t candidate = first;; ++candidate) {
    const std::optional<std::uint32_t> value =
        hotp(key, candidate, params.algorithm, params.digits);
    if (!value) {
      failed = true;
    } else {
      std::uint8_t computed[4];
      store_be32(*value, computed);
      const std::uint64_t equal = CRYPTO_memcmp(computed, wanted, sizeof(wanted)) == 0;
      const std::uint64_t mask = 0 - equal;
      found_step = (found_step & ~mask) | (candidate & mask);
      found |= equal;
      OPENSSL_cleanse(computed, sizeof(computed));
    }
    if (candidate == last) {
      break;
    }
  }
  OPENSSL_cleanse(wanted, sizeof(wanted));
  if (failed || found == 0) {
    return std::nullopt;
  }
  return found_step;
}

} // namespace studio2fa::totp
