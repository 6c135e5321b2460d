// studio2fad.conf: `key = value` lines and `#` comment lines.
//
// One table (config_keys()) drives the defaults, the parser, the commented sample shipped in
// conf/studio2fad.conf (render_sample_config(); a test keeps the two identical) and the list
// of keys in studio2fad.conf(5).
#pragma once

#include "body_template.hpp"
#include "duration.hpp"
#include "expected.hpp"
#include "totp.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

inline constexpr const char* k_default_config_path = SYSCONFDIR "/studio2fa/studio2fad.conf";

// One channel's HTTPS gateway (studio2fad.conf(5), "SENDING CODES: HTTPS"): the keys sms_url,
// sms_body_template, ... and the same with voice_. An empty url: no HTTPS sender for the channel.
struct HttpsGateway {
  std::string url; // https:// only
  std::string body_template;
  BodyFormat content_type = BodyFormat::form;
  std::string auth_header_file; // empty: no auth header
  std::string ca_file;          // empty: the system's CAs
};

struct Config {
  std::string socket_path;
  std::string db_path;
  std::string key_path;
  std::vector<std::string> previous_key_paths; // older studio keys: open only, never seal
  std::string issuer;
  totp::Parameters totp;     // for new enrollments; each user keeps the ones they enrolled with
  unsigned totp_window = 0;  // steps accepted on each side of now
  unsigned enroll_timeout = 0;
  unsigned throttle_after = 0;
  unsigned throttle_base = 0;
  unsigned throttle_max = 0;
  unsigned lockout_after = 0;        // wrong codes in a row that lock the account; 0 never
  unsigned backup_lockout_after = 0; // wrong backup codes in a row that lock the second factor
  unsigned max_connections = 0;
  unsigned root_reserved_connections = 0; // of max_connections; at most half is kept
  unsigned max_connections_per_uid = 0;   // for each uid but 0
  unsigned max_requests_per_uid = 0;      // in flight, for each uid but 0
  unsigned connection_lifetime = 0;       // seconds
  unsigned request_timeout = 0;
  unsigned idle_timeout = 0;
  unsigned worker_threads = 0;
  // Turns for password checks (PasswordQueueLimits).
  unsigned password_queue = 0;         // waiting, of all uids but 0
  unsigned password_queue_per_uid = 0; // waiting, of one uid but 0
  unsigned password_queue_wait = 0;    // seconds
  std::string admin_group; // empty: only root administers
  unsigned audit_retention = 0; // seconds

  // Who must use 2FA (studio2fad.conf(5), "POLICY").
  unsigned grace_period = 0;               // seconds
  std::vector<std::string> require_groups; // local groups whose members must
  std::vector<std::string> exempt_groups;  // the "!group" entries of require_groups

  // The directory; ldap_uris empty: none, every user is local.
  std::vector<std::string> ldap_uris;
  std::string ldap_base;
  std::string ldap_user_base;  // empty: ldap_base
  std::string ldap_user_filter;
  std::string ldap_user_attribute;
  std::string ldap_group_base; // empty: ldap_base
  std::string ldap_group_filter;
  std::string ldap_member_uid_attribute;
  std::vector<std::string> ldap_member_attributes;
  std::string ldap_bind_dn;
  std::string ldap_bind_password_file;
  bool ldap_sasl_external = false;
  bool ldap_starttls = true;
  std::string ldap_ca_file;
  bool ldap_tls_verify = true;
  bool ldap_allow_cleartext = false;
  unsigned ldap_connect_timeout = 0; // milliseconds
  unsigned ldap_timeout = 0;         // milliseconds
  unsigned ldap_retry_interval = 0;  // seconds
  unsigned ldap_nesting_depth = 0;
  unsigned policy_cache_ttl = 0; // seconds

  // Where the users' records live (studio2fad.conf(5), "STORE"): this host's database, or the
  // directory (one entry per user under enrollment_base) with the database as this host's cache.
  enum class StoreKind { local, directory };
  enum class OfflineLogins { deny, cached };
  // How conditional writes are sent: automatic (the assertion control where the write server
  // lists it, else delete-old/add-new), or one of the two forced (ldap_compare_and_swap).
  enum class CompareAndSwap { automatic, assertion, delete_add };
  StoreKind store = StoreKind::local;
  std::string enrollment_base;
  std::string ldap_write_uri; // empty: the first of ldap_uris
  CompareAndSwap ldap_compare_and_swap = CompareAndSwap::automatic;
  OfflineLogins offline_logins = OfflineLogins::deny;
  unsigned offline_cache_age = 0; // seconds
  bool cache_sync_full = false;   // cache_sync = full

  // Codes by text message and voice call (studio2fad.conf(5), "CODES BY PHONE").
  std::vector<std::string> sms_command;   // argv, argv[0] absolute; empty: no command for texts
  std::vector<std::string> voice_command; // argv, argv[0] absolute; empty: no command for calls
  std::string sender_user;                // the commands run as this user, never root
  unsigned send_timeout = 0;              // milliseconds a send may take
  unsigned sender_concurrency = 0;        // sends running at once, per channel
  unsigned phone_code_lifetime = 0;       // seconds
  unsigned phone_resend_interval = 0;     // seconds
  unsigned phone_sends_per_user_hour = 0;
  unsigned phone_sends_per_host_hour = 0;
  std::string phone_message; // with {code}, {issuer}, {minutes}
  std::string voice_message;
  std::string phone_issuer; // empty: issuer
  bool phone_self_enroll = true;
  std::string phone_attribute; // the directory attribute holding a user's number; empty: none
  // Sending codes by HTTPS (issue 14).
  HttpsGateway sms_gateway;
  HttpsGateway voice_gateway;
};

struct ConfigKey {
  const char* name;
  const char* default_value; // a key whose default is empty may be set to an empty value
  const char* description; // sentences for the sample file and the man page
  // Parses `value` into the config; the error says what is allowed, without file:line.
  Expected<void> (*apply)(Config& config, std::string_view value);
};

std::span<const ConfigKey> config_keys();

// Every key at its default.
Config default_config();

// Parses config text; errors are "SOURCE:LINE: what is wrong".
Expected<Config> parse_config(std::string_view text, std::string_view source_name);

// Reads the LDAP bind password file (ldap_bind_password_file): a regular file owned by root and
// closed to group and others; the password is its content without a final newline.
Expected<std::string> read_bind_password(const std::string& path);

// Reads and parses a file, refusing one that is not a regular file owned by root or that is
// writable by group or others (the config decides where secrets live).
Expected<Config> load_config(const std::string& path);

// The commented sample config, every key at its default.
std::string render_sample_config();


} // namespace studio2fa
