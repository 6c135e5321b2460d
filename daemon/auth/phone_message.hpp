// What a code sent by text or voice says, and the one line the log and the audit trail keep of
// a sending, which never holds the code or the whole number.
#pragma once

#include "secret_bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace studio2fa {

enum class PhoneChannel { sms, voice };

// "sms", "voice": as in the config keys and the senders' JSON.
const char* name(PhoneChannel channel);

// The texts, with {code}, {issuer} and {minutes} replaced. In a voice call {code} is read digit
// by digit ("1, 2, 3, 4, 5, 6"), and the default text reads it twice.
struct PhoneMessageTexts {
  std::string issuer = "studio2fa";
  std::string sms = "{code} is your {issuer} login code. It works for {minutes} minutes. "
                    "Do not give it to anyone.";
  std::string voice = "This is {issuer}. Your login code is: {code}. Again: {code}. "
                      "It works for {minutes} minutes.";
};

// The message for `code` on `channel`. SecretBytes: it holds the code.
SecretBytes compose_message(const PhoneMessageTexts& texts, PhoneChannel channel,
                            std::string_view code, unsigned minutes);

// "code sent (sms, ••••••4567, gateway accepted in 412 ms)".
std::string sent_detail(PhoneChannel channel, std::string_view number, std::int64_t elapsed_ms);

} // namespace studio2fa
