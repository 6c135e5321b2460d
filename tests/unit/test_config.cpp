// studio2fad.conf (daemon/config): defaults, the parser, durations, the sample config and the
// file checks of load_config.
#include "config.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream> // before cmocka.h, whose fail() macro would clash with basic_ios::fail()
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

constexpr const char* k_source = "test.conf";

struct TempDir {
  std::string path;
  std::string file(const char* name) const { return path + "/" + name; }
};

int make_temp_dir(void** state)
{
  char templ[] = "/tmp/studio2fa-config-test.XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  *state = new TempDir{templ};
  return 0;
}

int remove_temp_dir(void** state)
{
  auto* dir = static_cast<TempDir*>(*state);
  std::error_code ignored;
  std::filesystem::remove_all(dir->path, ignored);
  delete dir;
  return 0;
}

const TempDir& temp_dir(void** state)
{
  return *static_cast<const TempDir*>(*state);
}

void write_file(const std::string& path, const std::string& text, mode_t mode)
{
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  assert_int_equal(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  assert_int_equal(::fchmod(fd, mode), 0); // whatever the umask
  assert_int_equal(::close(fd), 0);
}

bool skip_unless_root()
{
  if (geteuid() != 0) {
    skip();
    return true;
  }
  return false;
}

void assert_error_contains(const std::string& message, const std::string& part)
{
  if (message.find(part) == std::string::npos) {
    fail_msg("error \"%s\" does not contain \"%s\"", message.c_str(), part.c_str());
  }
}

void assert_error_starts_with(const std::string& message, const std::string& prefix)
{
  if (message.compare(0, prefix.size(), prefix) != 0) {
    fail_msg("error \"%s\" does not start with \"%s\"", message.c_str(), prefix.c_str());
  }
}

Config parse_ok(const std::string& text)
{
  auto config = parse_config(text, k_source);
  if (!config) {
    fail_msg("parse of \"%s\" failed: %s", text.c_str(), config.error().message.c_str());
  }
  return std::move(*config);
}

// Parses text that must fail, and returns the error.
std::string parse_error(const std::string& text)
{
  auto config = parse_config(text, k_source);
  if (config) {
    fail_msg("parse of \"%s\" succeeded, expected an error", text.c_str());
  }
  return config.error().message;
}

// The text must fail at `line`, with "test.conf:LINE: " in front of the message.
std::string parse_error_at(const std::string& text, unsigned line)
{
  const std::string message = parse_error(text);
  assert_error_starts_with(message, std::string(k_source) + ":" + std::to_string(line) + ": ");
  return message;
}

void assert_configs_equal(const Config& a, const Config& b)
{
  assert_string_equal(a.socket_path.c_str(), b.socket_path.c_str());
  assert_string_equal(a.db_path.c_str(), b.db_path.c_str());
  assert_string_equal(a.key_path.c_str(), b.key_path.c_str());
  assert_string_equal(a.issuer.c_str(), b.issuer.c_str());
  assert_int_equal(static_cast<int>(a.totp.algorithm), static_cast<int>(b.totp.algorithm));
  assert_int_equal(a.totp.digits, b.totp.digits);
  assert_int_equal(a.totp.period, b.totp.period);
  assert_int_equal(a.totp_window, b.totp_window);
  assert_int_equal(a.enroll_timeout, b.enroll_timeout);
  assert_int_equal(a.throttle_after, b.throttle_after);
  assert_int_equal(a.throttle_base, b.throttle_base);
  assert_int_equal(a.throttle_max, b.throttle_max);
  assert_int_equal(a.lockout_after, b.lockout_after);
  assert_int_equal(a.backup_lockout_after, b.backup_lockout_after);
  assert_int_equal(a.max_connections, b.max_connections);
  assert_int_equal(a.root_reserved_connections, b.root_reserved_connections);
  assert_int_equal(a.max_connections_per_uid, b.max_connections_per_uid);
  assert_int_equal(a.max_requests_per_uid, b.max_requests_per_uid);
  assert_int_equal(a.connection_lifetime, b.connection_lifetime);
  assert_int_equal(a.request_timeout, b.request_timeout);
  assert_int_equal(a.idle_timeout, b.idle_timeout);
  assert_int_equal(a.worker_threads, b.worker_threads);
  assert_int_equal(a.password_queue, b.password_queue);
  assert_int_equal(a.password_queue_per_uid, b.password_queue_per_uid);
  assert_int_equal(a.password_queue_wait, b.password_queue_wait);
  assert_string_equal(a.admin_group.c_str(), b.admin_group.c_str());
  assert_int_equal(a.audit_retention, b.audit_retention);
}

// The documented defaults (studio2fad.conf(5), PROTOCOL.md).
void assert_documented_defaults(const Config& config)
{
  assert_string_equal(config.socket_path.c_str(), "/run/studio2fa/studio2fad.sock");
  assert_string_equal(config.db_path.c_str(), "/var/lib/studio2fa/studio2fa.db");
  assert_string_equal(config.key_path.c_str(), "/etc/studio2fa/master.key");
  assert_true(config.previous_key_paths.empty());
  assert_string_equal(config.issuer.c_str(), "studio2fa");
  assert_int_equal(static_cast<int>(config.totp.algorithm),
                   static_cast<int>(totp::Algorithm::sha1));
  assert_int_equal(config.totp.digits, 6);
  assert_int_equal(config.totp.period, 30);
  assert_int_equal(config.totp_window, 1);
  assert_int_equal(config.enroll_timeout, 600);
  assert_int_equal(config.throttle_after, 5);
  assert_int_equal(config.throttle_base, 2);
  assert_int_equal(config.throttle_max, 900);
  assert_int_equal(config.lockout_after, 20);
  assert_int_equal(config.backup_lockout_after, 3);
  assert_int_equal(config.max_connections, 1024);
  assert_int_equal(config.root_reserved_connections, 64);
  assert_int_equal(config.max_connections_per_uid, 16);
  assert_int_equal(config.max_requests_per_uid, 4);
  assert_int_equal(config.connection_lifetime, 300);
  assert_int_equal(config.request_timeout, 5);
  assert_int_equal(config.idle_timeout, 30);
  assert_int_equal(config.worker_threads, 32);
  assert_int_equal(config.password_queue, 32);
  assert_int_equal(config.password_queue_per_uid, 2);
  assert_int_equal(config.password_queue_wait, 5);
  assert_string_equal(config.admin_group.c_str(), "");
  assert_int_equal(config.audit_retention, 365 * 86400);
  assert_int_equal(config.grace_period, 86400);
  assert_true(config.require_groups.empty() && config.exempt_groups.empty());
  assert_true(config.ldap_uris.empty());
  assert_string_equal(config.ldap_user_filter.c_str(), "(objectClass=posixAccount)");
  assert_string_equal(config.ldap_user_attribute.c_str(), "uid");
  assert_string_equal(config.ldap_member_uid_attribute.c_str(), "memberUid");
  assert_int_equal(config.ldap_member_attributes.size(), 2);
  assert_true(config.ldap_starttls);
  assert_true(config.ldap_tls_verify);
  assert_false(config.ldap_allow_cleartext);
  assert_false(config.ldap_sasl_external);
  assert_int_equal(config.ldap_connect_timeout, 2000);
  assert_int_equal(config.ldap_timeout, 5000);
  assert_int_equal(config.ldap_retry_interval, 30);
  assert_int_equal(config.ldap_nesting_depth, 8);
  assert_int_equal(config.policy_cache_ttl, 300);
  assert_int_equal(static_cast<int>(config.store), static_cast<int>(Config::StoreKind::local));
  assert_string_equal(config.enrollment_base.c_str(), "");
  assert_string_equal(config.ldap_write_uri.c_str(), "");
  assert_int_equal(static_cast<int>(config.offline_logins),
                   static_cast<int>(Config::OfflineLogins::deny));
  assert_int_equal(config.offline_cache_age, 8 * 3600);
  assert_false(config.cache_sync_full);
  assert_int_equal(static_cast<int>(config.ldap_compare_and_swap),
                   static_cast<int>(Config::CompareAndSwap::automatic));
}

// Every key this test knows about; a key added to the table must be added here (and to
// test_every_key_parsed).
const char* const k_key_names[] = {
    "socket_path",     "db_path",         "key_path",           "previous_key_paths", "issuer",
    "totp_algorithm",  "totp_digits",     "totp_period",        "totp_window",
    "enroll_timeout",  "throttle_after",  "throttle_base",      "throttle_max",
    "lockout_after",   "backup_lockout_after", "max_connections", "root_reserved_connections",
    "max_connections_per_uid", "max_requests_per_uid", "connection_lifetime", "request_timeout",
    "idle_timeout",    "worker_threads",
    "password_queue",  "password_queue_per_uid", "password_queue_wait",
    "admin_group",     "audit_retention",
    "grace_period",    "require_groups",  "ldap_uri",           "ldap_base",
    "ldap_user_base",  "ldap_user_filter", "ldap_user_attribute", "ldap_group_base",
    "ldap_group_filter", "ldap_member_uid_attribute", "ldap_member_attributes", "ldap_bind_dn",
    "ldap_bind_password_file", "ldap_sasl_external", "ldap_starttls", "ldap_ca_file",
    "ldap_tls_verify", "ldap_allow_cleartext", "ldap_connect_timeout", "ldap_timeout",
    "ldap_retry_interval", "ldap_nesting_depth", "policy_cache_ttl",
    // store = directory
    "store", "enrollment_base", "ldap_write_uri", "ldap_compare_and_swap", "offline_logins",
    "offline_cache_age", "cache_sync",
    // codes by text message and voice call
    "sms_command", "voice_command", "sender_user", "send_timeout", "sender_concurrency",
    "phone_code_lifetime", "phone_resend_interval", "phone_sends_per_user_hour",
    "phone_sends_per_host_hour", "phone_message", "voice_message", "phone_issuer",
    "phone_self_enroll", "phone_attribute",
    // sending codes by HTTPS
    "sms_url", "sms_body_template", "sms_content_type", "sms_auth_header_file", "sms_ca_file",
    "voice_url", "voice_body_template", "voice_content_type", "voice_auth_header_file",
    "voice_ca_file",
};

// --- defaults and the key table -----------------------------------------------------------

void test_defaults(void**)
{
  assert_documented_defaults(default_config());
  // An empty file, and one of only comments and blank lines, is all defaults.
  assert_documented_defaults(parse_ok(""));
  assert_documented_defaults(parse_ok("# nothing here\n\n   \n\t# indented comment\n"));
}

void test_key_table(void**)
{
  const auto keys = config_keys();
  assert_int_equal(keys.size(), std::size(k_key_names));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    assert_string_equal(keys[i].name, k_key_names[i]);
    assert_non_null(keys[i].default_value);
    assert_non_null(keys[i].description);
    assert_true(std::strlen(keys[i].description) > 0);
    assert_non_null(keys[i].apply);
  }
}

