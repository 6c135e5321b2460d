#include "qr_text.hpp"

#include <openssl/crypto.h>
#include <qrencode.h>

#include <memory>

namespace studio2fa {

namespace {

constexpr int k_quiet_zone = 4;

struct QrDeleter {
  void operator()(QRcode* code) const
  {
    OPENSSL_cleanse(code->data, static_cast<std::size_t>(code->width) * code->width);
    QRcode_free(code);
  }
};

} // namespace

Expected<std::vector<std::string>> render_qr(const char* text, QrColors colors)
{
  std::unique_ptr<QRcode, QrDeleter> code(QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!code) {
    return make_error("cannot encode the QR code");
  }
  const int width = code->width;
  const int size = width + 2 * k_quiet_zone;
  auto dark = [&](int x, int y) {
    x -= k_quiet_zone;
    y -= k_quiet_zone;
    if (x < 0 || y < 0 || x >= width || y >= width) {
      return false;
    }
    return (code->data[y * width + x] & 1) != 0;
  };

  std::vector<std::string> lines;
  lines.reserve(static_cast<std::size_t>(size / 2 + 1));
  for (int y = 0; y < size; y += 2) {
    std::string line;
    // Reserved up front: a reallocation would leave a copy behind that is never wiped.
    line.reserve(static_cast<std::size_t>(size) * (colors == QrColors::ansi ? 13 : 3) + 8);
    if (colors == QrColors::ansi) {
      // Foreground draws the top module (upper half block), background the bottom one.
      for (int x = 0; x < size; ++x) {
        bool top = dark(x, y);
        bool bottom = y + 1 < size && dark(x, y + 1);
        line += top ? "\x1b[30m" : "\x1b[97m";
        line += bottom ? "\x1b[40m" : "\x1b[107m";
        line += "\u2580";
      }
      line += "\x1b[0m";
    } else {
      for (int x = 0; x < size; ++x) {
        bool top = dark(x, y);
        bool bottom = y + 1 < size && dark(x, y + 1);
        line += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
      }
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void wipe_lines(std::vector<std::string>& lines)
{
  for (std::string& line : lines) {
    OPENSSL_cleanse(line.data(), line.size());
  }
  lines.clear();
}

} // namespace studio2fa
