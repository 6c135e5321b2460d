// How many log lines one peer may cause: a token bucket per uid, with a count of the lines it
// held back.
//
// Any local user can make the daemon log a line per request (a refused request, a wrong code).
// Unlimited, one loop fills the disk, and journald's per-service rate limit then drops the
// daemon's real authentication lines with the rest. Root (the PAM module inside sshd, login,
// su) is never limited.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace studio2fa {

class LogBudget {
public:
  // `burst` lines at once, then `per_second` more each second.
  LogBudget(unsigned burst, unsigned per_second);

  // For one line caused by `uid` at `now_ms` (a monotonic clock): nullopt when the line must be
  // left out (it is counted); otherwise how many lines of that uid were left out since the last
  // one let through, which the caller reports before the line.
  std::optional<unsigned long> charge(std::uint32_t uid, long long now_ms);

private:
  static constexpr std::size_t k_max_tracked = 4096;
  static constexpr long long k_line_cost = 1000; // tokens are kept in thousandths of a line
  struct Bucket {
    long long tokens;
    long long last_ms;
    unsigned long held_back;
  };
  long long m_capacity;
  long long m_per_second;
  std::mutex m_mutex;
  std::unordered_map<std::uint32_t, Bucket> m_buckets;
};

} // namespace studio2fa
