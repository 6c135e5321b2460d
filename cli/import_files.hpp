// Reading the TOTP secrets studios already have, for `studio2fa-admin import`: a base32 secret
// on standard input, a Google Authenticator file (~/.google_authenticator) and an oath-toolkit
// users file (pam_oath's usersfile). Errors name the file and line, never its contents.
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"
#include "totp.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace studio2fa {

struct ImportAccount {
  std::string user;
  SecretBytes secret_base32; // upper case, no padding
  totp::Parameters params;
  std::vector<SecretBytes> codes; // backup codes to keep (scratch codes)
};

// One line of base32 (spaces, '-' and '=' padding allowed) for `user`.
Expected<std::vector<ImportAccount>> read_base32_secret(FILE* in, const std::string& user,
                                                        const totp::Parameters& params);

// A google-authenticator(1) file: the secret, `" ` option lines (TOTP_AUTH is required;
// STEP_SIZE sets the period), then up to 10 eight-digit scratch codes, kept as backup codes.
Expected<std::vector<ImportAccount>> read_google_authenticator(const std::string& path,
                                                               const std::string& user);

// An oath-toolkit users file: `TYPE USER PIN HEXSECRET [COUNTER [TIME]]` lines. Every TOTP user
// (TYPE HOTP/T<period>[/<digits>]) is taken; counter-based (HOTP) users, PINs and repeated users
// are reported in `warnings` and skipped (a PIN is dropped: the password takes its place).
Expected<std::vector<ImportAccount>> read_oath_usersfile(const std::string& path,
                                                         std::vector<std::string>& warnings);

} // namespace studio2fa