void test_every_key_parsed(void**)
{
  const Config config = parse_ok("socket_path = /run/other/s.sock\n"
                                 "db_path = /srv/2fa/db.sqlite\n"
                                 "key_path = /srv/2fa/keys/master.key\n"
                                 "previous_key_paths = /srv/2fa/keys/old.key /srv/k2\n"
                                 "issuer = Studio Nord\n"
                                 "totp_algorithm = SHA512\n"
                                 "totp_digits = 8\n"
                                 "totp_period = 60\n"
                                 "totp_window = 3\n"
                                 "enroll_timeout = 15m\n"
                                 "throttle_after = 7\n"
                                 "throttle_base = 10s\n"
                                 "throttle_max = 1h\n"
                                 "max_connections = 64\n"
                                 "root_reserved_connections = 8\n"
                                 "max_connections_per_uid = 5\n"
                                 "max_requests_per_uid = 2\n"
                                 "connection_lifetime = 90s\n"
                                 "request_timeout = 9\n"
                                 "idle_timeout = 2m\n"
                                 "worker_threads = 12\n"
                                 "password_queue = 100\n"
                                 "password_queue_per_uid = 3\n"
                                 "password_queue_wait = 8s\n"
                                 "lockout_after = 0\n"
                                 "backup_lockout_after = 5\n"
                                 "admin_group = studio-admins\n"
                                 "audit_retention = 30d\n");
  assert_string_equal(config.socket_path.c_str(), "/run/other/s.sock");
  assert_string_equal(config.db_path.c_str(), "/srv/2fa/db.sqlite");
  assert_string_equal(config.key_path.c_str(), "/srv/2fa/keys/master.key");
  assert_int_equal(config.previous_key_paths.size(), 2);
  assert_string_equal(config.previous_key_paths[0].c_str(), "/srv/2fa/keys/old.key");
  assert_string_equal(config.previous_key_paths[1].c_str(), "/srv/k2");
  assert_string_equal(config.issuer.c_str(), "Studio Nord");
  assert_int_equal(static_cast<int>(config.totp.algorithm),
                   static_cast<int>(totp::Algorithm::sha512));
  assert_int_equal(config.totp.digits, 8);
  assert_int_equal(config.totp.period, 60);
  assert_int_equal(config.totp_window, 3);
  assert_int_equal(config.enroll_timeout, 900);
  assert_int_equal(config.throttle_after, 7);
  assert_int_equal(config.throttle_base, 10);
  assert_int_equal(config.throttle_max, 3600);
  assert_int_equal(config.max_connections, 64);
  assert_int_equal(config.root_reserved_connections, 8);
  assert_int_equal(config.max_connections_per_uid, 5);
  assert_int_equal(config.max_requests_per_uid, 2);
  assert_int_equal(config.connection_lifetime, 90);
  assert_int_equal(config.request_timeout, 9);
  assert_int_equal(config.idle_timeout, 120);
  assert_int_equal(config.worker_threads, 12);
  assert_int_equal(config.password_queue, 100);
  assert_int_equal(config.password_queue_per_uid, 3);
  assert_int_equal(config.password_queue_wait, 8);
  assert_int_equal(config.lockout_after, 0);
  assert_int_equal(config.backup_lockout_after, 5);
  assert_string_equal(config.admin_group.c_str(), "studio-admins");
  assert_int_equal(config.audit_retention, 30 * 86400);

  assert_int_equal(static_cast<int>(parse_ok("totp_algorithm = SHA256\n").totp.algorithm),
                   static_cast<int>(totp::Algorithm::sha256));
  // Algorithm names are case-insensitive.
  assert_int_equal(static_cast<int>(parse_ok("totp_algorithm = sha512\n").totp.algorithm),
                   static_cast<int>(totp::Algorithm::sha512));
}

