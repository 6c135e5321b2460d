// A wake-up for one waiting thread, with a deadline on the monotonic clock, that uses neither
// pthread_cond_clockwait (glibc 2.30; libstdc++ 12 builds std::condition_variable::wait_until on
// it, and the daemon must run on glibc 2.28, EL8) nor a CLOCK_REALTIME deadline (which stretches
// or cuts short when the wall clock is set, and which time-faking preloads rewrite). The waiter
// sleeps in poll() on an eventfd with a relative timeout taken from steady_clock; a notify
// before the wait is kept in the eventfd's counter, so none is lost.
#pragma once

#include <chrono>
#include <mutex>

namespace studio2fa {

class MonotonicCondition {
public:
  MonotonicCondition();
  ~MonotonicCondition();
  MonotonicCondition(const MonotonicCondition&) = delete;
  MonotonicCondition& operator=(const MonotonicCondition&) = delete;

  // Wakes the thread waiting (or about to wait) in wait_until.
  void notify_one() noexcept;

  // Waits, with `lock` held on entry and on return, until `ready()` or `deadline`; returns
  // ready() as it stands at the end. One thread waits on one MonotonicCondition at a time.
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
  // Unlocks, sleeps until notified or `deadline` (in slices of 10 ms without an eventfd),
  // locks again; false once the deadline has passed.
  bool wait_once(std::unique_lock<std::mutex>& lock,
                 std::chrono::steady_clock::time_point deadline);

  int m_fd; // eventfd; -1 when none could be made (then the waiter polls)
};

} // namespace studio2fa
