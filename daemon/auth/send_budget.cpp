#include "send_budget.hpp"

#include <algorithm>

namespace studio2fa {

namespace {

constexpr std::int64_t k_hour = 3600;

} // namespace

std::uint32_t SendBudget::take(std::int64_t now)
{
  if (m_per_hour == 0) {
    return 0;
  }
  std::lock_guard<std::mutex> held(m_mutex);
  // Forget what is an hour old, and anything "sent" in the future (a clock stepped back).
  while (!m_sent.empty() && (m_sent.front() + k_hour <= now || m_sent.front() > now)) {
    m_sent.pop_front();
  }
  while (!m_sent.empty() && m_sent.back() > now) {
    m_sent.pop_back();
  }
  if (m_sent.size() >= m_per_hour) {
    return static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(m_sent.front() + k_hour - now, 1, k_hour));
  }
  m_sent.push_back(now);
  return 0;
}

void SendBudget::give_back(std::int64_t at)
{
  if (m_per_hour == 0) {
    return;
  }
  std::lock_guard<std::mutex> held(m_mutex);
  for (auto it = m_sent.end(); it != m_sent.begin();) {
    if (*--it == at) {
      m_sent.erase(it);
      return;
    }
  }
}

} // namespace studio2fa