void test_directory_store_keys(void**)
{
  const Config config = parse_ok("ldap_uri = ldapi:///var/run/r1 ldapi:///var/run/r2\n"
                                 "ldap_base = dc=studio,dc=example\n"
                                 "store = directory\n"
                                 "enrollment_base = ou=studio2fa,dc=studio,dc=example\n"
                                 "ldap_write_uri = ldaps://primary.studio.example\n"
                                 "offline_logins = cached\n"
                                 "offline_cache_age = 2h\n"
                                 "cache_sync = full\n"
                                 "ldap_compare_and_swap = delete-add\n");
  assert_int_equal(static_cast<int>(config.store), static_cast<int>(Config::StoreKind::directory));
  assert_string_equal(config.enrollment_base.c_str(), "ou=studio2fa,dc=studio,dc=example");
  assert_string_equal(config.ldap_write_uri.c_str(), "ldaps://primary.studio.example");
  assert_int_equal(static_cast<int>(config.offline_logins),
                   static_cast<int>(Config::OfflineLogins::cached));
  assert_int_equal(config.offline_cache_age, 7200);
  assert_true(config.cache_sync_full);
  assert_int_equal(static_cast<int>(config.ldap_compare_and_swap),
                   static_cast<int>(Config::CompareAndSwap::delete_add));
  assert_int_equal(static_cast<int>(parse_ok("ldap_compare_and_swap = assertion\n")
                                        .ldap_compare_and_swap),
                   static_cast<int>(Config::CompareAndSwap::assertion));

  for (const char* bad : {"store = shared\n", "offline_logins = allow\n",
                          "ldap_compare_and_swap = delete_add\n",
                          "ldap_compare_and_swap = Assertion\n", "ldap_compare_and_swap =\n",
                          "ldap_write_uri = ldaps://a ldaps://b\n", "ldap_write_uri = http://a\n",
                          "offline_cache_age = 0\n", "enrollment_base = studio2fa\n",
                          "cache_sync = off\n", "cache_sync = FULL\n"}) {
    assert_false(parse_config(bad, "test.conf").has_value());
  }
  // The directory store needs a directory and a container.
  assert_false(parse_config("store = directory\n", "test.conf").has_value());
  assert_false(parse_config("ldap_uri = ldapi:///x\nldap_base = dc=a\nstore = directory\n",
                            "test.conf")
                   .has_value());
  // Its writes are refused in clear like the rest.
  assert_false(parse_config("ldap_uri = ldapi:///x\nldap_base = dc=a\nstore = directory\n"
                            "enrollment_base = ou=s,dc=a\nldap_starttls = no\n"
                            "ldap_write_uri = ldap://primary\n",
                            "test.conf")
                   .has_value());
}

