// Turns for password checks. A check (a yescrypt hash, a bind to the directory) is the one
// expensive thing any local user can make the daemon do, and root's PAM callers (sshd, login,
// su, sudo) need theirs answered within the module's timeout whatever other users send. So at
// most `slots` checks run at once, and the others wait in a bounded line: root's before anyone
// else's, and the other uids in turns of one check each, so that a user flooding the daemon
// with checks delays another user's check by one check at most. A check that waited
// `max_wait` is not run late: its caller answers busy.
#pragma once

#include "expected.hpp"
#include "monotonic_condition.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace studio2fa {

struct PasswordQueueLimits {
  unsigned slots = default_slots(); // checks running at once
  unsigned max_waiting = 32;        // checks waiting, of all uids but 0 together
  unsigned max_waiting_per_uid = 2; // checks waiting, of one uid but 0
  std::chrono::milliseconds max_wait{5000};

  // One per CPU: yescrypt is CPU- and memory-hard (16 MiB a hash); more at once gain nothing
  // and would let a burst of logins take the daemon's memory up with its threads.
  static unsigned default_slots();
};

class PasswordQueue {
  // One check: waiting in a line until `running`.
  struct Ticket {
    std::uint32_t uid = 0;
    bool running = false;
    MonotonicCondition turn; // notified when the ticket starts running
  };

public:
  explicit PasswordQueue(PasswordQueueLimits limits);
  PasswordQueue(const PasswordQueue&) = delete;
  PasswordQueue& operator=(const PasswordQueue&) = delete;

  // One check's place: running, or waiting in line. Going away, it leaves the line, or frees
  // its slot for the next check in turn.
  class Place {
  public:
    Place(Place&& other) noexcept = default;
    Place& operator=(Place&& other) noexcept;
    ~Place();

    // Whether the check may run now.
    bool running() const;
    // Waits until the check may run (true), or until `deadline` (false: it keeps its place,
    // which the caller gives up by letting it go).
    bool wait_until(std::chrono::steady_clock::time_point deadline);

  private:
    friend class PasswordQueue;
    Place(PasswordQueue& queue, std::unique_ptr<Ticket> ticket);
    void leave();

    PasswordQueue* m_queue;
    std::unique_ptr<Ticket> m_ticket;
  };

  // A place for one check asked for by `uid`: running at once when a slot is free, otherwise
  // last in its uid's line. Errc::busy when that line or the shared one is full (root's never
  // is: its checks are bounded by the daemon's threads).
  Expected<Place> enter(std::uint32_t uid);

  // enter(), then waits for the turn; Errc::busy when the line is full or the turn did not
  // come within max_wait.
  Expected<Place> wait_turn(std::uint32_t uid);

  // Checks waiting now (for tests and logs).
  unsigned waiting() const;

private:
  // Under m_mutex: gives free slots to the checks next in turn.
  void grant();
  // Under m_mutex: takes a waiting ticket out of its line.
  void withdraw(Ticket& ticket);
  void release(Ticket& ticket);

  const PasswordQueueLimits m_limits;
  mutable std::mutex m_mutex;
  unsigned m_running = 0;
  unsigned m_waiting_shared = 0;                                  // of uids but 0
  std::deque<Ticket*> m_root;                                     // root's, in arrival order
  std::unordered_map<std::uint32_t, std::deque<Ticket*>> m_lines; // the others', by uid
  std::deque<std::uint32_t> m_turns; // uids with a check waiting, next turn first
};

} // namespace studio2fa
