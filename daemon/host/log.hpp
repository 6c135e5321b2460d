// Logging for the daemon: syslog (LOG_AUTHPRIV), or stderr when running in the foreground.
//
// Nothing secret is ever passed here: no password, code or TOTP secret. Strings that come from
// clients (user names, services, hosts) go through sanitize() first so they cannot forge lines
// or fields.
//
// Lines logged by a thread while it serves a non-root peer (inside a PeerScope) are charged to
// that peer's uid (log_budget.hpp: 20 at once, then 2 a second); the lines left out are counted
// and reported as "suppressed N similar lines from uid U" before the next line let through.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace studio2fa::log {

void init(bool to_stderr, bool debug);

void debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
void info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void notice(const char* format, ...) __attribute__((format(printf, 1, 2)));
void warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
void error(const char* format, ...) __attribute__((format(printf, 1, 2)));

// A copy safe to put in a log line as one `key=value` field: printable ASCII kept; spaces,
// quotes, `=`, `\\` and anything else as \xNN; cut at 128 bytes with "..."; empty as "-".
std::string sanitize(std::string_view text);

// While one lives, the lines this thread logs are charged to `uid` (see above). Scopes nest.
class PeerScope {
public:
  explicit PeerScope(uid_t uid);
  ~PeerScope();
  PeerScope(const PeerScope&) = delete;
  PeerScope& operator=(const PeerScope&) = delete;

private:
  uid_t m_previous;
};

} // namespace studio2fa::log
