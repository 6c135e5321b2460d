// At most a few sends at once, each with a deadline: a gateway that hangs holds at most
// `max_in_flight` of the daemon's worker threads for at most `deadline`, and every other login
// is answered by the rest in its usual time. A send past the cap is refused at once (the login
// is told the code could not be sent), never queued behind the hung ones: failing closed, fast.
#pragma once

#include "code_sender.hpp"

#include <chrono>
#include <mutex>

namespace studio2fa {

class SenderPool {
public:
  SenderPool(CodeSender& sender, unsigned max_in_flight, std::chrono::milliseconds deadline)
      : m_sender(sender), m_max_in_flight(max_in_flight), m_deadline(deadline)
  {
  }
  SenderPool(const SenderPool&) = delete;
  SenderPool& operator=(const SenderPool&) = delete;

  // Sends `code` through the sender, or refuses at once when max_in_flight sends are running.
  SendOutcome send(const OutgoingCode& code);

private:
  CodeSender& m_sender;
  unsigned m_max_in_flight;
  std::chrono::milliseconds m_deadline;
  std::mutex m_mutex;
  unsigned m_in_flight = 0;
};

} // namespace studio2fa
