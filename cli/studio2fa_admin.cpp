// studio2fa-admin: administration of studio2fa. See studio2fa-admin(8).
//
// The daemon decides who may use it (root and members of admin_group, by SO_PEERCRED); this
// program only asks.
#include <config.h>

#include "base32.hpp"
#include "daemon_connection.hpp"
#include "duration.hpp"
#include "printable.hpp"
#include "import_files.hpp"
#include "secret_bytes.hpp"

#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace studio2fa;

constexpr unsigned k_default_pass_hours = 24;

void usage(FILE* out)
{
  fprintf(out,
          "Usage: studio2fa-admin [--socket PATH] COMMAND [ARGS]\n"
          "\n"
          "Commands:\n"
          "  list [--json]               every account the daemon knows, with its state\n"
          "  status USER                 the state of USER's second factor\n"
          "  disable USER                turn USER's second factor off (secret and backup codes)\n"
          "  unlock USER                 lift a lock after too many wrong codes\n"
          "  pass USER [--hours N]       let USER log in with the password alone for N hours\n"
          "                              (default %u); then USER must enroll again\n"
          "  pass USER --revoke          end a pass now\n"
          "  log [USER] [--since TIME]   the audit trail, oldest first\n"
          "  import USER [--replace] [--digits N] [--period S] [--algorithm A]\n"
          "                              USER's existing TOTP secret, base32 on standard input\n"
          "  import USER --google-authenticator FILE [--replace]\n"
          "                              from a ~/.google_authenticator file, scratch codes kept\n"
          "  import --oath-usersfile FILE [--replace]\n"
          "                              every TOTP user of an oath-toolkit users file\n"
          "  policy USER [--json]        whether policy requires 2FA of USER, why, and\n"
          "                              where the answer came from\n"
          "  enforce                     whether 2FA is required of everyone\n"
          "  enforce on [--grace DURATION] [--force]\n"
          "                              require 2FA of everyone not exempt; those not\n"
          "                              enrolled get DURATION (90s, 15m, 24h, 7d) to enroll\n"
          "  enforce off                 back to what the directory and require_groups say\n"
          "  rekey                       re-seal every secret not under the current studio key\n"
          "                              (after a key rotation; see studio2fa-admin(8))\n"
          "  migrate --to-directory | --to-local\n"
          "                              copy users' records between this host's database and\n"
          "                              the directory; records already there are kept\n"
          "  health                      the store in use; for a directory store, whether its\n"
          "                              servers answer and how old this host's copies are\n"
          "  ping                        check that studio2fad answers\n"
          "\n"
          "Options:\n"
          "  --socket PATH the studio2fad socket (default %s)\n"
          "  -h, --help    show this help\n"
          "  -V, --version show the version\n"
          "\n"
          "For root and the members of the daemon's admin_group.\n",
          k_default_pass_hours, k_default_socket_path);
}

int fail(const std::string& message)
{
  fprintf(stderr, "studio2fa-admin: %s\n", message.c_str());
  return 1;
}

int usage_error(const std::string& message)
{
  fprintf(stderr, "studio2fa-admin: %s\n", message.c_str());
  usage(stderr);
  return 2;
}

// A call that got no answer: a user name too long to send, or what the daemon or the connection
// said.
int call_failed(const Error& error)
{
  return fail(error.code == Errc::invalid ? "user name too long" : error.message);
}

// "2026-11-23T17:46:02Z"; "-" for 0.
std::string time_or_dash(std::uint64_t unix_time)
{
  return unix_time == 0 ? "-" : utc_time(static_cast<std::int64_t>(unix_time));
}

