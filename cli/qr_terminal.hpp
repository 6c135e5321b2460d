// Prints a QR code in a terminal (see qr_text.hpp for how it is drawn).
#pragma once

#include "expected.hpp"
#include "qr_text.hpp"

#include <cstdio>

namespace studio2fa {

// Prints `text` (NUL-terminated) as a QR code to `out`, wiping every copy it made.
Expected<void> print_qr(std::FILE* out, const char* text, QrColors colors);

} // namespace studio2fa