void test_keys_not_set_keep_defaults(void**)
{
  const Config config = parse_ok("issuer = Other\n");
  Config expected = default_config();
  expected.issuer = "Other";
  assert_configs_equal(config, expected);
}

void test_comments_blank_lines_whitespace(void**)
{
  const Config config = parse_ok("# a comment = with an equals sign\n"
                                 "\n"
                                 "   # an indented comment\n"
                                 "\t\n"
                                 "issuer=NoSpaces\n"
                                 "  totp_digits\t=\t7  \n"
                                 "totp_period    =    45\r\n"
                                 "\r\n"
                                 "totp_window =2"); // last line without a newline
  assert_string_equal(config.issuer.c_str(), "NoSpaces");
  assert_int_equal(config.totp.digits, 7);
  assert_int_equal(config.totp.period, 45);
  assert_int_equal(config.totp_window, 2);
  // Spaces inside a value are kept; only the ends are trimmed.
  assert_string_equal(parse_ok("issuer =   Two  Words  \n").issuer.c_str(), "Two  Words");
}

// --- errors carry SOURCE:LINE ---------------------------------------------------------------

void test_unknown_key(void**)
{
  const std::string message = parse_error_at("# comment\n"
                                             "\n"
                                             "issuer = a\n"
                                             "no_such_key = 1\n"
                                             "totp_digits = 6\n",
                                             4);
  assert_error_contains(message, "unknown key 'no_such_key'");
  // A key is matched exactly, not by prefix or case.
  parse_error_at("issue = x\n", 1);
  parse_error_at("ISSUER = x\n", 1);
  parse_error_at("issuer_name = x\n", 1);
}

void test_missing_equals(void**)
{
  const std::string message = parse_error_at("\n\nsocket_path /run/x.sock\n", 3);
  assert_error_contains(message, "key = value");
}

void test_empty_value(void**)
{
  assert_error_contains(parse_error_at("issuer =\n", 1), "no value");
  assert_error_contains(parse_error_at("# c\ntotp_digits =   \t \n", 2), "no value");
  parse_error_at("#\n#\n#\nenroll_timeout=\n", 4);
}

void test_admin_group(void**)
{
  // The one key whose default is empty may be set empty; other keys may not.
  assert_string_equal(parse_ok("admin_group =\n").admin_group.c_str(), "");
  assert_string_equal(parse_ok("admin_group = wheel\n").admin_group.c_str(), "wheel");
  assert_error_contains(parse_error_at("admin_group = two words\n", 1), "group name");
  parse_error_at("admin_group = a:b\n", 1);
  parse_error_at("admin_group = " + std::string(65, 'g') + "\n", 1);
  parse_error_at("lockout_after = 1001\n", 1);
  parse_error_at("backup_lockout_after = 0\n", 1);
  parse_error_at("backup_lockout_after = 11\n", 1);
  parse_error_at("audit_retention = 1h\n", 1);
  parse_error_at("audit_retention = 3651d\n", 1);
  parse_error_at("lockout_after =\n", 1);
}

void test_empty_key(void**)
{
  parse_error_at("issuer = x\n = value\n", 2);
}

void test_key_set_twice(void**)
{
  const std::string message = parse_error_at("# header\n"
                                             "issuer = first\n"
                                             "totp_digits = 6\n"
                                             "\n"
                                             "issuer = second\n",
                                             5);
  assert_error_contains(message, "issuer");
  assert_error_contains(message, "line 2");
  // Even when the value is the same.
  assert_error_contains(parse_error_at("totp_window = 1\ntotp_window = 1\n", 2), "line 1");
}