std::string json_string(std::string_view text)
{
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      snprintf(escaped, sizeof(escaped), "\\u%04x", byte);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string json_time(std::uint64_t unix_time)
{
  return unix_time == 0 ? "null" : json_string(time_or_dash(unix_time));
}

const char* state_name(protocol::EnrollmentState state)
{
  switch (state) {
  case protocol::EnrollmentState::active:
    return "on";
  case protocol::EnrollmentState::pending:
    return "pending";
  case protocol::EnrollmentState::none:
    break;
  }
  return "off";
}

const char* lock_name(protocol::LockState lock)
{
  switch (lock) {
  case protocol::LockState::second_factor:
    return "second-factor";
  case protocol::LockState::account:
    return "account";
  case protocol::LockState::none:
    break;
  }
  return "no";
}

// The pass column: "-", the end of a running pass, or "ended ..." for one that ran out.
std::string pass_text(const protocol::StatusReply& state, std::int64_t now)
{
  if (state.pass_until == 0) {
    return "-";
  }
  if (static_cast<std::int64_t>(state.pass_until) <= now) {
    return "ended " + time_or_dash(state.pass_until);
  }
  return time_or_dash(state.pass_until);
}

// The end of a grace period (STATUS_REPLY, ADMIN_POLICY_REPLY): a time, "ended ..." for one that
// ran out, "none" when there never was one (the daemon sends 1: enrollment due at once).
std::string grace_until_text(std::uint64_t grace_until, std::int64_t now)
{
  if (grace_until == 0) {
    return "-";
  }
  if (static_cast<std::int64_t>(grace_until) > now) {
    return time_or_dash(grace_until);
  }
  return (grace_until == 1 ? std::string("none") : "ended " + time_or_dash(grace_until)) +
         " (enrollment due at the next login)";
}

// The GRACE UNTIL column: "-", the end of the grace period, or "due now".
std::string grace_column(const protocol::StatusReply& state, std::int64_t now)
{
  if (state.grace_until == 0) {
    return "-";
  }
  if (static_cast<std::int64_t>(state.grace_until) > now) {
    return time_or_dash(state.grace_until);
  }
  return "due now";
}

std::string codes_text(const protocol::StatusReply& state)
{
  return state.state == protocol::EnrollmentState::active ? std::to_string(state.backup_codes)
                                                          : "-";
}

// How a user's codes come, and to which number: PHONE_STATUS. An account that is not enrolled
// has none; a daemon that does not know the request (an older one) has apps only.
struct Methods {
  std::vector<const char*> names; // "app", "sms", "voice"
  std::string phone;              // the mask; empty without a number
};

Methods methods_of(DaemonConnection& daemon, const std::string& user, bool enrolled)
{
  Methods out;
  if (!enrolled) {
    return out;
  }
  auto phone = call(daemon, protocol::PhoneStatusRequest{user});
  const std::uint8_t bits = phone ? phone->methods : protocol::k_method_app;
  if ((bits & protocol::k_method_app) != 0) {
    out.names.push_back("app");
  }
  if ((bits & protocol::k_method_sms) != 0) {
    out.names.push_back("sms");
  }
  if ((bits & protocol::k_method_voice) != 0) {
    out.names.push_back("voice");
  }
  if (phone) {
    out.phone = std::string(phone->number);
  }
  return out;
}

// "app+sms", or "-".
std::string methods_text(const Methods& methods)
{
  std::string text;
  for (const char* name : methods.names) {
    text += (text.empty() ? "" : "+") + std::string(name);
  }
  return text.empty() ? "-" : text;
}

std::string methods_json(const Methods& methods)
{
  std::string text = "[";
  for (const char* name : methods.names) {
    text += (text.size() > 1 ? ", \"" : "\"") + std::string(name) + "\"";
  }
  return text + "]";
}

// --- commands -------------------------------------------------------------------------------

int status(DaemonConnection& daemon, const std::string& user)
{
  auto answer = call(daemon, protocol::StatusRequest{user});
  if (!answer) {
    return call_failed(answer.error());
  }
  const protocol::StatusReply& status = *answer;
  printf("user: %s\n2fa: %s\n", user.c_str(), state_name(status.state));
  if (status.state == protocol::EnrollmentState::active) {
    printf("enrolled: %s\n", time_or_dash(status.enrolled_at).c_str());
  }
  printf("failures: %u\nretry_after: %u\n", status.failures, status.retry_after);
  printf("locked: %s\n", lock_name(status.lock));
  printf("backup_codes: %s\n", codes_text(status).c_str());
  printf("required: %s (%s)\n", status.required ? "yes" : "no",
         printable(status.reason).c_str());
  if (status.grace_until != 0) {
    printf("grace_until: %s\n", grace_until_text(status.grace_until, time(nullptr)).c_str());
  }
  printf("pass_until: %s\n", pass_text(status, time(nullptr)).c_str());
  printf("last_login: %s\n", time_or_dash(status.last_login).c_str());
  if (status.replacing) {
    printf("replacing: yes (a new phone waits for its first code)\n");
  }
  const Methods methods =
      methods_of(daemon, user, status.state == protocol::EnrollmentState::active);
  printf("methods: %s\n", methods_text(methods).c_str());
  printf("phone: %s\n", methods.phone.empty() ? "-" : methods.phone.c_str());
  return 0;
}

int list(DaemonConnection& daemon, bool json)
{
  std::string after;
  bool first = true;
  const std::int64_t now = time(nullptr);
  bool header_printed = false;
  for (;;) {
    auto answer = call(daemon, protocol::AdminListRequest{after});
    if (!answer) {
      return call_failed(answer.error());
    }
    // Each entry owns its strings: PHONE_STATUS, asked below, reuses the reply buffer.
    struct Entry {
      std::string user;
      std::string reason;
      protocol::StatusReply state;
    };
    std::vector<Entry> entries;
    for (std::size_t i = 0; i < answer->count; ++i) {
      entries.push_back({std::string(answer->entries[i].user),
                         std::string(answer->entries[i].state.reason), answer->entries[i].state});
      entries.back().state.reason = {};
    }
    const bool more = answer->more;
    // Only once the daemon has answered: a refusal (not an administrator) prints no header.
    if (!header_printed) {
      if (json) {
        printf("[");
      } else {
        printf("%-20s %-7s %-8s %-22s %-20s %-13s %-5s %-20s %-20s %-13s %s\n", "USER", "2FA",
               "REQUIRED", "WHY", "GRACE UNTIL", "LOCKED", "CODES", "LAST LOGIN", "PASS UNTIL",
               "METHODS", "PHONE");
      }
      header_printed = true;
    }
    for (Entry& entry : entries) {
      entry.state.reason = entry.reason;
      const protocol::StatusReply& s = entry.state;
      const Methods methods =
          methods_of(daemon, entry.user, s.state == protocol::EnrollmentState::active);
      if (json) {
        printf("%s\n  {\"user\": %s, \"enabled\": %s, \"state\": \"%s\", \"required\": %s, "
               "\"reason\": %s, \"grace_until\": %s, \"locked\": %s, \"backup_codes\": %u, "
               "\"last_login\": %s, \"pass_until\": %s, \"pass_active\": %s, "
               "\"enrolled_at\": %s, \"failures\": %u, \"replacing\": %s, \"methods\": %s, "
               "\"phone\": %s}",
               first ? "" : ",", json_string(entry.user).c_str(),
               s.state == protocol::EnrollmentState::active ? "true" : "false", state_name(s.state),
               s.required ? "true" : "false", json_string(s.reason).c_str(),
               json_time(s.grace_until).c_str(),
               s.lock == protocol::LockState::none ? "null"
                                                   : json_string(lock_name(s.lock)).c_str(),
               static_cast<unsigned>(s.backup_codes), json_time(s.last_login).c_str(),
               json_time(s.pass_until).c_str(),
               static_cast<std::int64_t>(s.pass_until) > now ? "true" : "false",
               json_time(s.enrolled_at).c_str(), s.failures, s.replacing ? "true" : "false",
               methods_json(methods).c_str(),
               methods.phone.empty() ? "null" : json_string(methods.phone).c_str());
      } else {
        printf("%-20s %-7s %-8s %-22s %-20s %-13s %-5s %-20s %-20s %-13s %s\n",
               printable(entry.user).c_str(), state_name(s.state), s.required ? "yes" : "no",
               printable(s.reason).c_str(), grace_column(s, now).c_str(), lock_name(s.lock),
               codes_text(s).c_str(), time_or_dash(s.last_login).c_str(), pass_text(s, now).c_str(),
               methods_text(methods).c_str(), methods.phone.empty() ? "-" : methods.phone.c_str());
      }
      first = false;
    }
    if (!more || entries.empty()) {
      break;
    }
    after = entries.back().user;
  }
  if (json) {
    printf("%s]\n", first ? "" : "\n");
  }
  return 0;
}

int disable(DaemonConnection& daemon, const std::string& user)
{
  auto result = call(daemon, protocol::AdminDisableRequest{user});
  if (!result) {
    return call_failed(result.error());
  }
  if (result->result == protocol::AdminDisableResult::disabled) {
    printf("Two-factor authentication is off for %s: the secret and the backup codes are gone.\n",
           user.c_str());
  } else {
    printf("Two-factor authentication was not on for %s; nothing to turn off.\n", user.c_str());
  }
  return 0;
}

int unlock(DaemonConnection& daemon, const std::string& user)
{
  auto result = call(daemon, protocol::AdminUnlockRequest{user});
  if (!result) {
    return call_failed(result.error());
  }
  if (result->result == protocol::UnlockResult::unlocked) {
    printf("Unlocked %s; the count of wrong codes starts again from zero.\n", user.c_str());
  } else {
    printf("%s was not locked; the count of wrong codes starts again from zero.\n", user.c_str());
  }
  return 0;
}

int pass(DaemonConnection& daemon, const std::string& user, unsigned hours, bool revoke)
{
  const std::uint32_t duration = revoke ? 0 : hours * 3600;
  auto result = call(daemon, protocol::AdminPassRequest{user, duration});
  if (!result) {
    return call_failed(result.error());
  }
  switch (result->result) {
  case protocol::PassResult::granted:
    printf("%s may log in with the password alone until %s.\n"
           "The old secret and backup codes no longer work: when the pass ends, %s must enroll\n"
           "again (studio2fa enroll).\n",
           user.c_str(), time_or_dash(result->pass_until).c_str(), user.c_str());
    return 0;
  case protocol::PassResult::revoked:
    printf("The pass of %s has ended; %s must enroll again.\n", user.c_str(), user.c_str());
    return 0;
  case protocol::PassResult::no_pass:
    return fail(user + " has no pass to revoke");
  }
  return fail("unexpected answer from the daemon");
}

// "2026-11-23", "2026-11-23 17:46", "2026-11-23T17:46:02Z" (UTC, as the log prints times),
// "@1700000000", or an age: "90m", "24h", "7d" ago.
std::optional<std::int64_t> parse_time(const std::string& text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  if (text[0] == '@') {
    errno = 0;
    const long long value = strtoll(text.c_str() + 1, &end, 10);
    if (errno != 0 || end == text.c_str() + 1 || *end != '\0' || value < 0) {
      return std::nullopt;
    }
    return value;
  }
  const char unit = text.back();
  if (text.find('-') == std::string::npos &&
      (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd')) {
    const auto age = parse_duration(text);
    if (!age || *age > 100ULL * 365 * 86400) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(time(nullptr)) - static_cast<std::int64_t>(*age);
  }
  for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                             "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
    tm parsed{};
    const char* rest = strptime(text.c_str(), format, &parsed);
    if (rest != nullptr && *rest == '\0') {
      return static_cast<std::int64_t>(timegm(&parsed));
    }
  }
  return std::nullopt;
}

int log(DaemonConnection& daemon, const std::string& user, std::int64_t since)
{
  std::uint64_t after_id = 0;
  for (;;) {
    auto answer = call(
      daemon, protocol::AdminLogRequest{user, static_cast<std::uint64_t>(since), after_id});
    if (!answer) {
      return call_failed(answer.error());
    }
    const protocol::AdminLogReply& page = *answer;
    for (std::size_t i = 0; i < page.count; ++i) {
      const protocol::AuditEntry& e = page.entries[i];
      std::string line = time_or_dash(e.at) + " " + field_value(e.action);
      if (!e.subject.empty()) {
        line += " user=" + field_value(e.subject);
      }
      line += " outcome=" + field_value(e.outcome) + " by=" + field_value(e.actor) + "(uid " +
              std::to_string(e.actor_uid) + ")";
      if (!e.service.empty()) {
        line += " service=" + field_value(e.service);
      }
      if (!e.rhost.empty()) {
        line += " rhost=" + field_value(e.rhost);
      }
      if (!e.tty.empty()) {
        line += " tty=" + field_value(e.tty);
      }
      if (!e.detail.empty()) {
        line += " detail=\"" + quoted_value(e.detail) + "\"";
      }
      printf("%s\n", line.c_str());
    }
    if (!page.more || page.count == 0) {
      break;
    }
    after_id = page.entries[page.count - 1].id;
  }
  return 0;
}

// Sends the accounts in batches that fill frames; returns how many were imported.
int send_import(DaemonConnection& daemon, const std::vector<ImportAccount>& accounts,
                bool replace)
{
  static protocol::AdminImportRequest batch;
  std::size_t next = 0;
  std::size_t imported = 0;
  while (next < accounts.size()) {
    batch.replace = replace;
    batch.count = 0;
    std::size_t used = 0;
    const std::size_t first = next;
    while (next < accounts.size() && batch.count < protocol::k_max_import_entries) {
      const ImportAccount& account = accounts[next];
      if (account.user.empty() || account.user.size() > protocol::limits::user ||
          account.user.find('\0') != std::string::npos) {
        return fail("cannot import a user named '" + printable(account.user.substr(0, 64)) +
                    "': a user name is 1 to " + std::to_string(protocol::limits::user) +
                    " bytes, without NUL");
      }
      protocol::ImportEntry entry;
      entry.user = account.user;
      entry.secret = account.secret_base32.view();
      entry.algorithm = totp::algorithm_name(account.params.algorithm);
      entry.digits = static_cast<std::uint8_t>(account.params.digits);
      entry.period = account.params.period;
      entry.code_count = static_cast<std::uint8_t>(account.codes.size());
      for (std::size_t c = 0; c < account.codes.size(); ++c) {
        entry.codes[c] = account.codes[c].view();
      }
      const std::size_t size = protocol::encoded_size(entry);
      if (used + size > protocol::k_entries_budget) {
        break;
      }
      used += size;
      batch.entries[batch.count++] = entry;
      ++next;
    }
    auto result = batch.count == 0 ? make_error(Errc::invalid, "nothing fits")
                                   : call(daemon, batch);
    if (!result && result.error().code == Errc::invalid) {
      const std::string& user = accounts[next < accounts.size() ? next : first].user;
      return fail("the entry for " + printable(user) + " does not fit the protocol");
    }
    if (!result) {
      return fail(result.error().message + (imported > 0 ? " (" + std::to_string(imported) +
                                                             " users were imported before)"
                                                         : ""));
    }
    if (result->result != protocol::ImportResult::imported) {
      const std::string& user = accounts[first + result->index].user;
      std::string why = result->result == protocol::ImportResult::already_enrolled
                          ? user + " already has two-factor authentication on (--replace "
                                   "overwrites it)"
                          : "the daemon refused the entry for " + user;
      return fail(why + "; " + std::to_string(imported) +
                  " users were imported before it, none of its batch");
    }
    imported += batch.count;
  }
  printf("Imported %zu user%s.\n", imported, imported == 1 ? "" : "s");
  return 0;
}

// --- policy ---------------------------------------------------------------------------------

// Where an ADMIN_POLICY answer came from, for people.
std::string source_text(const protocol::AdminPolicyReply& policy)
{
  switch (policy.source) {
  case protocol::PolicySource::local:
    return "local settings (not in the directory)";
  case protocol::PolicySource::directory:
    return "directory (asked just now)";
  case protocol::PolicySource::cache:
    return "cache (fetched " + time_or_dash(policy.fetched_at) + ")";
  case protocol::PolicySource::stale_cache:
    return "last known answer: the directory cannot be reached (fetched " +
           time_or_dash(policy.fetched_at) + ")";
  case protocol::PolicySource::none:
    break;
  }
  return "unknown: the directory cannot be reached and nothing is cached; logins that need the "
         "policy fail closed";
}

int policy(DaemonConnection& daemon, const std::string& user, bool json)
{
  auto answer = call(daemon, protocol::AdminPolicyRequest{user});
  if (!answer) {
    return call_failed(answer.error());
  }
  const protocol::AdminPolicyReply& policy = *answer;
  if (json) {
    printf("{\"user\": %s, \"decision\": \"%s\", \"reason\": %s, \"dn\": %s, \"source\": \"%s\", "
           "\"fetched_at\": %s, \"grace_until\": %s}\n",
           json_string(user).c_str(), protocol::name(policy.decision),
           json_string(policy.reason).c_str(),
           policy.dn.empty() ? "null" : json_string(policy.dn).c_str(),
           protocol::name(policy.source), json_time(policy.fetched_at).c_str(),
           json_time(policy.grace_until).c_str());
    return 0;
  }
  printf("user: %s\n", user.c_str());
  printf("decision: %s\n", protocol::name(policy.decision));
  printf("why: %s\n", policy.reason.empty() ? "-" : printable(policy.reason).c_str());
  printf("entry: %s\n", policy.dn.empty() ? "-" : printable(policy.dn).c_str());
  printf("source: %s\n", source_text(policy).c_str());
  if (policy.grace_until != 0) {
    printf("grace_until: %s\n", grace_until_text(policy.grace_until, time(nullptr)).c_str());
  }
  return 0;
}

// --- global enforcement ---------------------------------------------------------------------

// "7d", "24h", "15m", "90s": the largest unit that divides `seconds`.
std::string duration_text(std::uint32_t seconds)
{
  if (seconds != 0 && seconds % 86400 == 0) {
    return std::to_string(seconds / 86400) + "d";
  }
  if (seconds != 0 && seconds % 3600 == 0) {
    return std::to_string(seconds / 3600) + "h";
  }
  if (seconds != 0 && seconds % 60 == 0) {
    return std::to_string(seconds / 60) + "m";
  }
  return std::to_string(seconds) + "s";
}

// The grace period global enforcement gives; 0 is the daemon's grace_period.
std::string enforce_grace_text(std::uint32_t grace)
{
  return grace == 0 ? "the configured grace_period" : duration_text(grace);
}

// The administrator behind root: sudo's SUDO_USER, when root runs this through sudo. The daemon
// asks whether that account has a second factor before it enforces 2FA on everyone.
Expected<std::string> sudo_invoker()
{
  if (getuid() != 0) {
    return std::string();
  }
  const char* sudo_user = getenv("SUDO_USER");
  if (sudo_user == nullptr || *sudo_user == '\0' || strcmp(sudo_user, "root") == 0) {
    return std::string();
  }
  if (strlen(sudo_user) > protocol::limits::user) {
    return make_error("SUDO_USER is longer than a user name can be");
  }
  return std::string(sudo_user);
}

int enforce(DaemonConnection& daemon, protocol::EnforceAction action, std::uint32_t grace,
            bool force)
{
  auto invoker = sudo_invoker();
  if (!invoker) {
    return fail(invoker.error().message);
  }
  if (force) {
    fprintf(stderr, "studio2fa-admin: warning: --force: enforcing 2FA even if your own account "
                    "has no second factor; the audit trail and syslog record that it was "
                    "forced.\n");
  }
  auto answer = call(daemon, protocol::AdminEnforceRequest{action, grace, force, *invoker});
  if (!answer) {
    return fail(answer.error().message);
  }
  const protocol::AdminEnforceReply& result = *answer;
  if (result.result == protocol::EnforceResult::refused_not_enrolled) {
    std::string acting = *invoker;
    if (acting.empty()) {
      auto me = invoking_user_name();
      acting = me ? *me : "uid " + std::to_string(getuid());
    }
    return fail("Refusing to enforce 2FA: your own account (" + acting +
                ") has no second factor. Enroll first with 'studio2fa enroll', or use --force "
                "(logged).");
  }
  switch (action) {
  case protocol::EnforceAction::on:
    printf("Global enforcement is on: every user must use two-factor authentication, except\n"
           "those exempt in the directory or by a !group of require_groups. A user who has not\n"
           "enrolled gets %s of grace, counted from the first time the daemon finds 2FA\n"
           "required of them; after that they must enroll when they log in.\n",
           enforce_grace_text(result.grace).c_str());
    return 0;
  case protocol::EnforceAction::off:
    printf("Global enforcement is off: two-factor authentication is required only where the\n"
           "directory or require_groups says so.\n");
    return 0;
  case protocol::EnforceAction::query:
    break;
  }
  printf("enforcement: %s\n", result.enforced ? "on" : "off");
  printf("grace: %s\n", result.enforced ? enforce_grace_text(result.grace).c_str() : "-");
  printf("since: %s\n", time_or_dash(result.since).c_str());
  printf("by: %s\n", result.by.empty() ? "-" : printable(result.by).c_str());
  return 0;
}

} // namespace

