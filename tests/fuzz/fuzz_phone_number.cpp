// libFuzzer target: phone numbers as people type them (lib/phone_number).
//
// Beyond "no crash":
// - parse_e164 reads nothing past k_max_input bytes: a longer input is refused;
// - what it accepts is canonical: '+', then 7 to 15 ASCII digits, the first not 0, which are
//   the input's digits in order; the canonical form parses to itself;
// - mask() shows six bullets and at most the last four of the number's digits, never more.
#include "check.hpp"
#include "phone_number.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace studio2fa;

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

std::string digits_of(std::string_view text)
{
  std::string digits;
  for (const char c : text) {
    if (is_digit(c)) {
      digits.push_back(c);
    }
  }
  return digits;
}

void check_mask(std::string_view number)
{
  const std::string masked = phone::mask(number);
  const std::string bullets = "\u2022\u2022\u2022\u2022\u2022\u2022";
  FUZZ_CHECK(masked.compare(0, bullets.size(), bullets) == 0, "a mask starts with six bullets");
  const std::string shown = masked.substr(bullets.size());
  const std::string digits = digits_of(number);
  FUZZ_CHECK(shown.size() <= phone::k_shown_digits, "a mask shows at most four digits");
  FUZZ_CHECK(digits_of(shown) == shown, "a mask shows digits only");
  FUZZ_CHECK(shown.empty() ||
                 digits.compare(digits.size() - shown.size(), shown.size(), shown) == 0,
             "the digits shown are the last ones");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = phone::parse_e164(text);
  check_mask(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == Errc::invalid, "a refusal is Errc::invalid");
    return 0;
  }
  const std::string& number = *parsed;
  FUZZ_CHECK(size <= phone::k_max_input, "nothing longer than k_max_input is accepted");
  FUZZ_CHECK(number.size() >= 1 + phone::k_min_digits && number.size() <= 1 + phone::k_max_digits,
             "7 to 15 digits");
  FUZZ_CHECK(number[0] == '+' && number[1] != '0', "+ and a country code not starting with 0");
  FUZZ_CHECK(digits_of(number) == number.substr(1), "nothing but digits after the +");
  FUZZ_CHECK(digits_of(text) == number.substr(1), "the input's digits, in order");
  FUZZ_CHECK(phone::is_canonical(number), "the canonical form parses to itself");
  check_mask(number);
  return 0;
}
