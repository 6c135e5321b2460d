// Logging for the daemon: syslog (LOG_AUTHPRIV), or stderr when running in the foreground.
//
// Nothing secret is ever passed here: no password, code or TOTP secret. Strings that come from
// clients (user names, services, hosts) go through sanitize() first so they cannot forge lines.
#pragma once

#include <string>
#include <string_view>

namespace studio2fa::log {

void init(bool to_stderr, bool debug);

void debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
void info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void notice(const char* format, ...) __attribute__((format(printf, 1, 2)));
void warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
void error(const char* format, ...) __attribute__((format(printf, 1, 2)));

// A copy safe to put in a log line: printable ASCII kept, anything else as \xNN, cut at 128
// bytes with "...", empty as "-".
std::string sanitize(std::string_view text);

} // namespace studio2fa::log
