#include "sender_pool.hpp"

namespace studio2fa {

SendOutcome SenderPool::send(const OutgoingCode& code)
{
  {
    std::lock_guard<std::mutex> held(m_mutex);
    if (m_in_flight >= m_max_in_flight) {
      SendOutcome busy;
      busy.problem = "all " + std::to_string(m_max_in_flight) +
                     " senders are busy (the gateway is slow or hung)";
      return busy;
    }
    ++m_in_flight;
  }
  SendOutcome outcome = m_sender.send(code, m_deadline);
  std::lock_guard<std::mutex> held(m_mutex);
  --m_in_flight;
  return outcome;
}

} // namespace studio2fa
