// libFuzzer target: the HTTPS sender's body templates (daemon/sender/body_template).
//
// The input is a format byte ('j' for JSON, anything else for a form), the template, a newline,
// and a value used for the message, the number and the kind alike.
//
// Beyond "no crash":
// - nothing longer than k_max_template_size is accepted, and an accepted template names
//   {number} and {message};
// - a value cannot change the body's structure: in a form, the '&' and '=' that separate fields
//   are the same with the value as with empty values (the value is percent-encoded whole); in
//   JSON, the text outside strings is the same (a value never ends its string), and no control
//   character is sent raw;
// - a form body holds no raw space, '+' or byte past ASCII, and the body's size stays within
//   the bound render() sized its buffer by.
#include "body_template.hpp"
#include "check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace studio2fa;

// The characters of a form that separate fields.
std::string form_structure(std::string_view body)
{
  std::string out;
  for (const char c : body) {
    if (c == '&' || c == '=') {
      out.push_back(c);
    }
  }
  return out;
}

// The text of a JSON body outside its strings (the quotes included).
std::string json_structure(std::string_view body)
{
  std::string out;
  bool in_string = false;
  bool escaped = false;
  for (const char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        out.push_back(c);
      }
    } else {
      if (c == '"') {
        in_string = true;
      }
      out.push_back(c);
    }
  }
  FUZZ_CHECK(!in_string, "a rendered JSON body closes its strings");
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return 0;
  }
  const BodyFormat format = data[0] == 'j' ? BodyFormat::json : BodyFormat::form;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t newline = rest.find('\n');
  const std::string_view text = rest.substr(0, newline);
  const std::string_view value =
      newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);

  auto parsed = BodyTemplate::parse(text, format);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == Errc::invalid, "a refusal is Errc::invalid");
    return 0;
  }
  FUZZ_CHECK(text.size() <= BodyTemplate::k_max_template_size, "the size bound holds");
  FUZZ_CHECK(text.find("{number}") != std::string_view::npos &&
                 text.find("{message}") != std::string_view::npos,
             "an accepted template names {number} and {message}");
  FUZZ_CHECK(parsed->format() == format, "the template keeps its format");

  const SecretBytes empty = parsed->render("", "", "");
  const SecretBytes body = parsed->render(value, value, value);
  FUZZ_CHECK(empty.size() <= text.size(), "empty values leave at most the template's text");
  FUZZ_CHECK(body.size() <= text.size() + BodyTemplate::k_max_placeholders *
                                              k_max_escaped_per_byte * value.size(),
             "the body stays within its bound");
  if (format == BodyFormat::form) {
    FUZZ_CHECK(form_structure(body.view()) == form_structure(empty.view()),
               "a value adds no form field");
    for (const char c : body.view()) {
      const auto byte = static_cast<unsigned char>(c);
      FUZZ_CHECK(byte > 0x20 && byte < 0x7f && c != '+', "a form body is escaped");
    }
  } else {
    FUZZ_CHECK(json_structure(body.view()) == json_structure(empty.view()),
               "a value never ends its JSON string");
    for (const char c : body.view()) {
      const auto byte = static_cast<unsigned char>(c);
      FUZZ_CHECK(byte >= 0x20 && byte != 0x7f, "a JSON body has no raw control character");
    }
  }
  return 0;
}
