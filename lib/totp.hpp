// HOTP (RFC 4226) and TOTP (RFC 6238).
#pragma once

#include "expected.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace studio2fa::totp {

enum class Algorithm { sha1, sha256, sha512 };

// "SHA1", "SHA256", "SHA512" (case-insensitive) ↔ Algorithm.
std::optional<Algorithm> parse_algorithm(std::string_view name);
const char* algorithm_name(Algorithm algorithm);

struct Parameters {
  Algorithm algorithm = Algorithm::sha1;
  unsigned digits = 6;       // 6..8
  unsigned period = 30;      // seconds, >= 1
};

// The HOTP value for `counter` (RFC 4226 §5.3: HMAC, dynamic truncation, mod 10^digits).
// Returns nullopt only if the HMAC fails.
std::optional<std::uint32_t> hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                                  Algorithm algorithm, unsigned digits);

// The time step of a Unix time (T0 = 0).
std::uint64_t time_step(std::int64_t unix_time, unsigned period);

// Formats a value with leading zeros to exactly `digits` characters into `out` (size > digits).
void format_code(std::uint32_t value, unsigned digits, char* out);

// Parses what a person typed as a code: exactly `digits` ASCII digits, after dropping spaces.
std::optional<std::uint32_t> parse_code(std::string_view text, unsigned digits);

// Finds the time step within [step - window, step + window] whose code equals `code`, comparing
// every candidate in constant time (all candidates are always computed). Returns the matching
// step, or nullopt.
std::optional<std::uint64_t> match_step(std::span<const std::uint8_t> key, std::uint32_t code,
                                        std::uint64_t step, unsigned window,
                                        const Parameters& params);

} // namespace studio2fa::totp
