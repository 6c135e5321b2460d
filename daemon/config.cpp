#include "config.hpp"

#include "fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace studio2fa {

namespace {

std::string_view trim(std::string_view text)
{
  const char* k_space = " \t\r";
  std::size_t begin = text.find_first_not_of(k_space);
  if (begin == std::string_view::npos) {
    return {};
  }
  std::size_t end = text.find_last_not_of(k_space);
  return text.substr(begin, end - begin + 1);
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text)
{
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

Expected<void> set_absolute_path(std::string& field, std::string_view value)
{
  if (value.empty() || value.front() != '/') {
    return make_error("must be an absolute path");
  }
  if (value.size() > 4000) {
    return make_error("path is too long");
  }
  field = std::string(value);
  return {};
}

Expected<void> set_number(unsigned& field, std::string_view value, std::uint64_t min,
                          std::uint64_t max)
{
  auto number = parse_unsigned(value);
  if (!number || *number < min || *number > max) {
    return make_error("must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max));
  }
  field = static_cast<unsigned>(*number);
  return {};
}

Expected<void> set_duration(unsigned& field, std::string_view value, std::uint64_t min,
                            std::uint64_t max)
{
  auto seconds = parse_duration(value);
  if (!seconds || *seconds < min || *seconds > max) {
    return make_error("must be a duration from " + std::to_string(min) + "s to " +
                      std::to_string(max) + "s (a number of seconds, or with s, m, h or d)");
  }
  field = static_cast<unsigned>(*seconds);
  return {};
}

const std::array k_keys = {
  ConfigKey{"socket_path", "/run/studio2fa/studio2fad.sock",
            "Unix socket the PAM module and the command-line tools connect to.",
            [](Config& c, std::string_view v) { return set_absolute_path(c.socket_path, v); }},
  ConfigKey{"db_path", "/var/lib/studio2fa/studio2fa.db",
            "SQLite database of enrollments (secrets sealed with the master key). The file and "
            "its directory must be owned by root and closed to others.",
            [](Config& c, std::string_view v) { return set_absolute_path(c.db_path, v); }},
  ConfigKey{"key_path", "/etc/studio2fa/master.key",
            "The 256-bit master key that seals every TOTP secret; created (mode 0600) on first "
            "start. Back it up apart from the database: without it no secret can be read.",
            [](Config& c, std::string_view v) { return set_absolute_path(c.key_path, v); }},
  ConfigKey{"issuer", "studio2fa",
            "Name the authenticator app shows next to the account (your studio's name).",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v.empty() || v.size() > 64 || v.find(':') != std::string_view::npos) {
                return make_error("must be 1 to 64 characters, without ':'");
              }
              c.issuer = std::string(v);
              return {};
            }},
  ConfigKey{"totp_algorithm", "SHA1",
            "HMAC of new enrollments: SHA1, SHA256 or SHA512. Google Authenticator, Microsoft "
            "Authenticator and Authy only do SHA1 with 6 digits and 30 seconds.",
            [](Config& c, std::string_view v) -> Expected<void> {
              auto algorithm = totp::parse_algorithm(v);
              if (!algorithm) {
                return make_error("must be SHA1, SHA256 or SHA512");
              }
              c.totp.algorithm = *algorithm;
              return {};
            }},
  ConfigKey{"totp_digits", "6", "Digits per code of new enrollments: 6, 7 or 8.",
            [](Config& c, std::string_view v) { return set_number(c.totp.digits, v, 6, 8); }},
  ConfigKey{"totp_period", "30", "Seconds per code of new enrollments (15 to 300).",
            [](Config& c, std::string_view v) { return set_number(c.totp.period, v, 15, 300); }},
  ConfigKey{"totp_window", "1",
            "Time steps accepted on each side of the current one, for clock drift (0 to 10).",
            [](Config& c, std::string_view v) { return set_number(c.totp_window, v, 0, 10); }},
  ConfigKey{"enroll_timeout", "10m",
            "How long a new secret waits for its first code before it is thrown away.",
            [](Config& c, std::string_view v) {
              return set_duration(c.enroll_timeout, v, 60, 24 * 3600);
            }},
  ConfigKey{"throttle_after", "5",
            "Consecutive wrong codes allowed before each further attempt must wait.",
            [](Config& c, std::string_view v) { return set_number(c.throttle_after, v, 1, 100); }},
  ConfigKey{"throttle_base", "2s",
            "The first wait once throttling starts; it doubles with each further wrong code.",
            [](Config& c, std::string_view v) { return set_duration(c.throttle_base, v, 1, 3600); }},
  ConfigKey{"throttle_max", "15m", "The longest wait between two attempts.",
            [](Config& c, std::string_view v) {
              return set_duration(c.throttle_max, v, 1, 7 * 24 * 3600);
            }},
  ConfigKey{"lockout_after", "20",
            "Consecutive wrong codes after which the account is locked until an administrator "
            "unlocks it (studio2fa-admin unlock); 0: never. Throttling slows guessing long "
            "before that.",
            [](Config& c, std::string_view v) { return set_number(c.lockout_after, v, 0, 1000); }},
  ConfigKey{"backup_lockout_after", "3",
            "Consecutive wrong backup codes after which the second factor is locked until an "
            "administrator unlocks it.",
            [](Config& c, std::string_view v) {
              return set_number(c.backup_lockout_after, v, 1, 10);
            }},
  ConfigKey{"max_connections", "1024",
            "Client connections open at once; further ones are closed at once.",
            [](Config& c, std::string_view v) {
              return set_number(c.max_connections, v, 4, 65536);
            }},
  ConfigKey{"request_timeout", "5s", "Time a client has to send a whole request.",
            [](Config& c, std::string_view v) { return set_duration(c.request_timeout, v, 1, 300); }},
  ConfigKey{"idle_timeout", "30s", "An idle client connection is closed after this long.",
            [](Config& c, std::string_view v) { return set_duration(c.idle_timeout, v, 1, 3600); }},
  ConfigKey{"worker_threads", "16",
            "Threads that serve requests. Logins finishing together share one disk commit; "
            "password hashing among them is limited to one per CPU.",
            [](Config& c, std::string_view v) { return set_number(c.worker_threads, v, 1, 64); }},
  ConfigKey{"admin_group", "",
            "Group whose members may use studio2fa-admin, besides root; empty: root only. Its "
            "members can turn off anyone's second factor (but root's): choose it with care.",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v.size() > 64 || v.find_first_of(" \t:,") != std::string_view::npos) {
                return make_error("must be a group name of up to 64 characters, or empty");
              }
              c.admin_group = std::string(v);
              return {};
            }},
  ConfigKey{"audit_retention", "365d",
            "How long the audit trail in the database keeps events (syslog keeps its own copy).",
            [](Config& c, std::string_view v) {
              return set_duration(c.audit_retention, v, 86400, 3650ULL * 86400);
            }},
};

} // namespace

