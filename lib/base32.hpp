// RFC 4648 base32 (the alphabet of otpauth:// secrets).
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace studio2fa::base32 {

// Encodes without '=' padding (as otpauth URIs carry it). The result is a SecretBytes because
// what gets encoded here is nearly always a TOTP secret.
SecretBytes encode(std::span<const std::uint8_t> data);

// Decodes case-insensitively; spaces and '-' (as people type keys in groups) are skipped and
// '=' padding is accepted only at the end. Errors name what is wrong, never echo the input.
Expected<SecretBytes> decode(std::string_view text);

} // namespace studio2fa::base32
