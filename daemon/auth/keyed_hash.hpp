// HMAC-SHA256, the keyed hash behind what the store keeps of short codes (backup codes, codes
// sent by text): with the key out of the database, a stolen copy of it does not let anyone try
// the codes offline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace studio2fa {

inline constexpr std::size_t k_keyed_hash_size = 32;

// HMAC-SHA256(key, message) into `out` (k_keyed_hash_size bytes); false if OpenSSL failed.
bool hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::uint8_t* out);

} // namespace studio2fa
