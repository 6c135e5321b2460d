// otpauth:// URIs (the Key Uri Format authenticator apps read from QR codes).
#pragma once

#include "secret_bytes.hpp"
#include "totp.hpp"

#include <string>
#include <string_view>

namespace studio2fa::otpauth {

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER, with algorithm=, digits= and
// period= only when they differ from SHA1/6/30 (most apps ignore them, and the QR stays small).
// Issuer and account are percent-encoded. The result contains the secret: it is a SecretBytes.
SecretBytes build_uri(std::string_view issuer, std::string_view account,
                      std::string_view base32_secret, const totp::Parameters& params);

// The secret in groups of four characters, as people type it into an app by hand.
SecretBytes group_key(std::string_view base32_secret);

// Percent-encodes everything outside RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);

} // namespace studio2fa::otpauth