void test_numbers_out_of_range(void**)
{
  assert_error_contains(parse_error_at("totp_digits = 5\n", 1), "totp_digits");
  parse_error_at("# c\ntotp_digits = 9\n", 2);
  parse_error_at("\n\ntotp_period = 14\n", 3);
  parse_error_at("totp_period = 301\n", 1);
  parse_error_at("issuer = x\ntotp_window = 11\n", 2);
  parse_error_at("throttle_after = 0\n", 1);
  parse_error_at("throttle_after = 101\n", 1);
  parse_error_at("max_connections = 3\n", 1);
  parse_error_at("max_connections = 65537\n", 1);
  parse_error_at("max_connections_per_uid = 0\n", 1);
  parse_error_at("max_requests_per_uid = 0\n", 1);
  parse_error_at("max_requests_per_uid = 65\n", 1);
  parse_error_at("connection_lifetime = 0\n", 1);
  parse_error_at("connection_lifetime = 25h\n", 1);
  parse_error_at("worker_threads = 0\n", 1);
  parse_error_at("worker_threads = 65\n", 1);
  parse_error_at("password_queue = 0\n", 1);
  parse_error_at("password_queue_per_uid = 65\n", 1);
  parse_error_at("password_queue_wait = 0\n", 1);
  // Not numbers at all.
  parse_error_at("totp_digits = six\n", 1);
  parse_error_at("totp_digits = -6\n", 1);
  parse_error_at("totp_digits = 6.0\n", 1);
  parse_error_at("totp_digits = 6 7\n", 1);
  parse_error_at("totp_window = 99999999999999999999999\n", 1);

  // The ends of each range are allowed.
  assert_int_equal(parse_ok("totp_digits = 6\n").totp.digits, 6);
  assert_int_equal(parse_ok("totp_digits = 8\n").totp.digits, 8);
  assert_int_equal(parse_ok("totp_period = 15\n").totp.period, 15);
  assert_int_equal(parse_ok("totp_period = 300\n").totp.period, 300);
  assert_int_equal(parse_ok("totp_window = 0\n").totp_window, 0);
  assert_int_equal(parse_ok("totp_window = 10\n").totp_window, 10);
}

void test_bad_algorithm(void**)
{
  const std::string message = parse_error_at("issuer = x\ntotp_algorithm = MD5\n", 2);
  assert_error_contains(message, "SHA1");
  parse_error_at("totp_algorithm = SHA-1\n", 1);
  parse_error_at("totp_algorithm = SHA1 \\\n", 1);
  parse_error_at("totp_algorithm = SHA384\n", 1);
}

void test_relative_path(void**)
{
  for (const char* key : {"socket_path", "db_path", "key_path", "previous_key_paths"}) {
    const std::string message =
        parse_error_at("# c\n" + std::string(key) + " = var/lib/studio2fa/x\n", 2);
    assert_error_contains(message, "absolute");
    parse_error_at(std::string(key) + " = ./x\n", 1);
    parse_error_at(std::string(key) + " = ~/x\n", 1);
  }
}

void test_issuer(void**)
{
  assert_error_contains(parse_error_at("\nissuer = Studio:Nord\n", 2), "':'");
  parse_error_at("issuer = :\n", 1);
  const std::string longest(64, 'a');
  assert_string_equal(parse_ok("issuer = " + longest + "\n").issuer.c_str(), longest.c_str());
  parse_error_at("issuer = " + std::string(65, 'a') + "\n", 1);
}

// --- durations ------------------------------------------------------------------------------

void test_parse_duration(void**)
{
  assert_int_equal(parse_duration("90").value_or(0), 90);
  assert_int_equal(parse_duration("90s").value_or(0), 90);
  assert_int_equal(parse_duration("15m").value_or(0), 900);
  assert_int_equal(parse_duration("24h").value_or(0), 86400);
  assert_int_equal(parse_duration("1d").value_or(0), 86400);
  assert_int_equal(parse_duration("7d").value_or(0), 7 * 86400);
  assert_true(parse_duration("0").has_value());
  assert_int_equal(*parse_duration("0"), 0);

  for (const char* bad :
       {"", "m", "s", "-5", "5x", "99999999999", "5 m", " 5", "5ms", "1.5h", "+5", "m5", "0x10"}) {
    if (parse_duration(bad).has_value()) {
      fail_msg("parse_duration(\"%s\") should fail", bad);
    }
  }
}

void test_durations_in_config(void**)
{
  assert_int_equal(parse_ok("enroll_timeout = 90\n").enroll_timeout, 90);
  assert_int_equal(parse_ok("enroll_timeout = 90s\n").enroll_timeout, 90);
  assert_int_equal(parse_ok("enroll_timeout = 15m\n").enroll_timeout, 900);
  assert_int_equal(parse_ok("enroll_timeout = 24h\n").enroll_timeout, 86400);
  assert_int_equal(parse_ok("enroll_timeout = 1d\n").enroll_timeout, 86400);
  assert_int_equal(parse_ok("throttle_max = 1d\n").throttle_max, 86400);

  for (const char* bad : {"m", "-5", "5x", "99999999999", "99999999999d"}) {
    const std::string message = parse_error_at("\nthrottle_max = " + std::string(bad) + "\n", 2);
    assert_error_contains(message, "throttle_max");
  }
  // Out of a key's range: enroll_timeout is 1 minute to 1 day.
  parse_error_at("enroll_timeout = 59\n", 1);
  parse_error_at("enroll_timeout = 2d\n", 1);
  parse_error_at("request_timeout = 0\n", 1);
  parse_error_at("request_timeout = 6m\n", 1);
}

void test_throttle_base_above_max(void**)
{
  const std::string message = parse_error("throttle_base = 10m\nthrottle_max = 5m\n");
  assert_error_starts_with(message, std::string(k_source) + ":");
  assert_error_contains(message, "throttle_base");
  // Either order in the file, and against a default.
  parse_error("throttle_max = 1s\n"); // default throttle_base is 2s
  const Config equal = parse_ok("throttle_max = 30s\nthrottle_base = 30s\n");
  assert_int_equal(equal.throttle_base, 30);
  assert_int_equal(equal.throttle_max, 30);
}

