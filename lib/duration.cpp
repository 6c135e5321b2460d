#include "duration.hpp"

#include <charconv>
#include <ctime>

namespace studio2fa {

std::optional<std::uint64_t> parse_duration(std::string_view text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t unit = 1;
  switch (text.back()) {
  case 's':
    unit = 1;
    break;
  case 'm':
    unit = 60;
    break;
  case 'h':
    unit = 3600;
    break;
  case 'd':
    unit = 86400;
    break;
  default:
    unit = 0;
  }
  if (unit != 0) {
    text.remove_suffix(1);
  } else {
    unit = 1;
  }
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || number > UINT32_MAX) {
    return std::nullopt;
  }
  return number * unit;
}

std::string utc_time(std::int64_t unix_time)
{
  const time_t t = static_cast<time_t>(unix_time);
  tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

} // namespace studio2fa
