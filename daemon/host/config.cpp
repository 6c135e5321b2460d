#include "config.hpp"

#include "fd.hpp"
#include "file_safety.hpp"

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

Expected<void> set_flag(bool& field, std::string_view value)
{
  if (value == "yes" || value == "true" || value == "on") {
    field = true;
  } else if (value == "no" || value == "false" || value == "off") {
    field = false;
  } else {
    return make_error("must be yes or no");
  }
  return {};
}

// A single-line value: no control characters, at most `max` bytes.
Expected<void> set_text(std::string& field, std::string_view value, std::size_t max)
{
  if (value.size() > max) {
    return make_error("must be at most " + std::to_string(max) + " bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return make_error("must not contain control characters");
    }
  }
  field = std::string(value);
  return {};
}

// A directory entry name, or empty. Only the shape is checked here; the server judges the rest.
Expected<void> set_dn(std::string& field, std::string_view value)
{
  if (!value.empty() && value.find('=') == std::string_view::npos) {
    return make_error("must be a DN such as dc=studio,dc=example");
  }
  return set_text(field, value, 1024);
}

// An LDAP search filter: parenthesised and balanced.
Expected<void> set_filter(std::string& field, std::string_view value)
{
  int depth = 0;
  for (char c : value) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (depth < 0) {
      break;
    }
  }
  if (value.size() < 3 || value.front() != '(' || value.back() != ')' || depth != 0) {
    return make_error("must be an LDAP filter in parentheses, such as (objectClass=posixAccount)");
  }
  return set_text(field, value, 1024);
}

Expected<void> set_attribute(std::string& field, std::string_view value)
{
  if (value.empty() || value.size() > 64 ||
      value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;") !=
          std::string_view::npos) {
    return make_error("must be an attribute name such as memberUid");
  }
  field = std::string(value);
  return {};
}

std::vector<std::string_view> words(std::string_view value)
{
  std::vector<std::string_view> out;
  while (!value.empty()) {
    const std::size_t start = value.find_first_not_of(" \t,");
    if (start == std::string_view::npos) {
      break;
    }
    value.remove_prefix(start);
    const std::size_t end = value.find_first_of(" \t,");
    out.push_back(value.substr(0, end));
    value.remove_prefix(end == std::string_view::npos ? value.size() : end);
  }
  return out;
}

// The space-separated words of `value`, each set through `set_one`; from `min` to `max` of them.
Expected<void> set_word_list(std::vector<std::string>& field, std::string_view value,
                             Expected<void> (*set_one)(std::string&, std::string_view),
                             std::size_t min, std::size_t max, const char* what)
{
  std::vector<std::string> items;
  for (std::string_view word : words(value)) {
    std::string item;
    if (auto set = set_one(item, word); !set) {
      return set;
    }
    items.push_back(std::move(item));
  }
  if (items.size() < min || items.size() > max) {
    return make_error("must name " + std::to_string(min) + " to " + std::to_string(max) + " " +
                      what);
  }
  field = std::move(items);
  return {};
}

Expected<void> set_uris(std::vector<std::string>& field, std::string_view value)
{
  std::vector<std::string> uris;
  for (std::string_view uri : words(value)) {
    if (!(uri.starts_with("ldap://") || uri.starts_with("ldaps://") || uri.starts_with("ldapi://")) ||
        uri.size() > 1024) {
      return make_error("'" + std::string(uri.substr(0, 80)) +
                        "' is not an ldap://, ldaps:// or ldapi:// URI");
    }
    uris.emplace_back(uri);
  }
  if (uris.size() > 16) {
    return make_error("at most 16 URIs");
  }
  field = std::move(uris);
  return {};
}

Expected<void> set_group_list(Config& config, std::string_view value)
{
  std::vector<std::string> required;
  std::vector<std::string> exempt;
  for (std::string_view word : words(value)) {
    const bool negated = word.front() == '!';
    std::string_view name = negated ? word.substr(1) : word;
    if (name.empty() || name.size() > 64 || name.find(':') != std::string_view::npos) {
      return make_error("'" + std::string(word.substr(0, 80)) +
                        "' is not a group name (or !name for an exception)");
    }
    (negated ? exempt : required).emplace_back(name);
  }
  config.require_groups = std::move(required);
  config.exempt_groups = std::move(exempt);
  return {};
}

