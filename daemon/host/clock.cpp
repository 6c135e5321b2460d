#include "clock.hpp"

#include <time.h>

namespace studio2fa {

std::int64_t SystemClock::now() const
{
  timespec ts{};
  // CLOCK_REALTIME cannot fail with a valid timespec pointer; TOTP is defined on wall time.
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec);
}

} // namespace studio2fa
