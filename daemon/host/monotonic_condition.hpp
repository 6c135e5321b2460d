// A condition variable whose timed wait reads CLOCK_MONOTONIC through pthread_cond_timedwait.
// std::condition_variable::wait_until(steady_clock) in libstdc++ 11+ calls
// pthread_cond_clockwait, which glibc has only since 2.30; the daemon must run on glibc 2.28
// (EL8), and a CLOCK_REALTIME wait would stretch or cut short when the wall clock is set.
#pragma once

#include <chrono>
#include <mutex>
#include <pthread.h>

namespace studio2fa {

class MonotonicCondition {
public:
  MonotonicCondition();
  ~MonotonicCondition();
  MonotonicCondition(const MonotonicCondition&) = delete;
  MonotonicCondition& operator=(const MonotonicCondition&) = delete;

  void notify_one() noexcept;
  void notify_all() noexcept;

  // Waits, with `lock` held on entry and on return, until `ready()` or `deadline`; returns
  // ready() as it stands at the end.
  template <class Ready>
  bool wait_until(std::unique_lock<std::mutex>& lock,
                  std::chrono::steady_clock::time_point deadline, Ready ready)
  {
    while (!ready()) {
      if (!wait_once(lock, deadline)) {
        return ready();
      }
    }
    return true;
  }

private:
  // One wait; false once the deadline has passed.
  bool wait_once(std::unique_lock<std::mutex>& lock,
                 std::chrono::steady_clock::time_point deadline);

  pthread_cond_t m_cond;
};

} // namespace studio2fa