void test_policy_and_directory_keys(void**)
{
  const Config groups = parse_ok("require_groups = render, vfx !contractors\n");
  assert_int_equal(groups.require_groups.size(), 2);
  assert_string_equal(groups.require_groups[0].c_str(), "render");
  assert_string_equal(groups.require_groups[1].c_str(), "vfx");
  assert_int_equal(groups.exempt_groups.size(), 1);
  assert_string_equal(groups.exempt_groups[0].c_str(), "contractors");
  assert_error_contains(parse_error_at("require_groups = ok !\n", 1), "not a group name");

  const Config ldap = parse_ok("ldap_uri = ldaps://a.example ldap://b.example:389\n"
                               "ldap_base = dc=studio,dc=example\n"
                               "ldap_timeout = 500ms\n");
  assert_int_equal(ldap.ldap_uris.size(), 2);
  assert_string_equal(ldap.ldap_uris[1].c_str(), "ldap://b.example:389");
  assert_int_equal(ldap.ldap_timeout, 500);
  assert_error_contains(parse_error_at("ldap_uri = http://x\n", 1), "not an ldap://");
  assert_error_contains(parse_error_at("ldap_user_filter = objectClass=x\n", 1), "LDAP filter");
  assert_error_contains(parse_error_at("ldap_user_filter = (a=b))(\n", 1), "LDAP filter");
  assert_error_contains(parse_error_at("ldap_base = studio\n", 1), "DN");
  assert_error_contains(parse_error_at("ldap_starttls = maybe\n", 1), "yes or no");

  // Whole-file rules: a directory needs a base; a bind DN needs its password file and is not
  // combined with SASL EXTERNAL; ldap:// never carries passwords in clear unless allowed.
  assert_error_contains(parse_error("ldap_uri = ldaps://a\n"), "needs ldap_base");
  const std::string base = "ldap_base = dc=x\n";
  assert_error_contains(parse_error("ldap_uri = ldaps://a\n" + base + "ldap_bind_dn = cn=d,dc=x\n"),
                        "go together");
  assert_error_contains(parse_error("ldap_uri = ldapi:///\n" + base + "ldap_sasl_external = yes\n"
                                    "ldap_bind_dn = cn=d,dc=x\nldap_bind_password_file = /p\n"),
                        "choose one");
  assert_error_contains(parse_error("ldap_uri = ldap://a\n" + base + "ldap_starttls = no\n"),
                        "in clear");
  const Config cleartext = parse_ok("ldap_uri = ldap://a\n" + base +
                                    "ldap_starttls = no\nldap_allow_cleartext = yes\n");
  assert_true(cleartext.ldap_allow_cleartext);
  parse_ok("ldap_uri = ldap://a\n" + base); // StartTLS is the default
}

// Codes by text and voice: commands, the sender user, the code's lifetime (at most ten
// minutes), the rations, the texts and where numbers come from.
void test_phone_keys(void**)
{
  const Config defaults = parse_ok("");
  assert_true(defaults.sms_command.empty() && defaults.voice_command.empty());
  assert_string_equal(defaults.sender_user.c_str(), "nobody");
  assert_int_equal(defaults.send_timeout, 10000);
  assert_int_equal(defaults.sender_concurrency, 4);
  assert_int_equal(defaults.phone_code_lifetime, 300);
  assert_int_equal(defaults.phone_resend_interval, 60);
  assert_int_equal(defaults.phone_sends_per_user_hour, 5);
  assert_int_equal(defaults.phone_sends_per_host_hour, 100);
  assert_true(defaults.phone_self_enroll);
  assert_string_equal(defaults.phone_attribute.c_str(), "");
  assert_true(defaults.phone_message.find("{code}") != std::string::npos);

  const Config set = parse_ok("sms_command = /usr/local/bin/send-sms --gateway  modem0\n"
                              "voice_command = /usr/local/bin/call\n"
                              "sender_user = smsgw\n"
                              "send_timeout = 1500ms\n"
                              "phone_code_lifetime = 10m\n"
                              "phone_sends_per_host_hour = 7\n"
                              "phone_message = Code {code}\n"
                              "phone_self_enroll = no\n");
  assert_int_equal(set.sms_command.size(), 3);
  assert_string_equal(set.sms_command[0].c_str(), "/usr/local/bin/send-sms");
  assert_string_equal(set.sms_command[2].c_str(), "modem0");
  assert_int_equal(set.voice_command.size(), 1);
  assert_string_equal(set.sender_user.c_str(), "smsgw");
  assert_int_equal(set.send_timeout, 1500);
  assert_int_equal(set.phone_code_lifetime, 600);
  assert_int_equal(set.phone_sends_per_host_hour, 7);
  assert_string_equal(set.phone_message.c_str(), "Code {code}");
  assert_false(set.phone_self_enroll);

  assert_error_contains(parse_error_at("phone_code_lifetime = 11m\n", 1), "at most 10m");
  assert_error_contains(parse_error_at("phone_code_lifetime = 11m\n", 1), "phone_code_lifetime");
  assert_error_contains(parse_error_at("sms_command = send-sms\n", 1), "absolute path");
  assert_error_contains(parse_error_at("sender_user = root\n", 1), "must not be root");
  assert_error_contains(parse_error_at("phone_resend_interval = 10s\n", 1), "60s");
  assert_error_contains(parse_error_at("phone_message = no code here\n", 1), "{code}");
  assert_error_contains(parse_error_at("phone_self_enroll = sometimes\n", 1), "yes or no");
  assert_error_contains(parse_error_at("phone_attribute = mo bile\n", 1), "attribute name");
  assert_error_contains(parse_error_at("sender_concurrency = 0\n", 1), "from 1");
  // A hung gateway must leave worker threads for other logins.
  assert_error_contains(parse_error("sms_command = /bin/true\nworker_threads = 4\n"),
                        "below worker_threads");
  parse_ok("worker_threads = 2\n"); // no sender: the cap does not matter
  assert_error_contains(parse_error("phone_attribute = mobile\n"), "needs a directory");
}