Expected<void> set_milliseconds(unsigned& field, std::string_view value, unsigned min_seconds,
                                unsigned max_seconds)
{
  // "500ms" besides the durations of set_duration.
  if (value.size() > 2 && value.substr(value.size() - 2) == "ms") {
    auto number = parse_unsigned(value.substr(0, value.size() - 2));
    if (number && *number >= 100 && *number <= max_seconds * 1000ULL) {
      field = static_cast<unsigned>(*number);
      return {};
    }
    return make_error("must be from 100ms to " + std::to_string(max_seconds) + "s");
  }
  unsigned seconds = 0;
  if (auto set = set_duration(seconds, value, min_seconds, max_seconds); !set) {
    return set;
  }
  field = seconds * 1000;
  return {};
}

// A command line: an absolute program path and its arguments, separated by spaces (no quoting:
// an argument with a space belongs in a wrapper script). Empty: no command.
Expected<void> set_command(std::vector<std::string>& field, std::string_view value)
{
  std::string checked;
  if (auto set = set_text(checked, value, 4000); !set) {
    return set;
  }
  std::vector<std::string> argv;
  while (!value.empty()) {
    const std::size_t start = value.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
      break;
    }
    value.remove_prefix(start);
    const std::size_t end = value.find_first_of(" \t");
    argv.emplace_back(value.substr(0, end));
    value.remove_prefix(end == std::string_view::npos ? value.size() : end);
  }
  if (!argv.empty() && argv.front().front() != '/') {
    return make_error("must start with the absolute path of the program, such as "
                      "/usr/local/libexec/send-sms");
  }
  if (argv.size() > 32) {
    return make_error("at most 32 words");
  }
  field = std::move(argv);
  return {};
}

// A message text for a phone: one line with {code} in it.
Expected<void> set_phone_text(std::string& field, std::string_view value)
{
  if (value.find("{code}") == std::string_view::npos) {
    return make_error("must contain {code}, where the code goes");
  }
  return set_text(field, value, 480);
}

// --- sending codes by HTTPS (sms_url, voice_url, ...) ---
// Keys of one channel's gateway: `gateway` is &Config::sms_gateway or &Config::voice_gateway.
template <HttpsGateway Config::*gateway>
Expected<void> set_gateway_url(Config& c, std::string_view v)
{
  HttpsGateway& g = c.*gateway;
  if (v.empty()) {
    g.url.clear();
    return {};
  }
  if (!v.starts_with("https://")) {
    return make_error("must be an https:// URL: the message holds a login code, which is never "
                      "sent in clear");
  }
  if (v.size() > 2048) {
    return make_error("must be at most 2048 bytes");
  }
  for (const char ch : v) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return make_error("must not contain spaces or control characters");
    }
  }
  const std::string_view after_scheme = v.substr(8);
  const std::string_view authority = after_scheme.substr(0, after_scheme.find_first_of("/?#"));
  if (authority.empty()) {
    return make_error("must name a host, as in https://gateway.example/send");
  }
  if (authority.find('@') != std::string_view::npos) {
    return make_error("must not carry credentials: put them in an auth header file");
  }
  g.url = std::string(v);
  return {};
}

template <HttpsGateway Config::*gateway>
Expected<void> set_gateway_body(Config& c, std::string_view v)
{
  // Checked against the content type once the whole file is read (it may come later).
  return set_text((c.*gateway).body_template, v, BodyTemplate::k_max_template_size);
}

template <HttpsGateway Config::*gateway>
Expected<void> set_gateway_content_type(Config& c, std::string_view v)
{
  if (v != "form" && v != "json") {
    return make_error("must be form or json");
  }
  (c.*gateway).content_type = v == "json" ? BodyFormat::json : BodyFormat::form;
  return {};
}

