#include "otpauth.hpp"

#include <cstring>

namespace studio2fa::otpauth {

namespace {

bool is_unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

} // namespace

std::string percent_encode(std::string_view text)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out += c;
    } else {
      out += '%';
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0x0F];
    }
  }
  return out;
}

SecretBytes build_uri(std::string_view issuer, std::string_view account,
                      std::string_view base32_secret, const totp::Parameters& params)
{
  // The parts around the secret hold nothing secret and may live in std::string; the secret is
  // only ever copied into the SecretBytes result.
  const std::string encoded_issuer = percent_encode(issuer);
  std::string head = "otpauth://totp/";
  if (!issuer.empty()) {
    head += encoded_issuer;
    head += ':';
  }
  head += percent_encode(account);
  head += "?secret=";

  std::string tail;
  if (!issuer.empty()) {
    tail += "&issuer=";
    tail += encoded_issuer;
  }
  if (params.algorithm != totp::Algorithm::sha1) {
    tail += "&algorithm=";
    tail += totp::algorithm_name(params.algorithm);
  }
  if (params.digits != 6) {
    tail += "&digits=";
    tail += std::to_string(params.digits);
  }
  if (params.period != 30) {
    tail += "&period=";
    tail += std::to_string(params.period);
  }

  SecretBytes uri(head.size() + base32_secret.size() + tail.size());
  std::uint8_t* out = uri.data();
  std::memcpy(out, head.data(), head.size());
  out += head.size();
  if (!base32_secret.empty()) {
    std::memcpy(out, base32_secret.data(), base32_secret.size());
    out += base32_secret.size();
  }
  if (!tail.empty()) {
    std::memcpy(out, tail.data(), tail.size());
  }
  return uri;
}

SecretBytes group_key(std::string_view base32_secret)
{
  SecretBytes out(base32_secret.size() + base32_secret.size() / 4 + 1);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < base32_secret.size(); ++i) {
    if (i > 0 && i % 4 == 0) {
      out.data()[pos++] = ' ';
    }
    out.data()[pos++] = static_cast<std::uint8_t>(base32_secret[i]);
  }
  out.truncate(pos);
  return out;
}

} // namespace studio2fa::otpauth