// --- the sample config ----------------------------------------------------------------------

// The sample with every "#key = value" line uncommented.
std::string uncomment_keys(const std::string& sample)
{
  std::string out;
  std::size_t begin = 0;
  while (begin < sample.size()) {
    std::size_t end = sample.find('\n', begin);
    if (end == std::string::npos) {
      end = sample.size();
    }
    std::string line = sample.substr(begin, end - begin);
    for (const ConfigKey& key : config_keys()) {
      if (line.rfind(std::string("#") + key.name + " =", 0) == 0) {
        line.erase(0, 1);
      }
    }
    out += line;
    out += '\n';
    begin = end + 1;
  }
  return out;
}

void test_sample_config(void**)
{
  const std::string sample = render_sample_config();
  assert_configs_equal(parse_ok(sample), default_config());

  for (const ConfigKey& key : config_keys()) {
    const std::string value = *key.default_value != '\0' ? std::string(" ") + key.default_value : "";
    const std::string line = std::string("\n#") + key.name + " =" + value + "\n";
    if (sample.find(line) == std::string::npos) {
      fail_msg("sample config has no line \"#%s = %s\"", key.name, key.default_value);
    }
  }
  // Uncommented, the sample sets every key once, each to its default.
  const std::string uncommented = uncomment_keys(sample);
  assert_true(uncommented != sample);
  assert_configs_equal(parse_ok(uncommented), default_config());
  assert_documented_defaults(parse_ok(uncommented));
  assert_true(sample.back() == '\n');
}

