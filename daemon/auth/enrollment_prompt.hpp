// The text of an enrollment inside a login (ENROLL_PROMPT): what the user reads in the PAM
// conversation before typing their first code. Rendered by the daemon so that the PAM module
// relays lines and never handles a secret as such.
#pragma once

#include "expected.hpp"
#include "totp.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

// Lines (no newlines, each at most protocol::limits::display_line bytes): why, a QR code of the
// otpauth URI, the key in groups of four, the URI itself, what to do next. The caller wipes
// them (wipe_lines): they hold the secret.
Expected<std::vector<std::string>> enrollment_prompt_lines(std::string_view issuer,
                                                           std::string_view account,
                                                           std::string_view base32_secret,
                                                           const totp::Parameters& params);

} // namespace studio2fa
