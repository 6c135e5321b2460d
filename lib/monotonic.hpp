// Milliseconds on CLOCK_MONOTONIC, for deadlines: header-only and allocation-free, so the PAM
// module (lib/client) and the daemon's server share it.
#pragma once

#include <time.h>

namespace studio2fa {

inline long long monotonic_ms()
{
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

} // namespace studio2fa
