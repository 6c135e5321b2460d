#include "base32.hpp"

#include <openssl/crypto.h>

namespace studio2fa::base32 {

// The input is nearly always a TOTP secret, so symbols are mapped by arithmetic rather than
// by table look-ups or branches indexed by secret bits, which could leak them through the
// cache or the branch predictor.
namespace {

// All ones when lo <= c <= hi, else zero (for c, lo, hi in 0..255).
int in_range_mask(int c, int lo, int hi)
{
  return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

char encode_symbol(unsigned value)
{
  const int v = static_cast<int>(value);
  // 'A'..'Z' for 0..25, '2'..'7' for 26..31.
  return static_cast<char>(v + 'A' + (((25 - v) >> 8) & ('2' - 'A' - 26)));
}

// The 5-bit value of a base32 symbol (either case), or -1.
int decode_symbol(unsigned char symbol)
{
  const int c = symbol;
  const int upper = in_range_mask(c, 'A', 'Z');
  const int lower = in_range_mask(c, 'a', 'z');
  const int digit = in_range_mask(c, '2', '7');
  const int value = (upper & (c - 'A')) | (lower & (c - 'a')) | (digit & (c - '2' + 26));
  const int valid = upper | lower | digit;
  return (valid & value) | ~valid;
}

bool is_separator(char c)
{
  return c == ' ' || c == '-';
}

} // namespace

SecretBytes encode(std::span<const std::uint8_t> data)
{
  SecretBytes out((data.size() * 8 + 4) / 5);
  std::size_t pos = 0;
  std::uint32_t buffer = 0;
  unsigned bits = 0;
  for (const std::uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.data()[pos++] = encode_symbol((buffer >> bits) & 0x1F);
    }
  }
  if (bits > 0) {
    out.data()[pos++] = encode_symbol((buffer << (5 - bits)) & 0x1F);
  }
  OPENSSL_cleanse(&buffer, sizeof(buffer));
  return out;
}

Expected<SecretBytes> decode(std::string_view text)
{
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    if (is_separator(c)) {
      continue;
    }
    if (c == '=') {
      ++padding;
    } else if (padding > 0) {
      return make_error("base32 padding ('=') in the middle of the text");
    } else if (decode_symbol(static_cast<unsigned char>(c)) < 0) {
      return make_error("invalid character in base32 text");
    }
    if (c != '=') {
      ++symbols;
    }
  }

  // A final group of 1, 3 or 6 symbols cannot come from whole bytes.
  const std::size_t tail = symbols % 8;
  if (tail == 1 || tail == 3 || tail == 6) {
    return make_error("base32 text has an impossible length");
  }
  if (padding > 0 && (tail == 0 || (symbols + padding) % 8 != 0)) {
    return make_error("base32 text has wrong padding");
  }

  SecretBytes out(symbols * 5 / 8);
  std::size_t pos = 0;
  std::uint32_t buffer = 0;
  unsigned bits = 0;
  for (const char c : text) {
    if (is_separator(c) || c == '=') {
      continue;
    }
    buffer =
        (buffer << 5) | static_cast<std::uint32_t>(decode_symbol(static_cast<unsigned char>(c)));
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.data()[pos++] = static_cast<std::uint8_t>(buffer >> bits);
    }
  }
  // The bits left over must be zero, as every encoder writes them; otherwise two texts would
  // decode to the same key and a mistyped last symbol could go unnoticed.
  const bool clean_tail = (buffer & ((1U << bits) - 1)) == 0;
  OPENSSL_cleanse(&buffer, sizeof(buffer));
  if (!clean_tail) {
    return make_error("base32 text has non-zero trailing bits");
  }
  return out;
}

} // namespace studio2fa::base32