// --- key rotation -----------------------------------------------------------------------------

int rekey(DaemonConnection& daemon)
{
  protocol::AdminRekeyReply total;
  std::string after;
  std::string key_id;
  for (;;) {
    auto answer = call(daemon, protocol::AdminRekeyRequest{after});
    if (!answer) {
      return call_failed(answer.error());
    }
    const protocol::AdminRekeyReply& page = *answer;
    total.resealed += page.resealed;
    total.current += page.current;
    total.failed += page.failed;
    total.old_backup_codes += page.old_backup_codes;
    key_id = std::string(page.key_id);
    if (!page.more || page.last.empty()) {
      break;
    }
    after = std::string(page.last);
  }
  printf("Studio key %s: %u records re-sealed, %u already under it, %u failed.\n",
         printable(key_id).c_str(), total.resealed, total.current, total.failed);
  if (total.failed > 0) {
    printf("The daemon's log names each record that failed and the key it needs; run rekey "
           "again once that key is in key_path or previous_key_paths.\n");
  }
  if (total.old_backup_codes > 0) {
    printf("%u users have backup codes made under an older key: they stop working when that key "
           "leaves previous_key_paths, and those users need a new set.\n",
           total.old_backup_codes);
  }
  return total.failed > 0 ? 1 : 0;
}

