#include "printable.hpp"

#include <cstdio>

namespace studio2fa {

namespace {

// Control characters, and the bytes of `also`, as \xNN; the rest kept.
std::string escaped(std::string_view text, std::string_view also)
{
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || also.find(c) != std::string_view::npos) {
      char code[5];
      snprintf(code, sizeof(code), "\\x%02x", byte);
      out += code;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

} // namespace

std::string printable(std::string_view text)
{
  return escaped(text, {});
}

std::string field_value(std::string_view text)
{
  return escaped(text, " \"'=\\");
}

std::string quoted_value(std::string_view text)
{
  return escaped(text, "\"\\");
}

} // namespace studio2fa
