// Time as a dependency: the daemon asks a Clock, so unit tests can set the time. The
// production binary only ever constructs SystemClock.
#pragma once

#include <cstdint>

namespace studio2fa {

class Clock {
public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual std::int64_t now() const = 0;
};

class SystemClock final : public Clock {
public:
  std::int64_t now() const override;
};

// A clock that moves only when told: for the unit tests and the fuzzers.
class ManualClock final : public Clock {
public:
  explicit ManualClock(std::int64_t now) : m_now(now) {}
  std::int64_t now() const override { return m_now; }
  void set(std::int64_t now) { m_now = now; }
  void advance(std::int64_t seconds) { m_now += seconds; }

private:
  std::int64_t m_now;
};

} // namespace studio2fa