template <HttpsGateway Config::*gateway>
Expected<void> set_gateway_path(std::string HttpsGateway::*field, Config& c, std::string_view v)
{
  std::string& path = (c.*gateway).*field;
  if (v.empty()) {
    path.clear();
    return {};
  }
  return set_absolute_path(path, v);
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
  ConfigKey{"previous_key_paths", "",
            "Other studio keys, accepted only to open secrets and match backup codes made under "
            "them, never to seal: the old key after a rotation, until studio2fa-admin rekey has "
            "run (or the next key, before it becomes key_path). Each is checked like key_path "
            "(root's, mode 0600, 32 bytes) and must exist. Separated by spaces; empty: none.",
            [](Config& c, std::string_view v) {
              return set_word_list(c.previous_key_paths, v, set_absolute_path, 0, 8, "keys");
            }},
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
  ConfigKey{"root_reserved_connections", "64",
            "Of max_connections, the ones only root's clients may use (the PAM module inside "
            "sshd, login, su and sudo runs as root), so that other users together can never "
            "take them all. At most half of max_connections is reserved, whatever is set.",
            [](Config& c, std::string_view v) {
              return set_number(c.root_reserved_connections, v, 0, 65536);
            }},
  ConfigKey{"max_connections_per_uid", "16",
            "Connections one user other than root may have open at once; further ones are "
            "answered busy and closed.",
            [](Config& c, std::string_view v) {
              return set_number(c.max_connections_per_uid, v, 1, 65536);
            }},
  ConfigKey{"max_requests_per_uid", "4",
            "Requests of one user other than root that the daemon works on at once; further "
            "ones are answered busy at once rather than queued.",
            [](Config& c, std::string_view v) {
              return set_number(c.max_requests_per_uid, v, 1, 64);
            }},
  ConfigKey{"connection_lifetime", "5m",
            "A client connection is closed this long after it was opened, however busy; "
            "clients connect again for more.",
            [](Config& c, std::string_view v) {
              return set_duration(c.connection_lifetime, v, 1, 24 * 3600);
            }},
  ConfigKey{"request_timeout", "5s", "Time a client has to send a whole request.",
            [](Config& c, std::string_view v) { return set_duration(c.request_timeout, v, 1, 300); }},
  ConfigKey{"idle_timeout", "30s", "An idle client connection is closed after this long.",
            [](Config& c, std::string_view v) { return set_duration(c.idle_timeout, v, 1, 3600); }},
  ConfigKey{"worker_threads", "32",
            "Threads that serve requests. Logins finishing together share one disk commit; "
            "password hashing among them is limited to one per CPU. Users other than root "
            "together have at most three quarters of them (at least one); the rest wait for "
            "root's requests.",
            [](Config& c, std::string_view v) { return set_number(c.worker_threads, v, 1, 64); }},
  // Turns for password checks (password_queue.hpp).
  ConfigKey{"password_queue", "32",
            "Password checks of users other than root that may wait for their turn, all "
            "together; checks run one per CPU, root's first, then each user's in turn. Further "
            "ones are answered busy.",
            [](Config& c, std::string_view v) { return set_number(c.password_queue, v, 1, 4096); }},
  ConfigKey{"password_queue_per_uid", "2",
            "Password checks of one user other than root that may wait for their turn; further "
            "ones are answered busy.",
            [](Config& c, std::string_view v) {
              return set_number(c.password_queue_per_uid, v, 1, 64);
            }},
  ConfigKey{"password_queue_wait", "5s",
            "A password check that has waited this long for its turn is not run but answered "
            "busy; keep it below the PAM module's timeout (10 s by default).",
            [](Config& c, std::string_view v) {
              return set_duration(c.password_queue_wait, v, 1, 300);
            }},
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
  ConfigKey{"grace_period", "24h",
            "Time a user newly required to use 2FA has to enroll, unless the directory entry "
            "that requires it says otherwise (studio2faGracePeriod). Logins succeed meanwhile, "
            "with a reminder; after it, the login walks the user through enrollment.",
            [](Config& c, std::string_view v) {
              return set_duration(c.grace_period, v, 0, 365ULL * 86400);
            }},
  ConfigKey{"require_groups", "",
            "Local groups whose members must use 2FA, separated by spaces; !name exempts the "
            "members of a group (exceptions win). For users who are not in the directory.",
            [](Config& c, std::string_view v) { return set_group_list(c, v); }},
  ConfigKey{"ldap_uri", "",
            "The directory, as ldap://, ldaps:// or ldapi:// URIs separated by spaces, tried in "
            "order. Empty: no directory; every user is local.",
            [](Config& c, std::string_view v) { return set_uris(c.ldap_uris, v); }},
  ConfigKey{"ldap_base", "",
            "The directory's base DN, such as dc=studio,dc=example: the highest entry whose "
            "studio2faPolicy flags count. Needed with ldap_uri.",
            [](Config& c, std::string_view v) { return set_dn(c.ldap_base, v); }},
  ConfigKey{"ldap_user_base", "", "Where users are searched for; empty: ldap_base.",
            [](Config& c, std::string_view v) { return set_dn(c.ldap_user_base, v); }},
  ConfigKey{"ldap_user_filter", "(objectClass=posixAccount)",
            "What a user entry is; combined with ldap_user_attribute=NAME.",
            [](Config& c, std::string_view v) { return set_filter(c.ldap_user_filter, v); }},
  ConfigKey{"ldap_user_attribute", "uid", "The attribute that holds the login name.",
            [](Config& c, std::string_view v) { return set_attribute(c.ldap_user_attribute, v); }},
  ConfigKey{"ldap_group_base", "", "Where groups are searched for; empty: ldap_base.",
            [](Config& c, std::string_view v) { return set_dn(c.ldap_group_base, v); }},
  ConfigKey{"ldap_group_filter",
            "(|(objectClass=posixGroup)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
            "What a group entry is.",
            [](Config& c, std::string_view v) { return set_filter(c.ldap_group_filter, v); }},
  ConfigKey{"ldap_member_uid_attribute", "memberUid",
            "The group attribute that names members by login name.",
            [](Config& c, std::string_view v) {
              return set_attribute(c.ldap_member_uid_attribute, v);
            }},
  ConfigKey{"ldap_member_attributes", "member uniqueMember",
            "The group attributes that name members (users or nested groups) by DN.",
            [](Config& c, std::string_view v) {
              return set_word_list(c.ldap_member_attributes, v, set_attribute, 1, 8,
                                   "attributes");
            }},
  ConfigKey{"ldap_bind_dn", "",
            "The daemon's own identity in the directory (with ldap_bind_password_file); empty: "
            "anonymous, or SASL EXTERNAL with ldap_sasl_external.",
            [](Config& c, std::string_view v) { return set_dn(c.ldap_bind_dn, v); }},
  ConfigKey{"ldap_bind_password_file", "",
            "File holding the password of ldap_bind_dn; must be owned by root and closed to "
            "group and others.",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v.empty()) {
                c.ldap_bind_password_file.clear();
                return {};
              }
              return set_absolute_path(c.ldap_bind_password_file, v);
            }},
  ConfigKey{"ldap_sasl_external", "no",
            "Bind with SASL EXTERNAL: over ldapi:// the directory knows the daemon as root by "
            "its socket credentials, so no password is stored.",
            [](Config& c, std::string_view v) { return set_flag(c.ldap_sasl_external, v); }},
  ConfigKey{"ldap_starttls", "yes",
            "Start TLS on ldap:// connections before anything else is sent; a failure is an "
            "error, never a fall-back to clear text.",
            [](Config& c, std::string_view v) { return set_flag(c.ldap_starttls, v); }},
  ConfigKey{"ldap_ca_file", "",
            "CA certificates (PEM) that the directory's certificate must chain to; empty: the "
            "system's.",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v.empty()) {
                c.ldap_ca_file.clear();
                return {};
              }
              return set_absolute_path(c.ldap_ca_file, v);
            }},
  ConfigKey{"ldap_tls_verify", "yes",
            "Verify the directory's certificate and name. Turn off only to diagnose.",
            [](Config& c, std::string_view v) { return set_flag(c.ldap_tls_verify, v); }},
  ConfigKey{"ldap_allow_cleartext", "no",
            "Allow ldap:// without StartTLS, which sends users' passwords across the network "
            "in clear. Without it such a configuration is refused.",
            [](Config& c, std::string_view v) { return set_flag(c.ldap_allow_cleartext, v); }},
  ConfigKey{"ldap_connect_timeout", "2s",
            "Time to connect to one directory server before trying the next.",
            [](Config& c, std::string_view v) {
              return set_milliseconds(c.ldap_connect_timeout, v, 1, 60);
            }},
  ConfigKey{"ldap_timeout", "5s",
            "The most one login waits for the directory, all queries together; after that the "
            "last known answer is used (or, with none, the login fails closed).",
            [](Config& c, std::string_view v) { return set_milliseconds(c.ldap_timeout, v, 1, 60); }},
  ConfigKey{"ldap_retry_interval", "30s",
            "After the directory failed to answer, the time during which the last known "
            "answers are used without asking it again.",
            [](Config& c, std::string_view v) {
              return set_duration(c.ldap_retry_interval, v, 0, 3600);
            }},
  ConfigKey{"ldap_nesting_depth", "8",
            "Levels of groups within groups that are followed (1: direct membership only).",
            [](Config& c, std::string_view v) { return set_number(c.ldap_nesting_depth, v, 1, 32); }},
  ConfigKey{"policy_cache_ttl", "5m",
            "How long the directory's answer about a user is used before asking again. "
            "Answers are kept in the database as the last known ones.",
            [](Config& c, std::string_view v) {
              return set_duration(c.policy_cache_ttl, v, 0, 7 * 86400);
            }},
  // --- store = directory ---
  ConfigKey{"store", "local",
            "Where the users' second-factor records live: local (this host's database only) or "
            "directory (one entry per user under enrollment_base, shared by every host; the "
            "database keeps this host's audit trail, policy cache and a copy of the records).",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v != "local" && v != "directory") {
                return make_error("must be local or directory");
              }
              c.store = v == "local" ? Config::StoreKind::local : Config::StoreKind::directory;
              return {};
            }},
  ConfigKey{"enrollment_base", "",
            "With store = directory: the container of the records, such as "
            "ou=studio2fa,dc=studio,dc=example. Only the daemons' identity may read or write it.",
            [](Config& c, std::string_view v) { return set_dn(c.enrollment_base, v); }},
  ConfigKey{"ldap_write_uri", "",
            "With store = directory: the server that takes the writes (the primary provider); "
            "empty: the first of ldap_uri. Reads go to ldap_uri.",
            [](Config& c, std::string_view v) -> Expected<void> {
              std::vector<std::string> uris;
              if (auto set = set_uris(uris, v); !set) {
                return set;
              }
              if (uris.size() > 1) {
                return make_error("must be one URI");
              }
              c.ldap_write_uri = uris.empty() ? std::string() : uris.front();
              return {};
            }},
  ConfigKey{"ldap_compare_and_swap", "auto",
            "With store = directory: how a write is made conditional on the record being as "
            "it was read. auto: a critical assertion control (RFC 4528) where the write server "
            "lists 1.3.6.1.1.12 in its root DSE, else one modify that deletes the old value and "
            "adds the new; assertion: the control always (studio2fad refuses to start when the "
            "server does not list it); delete-add: the delete and add always, for a directory or "
            "proxy that lists the control but mishandles it.",
            [](Config& c, std::string_view v) -> Expected<void> {
              using Cas = Config::CompareAndSwap;
              if (v != "auto" && v != "assertion" && v != "delete-add") {
                return make_error("must be auto, assertion or delete-add");
              }
              c.ldap_compare_and_swap = v == "auto"        ? Cas::automatic
                                        : v == "assertion" ? Cas::assertion
                                                           : Cas::delete_add;
              return {};
            }},
  ConfigKey{"offline_logins", "deny",
            "With store = directory, when the directory cannot be reached (or its write server "
            "alone cannot: a record read from a replica could not be written): deny (no login "
            "that needs a code) or cached (codes are checked against this host's copy of the record, "
            "never a code twice on this host; no backup codes, enrollments or administrative "
            "changes).",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v != "deny" && v != "cached") {
                return make_error("must be deny or cached");
              }
              c.offline_logins =
                  v == "deny" ? Config::OfflineLogins::deny : Config::OfflineLogins::cached;
              return {};
            }},
  ConfigKey{"offline_cache_age", "8h",
            "With offline_logins = cached: how old this host's copy of a record may be (since "
            "it was last read from or written to the directory) and still admit a login.",
            [](Config& c, std::string_view v) {
              return set_duration(c.offline_cache_age, v, 1, 30ULL * 86400);
            }},
  ConfigKey{"cache_sync", "normal",
            "With store = directory: normal (this host's copy of what the directory accepted, "
            "and the audit rows that go with it, are written without waiting for the disk: a "
            "crash of the daemon loses none, an OS crash or power cut may lose the last second "
            "of them, or the last 30 seconds on a host idle since) or full (each waits for the disk, as every write does with store = local; "
            "a login then costs one more disk flush). Writes accepted while the directory cannot "
            "be reached always wait for the disk.",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v != "normal" && v != "full") {
                return make_error("must be normal or full");
              }
              c.cache_sync_full = v == "full";
              return {};
            }},
  // --- codes by text message and voice call ---
  ConfigKey{"sms_command", "",
            "The command that sends a text message: an absolute path, then its arguments, "
            "separated by spaces. It runs as sender_user and reads one JSON object on standard "
            "input: {\"number\": \"+447946004567\", \"message\": \"...\", \"kind\": \"sms\"}; exit "
            "status 0 within send_timeout means the gateway took the message. The code is never "
            "in its arguments or environment. Empty: no codes by text message.",
            [](Config& c, std::string_view v) { return set_command(c.sms_command, v); }},
  ConfigKey{"voice_command", "",
            "The command that places a voice call reading the code, as sms_command (kind "
            "\"voice\"). Empty: no codes by voice call.",
            [](Config& c, std::string_view v) { return set_command(c.voice_command, v); }},
  ConfigKey{"sender_user", "nobody",
            "The unprivileged user sms_command and voice_command run as (with its group and no "
            "other groups); never root.",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v.size() > 64 || v.find_first_of(" \t:,/") != std::string_view::npos) {
                return make_error("must be a user name of up to 64 characters");
              }
              if (v == "root") {
                return make_error("must not be root: the sender runs a script that talks to "
                                  "the network");
              }
              c.sender_user = std::string(v);
              return {};
            }},
  ConfigKey{"send_timeout", "10s",
            "The longest a sending may take; a command still running then is killed, and the "
            "login is told that no code could be sent.",
            [](Config& c, std::string_view v) { return set_milliseconds(c.send_timeout, v, 1, 120); }},
  ConfigKey{"sender_concurrency", "4",
            "Sendings per channel that may run at once; further ones fail at once, so that a "
            "hung gateway never holds more than these of the worker threads. Must be below "
            "worker_threads.",
            [](Config& c, std::string_view v) {
              return set_number(c.sender_concurrency, v, 1, 63);
            }},
  ConfigKey{"phone_code_lifetime", "5m",
            "How long a code sent by text or voice works (at most 10m, as NIST SP 800-63B "
            "allows).",
            [](Config& c, std::string_view v) -> Expected<void> {
              auto seconds = parse_duration(v);
              if (seconds && *seconds > 600) {
                return make_error("must be at most 10m: NIST SP 800-63B allows an out-of-band "
                                  "code ten minutes at most");
              }
              return set_duration(c.phone_code_lifetime, v, 30, 600);
            }},
  ConfigKey{"phone_resend_interval", "60s",
            "The least time between two codes sent to one user; a request sooner is refused with "
            "the seconds left.",
            [](Config& c, std::string_view v) {
              return set_duration(c.phone_resend_interval, v, 60, 3600);
            }},
  ConfigKey{"phone_sends_per_user_hour", "5",
            "Codes sent to one user in an hour, by every host sharing the store together.",
            [](Config& c, std::string_view v) {
              return set_number(c.phone_sends_per_user_hour, v, 1, 100);
            }},
  ConfigKey{"phone_sends_per_host_hour", "100",
            "Codes this host sends in an hour, to all users together: a cap against SMS pumping "
            "and a runaway bill.",
            [](Config& c, std::string_view v) {
              return set_number(c.phone_sends_per_host_hour, v, 1, 1000000);
            }},
  ConfigKey{"phone_message",
            "{code} is your {issuer} login code. It works for {minutes} minutes. Do not give it "
            "to anyone.",
            "The text message; {code}, {issuer} and {minutes} are replaced.",
            [](Config& c, std::string_view v) { return set_phone_text(c.phone_message, v); }},
  ConfigKey{"voice_message",
            "This is {issuer}. Your login code is: {code}. Again: {code}. It works for {minutes} "
            "minutes.",
            "What a voice call says; {code} is read digit by digit.",
            [](Config& c, std::string_view v) { return set_phone_text(c.voice_message, v); }},
  ConfigKey{"phone_issuer", "",
            "The studio's name in texts and calls ({issuer}); empty: issuer.",
            [](Config& c, std::string_view v) { return set_text(c.phone_issuer, v, 64); }},
  ConfigKey{"phone_self_enroll", "yes",
            "Whether users may register their own number (studio2fa enroll --sms/--voice); "
            "with no, only numbers from the directory (phone_attribute) are used.",
            [](Config& c, std::string_view v) { return set_flag(c.phone_self_enroll, v); }},
  ConfigKey{"phone_attribute", "",
            "For directory users: the attribute of their entry that holds the number codes go "
            "to by text message, such as mobile; the administrators' to change, so such users "
            "cannot register one themselves. Empty: numbers come only from self enrollment.",
            [](Config& c, std::string_view v) -> Expected<void> {
              if (v.empty()) {
                c.phone_attribute.clear();
                return {};
              }
              return set_attribute(c.phone_attribute, v);
            }},
  // --- sending codes by HTTPS ---
  ConfigKey{"sms_url", "",
            "Send text messages by an HTTPS POST to this gateway URL (https:// only; the "
            "certificate and host name are always verified). 2xx answers mean accepted. Empty: "
            "no HTTPS gateway for text messages. See SENDING CODES: HTTPS in studio2fad.conf(5).",
            set_gateway_url<&Config::sms_gateway>},
  ConfigKey{"sms_body_template", "",
            "The body posted to sms_url, with {number} (E.164), {message} and {kind} (sms or "
            "voice) replaced by their values escaped for sms_content_type, such as "
            "To={number}&From=%2B15005550006&Body={message}.",
            set_gateway_body<&Config::sms_gateway>},
  ConfigKey{"sms_content_type", "form",
            "form (application/x-www-form-urlencoded: values percent-encoded) or json "
            "(application/json: placeholders inside quotes, values JSON-escaped).",
            set_gateway_content_type<&Config::sms_gateway>},
  ConfigKey{"sms_auth_header_file", "",
            "File holding the header lines that authenticate to the gateway, such as "
            "'Authorization: Bearer ...'; owned by root, mode 0600. Empty: none.",
            [](Config& c, std::string_view v) {
              return set_gateway_path<&Config::sms_gateway>(&HttpsGateway::auth_header_file, c, v);
            }},
  ConfigKey{"sms_ca_file", "",
            "CA certificates (PEM) that the gateway's certificate must chain to, for a private "
            "CA; empty: the system's.",
            [](Config& c, std::string_view v) {
              return set_gateway_path<&Config::sms_gateway>(&HttpsGateway::ca_file, c, v);
            }},
  ConfigKey{"voice_url", "", "As sms_url, for voice calls.",
            set_gateway_url<&Config::voice_gateway>},
  ConfigKey{"voice_body_template", "", "As sms_body_template, for voice_url.",
            set_gateway_body<&Config::voice_gateway>},
  ConfigKey{"voice_content_type", "form", "As sms_content_type, for voice_url.",
            set_gateway_content_type<&Config::voice_gateway>},
  ConfigKey{"voice_auth_header_file", "", "As sms_auth_header_file, for voice_url.",
            [](Config& c, std::string_view v) {
              return set_gateway_path<&Config::voice_gateway>(&HttpsGateway::auth_header_file, c,
                                                               v);
            }},
  ConfigKey{"voice_ca_file", "", "As sms_ca_file, for voice_url.",
            [](Config& c, std::string_view v) {
              return set_gateway_path<&Config::voice_gateway>(&HttpsGateway::ca_file, c, v);
            }},
};

} // namespace

