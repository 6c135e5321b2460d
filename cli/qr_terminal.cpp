#include "qr_terminal.hpp"

#include "secret_bytes.hpp"

#include <openssl/crypto.h>
#include <qrencode.h>

#include <memory>
#include <string>

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

Expected<void> print_qr(std::FILE* out, const char* text, QrColors colors)
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

  for (int y = 0; y < size; y += 2) {
    std::string line;
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
    line += "\n";
    std::fputs(line.c_str(), out);
    OPENSSL_cleanse(line.data(), line.size());
  }
  return {};
}

} // namespace studio2fa
