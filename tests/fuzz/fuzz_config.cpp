// libFuzzer target: parse_config (daemon/config) on arbitrary text.
//
// Beyond "no crash":
// - an error names the source and a line ("SOURCE:LINE: ..."), or the source alone for the
//   whole-file check;
// - a config that parses has every field inside the range its entry in the key table of
//   daemon/host/config.cpp allows, and throttle_base <= throttle_max;
// - written back as "key = value" lines, it parses to the same config.
#include "check.hpp"
#include "config.hpp"
#include "totp.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace studio2fa;

constexpr std::string_view k_source = "fuzz.conf";

bool in_range(unsigned value, unsigned min, unsigned max)
{
  return value >= min && value <= max;
}

bool absolute_path(const std::string& path)
{
  return !path.empty() && path.front() == '/' && path.size() <= 4000;
}

bool valid_algorithm(totp::Algorithm algorithm)
{
  return algorithm == totp::Algorithm::sha1 || algorithm == totp::Algorithm::sha256 ||
         algorithm == totp::Algorithm::sha512;
}

// The ranges below restate the table in daemon/host/config.cpp (and studio2fad.conf(5)).
void check_ranges(const Config& config)
{
  FUZZ_CHECK(absolute_path(config.socket_path), "socket_path");
  FUZZ_CHECK(absolute_path(config.db_path), "db_path");
  FUZZ_CHECK(absolute_path(config.key_path), "key_path");
  FUZZ_CHECK(!config.issuer.empty() && config.issuer.size() <= 64 &&
                 config.issuer.find(':') == std::string::npos,
             "issuer");
  FUZZ_CHECK(valid_algorithm(config.totp.algorithm), "totp_algorithm");
  FUZZ_CHECK(in_range(config.totp.digits, 6, 8), "totp_digits");
  FUZZ_CHECK(in_range(config.totp.period, 15, 300), "totp_period");
  FUZZ_CHECK(in_range(config.totp_window, 0, 10), "totp_window");
  FUZZ_CHECK(in_range(config.enroll_timeout, 60, 24 * 3600), "enroll_timeout");
  FUZZ_CHECK(in_range(config.throttle_after, 1, 100), "throttle_after");
  FUZZ_CHECK(in_range(config.throttle_base, 1, 3600), "throttle_base");
  FUZZ_CHECK(in_range(config.throttle_max, 1, 7 * 24 * 3600), "throttle_max");
  FUZZ_CHECK(config.throttle_base <= config.throttle_max, "throttle_base <= throttle_max");
  FUZZ_CHECK(in_range(config.max_connections, 4, 65536), "max_connections");
  FUZZ_CHECK(in_range(config.request_timeout, 1, 300), "request_timeout");
  FUZZ_CHECK(in_range(config.idle_timeout, 1, 3600), "idle_timeout");
  FUZZ_CHECK(in_range(config.worker_threads, 1, 64), "worker_threads");
  FUZZ_CHECK(in_range(config.lockout_after, 0, 1000), "lockout_after");
  FUZZ_CHECK(in_range(config.backup_lockout_after, 1, 10), "backup_lockout_after");
  FUZZ_CHECK(config.admin_group.size() <= 64 &&
                 config.admin_group.find_first_of(" \t:,") == std::string::npos,
             "admin_group");
  FUZZ_CHECK(in_range(config.audit_retention, 86400, 3650 * 86400), "audit_retention");
}

std::string render(const Config& config)
{
  std::string text;
  auto line = [&](const char* key, const std::string& value) {
    text += key;
    text += " = ";
    text += value;
    text += '\n';
  };
  line("socket_path", config.socket_path);
  line("db_path", config.db_path);
  line("key_path", config.key_path);
  line("issuer", config.issuer);
  line("totp_algorithm", totp::algorithm_name(config.totp.algorithm));
  line("totp_digits", std::to_string(config.totp.digits));
  line("totp_period", std::to_string(config.totp.period));
  line("totp_window", std::to_string(config.totp_window));
  line("enroll_timeout", std::to_string(config.enroll_timeout));
  line("throttle_after", std::to_string(config.throttle_after));
  line("throttle_base", std::to_string(config.throttle_base) + "s");
  line("throttle_max", std::to_string(config.throttle_max));
  line("max_connections", std::to_string(config.max_connections));
  line("request_timeout", std::to_string(config.request_timeout));
  line("idle_timeout", std::to_string(config.idle_timeout));
  line("worker_threads", std::to_string(config.worker_threads));
  line("lockout_after", std::to_string(config.lockout_after));
  line("backup_lockout_after", std::to_string(config.backup_lockout_after));
  line("admin_group", config.admin_group);
  line("audit_retention", std::to_string(config.audit_retention));
  return text;
}

bool same(const Config& a, const Config& b)
{
  return a.socket_path == b.socket_path && a.db_path == b.db_path && a.key_path == b.key_path &&
         a.issuer == b.issuer && a.totp.algorithm == b.totp.algorithm &&
         a.totp.digits == b.totp.digits && a.totp.period == b.totp.period &&
         a.totp_window == b.totp_window && a.enroll_timeout == b.enroll_timeout &&
         a.throttle_after == b.throttle_after && a.throttle_base == b.throttle_base &&
         a.throttle_max == b.throttle_max && a.max_connections == b.max_connections &&
         a.request_timeout == b.request_timeout && a.idle_timeout == b.idle_timeout &&
         a.worker_threads == b.worker_threads && a.lockout_after == b.lockout_after &&
         a.backup_lockout_after == b.backup_lockout_after && a.admin_group == b.admin_group &&
         a.audit_retention == b.audit_retention;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_config(text, k_source);
  if (!parsed) {
    const std::string& message = parsed.error().message;
    FUZZ_CHECK(message.size() > k_source.size() + 1 &&
                   message.compare(0, k_source.size(), k_source) == 0 &&
                   message[k_source.size()] == ':',
               "an error does not start with the source name");
    return 0;
  }
  check_ranges(*parsed);

  auto again = parse_config(render(*parsed), k_source);
  FUZZ_CHECK(again.has_value(), "a parsed config, written back, does not parse");
  FUZZ_CHECK(same(*parsed, *again), "a parsed config, written back, parses differently");
  return 0;
}