Expected<std::string> read_bind_password(const std::string& path)
{
  auto content = read_private_file(path, 1024, "ldap_bind_password_file");
  if (!content) {
    return make_error(content.error().message);
  }
  std::string password(content->view());
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return make_error(path + " (ldap_bind_password_file) is empty");
  }
  return password;
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
  auto whole = [&](const std::string& what) {
    return make_error(std::string(source_name) + ": " + what);
  };
  if (config.throttle_base > config.throttle_max) {
    return whole("throttle_base must not exceed throttle_max");
  }
  if (!config.ldap_uris.empty()) {
    if (config.ldap_base.empty()) {
      return whole("ldap_uri needs ldap_base");
    }
    if (config.ldap_bind_dn.empty() != config.ldap_bind_password_file.empty()) {
      return whole("ldap_bind_dn and ldap_bind_password_file go together");
    }
    if (config.ldap_sasl_external && !config.ldap_bind_dn.empty()) {
      return whole("ldap_sasl_external and ldap_bind_dn are two ways to bind: choose one");
    }
    for (const std::string& uri : config.ldap_uris) {
      if (uri.starts_with("ldap://") && !config.ldap_starttls && !config.ldap_allow_cleartext) {
        return whole(uri + " without ldap_starttls would send passwords in clear: set "
                           "ldap_starttls = yes, use ldaps:// or ldapi://, or (on a network "
                           "you trust) ldap_allow_cleartext = yes");
      }
    }
  }
  const bool sends_codes = !config.sms_command.empty() || !config.voice_command.empty() ||
                           !config.sms_gateway.url.empty() || !config.voice_gateway.url.empty();
  if (sends_codes && config.sender_concurrency >= config.worker_threads) {
    return whole("sender_concurrency (" + std::to_string(config.sender_concurrency) +
                 ") must be below worker_threads (" + std::to_string(config.worker_threads) +
                 "), so that a hung gateway leaves threads for other logins");
  }
  if (!config.phone_attribute.empty() && config.ldap_uris.empty()) {
    return whole("phone_attribute needs a directory (ldap_uri)");
  }
  if (config.store == Config::StoreKind::directory) {
    if (config.ldap_uris.empty() || config.enrollment_base.empty()) {
      return whole("store = directory needs ldap_uri and enrollment_base");
    }
    if (config.ldap_write_uri.starts_with("ldap://") && !config.ldap_starttls &&
        !config.ldap_allow_cleartext) {
      return whole(config.ldap_write_uri + " without ldap_starttls would send the records in "
                                           "clear: set ldap_starttls = yes, use ldaps:// or "
                                           "ldapi://, or ldap_allow_cleartext = yes");
    }
  }
  for (const auto& [channel, gateway] :
       {std::pair{"sms", &config.sms_gateway}, std::pair{"voice", &config.voice_gateway}}) {
    const std::string prefix(channel);
    if (gateway->url.empty()) {
      if (!gateway->body_template.empty() || !gateway->auth_header_file.empty() ||
          !gateway->ca_file.empty()) {
        return whole(prefix + "_body_template, " + prefix + "_auth_header_file and " + prefix +
                     "_ca_file need " + prefix + "_url");
      }
      continue;
    }
    if (!(prefix == "sms" ? config.sms_command : config.voice_command).empty()) {
      return whole(prefix + "_command and " + prefix + "_url are both set: choose one sender");
    }
    if (gateway->body_template.empty()) {
      return whole(prefix + "_url needs " + prefix + "_body_template");
    }
    if (auto body = BodyTemplate::parse(gateway->body_template, gateway->content_type); !body) {
      return whole("bad value for " + prefix + "_body_template: " + body.error().message);
    }
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
