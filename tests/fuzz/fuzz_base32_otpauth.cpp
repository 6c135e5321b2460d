// libFuzzer target: what people type or scan (lib/base32, lib/totp's parse_code, lib/otpauth).
//
// Beyond "no crash":
// - base32::decode accepts a text only if it is the canonical encoding of what it decodes to,
//   once separators (' ', '-') and padding are dropped and letters upper-cased; encode() of the
//   result decodes to the same bytes;
// - totp::parse_code accepts exactly `digits` ASCII digits (spaces aside), and its value
//   formats back to them;
// - otpauth::percent_encode leaves only RFC 3986 unreserved characters and %XX escapes, and
//   they decode to the input; build_uri's result holds nothing else but the URI's own
//   delimiters and the base32 secret.
#include "base32.hpp"
#include "check.hpp"
#include "otpauth.hpp"
#include "totp.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace studio2fa;

bool is_base32_symbol(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

bool is_unreserved(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void check_base32(std::string_view text)
{
  auto decoded = base32::decode(text);
  if (!decoded) {
    return;
  }
  std::string canonical;
  for (char c : text) {
    if (c == ' ' || c == '-' || c == '=') {
      continue;
    }
    canonical += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  SecretBytes encoded = base32::encode(decoded->span());
  FUZZ_CHECK(encoded.size() == (decoded->size() * 8 + 4) / 5, "base32 encoding has a wrong length");
  for (char c : encoded.view()) {
    FUZZ_CHECK(is_base32_symbol(c), "base32 encoding holds a character outside the alphabet");
  }
  FUZZ_CHECK(encoded.view() == canonical, "base32 accepts a text that is not the canonical one");
  auto again = base32::decode(encoded.view());
  FUZZ_CHECK(again.has_value(), "base32 encoding does not decode");
  FUZZ_CHECK(
      again->size() == decoded->size() &&
          (decoded->empty() || std::memcmp(again->data(), decoded->data(), decoded->size()) == 0),
      "base32 round trip changes the bytes");
}

void check_parse_code(std::string_view text)
{
  std::string digits_typed;
  bool only_digits = true;
  for (char c : text) {
    if (c == ' ') {
      continue;
    }
    only_digits = only_digits && c >= '0' && c <= '9';
    digits_typed += c;
  }
  for (unsigned digits = 6; digits <= 8; ++digits) {
    auto code = totp::parse_code(text, digits);
    const bool expected = only_digits && digits_typed.size() == digits;
    FUZZ_CHECK(code.has_value() == expected, "parse_code accepts or refuses the wrong text");
    if (code) {
      char formatted[16];
      totp::format_code(*code, digits, formatted);
      FUZZ_CHECK(digits_typed == formatted, "a parsed code does not format back to its digits");
    }
  }
}

void check_percent_encode(std::string_view text)
{
  const std::string encoded = otpauth::percent_encode(text);
  std::string decoded;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      FUZZ_CHECK(is_unreserved(encoded[i]), "percent_encode leaves a reserved character");
      decoded += encoded[i];
      continue;
    }
    FUZZ_CHECK(i + 2 < encoded.size(), "percent_encode writes a truncated escape");
    const int high = hex_value(encoded[i + 1]);
    const int low = hex_value(encoded[i + 2]);
    FUZZ_CHECK(high >= 0 && low >= 0, "percent_encode writes a bad escape");
    const char byte = static_cast<char>(high * 16 + low);
    FUZZ_CHECK(!is_unreserved(byte), "percent_encode escapes an unreserved character");
    decoded += byte;
    i += 2;
  }
  FUZZ_CHECK(decoded == text, "percent_encode does not decode to its input");
}

void check_build_uri(std::string_view text, const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return;
  }
  // The first byte picks the parameters, the rest is split into issuer and account.
  const std::uint8_t choice = data[0];
  totp::Parameters params;
  params.algorithm = static_cast<totp::Algorithm>(choice % 3);
  params.digits = 6 + (choice / 3) % 3;
  params.period = (choice & 0x80) != 0 ? 60 : 30;
  std::string_view rest = text.substr(1);
  const std::string_view issuer = rest.substr(0, rest.size() / 2);
  const std::string_view account = rest.substr(rest.size() / 2);
  const std::string_view secret = "JBSWY3DPEHPK3PXP";

  SecretBytes uri = otpauth::build_uri(issuer, account, secret, params);
  const std::string_view view = uri.view();
  constexpr std::string_view k_scheme = "otpauth://totp/";
  FUZZ_CHECK(view.substr(0, k_scheme.size()) == k_scheme, "a URI without its scheme");
  FUZZ_CHECK(view.find("?secret=JBSWY3DPEHPK3PXP") != std::string_view::npos,
             "a URI without its secret");
  for (char c : view.substr(k_scheme.size())) {
    FUZZ_CHECK(is_unreserved(c) || std::string_view("%:?&=").find(c) != std::string_view::npos,
               "a URI holds an unescaped character");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_base32(text);
  check_parse_code(text);
  check_percent_encode(text);
  check_build_uri(text, data, size);
  return 0;
}