// --- migration between stores -------------------------------------------------------------

int migrate(DaemonConnection& daemon, protocol::MigrateDirection direction)
{
  protocol::AdminMigrateReply total;
  std::string after;
  for (;;) {
    auto answer = call(daemon, protocol::AdminMigrateRequest{direction, after});
    if (!answer) {
      return call_failed(answer.error());
    }
    const protocol::AdminMigrateReply& page = *answer;
    total.copied += page.copied;
    total.already_there += page.already_there;
    total.failed += page.failed;
    if (!page.more || page.last.empty()) {
      break;
    }
    after = std::string(page.last);
  }
  if (direction == protocol::MigrateDirection::to_directory) {
    printf("%u records copied to the directory store, %u already there (left as they were), "
           "%u failed.\n",
           total.copied, total.already_there, total.failed);
  } else {
    printf("%u records copied to the local store (replacing this host's copies), %u written "
           "meanwhile (left as they were), %u failed.\n",
           total.copied, total.already_there, total.failed);
  }
  if (total.failed > 0) {
    printf("The daemon's log says why each failed; run migrate again to retry them.\n");
  }
  return total.failed > 0 ? 1 : 0;
}

// --- the store's health -------------------------------------------------------------------

// "N s old", from a Unix time; "none" for 0.
std::string age_of(std::uint64_t at, std::int64_t now)
{
  if (at == 0) {
    return "none";
  }
  const std::int64_t age = std::max<std::int64_t>(now - static_cast<std::int64_t>(at), 0);
  return std::to_string(age) + " s old";
}

