// The cap on codes one host sends by text or voice in an hour, whoever they are for: against
// SMS pumping (many users' logins made to send texts to numbers that pay the sender) and a
// runaway bill. Kept in memory: a restart starts a new hour, which costs at most one more
// hour's worth.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>

namespace studio2fa {

class SendBudget {
public:
  // At most `per_hour` sends in any 3600 seconds; 0: no cap.
  explicit SendBudget(unsigned per_hour) : m_per_hour(per_hour) {}
  SendBudget(const SendBudget&) = delete;
  SendBudget& operator=(const SendBudget&) = delete;

  // Takes one send at `now`: 0 when it may go, else the seconds until one may (nothing taken).
  std::uint32_t take(std::int64_t now);
  // Gives back a send taken at `at` that did not happen (refused before reaching the gateway).
  void give_back(std::int64_t at);

private:
  std::mutex m_mutex;
  unsigned m_per_hour;
  std::deque<std::int64_t> m_sent; // the times of the sends of the last hour, oldest first
};

} // namespace studio2fa
