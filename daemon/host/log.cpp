#include "log.hpp"

#include "log_budget.hpp"
#include "monotonic.hpp"

#include <syslog.h>
#include <time.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>

namespace studio2fa::log {

namespace {

constexpr uid_t k_no_peer = static_cast<uid_t>(-1);

bool g_to_stderr = false;
bool g_debug = false;
thread_local uid_t t_peer = k_no_peer;
LogBudget g_peer_budget(20, 2);

__attribute__((format(printf, 2, 0))) void write_line(int priority, const char* format,
                                                      va_list args)
{
  if (!g_to_stderr) {
    vsyslog(LOG_AUTHPRIV | priority, format, args);
    return;
  }
  static const char* const k_names[] = {"emerg", "alert", "crit",  "error",
                                        "warning", "notice", "info", "debug"};
  char message[2048];
  vsnprintf(message, sizeof(message), format, args);
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &local);
  // The whole line in one write(2), without a lock between threads: at most about 2.1 KiB, it
  // is not interleaved with another thread's line on a pipe (PIPE_BUF is 4 KiB), a regular file
  // (the file position is taken whole) or journald's stream socket (one buffer).
  char line[sizeof(message) + 64];
  int length = snprintf(line, sizeof(line), "%s studio2fad[%s]: %s\n", stamp,
                        k_names[priority & 7], message);
  if (length <= 0) {
    return;
  }
  std::size_t size = std::min(static_cast<std::size_t>(length), sizeof(line) - 1);
  line[size - 1] = '\n'; // a truncated line still ends with one
  ssize_t written;
  do {
    written = write(STDERR_FILENO, line, size);
  } while (written < 0 && errno == EINTR);
}

__attribute__((format(printf, 2, 3))) void write_line(int priority, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  write_line(priority, format, args);
  va_end(args);
}

__attribute__((format(printf, 2, 0))) void emit(int priority, const char* format, va_list args)
{
  if (priority == LOG_DEBUG && !g_debug) {
    return;
  }
  if (t_peer != k_no_peer) {
    auto held_back = g_peer_budget.charge(static_cast<std::uint32_t>(t_peer), monotonic_ms());
    if (!held_back) {
      return;
    }
    if (*held_back > 0) {
      write_line(LOG_WARNING, "suppressed %lu similar lines from uid %u", *held_back,
                 static_cast<unsigned>(t_peer));
    }
  }
  write_line(priority, format, args);
}

} // namespace

PeerScope::PeerScope(uid_t uid) : m_previous(t_peer)
{
  t_peer = uid;
}

PeerScope::~PeerScope()
{
  t_peer = m_previous;
}

void init(bool to_stderr, bool debug_enabled)
{
  g_to_stderr = to_stderr;
  g_debug = debug_enabled;
  if (!to_stderr) {
    openlog("studio2fad", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
  }
}

#define STUDIO2FA_LOG_FUNCTION(name, priority)                                                     \
  void name(const char* format, ...)                                                               \
  {                                                                                                \
    va_list args;                                                                                  \
    va_start(args, format);                                                                        \
    emit(priority, format, args);                                                                  \
    va_end(args);                                                                                  \
  }

STUDIO2FA_LOG_FUNCTION(debug, LOG_DEBUG)
STUDIO2FA_LOG_FUNCTION(info, LOG_INFO)
STUDIO2FA_LOG_FUNCTION(notice, LOG_NOTICE)
STUDIO2FA_LOG_FUNCTION(warning, LOG_WARNING)
STUDIO2FA_LOG_FUNCTION(error, LOG_ERR)

#undef STUDIO2FA_LOG_FUNCTION

std::string sanitize(std::string_view text)
{
  constexpr std::size_t k_max = 128;
  if (text.empty()) {
    return "-";
  }
  std::string out;
  out.reserve(text.size() < k_max ? text.size() : k_max + 3);
  for (std::size_t i = 0; i < text.size() && i < k_max; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x21 && c < 0x7f && c != '\\' && c != '=' && c != '"' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[5];
      snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    }
  }
  if (text.size() > k_max) {
    out += "...";
  }
  return out;
}

} // namespace studio2fa::log
