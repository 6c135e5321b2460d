#include "qr_terminal.hpp"

namespace studio2fa {

Expected<void> print_qr(std::FILE* out, const char* text, QrColors colors)
{
  auto lines = render_qr(text, colors);
  if (!lines) {
    return Unexpected<Error>{lines.error()};
  }
  for (const std::string& line : *lines) {
    std::fputs(line.c_str(), out);
    std::fputc('\n', out);
  }
  wipe_lines(*lines);
  return {};
}

} // namespace studio2fa
