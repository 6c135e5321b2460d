#include "monotonic_condition.hpp"

#include <algorithm>
#include <cstdint>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace studio2fa {

MonotonicCondition::MonotonicCondition() : m_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
}

MonotonicCondition::~MonotonicCondition()
{
  if (m_fd >= 0) {
    close(m_fd);
  }
}

void MonotonicCondition::notify_one() noexcept
{
  if (m_fd >= 0) {
    const std::uint64_t one = 1;
    // Only fails when the counter is full, and then the waiter is woken anyway.
    [[maybe_unused]] ssize_t written = write(m_fd, &one, sizeof(one));
  }
}

bool MonotonicCondition::wait_once(std::unique_lock<std::mutex>& lock,
                                   std::chrono::steady_clock::time_point deadline)
{
  using std::chrono::milliseconds;
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) {
    return false;
  }
  // Rounded up, so that a wake-up never comes before the deadline and spins.
  auto left = std::chrono::ceil<milliseconds>(deadline - now).count();
  left = std::min<decltype(left)>(left, m_fd >= 0 ? 60'000 : 10);
  lock.unlock();
  pollfd waiting{m_fd, POLLIN, 0};
  if (poll(&waiting, 1, static_cast<int>(left)) > 0 && m_fd >= 0) {
    std::uint64_t count = 0;
    [[maybe_unused]] ssize_t got = read(m_fd, &count, sizeof(count));
  }
  lock.lock();
  return true;
}

} // namespace studio2fa