int health(DaemonConnection& daemon)
{
  auto answer = call(daemon, protocol::AdminHealthRequest{});
  if (!answer) {
    return call_failed(answer.error());
  }
  const protocol::AdminHealthReply& reply = *answer;
  if (reply.store == protocol::StoreKindCode::local) {
    printf("store:          local (this host's database; no directory)\n");
    return 0;
  }
  const char* condition = "not known yet";
  if (reply.write_condition == protocol::WriteCondition::assertion) {
    condition = "RFC 4528 assertion control";
  } else if (reply.write_condition == protocol::WriteCondition::delete_add) {
    condition = "delete of the old value and add of the new (no assertion control)";
  }
  const std::int64_t now = static_cast<std::int64_t>(time(nullptr));
  printf("store:          directory\n");
  printf("write server:   %s (%s)\n", printable(reply.write_uri).c_str(),
         reply.write_answers ? "answers" : "does not answer");
  printf("conditional writes: %s\n", condition);
  printf("read server:    %s (%s)\n", printable(reply.read_uri).c_str(),
         reply.read_answers ? "answers" : "does not answer");
  if (!reply.problem.empty()) {
    printf("problem:        %s\n", printable(reply.problem).c_str());
  }
  if (reply.offline_cached) {
    printf("offline_logins: cached (copies up to %u s old)\n", reply.offline_cache_age);
  } else {
    printf("offline_logins: deny\n");
  }
  printf("cache:          %u users; newest copy %s, oldest %s\n", reply.cached_users,
         age_of(reply.newest_at, now).c_str(), age_of(reply.oldest_at, now).c_str());
  return reply.write_answers && reply.read_answers ? 0 : 1;
}

