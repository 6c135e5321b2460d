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

} // namespace studio2fa
