#include "phone_message.hpp"

#include "phone_number.hpp"

#include <vector>

namespace studio2fa {

const char* name(PhoneChannel channel)
{
  return channel == PhoneChannel::voice ? "voice" : "sms";
}

SecretBytes compose_message(const PhoneMessageTexts& texts, PhoneChannel channel,
                            std::string_view code, unsigned minutes)
{
  const std::string_view text = channel == PhoneChannel::voice ? texts.voice : texts.sms;
  // The code as it is said: each digit apart, so that a speech engine does not read "123456"
  // as a number.
  SecretBytes spoken(code.empty() ? 0 : code.size() * 3 - 2);
  for (std::size_t i = 0, at = 0; i < code.size(); ++i) {
    if (i > 0) {
      spoken.data()[at++] = ',';
      spoken.data()[at++] = ' ';
    }
    spoken.data()[at++] = static_cast<std::uint8_t>(code[i]);
  }
  const std::string_view code_text = channel == PhoneChannel::voice ? spoken.view() : code;
  const std::string minutes_text = std::to_string(minutes);

  // Two passes: the size, then the text, so that the code is written only into SecretBytes.
  auto expand = [&](std::uint8_t* out) {
    std::size_t length = 0;
    auto put = [&](std::string_view part) {
      if (out != nullptr) {
        std::copy(part.begin(), part.end(), out + length);
      }
      length += part.size();
    };
    for (std::size_t i = 0; i < text.size();) {
      const std::string_view rest = text.substr(i);
      if (rest.starts_with("{code}")) {
        put(code_text);
        i += 6;
      } else if (rest.starts_with("{issuer}")) {
        put(texts.issuer);
        i += 8;
      } else if (rest.starts_with("{minutes}")) {
        put(minutes_text);
        i += 9;
      } else {
        put(rest.substr(0, 1));
        ++i;
      }
    }
    return length;
  };
  SecretBytes message(expand(nullptr));
  expand(message.data());
  return message;
}

std::string sent_detail(PhoneChannel channel, std::string_view number, std::int64_t elapsed_ms)
{
  return std::string("code sent (") + name(channel) + ", " + phone::mask(number) +
         ", gateway accepted in " + std::to_string(elapsed_ms) + " ms)";
}

} // namespace studio2fa
