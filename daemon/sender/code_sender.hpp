// How a code leaves the studio: a sender hands one message to a gateway (a command run as an
// unprivileged user, or an HTTPS POST) and says whether the gateway accepted it in time. Each
// kind of sender is an implementation of CodeSender beside this file; SenderPool bounds how many
// sends run at once, so that a hung gateway never holds more than a few of the threads that
// answer other logins.
#pragma once

#include "phone_message.hpp"
#include "secret_bytes.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace studio2fa {

struct OutgoingCode {
  PhoneChannel channel = PhoneChannel::sms;
  std::string number;  // E.164
  SecretBytes message; // holds the code: never logged, never in argv or the environment
};

struct SendOutcome {
  bool accepted = false;
  std::int64_t elapsed_ms = 0;
  // Why not, for the log (never the message or the whole number): "the command exited with
  // status 3", "no answer within 10000 ms".
  std::string problem;
};

class CodeSender {
public:
  virtual ~CodeSender() = default;
  // Sends `code`, giving up at `deadline` after the call (the gateway's work is then abandoned:
  // the command killed, the connection closed). Blocks the calling thread until then at most.
  virtual SendOutcome send(const OutgoingCode& code, std::chrono::milliseconds deadline) = 0;
};

} // namespace studio2fa
