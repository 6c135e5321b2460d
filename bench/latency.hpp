// Collects per-operation latencies from several threads and summarises them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

namespace studio2fa::bench {

class Latencies {
public:
  void add(const std::vector<double>& samples_ms)
  {
    std::lock_guard lock(m_mutex);
    m_samples.insert(m_samples.end(), samples_ms.begin(), samples_ms.end());
  }
  double percentile(double p)
  {
    std::lock_guard lock(m_mutex);
    if (m_samples.empty()) {
      return 0;
    }
    std::sort(m_samples.begin(), m_samples.end());
    auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(m_samples.size() - 1));
    return m_samples[index];
  }

private:
  std::mutex m_mutex;
  std::vector<double> m_samples;
};

inline double ms_since(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
    .count();
}

// One result line, parsed by run_bench.sh.
inline void print_result(const char* what, unsigned clients, std::size_t ok, std::size_t failed,
                         double seconds, Latencies& latencies)
{
  printf("%s clients=%u ok=%zu failed=%zu seconds=%.3f rate=%.0f p50_ms=%.3f p99_ms=%.3f\n", what,
         clients, ok, failed, seconds, static_cast<double>(ok) / seconds,
         latencies.percentile(50), latencies.percentile(99));
}

} // namespace studio2fa::bench
