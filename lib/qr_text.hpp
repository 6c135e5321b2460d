// A QR code as lines of text, with Unicode half blocks (two modules per character cell): for a
// terminal (studio2fa enroll) and for the PAM conversation of an enrollment inside a login.
#pragma once

#include "expected.hpp"

#include <string>
#include <vector>

namespace studio2fa {

enum class QrColors {
  // Explicit black-on-white ANSI colours: readable on dark and light terminals alike.
  ansi,
  // No escape sequences: dark modules drawn in the text colour, as on paper or a light
  // terminal (for output that is not a terminal, and for PAM messages, which ssh clients
  // would show escape sequences of literally).
  plain,
};

// Encodes `text` (NUL-terminated) at error-correction level M with a 4-module quiet zone. The
// encoder's buffers are wiped; the caller wipes the lines (wipe_lines): the text is usually an
// otpauth URI, which holds a secret.
Expected<std::vector<std::string>> render_qr(const char* text, QrColors colors);

void wipe_lines(std::vector<std::string>& lines);

} // namespace studio2fa
