#include "monotonic_condition.hpp"

#include <cerrno>
#include <ctime>

namespace studio2fa {

MonotonicCondition::MonotonicCondition()
{
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  // steady_clock is CLOCK_MONOTONIC in libstdc++ on Linux, so the deadlines agree.
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&m_cond, &attr);
  pthread_condattr_destroy(&attr);
}

MonotonicCondition::~MonotonicCondition()
{
  pthread_cond_destroy(&m_cond);
}

void MonotonicCondition::notify_one() noexcept
{
  pthread_cond_signal(&m_cond);
}

void MonotonicCondition::notify_all() noexcept
{
  pthread_cond_broadcast(&m_cond);
}

bool MonotonicCondition::wait_once(std::unique_lock<std::mutex>& lock,
                                   std::chrono::steady_clock::time_point deadline)
{
  const auto since_epoch = deadline.time_since_epoch();
  if (since_epoch.count() < 0) {
    return false;
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanoseconds =
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  timespec until{};
  until.tv_sec = static_cast<time_t>(seconds.count());
  until.tv_nsec = static_cast<long>(nanoseconds.count());
  return pthread_cond_timedwait(&m_cond, lock.mutex()->native_handle(), &until) != ETIMEDOUT;
}

} // namespace studio2fa
