#include "keyed_hash.hpp"

#include <climits>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace studio2fa {

bool hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::uint8_t* out)
{
  unsigned int length = 0;
  return key.size() <= static_cast<std::size_t>(INT_MAX) &&
         HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(),
              message.size(), out, &length) != nullptr &&
         length == k_keyed_hash_size;
}

} // namespace studio2fa