std::optional<std::uint64_t> parse_duration(std::string_view text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t unit = 1;
  switch (text.back()) {
  case 's':
    unit = 1;
    break;
  case 'm':
    unit = 60;
    break;
  case 'h':
    unit = 3600;
    break;
  case 'd':
    unit = 86400;
    break;
  default:
    unit = 0;
  }
  if (unit != 0) {
    text.remove_suffix(1);
  } else {
    unit = 1;
  }
  auto number = parse_unsigned(text);
  if (!number || *number > UINT32_MAX) {
    return std::nullopt;
  }
  return *number * unit;
}

std::span<const ConfigKey> config_keys()
{
  return k_keys;
}

Config default_config()
{
  Config config;
  for (const ConfigKey& key : k_keys) {
    // The defaults are part of the table and covered by a unit test; they always parse.
    (void)key.apply(config, key.default_value);
  }
  return config;
}

Expected<Config> parse_config(std::string_view text, std::string_view source_name)
{
  Config config = default_config();
  std::array<unsigned, k_keys.size()> set_at{};
  unsigned line_number = 0;
  auto fail = [&](const std::string& what) {
    return make_error(std::string(source_name) + ":" + std::to_string(line_number) + ": " +
                      what);
  };
  while (!text.empty()) {
    ++line_number;
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);

    line = trim(line);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (line.find('\0') != std::string_view::npos) {
      return fail("NUL byte in line");
    }
    std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return fail("expected 'key = value', got '" + std::string(line.substr(0, 80)) + "'");
    }
    std::string_view name = trim(line.substr(0, equals));
    std::string_view value = trim(line.substr(equals + 1));
    std::size_t index = 0;
    while (index < k_keys.size() && name != k_keys[index].name) {
      ++index;
    }
    if (index == k_keys.size()) {
      return fail("unknown key '" + std::string(name.substr(0, 80)) + "'");
    }
    if (set_at[index] != 0) {
      return fail("'" + std::string(name) + "' is already set at line " +
                  std::to_string(set_at[index]));
    }
    set_at[index] = line_number;
    if (value.empty() && *k_keys[index].default_value != '\0') {
      return fail("'" + std::string(name) + "' has no value");
    }
    auto applied = k_keys[index].apply(config, value);
    if (!applied) {
      return fail("bad value for " + std::string(name) + ": " + applied.error().message);
    }
  }
  if (config.throttle_base > config.throttle_max) {
    return make_error(std::string(source_name) + ": throttle_base must not exceed throttle_max");
  }
  return config;
}

Expected<Config> load_config(const std::string& path)
{
  Fd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error("cannot open config file " + path + ": " + strerror(errno));
  }
  struct stat st{};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error("config file " + path + " is not a regular file");
  }
  if (st.st_uid != 0) {
    return make_error("config file " + path + " is not owned by root; run: chown root: " + path);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return make_error("config file " + path + " is writable by group or others; run: chmod 644 " +
                      path);
  }
  constexpr off_t k_max_size = 1024 * 1024;
  if (st.st_size > k_max_size) {
    return make_error("config file " + path + " is larger than 1 MiB");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return make_error("cannot read config file " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  return parse_config(text, path);
}

std::string render_sample_config()
{
  std::string out =
    "# studio2fad.conf: configuration of the studio2fa daemon. See studio2fad.conf(5).\n"
    "# Lines are 'key = value'; lines starting with '#' are comments. Every key is shown\n"
    "# commented out at its default; uncomment and change what you need.\n";
  for (const ConfigKey& key : k_keys) {
    out += "\n";
    std::string_view text = key.description;
    // Wrap the description at 76 columns.
    while (!text.empty()) {
      std::size_t cut = text.size();
      if (cut > 76) {
        cut = text.rfind(' ', 76);
        if (cut == std::string_view::npos) {
          cut = 76;
        }
      }
      out += "# ";
      out += text.substr(0, cut);
      out += "\n";
      text.remove_prefix(cut);
      text = trim(text);
    }
    out += "#";
    out += key.name;
    out += *key.default_value != '\0' ? " = " : " =";
    out += key.default_value;
    out += "\n";
  }
  return out;
}

} // namespace studio2fa
