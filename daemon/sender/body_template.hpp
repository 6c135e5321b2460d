// The body an HTTPS sender posts to a gateway, made from a template in studio2fad.conf
// (sms_body_template, voice_body_template):
//
//   form:  To={number}&From=%2B15005550006&Body={message}
//   json:  {"to": "{number}", "text": "{message}", "channel": "{kind}"}
//
// {number} (E.164), {message} (which holds the code) and {kind} ("sms" or "voice") are replaced
// by their values escaped for the body's content type: percent-encoded (RFC 3986 unreserved
// characters kept) in a form, JSON-string-escaped (RFC 8259) in JSON, where a placeholder must
// stand inside a string's quotes. Any other brace is text, so a JSON template is written as it
// will be sent. The parser is bounded (k_max_template_size, k_max_placeholders) and is fuzzed
// (tests/fuzz/fuzz_body_template.cpp).
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

enum class BodyFormat { form, json };

// "application/x-www-form-urlencoded", "application/json".
const char* content_type(BodyFormat format);

class BodyTemplate {
public:
  static constexpr std::size_t k_max_template_size = 2048;
  static constexpr std::size_t k_max_placeholders = 16;

  // Errc::invalid, saying what is wrong, when `text` is longer than k_max_template_size, holds
  // a control character, names a placeholder other than the three, lacks {number} or
  // {message}, or does not suit `format`: in a form a literal space or '+' (which a form decodes
  // as a space: write %2B) or a '%' not followed by two hex digits; in JSON a text that does not
  // start with '{' or '[', a placeholder outside a string, or a string left open.
  static Expected<BodyTemplate> parse(std::string_view text, BodyFormat format);

  BodyFormat format() const { return m_format; }

  // The body, each placeholder replaced by its value escaped for the format. SecretBytes: it
  // holds the message.
  SecretBytes render(std::string_view number, std::string_view message,
                     std::string_view kind) const;

private:
  enum class Slot { text, number, message, kind };
  struct Piece {
    Slot slot;
    std::string text; // for Slot::text
  };

  BodyTemplate(std::vector<Piece> pieces, BodyFormat format)
      : m_pieces(std::move(pieces)), m_format(format)
  {
  }

  std::vector<Piece> m_pieces;
  BodyFormat m_format;
};

// Escapers writing at `out` (which must have room for k_max_escaped_per_byte bytes per byte of
// `text`); each returns the end of what it wrote. Written for buffers that hold a code: nothing
// is allocated.
inline constexpr std::size_t k_max_escaped_per_byte = 6;
// RFC 8259 string content, without the quotes: '"' and '\\' backslashed, control characters and
// DEL as \u00XX, the rest (UTF-8 included) as is.
std::uint8_t* put_json_escaped(std::string_view text, std::uint8_t* out);
// RFC 3986 percent-encoding: A-Z a-z 0-9 - . _ ~ as is, every other byte as %XX (as
// curl_easy_escape does).
std::uint8_t* put_form_escaped(std::string_view text, std::uint8_t* out);

} // namespace studio2fa
