#include "log_budget.hpp"

#include <algorithm>
#include <utility>

namespace studio2fa {

LogBudget::LogBudget(unsigned burst, unsigned per_second)
  : m_capacity(static_cast<long long>(burst) * k_line_cost), m_per_second(per_second)
{
}

std::optional<unsigned long> LogBudget::charge(std::uint32_t uid, long long now_ms)
{
  if (uid == 0) {
    return 0;
  }
  std::lock_guard lock(m_mutex);
  if (m_buckets.size() >= k_max_tracked && m_buckets.find(uid) == m_buckets.end()) {
    // Bounded memory: forget the uids that have nothing held back (they start afresh).
    std::erase_if(m_buckets, [](const auto& entry) { return entry.second.held_back == 0; });
  }
  auto [it, added] = m_buckets.try_emplace(uid, Bucket{m_capacity, now_ms, 0});
  Bucket& bucket = it->second;
  if (!added && now_ms > bucket.last_ms) {
    // Thousandths of a line per millisecond is lines per second.
    bucket.tokens = std::min(m_capacity, bucket.tokens + (now_ms - bucket.last_ms) * m_per_second);
    bucket.last_ms = now_ms;
  }
  if (bucket.tokens < k_line_cost) {
    ++bucket.held_back;
    return std::nullopt;
  }
  bucket.tokens -= k_line_cost;
  return std::exchange(bucket.held_back, 0);
}

} // namespace studio2fa