// conf/studio2fad.conf is render_sample_config()'s output, committed.
void test_shipped_sample_matches(void**)
{
  std::string top_srcdir;
  if (const char* env = std::getenv("top_srcdir"); env != nullptr && *env != '\0') {
    top_srcdir = env;
  } else {
    const std::string here = __FILE__;
    const std::string tail = "tests/unit/test_config.cpp";
    if (here.size() < tail.size() || here.compare(here.size() - tail.size(), tail.size(), tail)) {
      skip();
      return;
    }
    top_srcdir = here.substr(0, here.size() - tail.size());
    if (top_srcdir.empty()) {
      top_srcdir = ".";
    }
  }
  const std::string path = top_srcdir + "/conf/studio2fad.conf";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    skip(); // not written yet
    return;
  }
  const std::string shipped((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (shipped != render_sample_config()) {
    fail_msg("%s differs from render_sample_config()", path.c_str());
  }
}

// sms_url, voice_url and their keys: https only, a template that suits its content type, and
// the keys without a URL refused rather than ignored.
void test_https_gateway_keys(void**)
{
  const Config none = default_config();
  assert_true(none.sms_gateway.url.empty() && none.voice_gateway.url.empty());
  assert_int_equal(static_cast<int>(none.sms_gateway.content_type),
                   static_cast<int>(BodyFormat::form));

  const Config config = parse_ok(
      "sms_url = https://gateway.studio.example:8443/v1/sms?account=7\n"
      "sms_body_template = To={number}&From=%2B15005550006&Body={message}\n"
      "sms_auth_header_file = /etc/studio2fa/sms-gateway.auth\n"
      "sms_ca_file = /etc/studio2fa/gateway-ca.pem\n"
      "voice_url = https://gateway.studio.example/v1/call\n"
      "voice_content_type = json\n"
      "voice_body_template = {\"to\": \"{number}\", \"say\": \"{message}\", \"kind\": \"{kind}\"}\n");
  assert_string_equal(config.sms_gateway.url.c_str(),
                      "https://gateway.studio.example:8443/v1/sms?account=7");
  assert_string_equal(config.sms_gateway.body_template.c_str(),
                      "To={number}&From=%2B15005550006&Body={message}");
  assert_int_equal(static_cast<int>(config.sms_gateway.content_type),
                   static_cast<int>(BodyFormat::form));
  assert_string_equal(config.sms_gateway.auth_header_file.c_str(),
                      "/etc/studio2fa/sms-gateway.auth");
  assert_string_equal(config.sms_gateway.ca_file.c_str(), "/etc/studio2fa/gateway-ca.pem");
  assert_int_equal(static_cast<int>(config.voice_gateway.content_type),
                   static_cast<int>(BodyFormat::json));
  assert_true(config.voice_gateway.auth_header_file.empty());

  auto refused = [](const char* text, const char* says) {
    auto parsed = parse_config(text, "test.conf");
    assert_false(parsed.has_value());
    if (parsed.error().message.find(says) == std::string::npos) {
      fail_msg("'%s' does not say '%s'", parsed.error().message.c_str(), says);
    }
  };
  const char* body = "sms_body_template = to={number}&text={message}\n";
  refused((std::string("sms_url = http://gateway.example/sms\n") + body).c_str(),
          "test.conf:1: bad value for sms_url: must be an https:// URL");
  refused("voice_url = HTTP://gateway.example/\n", "must be an https:// URL");
  refused("sms_url = https:///path\n", "must name a host");
  refused("sms_url = https://user:pw@gateway.example/\n", "must not carry credentials");
  refused("sms_url = https://gateway.example/a b\n", "must not contain spaces");
  refused("sms_content_type = xml\n", "must be form or json");
  refused("sms_ca_file = ca.pem\n", "must be an absolute path");
  refused("sms_url = https://gateway.example/\n", "sms_url needs sms_body_template");
  refused(body, "need sms_url");
  refused("voice_auth_header_file = /etc/a\n", "need voice_url");
  refused("sms_url = https://gateway.example/\nsms_body_template = to={number}\n",
          "must contain {number} and {message}");
  refused("sms_url = https://gateway.example/\nsms_body_template = to={number}&m={msg}\n",
          "unknown placeholder {msg}");
  // A template is judged by its content type wherever that is set in the file.
  refused("sms_url = https://gateway.example/\n"
          "sms_body_template = {\"to\": {number}, \"m\": \"{message}\"}\n"
          "sms_content_type = json\n",
          "bad value for sms_body_template: in a JSON body template {number} must stand inside");
}

// --- load_config ----------------------------------------------------------------------------

void test_load_config_accepts_root_0644(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("studio2fad.conf");
  write_file(path, "issuer = Loaded\ntotp_window = 2\n", 0644);
  auto config = load_config(path);
  if (!config) {
    fail_msg("load_config: %s", config.error().message.c_str());
  }
  assert_string_equal(config->issuer.c_str(), "Loaded");
  assert_int_equal(config->totp_window, 2);
  assert_int_equal(config->totp.digits, 6);

  // 0600 and 0444 are fine too.
  write_file(path, "issuer = Private\n", 0600);
  assert_true(load_config(path).has_value());
  write_file(path, "issuer = ReadOnly\n", 0444);
  assert_true(load_config(path).has_value());
}

void test_load_config_refuses_writable(void** state)
{
  if (skip_unless_root()) {
    return; // ownership is checked first: as non-root the error would be about the owner
  }
  const std::string path = temp_dir(state).file("studio2fad.conf");
  for (mode_t mode : {0664, 0646, 0666, 0620, 0602}) {
    write_file(path, "issuer = x\n", mode);
    auto config = load_config(path);
    if (config) {
      fail_msg("mode %04o accepted", static_cast<unsigned>(mode));
    }
    assert_error_contains(config.error().message, path);
    assert_error_contains(config.error().message, "writable");
  }
}

void test_load_config_refuses_other_owner(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("studio2fad.conf");
  write_file(path, "issuer = x\n", 0644);
  assert_int_equal(::chown(path.c_str(), 1, 0), 0);
  auto config = load_config(path);
  assert_false(config.has_value());
  assert_error_contains(config.error().message, path);
  assert_error_contains(config.error().message, "owned by root");
}

void test_load_config_refuses_symlink(void** state)
{
  const std::string real = temp_dir(state).file("real.conf");
  const std::string link = temp_dir(state).file("link.conf");
  write_file(real, "issuer = x\n", 0644);
  assert_int_equal(::symlink(real.c_str(), link.c_str()), 0);
  auto config = load_config(link);
  assert_false(config.has_value());
  assert_error_contains(config.error().message, link);
}

void test_load_config_missing_file(void** state)
{
  const std::string path = temp_dir(state).file("does-not-exist.conf");
  auto config = load_config(path);
  assert_false(config.has_value());
  assert_error_contains(config.error().message, path);
}

void test_load_config_refuses_directory(void** state)
{
  auto config = load_config(temp_dir(state).path);
  assert_false(config.has_value());
  assert_error_contains(config.error().message, temp_dir(state).path);
}

void test_load_config_errors_name_file_and_line(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("studio2fad.conf");
  write_file(path, "# comment\nissuer = x\nbogus = 1\n", 0644);
  auto config = load_config(path);
  assert_false(config.has_value());
  assert_error_starts_with(config.error().message, path + ":3: ");
}

} // namespace

int main()
{
#define TMP_TEST(name) cmocka_unit_test_setup_teardown(name, make_temp_dir, remove_temp_dir)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_key_table),
      cmocka_unit_test(test_every_key_parsed),
      cmocka_unit_test(test_keys_not_set_keep_defaults),
      cmocka_unit_test(test_directory_store_keys),
      cmocka_unit_test(test_comments_blank_lines_whitespace),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_missing_equals),
      cmocka_unit_test(test_empty_value),
      cmocka_unit_test(test_admin_group),
      cmocka_unit_test(test_empty_key),
      cmocka_unit_test(test_key_set_twice),
      cmocka_unit_test(test_numbers_out_of_range),
      cmocka_unit_test(test_bad_algorithm),
      cmocka_unit_test(test_relative_path),
      cmocka_unit_test(test_issuer),
      cmocka_unit_test(test_parse_duration),
      cmocka_unit_test(test_durations_in_config),
      cmocka_unit_test(test_throttle_base_above_max),
      cmocka_unit_test(test_policy_and_directory_keys),
      cmocka_unit_test(test_phone_keys),
      cmocka_unit_test(test_https_gateway_keys),
      cmocka_unit_test(test_sample_config),
      cmocka_unit_test(test_shipped_sample_matches),
      TMP_TEST(test_load_config_accepts_root_0644),
      TMP_TEST(test_load_config_refuses_writable),
      TMP_TEST(test_load_config_refuses_other_owner),
      TMP_TEST(test_load_config_refuses_symlink),
      TMP_TEST(test_load_config_missing_file),
      TMP_TEST(test_load_config_refuses_directory),
      TMP_TEST(test_load_config_errors_name_file_and_line),
  };
#undef TMP_TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
