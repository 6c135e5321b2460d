// Durations as people write them in the config file and on command lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace studio2fa {

// "90", "90s", "15m", "24h", "7d" → seconds; nullopt for anything else (the number must fit in
// 32 bits before its unit is applied).
std::optional<std::uint64_t> parse_duration(std::string_view text);

// A time as ISO 8601 in UTC: "2026-11-23T17:46:02Z".
std::string utc_time(std::int64_t unix_time);

} // namespace studio2fa
