// How many audit rows a peer may add to the database: a token bucket per uid.
//
// Any local user may send requests about their own account, and each outcome is audited; without
// a budget, a loop of such requests would grow the audit table (kept for audit_retention) until
// the disk is full, and then every login would fail closed. Root (the PAM module inside sshd,
// login, su) is never limited. Events over budget still go to syslog; records still change.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace studio2fa {

class AuditBudget {
public:
  // `burst` rows at once, then one more every `refill_seconds`.
  AuditBudget(unsigned burst, unsigned refill_seconds)
    : m_burst(burst), m_refill_seconds(refill_seconds == 0 ? 1 : refill_seconds)
  {
  }

  // Whether `uid` may add one row now (and, if so, uses it up).
  bool allow(std::uint32_t uid, std::int64_t now)
  {
    if (uid == 0) {
      return true;
    }
    std::lock_guard lock(m_mutex);
    if (m_buckets.size() > k_max_tracked && m_buckets.find(uid) == m_buckets.end()) {
      m_buckets.clear(); // bounded memory; at worst a fresh burst for everyone
    }
    auto [it, added] = m_buckets.try_emplace(uid, Bucket{static_cast<double>(m_burst), now});
    Bucket& bucket = it->second;
    if (!added && now > bucket.last) {
      bucket.tokens = std::min<double>(m_burst, bucket.tokens + static_cast<double>(now - bucket.last) /
                                                                  static_cast<double>(m_refill_seconds));
      bucket.last = now;
    }
    if (bucket.tokens < 1.0) {
      return false;
    }
    bucket.tokens -= 1.0;
    return true;
  }

private:
  static constexpr std::size_t k_max_tracked = 4096;
  struct Bucket {
    double tokens;
    std::int64_t last;
  };
  unsigned m_burst;
  unsigned m_refill_seconds;
  std::mutex m_mutex;
  std::unordered_map<std::uint32_t, Bucket> m_buckets;
};

} // namespace studio2fa