int main(int argc, char** argv)
{
  static const option k_options[] = {
    {"socket", required_argument, nullptr, 's'},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {nullptr, 0, nullptr, 0},
  };
  const char* socket_path = k_default_socket_path;
  int opt;
  while ((opt = getopt_long(argc, argv, "+hV", k_options, nullptr)) != -1) {
    switch (opt) {
    case 's':
      socket_path = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("studio2fa-admin %s\n", PACKAGE_VERSION);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  const std::string command = argv[optind];

  // The command's own options, anywhere after it.
  enum {
    k_json = 1000, k_hours, k_revoke, k_since, k_google, k_oath, k_replace, k_digits, k_period,
    k_algorithm, k_grace, k_force, k_to_directory, k_to_local,
  };
  static const option k_command_options[] = {
    {"json", no_argument, nullptr, k_json},
    {"hours", required_argument, nullptr, k_hours},
    {"revoke", no_argument, nullptr, k_revoke},
    {"since", required_argument, nullptr, k_since},
    {"google-authenticator", required_argument, nullptr, k_google},
    {"oath-usersfile", required_argument, nullptr, k_oath},
    {"replace", no_argument, nullptr, k_replace},
    {"digits", required_argument, nullptr, k_digits},
    {"period", required_argument, nullptr, k_period},
    {"algorithm", required_argument, nullptr, k_algorithm},
    {"grace", required_argument, nullptr, k_grace},
    {"force", no_argument, nullptr, k_force},
    {"to-directory", no_argument, nullptr, k_to_directory},
    {"to-local", no_argument, nullptr, k_to_local},
    {nullptr, 0, nullptr, 0},
  };
  bool json = false;
  bool revoke = false;
  bool replace = false;
  bool force = false;
  std::optional<protocol::MigrateDirection> direction;
  std::optional<std::uint32_t> grace;
  std::optional<unsigned long> hours;
  std::optional<std::string> since_text;
  std::optional<std::string> google_file;
  std::optional<std::string> oath_file;
  totp::Parameters params;
  bool params_given = false;
  std::vector<std::string> allowed;
  int sub_argc = argc - optind;
  char** sub_argv = argv + optind;
  optind = 0; // restart GNU getopt on the command's arguments
  opterr = 0;
  int option_index = 0;
  while ((opt = getopt_long(sub_argc, sub_argv, "", k_command_options, &option_index)) != -1) {
    auto number = [&](unsigned long min, unsigned long max) -> std::optional<unsigned long> {
      char* end = nullptr;
      errno = 0;
      const unsigned long value = strtoul(optarg, &end, 10);
      if (errno != 0 || end == optarg || *end != '\0' || value < min || value > max) {
        return std::nullopt;
      }
      return value;
    };
    switch (opt) {
    case k_json:
      json = true;
      allowed = {"list", "policy"};
      break;
    case k_hours:
      hours = number(1, protocol::k_max_pass_duration / 3600);
      if (!hours) {
        return usage_error("--hours must be a whole number from 1 to 720");
      }
      allowed = {"pass"};
      break;
    case k_revoke:
      revoke = true;
      allowed = {"pass"};
      break;
    case k_since:
      since_text = optarg;
      allowed = {"log"};
      break;
    case k_google:
      google_file = optarg;
      allowed = {"import"};
      break;
    case k_oath:
      oath_file = optarg;
      allowed = {"import"};
      break;
    case k_replace:
      replace = true;
      allowed = {"import"};
      break;
    case k_digits: {
      auto value = number(6, 8);
      if (!value) {
        return usage_error("--digits must be 6, 7 or 8");
      }
      params.digits = static_cast<unsigned>(*value);
      params_given = true;
      allowed = {"import"};
      break;
    }
    case k_period: {
      auto value = number(10, 300);
      if (!value) {
        return usage_error("--period must be from 10 to 300 seconds");
      }
      params.period = static_cast<unsigned>(*value);
      params_given = true;
      allowed = {"import"};
      break;
    }
    case k_algorithm: {
      auto algorithm = totp::parse_algorithm(optarg);
      if (!algorithm) {
        return usage_error("--algorithm must be SHA1, SHA256 or SHA512");
      }
      params.algorithm = *algorithm;
      params_given = true;
      allowed = {"import"};
      break;
    }
    case k_grace: {
      auto seconds = parse_duration(optarg);
      if (!seconds || *seconds < 1 || *seconds > protocol::k_max_grace_period) {
        return usage_error("--grace takes a duration from 1s to 365d, such as 90s, 15m, 24h "
                           "or 7d");
      }
      grace = static_cast<std::uint32_t>(*seconds);
      allowed = {"enforce"};
      break;
    }
    case k_force:
      force = true;
      allowed = {"enforce"};
      break;
    case k_to_directory:
    case k_to_local: {
      const auto chosen = opt == k_to_directory ? protocol::MigrateDirection::to_directory
                                                : protocol::MigrateDirection::to_local;
      if (direction && *direction != chosen) {
        return usage_error("--to-directory and --to-local do not go together");
      }
      direction = chosen;
      allowed = {"migrate"};
      break;
    }
    default:
      return usage_error(std::string("unknown option '") + sub_argv[optind - 1] + "' for '" +
                         command + "'");
    }
    if (std::find(allowed.begin(), allowed.end(), command) == allowed.end()) {
      // By name: sub_argv[optind - 1] is the option's argument when it has one.
      return usage_error(std::string("option '--") + k_command_options[option_index].name +
                         "' is not valid for '" + command + "'");
    }
  }
  std::vector<std::string> operands(sub_argv + optind, sub_argv + sub_argc);

  auto operand_count = [&](std::size_t min, std::size_t max) {
    return operands.size() >= min && operands.size() <= max;
  };
  bool counts_ok = false;
  if (command == "list" || command == "ping" || command == "rekey" || command == "health") {
    counts_ok = operand_count(0, 0);
  } else if (command == "migrate") {
    if (!direction) {
      return usage_error("'migrate' needs --to-directory or --to-local");
    }
    counts_ok = operand_count(0, 0);
  } else if (command == "status" || command == "disable" || command == "unlock" ||
             command == "pass" || command == "policy") {
    counts_ok = operand_count(1, 1);
  } else if (command == "log" || command == "enforce") {
    counts_ok = operand_count(0, 1);
  } else if (command == "import") {
    counts_ok = oath_file ? operand_count(0, 0) : operand_count(1, 1);
  } else {
    return usage_error("unknown command '" + command + "'");
  }
  if (!counts_ok) {
    return usage_error("wrong number of arguments for '" + command + "'");
  }
  if (revoke && hours) {
    return usage_error("--hours and --revoke do not go together");
  }
  if (google_file && oath_file) {
    return usage_error("--google-authenticator and --oath-usersfile do not go together");
  }
  if (params_given && (google_file || oath_file)) {
    return usage_error("--digits, --period and --algorithm are for a secret on standard input");
  }
  auto enforce_action = protocol::EnforceAction::query;
  if (command == "enforce" && !operands.empty()) {
    if (operands[0] == "on") {
      enforce_action = protocol::EnforceAction::on;
    } else if (operands[0] == "off") {
      enforce_action = protocol::EnforceAction::off;
    } else {
      return usage_error("'enforce' takes 'on', 'off' or nothing, not '" + operands[0] + "'");
    }
    operands.clear();
  }
  if ((grace || force) && enforce_action != protocol::EnforceAction::on) {
    return usage_error("--grace and --force go with 'enforce on'");
  }
  for (const std::string& operand : operands) {
    if (operand.empty()) {
      return usage_error("an empty user name");
    }
  }

  std::int64_t since = 0;
  if (since_text) {
    auto parsed = parse_time(*since_text);
    if (!parsed) {
      return usage_error("--since takes 2026-11-23, '2026-11-23 17:46', 2026-11-23T17:46:02Z "
                         "(UTC), @UNIXTIME or an age such as 2h or 7d");
    }
    since = *parsed;
  }

  // Read what is to be imported before connecting: a bad file changes nothing.
  std::vector<ImportAccount> accounts;
  if (command == "import") {
    Expected<std::vector<ImportAccount>> read = make_error("");
    std::vector<std::string> warnings;
    if (oath_file) {
      read = read_oath_usersfile(*oath_file, warnings);
    } else if (google_file) {
      read = read_google_authenticator(*google_file, operands[0]);
    } else {
      if (isatty(STDIN_FILENO)) {
        fprintf(stderr, "Type or paste %s's base32 secret, then press Enter:\n",
                operands[0].c_str());
      }
      read = read_base32_secret(stdin, operands[0], params);
    }
    if (!read) {
      return fail(read.error().message);
    }
    for (const std::string& warning : warnings) {
      fprintf(stderr, "studio2fa-admin: warning: %s\n", warning.c_str());
    }
    accounts = std::move(*read);
    if (accounts.empty()) {
      return fail("nothing to import");
    }
  }

  DaemonConnection daemon;
  if (auto connected = daemon.connect(socket_path); !connected) {
    return fail(connected.error().message);
  }
  if (command == "status") {
    return status(daemon, operands[0]);
  }
  if (command == "list") {
    return list(daemon, json);
  }
  if (command == "disable") {
    return disable(daemon, operands[0]);
  }
  if (command == "unlock") {
    return unlock(daemon, operands[0]);
  }
  if (command == "pass") {
    return pass(daemon, operands[0], static_cast<unsigned>(hours.value_or(k_default_pass_hours)),
                revoke);
  }
  if (command == "log") {
    return log(daemon, operands.empty() ? std::string() : operands[0], since);
  }
  if (command == "import") {
    return send_import(daemon, accounts, replace);
  }
  if (command == "policy") {
    return policy(daemon, operands[0], json);
  }
  if (command == "enforce") {
    return enforce(daemon, enforce_action, grace.value_or(0), force);
  }
  if (command == "rekey") {
    return rekey(daemon);
  }
  if (command == "migrate") {
    return migrate(daemon, *direction);
  }
  if (command == "health") {
    return health(daemon);
  }
  if (auto pong = call(daemon, protocol::PingRequest{}); !pong) {
    return fail(pong.error().message);
  }
  printf("studio2fad is answering\n");
  return 0;
}
