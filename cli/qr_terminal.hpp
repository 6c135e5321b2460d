// Prints a QR code in a terminal with Unicode half blocks (two modules per character cell).
#pragma once

#include "expected.hpp"

#include <cstdio>

namespace studio2fa {

enum class QrColors {
  // Explicit black-on-white ANSI colours: readable on dark and light terminals alike.
  ansi,
  // No escape sequences: dark modules drawn in the text colour, as on paper or a light
  // terminal (used when the output is not a terminal).
  plain,
};

// Encodes `text` (NUL-terminated) at error-correction level M with a 4-module quiet zone and
// prints it to `out`. The encoder's buffers are wiped: the text is usually an otpauth URI.
Expected<void> print_qr(std::FILE* out, const char* text, QrColors colors);

} // namespace studio2fa
