// A gateway for the unit tests: it keeps what it is sent and answers as told (accepted in
// 412 ms, or refused with the command's complaint).
#pragma once

#include "phone_dispatch.hpp"

#include <string>
#include <vector>

class RecordingSender final : public studio2fa::CodeSender {
public:
  bool accept = true;
  std::vector<std::string> messages;
  std::vector<std::string> numbers;

  studio2fa::SendOutcome send(const studio2fa::OutgoingCode& code,
                              std::chrono::milliseconds) override
  {
    messages.emplace_back(code.message.view());
    numbers.push_back(code.number);
    studio2fa::SendOutcome outcome;
    outcome.accepted = accept;
    outcome.elapsed_ms = 412;
    if (!accept) {
      outcome.problem = "the command exited with status 1";
    }
    return outcome;
  }
  // The six digits of the last message.
  std::string last_code() const
  {
    std::string digits;
    for (const char c : messages.back()) {
      if (c >= '0' && c <= '9' && digits.size() < 6) {
        digits.push_back(c);
      }
    }
    return digits;
  }
};
