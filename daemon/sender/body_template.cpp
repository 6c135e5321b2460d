#include "body_template.hpp"

#include <algorithm>
#include <cstring>

namespace studio2fa {

namespace {

constexpr char k_hex_upper[] = "0123456789ABCDEF"; // percent-encoding, as curl_easy_escape
constexpr char k_hex_lower[] = "0123456789abcdef"; // JSON's control-character escapes

bool is_hex_digit(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_unreserved(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// A placeholder's name: "{" [a-z_]{1,16} "}". Other braces (JSON's) are text.
std::size_t placeholder_length(std::string_view rest)
{
  if (rest.size() < 3 || rest[0] != '{') {
    return 0;
  }
  std::size_t end = 1;
  while (end < rest.size() && end <= 17 &&
         ((rest[end] >= 'a' && rest[end] <= 'z') || rest[end] == '_')) {
    ++end;
  }
  if (end == 1 || end > 17 || end >= rest.size() || rest[end] != '}') {
    return 0;
  }
  return end + 1;
}

// Checks one character of literal text in a form body.
Expected<void> check_form_text(std::string_view text, std::size_t at)
{
  const char c = text[at];
  if (c == ' ') {
    return make_error(Errc::invalid, "a space in a form body must be written %20");
  }
  if (c == '+') {
    return make_error(Errc::invalid, "a '+' in a form body means a space: write %2B for a plus "
                                     "sign (as in From=%2B15005550006)");
  }
  if (c == '%' &&
      (at + 2 >= text.size() || !is_hex_digit(text[at + 1]) || !is_hex_digit(text[at + 2]))) {
    return make_error(Errc::invalid, "a '%' in a form body must start an escape such as %2B");
  }
  if (std::strchr("#\"<>\\`{}[]|^", c) != nullptr || static_cast<unsigned char>(c) >= 0x80) {
    return make_error(Errc::invalid,
                      std::string("a '") + c + "' in a form body must be percent-encoded");
  }
  return {};
}

} // namespace

const char* content_type(BodyFormat format)
{
  return format == BodyFormat::json ? "application/json" : "application/x-www-form-urlencoded";
}

std::uint8_t* put_json_escaped(std::string_view text, std::uint8_t* out)
{
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = byte;
    } else if (byte < 0x20 || byte == 0x7F) {
      for (const char e : {'\\', 'u', '0', '0', k_hex_lower[byte >> 4], k_hex_lower[byte & 0xF]}) {
        *out++ = static_cast<std::uint8_t>(e);
      }
    } else {
      *out++ = byte;
    }
  }
  return out;
}

std::uint8_t* put_form_escaped(std::string_view text, std::uint8_t* out)
{
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(c)) {
      *out++ = byte;
    } else {
      *out++ = '%';
      *out++ = static_cast<std::uint8_t>(k_hex_upper[byte >> 4]);
      *out++ = static_cast<std::uint8_t>(k_hex_upper[byte & 0xF]);
    }
  }
  return out;
}

Expected<BodyTemplate> BodyTemplate::parse(std::string_view text, BodyFormat format)
{
  if (text.size() > k_max_template_size) {
    return make_error(Errc::invalid, "the body template is longer than " +
                                         std::to_string(k_max_template_size) + " bytes");
  }
  if (format == BodyFormat::json) {
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos || (text[first] != '{' && text[first] != '[')) {
      return make_error(Errc::invalid, "a JSON body template must be a JSON object, such as "
                                       "{\"to\": \"{number}\", \"text\": \"{message}\"}");
    }
  }
  std::vector<Piece> pieces;
  std::size_t placeholders = 0;
  bool has_number = false;
  bool has_message = false;
  bool in_string = false; // JSON: inside a string's quotes
  bool escaped = false;   // JSON: the previous character was a backslash inside a string
  for (std::size_t at = 0; at < text.size();) {
    const char c = text[at];
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return make_error(Errc::invalid, "the body template must not contain control characters");
    }
    if (const std::size_t length = placeholder_length(text.substr(at)); length != 0 && !escaped) {
      const std::string_view name = text.substr(at + 1, length - 2);
      Slot slot;
      if (name == "number") {
        slot = Slot::number;
        has_number = true;
      } else if (name == "message") {
        slot = Slot::message;
        has_message = true;
      } else if (name == "kind") {
        slot = Slot::kind;
      } else {
        return make_error(Errc::invalid, "unknown placeholder {" + std::string(name) +
                                             "}: a body template may use {number}, {message} "
                                             "and {kind}");
      }
      if (++placeholders > k_max_placeholders) {
        return make_error(Errc::invalid, "more than " + std::to_string(k_max_placeholders) +
                                             " placeholders in the body template");
      }
      if (format == BodyFormat::json && !in_string) {
        return make_error(Errc::invalid, "in a JSON body template {" + std::string(name) +
                                             "} must stand inside a string's quotes");
      }
      pieces.push_back(Piece{slot, {}});
      at += length;
      continue;
    }
    if (format == BodyFormat::form) {
      if (auto checked = check_form_text(text, at); !checked) {
        return make_error(Errc::invalid, checked.error().message);
      }
    } else if (escaped) {
      escaped = false;
    } else if (c == '\\' && in_string) {
      escaped = true;
    } else if (c == '"') {
      in_string = !in_string;
    }
    if (pieces.empty() || pieces.back().slot != Slot::text) {
      pieces.push_back(Piece{Slot::text, {}});
    }
    pieces.back().text.push_back(c);
    ++at;
  }
  if (in_string) {
    return make_error(Errc::invalid, "the JSON body template leaves a string open");
  }
  if (!has_number || !has_message) {
    return make_error(Errc::invalid, "the body template must contain {number} and {message}");
  }
  return BodyTemplate(std::move(pieces), format);
}

SecretBytes BodyTemplate::render(std::string_view number, std::string_view message,
                                 std::string_view kind) const
{
  std::size_t bound = 0;
  for (const Piece& piece : m_pieces) {
    switch (piece.slot) {
    case Slot::text:
      bound += piece.text.size();
      break;
    case Slot::number:
      bound += number.size() * k_max_escaped_per_byte;
      break;
    case Slot::message:
      bound += message.size() * k_max_escaped_per_byte;
      break;
    case Slot::kind:
      bound += kind.size() * k_max_escaped_per_byte;
      break;
    }
  }
  SecretBytes body(bound);
  std::uint8_t* out = body.data();
  auto put = [&](std::string_view value) {
    out =
        m_format == BodyFormat::json ? put_json_escaped(value, out) : put_form_escaped(value, out);
  };
  for (const Piece& piece : m_pieces) {
    switch (piece.slot) {
    case Slot::text:
      out = std::copy(piece.text.begin(), piece.text.end(), out);
      break;
    case Slot::number:
      put(number);
      break;
    case Slot::message:
      put(message);
      break;
    case Slot::kind:
      put(kind);
      break;
    }
  }
  body.truncate(static_cast<std::size_t>(out - body.data()));
  return body;
}

} // namespace studio2fa
