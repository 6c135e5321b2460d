#include "enrollment_prompt.hpp"

#include "otpauth.hpp"
#include "protocol.hpp"
#include "qr_text.hpp"

#include <openssl/crypto.h>

namespace studio2fa {

Expected<std::vector<std::string>> enrollment_prompt_lines(std::string_view issuer,
                                                           std::string_view account,
                                                           std::string_view base32_secret,
                                                           const totp::Parameters& params)
{
  SecretBytes uri = otpauth::build_uri(issuer, account, base32_secret, params);
  std::string uri_text(reinterpret_cast<const char*>(uri.data()), uri.size());
  auto qr = render_qr(uri_text.c_str(), QrColors::plain);
  if (!qr) {
    OPENSSL_cleanse(uri_text.data(), uri_text.size());
    return Unexpected<Error>{qr.error()};
  }
  std::vector<std::string> lines;
  lines.reserve(qr->size() + 8);
  lines.emplace_back("Two-factor authentication is required for this account. Set it up now:");
  lines.emplace_back("1. Scan this QR code with an authenticator app (Google Authenticator, "
                     "Authy, 1Password, ...):");
  for (std::string& line : *qr) {
    lines.push_back(std::move(line));
  }
  qr->clear();
  // Built in place, reserved first: no temporary copy of the secret is left unwiped.
  SecretBytes grouped = otpauth::group_key(base32_secret);
  std::string& key_line = lines.emplace_back();
  constexpr std::string_view k_key_intro = "   Or type this key into the app: ";
  key_line.reserve(k_key_intro.size() + grouped.size());
  key_line.append(k_key_intro).append(reinterpret_cast<const char*>(grouped.data()), grouped.size());
  std::string& uri_line = lines.emplace_back();
  uri_line.reserve(uri_text.size() + 5);
  uri_line.append("   (").append(uri_text).append(")");
  OPENSSL_cleanse(uri_text.data(), uri_text.size());
  lines.emplace_back("   (A garbled QR code means the terminal is not set to UTF-8: type the key.)");
  lines.emplace_back("2. Type the code the app shows to finish.");
  for (const std::string& line : lines) {
    if (line.size() > protocol::limits::display_line) {
      wipe_lines(lines);
      return make_error("the enrollment text does not fit the protocol (is the issuer very long?)");
    }
  }
  if (lines.size() > protocol::k_max_display_lines) {
    wipe_lines(lines);
    return make_error("the enrollment QR code is too large for the protocol");
  }
  return lines;
}

} // namespace studio2fa
