// studio2fad: the privileged side of studio2fa. See studio2fad(8).
#include <config.h>

#include "account_admin.hpp"
#include "authenticator.hpp"
#include "backup_codes.hpp"
#include "config.hpp"
#include "directory.hpp"
#include "file_safety.hpp"
#include "https_sender.hpp"
#include "keyring.hpp"
#include "ldap_config.hpp"
#include "log.hpp"
#include "password_checker.hpp"
#include "password_queue.hpp"
#include "phone_codes.hpp"
#include "phone_dispatch.hpp"
#include "policy.hpp"
#include "request_handler.hpp"
#include "sealer.hpp"
#include "secret_bytes.hpp"
#include "send_budget.hpp"
#include "sender_factory.hpp"
#include "server.hpp"
#include "store_factory.hpp"
#include "store_migration.hpp"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <optional>

namespace {

using namespace studio2fa;

constexpr const char* k_listen_fd_env = "STUDIO2FAD_LISTEN_FD";
constexpr const char* k_reexec_env = "STUDIO2FAD_REEXEC";

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
Server* g_server = nullptr;

void on_stop_signal(int)
{
  g_stop.store(true);
  if (g_server != nullptr) {
    g_server->wake();
  }
}

// SIGHUP: reload the configuration, as sshd does, by executing the daemon afresh.
void on_reload_signal(int)
{
  g_reload.store(true);
  on_stop_signal(0);
}

// Whether a configuration reload can go ahead: the new file parses and the key and database
// it names are where the daemon can use them. Checked while still serving, so that a mistake
// leaves the running daemon as it was.
Expected<void> check_reload(const std::string& config_path, bool config_given)
{
  Config config = default_config();
  if (config_given || access(config_path.c_str(), F_OK) == 0) {
    auto loaded = load_config(config_path);
    if (!loaded) {
      return Unexpected<Error>{loaded.error()};
    }
    config = std::move(*loaded);
  }
  for (const std::string* file : {&config.key_path, &config.db_path}) {
    if (auto safe = check_private_path(parent_directory(*file), PathKind::directory); !safe) {
      return safe;
    }
    if (auto safe = check_private_path(*file, PathKind::file); !safe) {
      return safe;
    }
  }
  return {};
}

void usage(FILE* out)
{
  fprintf(out,
          "Usage: studio2fad [-c FILE] [-f] [-d]\n"
          "       studio2fad --check-config [-c FILE]\n"
          "       studio2fad --print-default-config\n"
          "\n"
          "  -c, --config FILE         configuration file (default %s)\n"
          "  -f, --foreground          stay in the foreground and log to stderr\n"
          "  -d, --debug               log debug messages too\n"
          "      --check-config        check the configuration and the key and database files,\n"
          "                            then exit\n"
          "      --print-default-config  print the commented default configuration\n"
          "  -h, --help                show this help\n"
          "  -V, --version             show the version\n",
          k_default_config_path);
}

// Creates a missing directory with exactly `mode`: the process umask (077, set in main) must not
// close the socket's directory, which every user's login and CLI has to enter. An existing
// directory is left as it is (the key and database directories to check_private_path()).
Expected<void> ensure_directory(const std::string& path, mode_t mode)
{
  if (mkdir(path.c_str(), mode) != 0) {
    if (errno == EEXIST) {
      return {};
    }
    return make_error("cannot create directory " + path + ": " + strerror(errno));
  }
  if (chmod(path.c_str(), mode) != 0) {
    return make_error("cannot set the mode of directory " + path + ": " + strerror(errno));
  }
  return {};
}

struct Startup {
  Config config;
  std::optional<Keyring> keys;
  std::unique_ptr<Store> store;
  std::string ldap_bind_password;
};

Expected<Startup> prepare(const std::string& config_path, bool config_given)
{
  Startup s;
  if (config_given || access(config_path.c_str(), F_OK) == 0) {
    auto config = load_config(config_path);
    if (!config) {
      return Unexpected<Error>{config.error()};
    }
    s.config = std::move(*config);
  } else {
    s.config = default_config();
  }
  const Config& c = s.config;

  for (const std::string* file : {&c.key_path, &c.db_path}) {
    std::string dir = parent_directory(*file);
    if (auto made = ensure_directory(dir, 0700); !made) {
      return Unexpected<Error>{made.error()};
    }
    if (auto safe = check_private_path(dir, PathKind::directory); !safe) {
      return Unexpected<Error>{safe.error()};
    }
  }
  if (auto made = ensure_directory(parent_directory(c.socket_path), 0755); !made) {
    return Unexpected<Error>{made.error()};
  }

  auto keys = load_keyring(c.key_path, c.previous_key_paths);
  if (!keys) {
    return Unexpected<Error>{keys.error()};
  }
  s.keys = std::move(*keys);

  if (access(c.db_path.c_str(), F_OK) == 0) {
    if (auto safe = check_private_path(c.db_path, PathKind::file); !safe) {
      return Unexpected<Error>{safe.error()};
    }
  }
  auto store = open_store(c);
  if (!store) {
    return Unexpected<Error>{store.error()};
  }
  s.store = std::move(*store);
  if (!c.ldap_bind_password_file.empty()) {
    auto password = read_bind_password(c.ldap_bind_password_file);
    if (!password) {
      return Unexpected<Error>{password.error()};
    }
    s.ldap_bind_password = std::move(*password);
  }
  return s;
}

// Which studio keys this daemon holds, by key id: what an operator compares across hosts.
void log_keyring(const Keyring& keys)
{
  std::string previous;
  for (const Keyring::Key& key : keys.keys().subspan(1)) {
    previous += (previous.empty() ? "" : " ") + key_id_text(key.id);
  }
  log::info("studio key %s seals; older keys accepted for opening: %s",
            key_id_text(keys.current().id).c_str(), previous.empty() ? "none" : previous.c_str());
}

// The directory named by the config, or null when it names none.
std::unique_ptr<Directory> make_directory(const Config& c, std::string bind_password)
{
  if (c.ldap_uris.empty()) {
    return nullptr;
  }
  DirectorySettings d;
  d.connection = ldap_connection_settings(c, c.ldap_uris, std::move(bind_password));
  d.user_base = c.ldap_user_base.empty() ? c.ldap_base : c.ldap_user_base;
  d.user_filter = c.ldap_user_filter;
  d.user_attribute = c.ldap_user_attribute;
  d.group_base = c.ldap_group_base.empty() ? c.ldap_base : c.ldap_group_base;
  d.group_filter = c.ldap_group_filter;
  d.member_uid_attribute = c.ldap_member_uid_attribute;
  d.member_dn_attributes = c.ldap_member_attributes;
  d.phone_attribute = c.phone_attribute;
  return make_ldap_directory(std::move(d));
}

// Forks into the background; the parent exits only once the child reports that it is serving
// (exit 0) or that start-up failed (exit 1), so init scripts see start-up errors.
int daemonize(int& ready_fd)
{
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    return -1;
  }
  if (pid > 0) {
    close(pipefd[1]);
    char status = 1;
    ssize_t n = read(pipefd[0], &status, 1);
    _exit(n == 1 && status == 0 ? 0 : 1);
  }
  close(pipefd[0]);
  setsid();
  if (chdir("/") != 0) {
    return -1;
  }
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    if (null_fd > STDERR_FILENO) {
      close(null_fd);
    }
  }
  ready_fd = pipefd[1];
  return 0;
}

void report_ready(int& ready_fd, bool ok)
{
  if (ready_fd >= 0) {
    char status = ok ? 0 : 1;
    ssize_t ignored = write(ready_fd, &status, 1);
    (void)ignored;
    close(ready_fd);
    ready_fd = -1;
  }
}

// Descriptors the daemon needs besides its connections: the database, the log, the directory,
// NSS, the event loop.
constexpr rlim_t k_descriptors_besides_connections = 64;

// Raises the soft limit on open files to the hard one (the unit sets LimitNOFILE), so the
// connection caps, not the descriptor limit, are what refuse clients.
void raise_descriptor_limit(unsigned max_connections)
{
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) {
    return;
  }
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur < max_connections + k_descriptors_besides_connections) {
    log::warning("the limit on open files (%llu) is below max_connections (%u) plus %llu; "
                 "raise LimitNOFILE or lower max_connections",
                 static_cast<unsigned long long>(files.rlim_cur), max_connections,
                 static_cast<unsigned long long>(k_descriptors_besides_connections));
  }
}

} // namespace

// The daemon's whole life in one process image; returns its exit status, or k_exit_reexec
// once everything is torn down for a configuration reload.
constexpr int k_exit_reexec = -1;

int run_daemon(int argc, char** argv)
{
  enum { k_check_config = 1000, k_print_default };
  static const option k_options[] = {
    {"config", required_argument, nullptr, 'c'},
    {"foreground", no_argument, nullptr, 'f'},
    {"debug", no_argument, nullptr, 'd'},
    {"check-config", no_argument, nullptr, k_check_config},
    {"print-default-config", no_argument, nullptr, k_print_default},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {nullptr, 0, nullptr, 0},
  };
  std::string config_path = k_default_config_path;
  bool config_given = false;
  bool foreground = false;
  bool debug = false;
  bool check_only = false;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:fdhV", k_options, nullptr)) != -1) {
    switch (opt) {
    case 'c':
      config_path = optarg;
      config_given = true;
      break;
    case 'f':
      foreground = true;
      break;
    case 'd':
      debug = true;
      break;
    case k_check_config:
      check_only = true;
      break;
    case k_print_default:
      fputs(render_sample_config().c_str(), stdout);
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("studio2fad %s\n", PACKAGE_VERSION);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "studio2fad: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }

  // No core dumps and no ptrace by other users: this process holds the master key.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  umask(077);
  // glibc gives each thread its own malloc arena; with 16 worker threads they kept ~8 MB the
  // daemon never needed. Eight arenas keep contention low and the resident size under 20 MB
  // (bench/: 16 MB at 100,000 users).
  mallopt(M_ARENA_MAX, 8);

  if (geteuid() != 0) {
    fprintf(stderr, "studio2fad: must run as root (it reads the shadow database and owns the "
                    "secret store)\n");
    return 1;
  }

  log::init(foreground || check_only, debug);
  if (!init_secure_heap(256 * 1024)) {
    log::warning("cannot set up a locked memory area for secrets; they may be swapped");
  }
  // While the process has one thread: libcurl's global set-up is not thread-safe before 7.84.
  if (!init_https_senders()) {
    log::warning("cannot initialise libcurl: codes cannot be sent by HTTPS");
  }
  auto startup = prepare(config_path, config_given);
  if (!startup) {
    if (!foreground && !check_only) {
      fprintf(stderr, "studio2fad: %s\n", startup.error().message.c_str());
    }
    log::error("cannot start: %s", startup.error().message.c_str());
    return 1;
  }
  if (check_only) {
    printf("studio2fad: configuration %s is valid; key and database are usable\n",
           config_path.c_str());
    return 0;
  }
  Config& config = startup->config;

  log_keyring(*startup->keys);
  auto backup_codes = BackupCodeHasher::create(*startup->keys);
  if (!backup_codes) {
    log::error("cannot start: %s", backup_codes.error().message.c_str());
    return 1;
  }
  // Codes sent to phones are hashed under a key of the current studio key's: a code lives
  // minutes, so a rotation costs at most the codes in flight.
  auto phone_hasher = PhoneCodeHasher::create(startup->keys->current().bytes.span());
  if (!phone_hasher) {
    log::error("cannot start: %s", phone_hasher.error().message.c_str());
    return 1;
  }
  auto sealer = Sealer::create(std::move(*startup->keys));
  if (!sealer) {
    log::error("cannot start: %s", sealer.error().message.c_str());
    return 1;
  }
  SystemClock clock;
  std::unique_ptr<Directory> directory =
      make_directory(config, std::move(startup->ldap_bind_password));
  PolicySettings policy_settings;
  policy_settings.base = config.ldap_base;
  policy_settings.timeout = std::chrono::milliseconds(config.ldap_timeout);
  policy_settings.cache_ttl = config.policy_cache_ttl;
  policy_settings.retry_after = config.ldap_retry_interval;
  policy_settings.nesting_depth = config.ldap_nesting_depth;
  policy_settings.grace_period = config.grace_period;
  policy_settings.require_groups = config.require_groups;
  policy_settings.exempt_groups = config.exempt_groups;
  policy_settings.phone_from_directory = !config.phone_attribute.empty();
  PolicyResolver policy(*startup->store, directory.get(), clock, policy_settings);
  if (auto loaded = policy.load(); !loaded) {
    log::error("cannot start: %s", loaded.error().message.c_str());
    return 1;
  }
  ShadowPasswordChecker shadow_passwords;
  DirectoryPasswordChecker passwords(policy, directory.get(), shadow_passwords,
                                     std::chrono::milliseconds(config.ldap_timeout));
  AuthenticatorSettings auth_settings;
  auth_settings.new_enrollment = config.totp;
  auth_settings.window = config.totp_window;
  auth_settings.enroll_timeout = config.enroll_timeout;
  auth_settings.throttle_after = config.throttle_after;
  auth_settings.throttle_base = config.throttle_base;
  auth_settings.throttle_max = config.throttle_max;
  auth_settings.lockout_after = config.lockout_after;
  auth_settings.backup_lockout_after = config.backup_lockout_after;
  AccountLedger ledger(*startup->store, clock, config.audit_retention);
  PasswordQueueLimits password_limits;
  password_limits.max_waiting = config.password_queue;
  password_limits.max_waiting_per_uid = config.password_queue_per_uid;
  password_limits.max_wait = std::chrono::seconds(config.password_queue_wait);
  PasswordQueue password_queue(password_limits);
  PhoneCodeRules phone_rules;
  phone_rules.lifetime = config.phone_code_lifetime;
  phone_rules.resend_after = config.phone_resend_interval;
  phone_rules.sends_per_user_hour = config.phone_sends_per_user_hour;
  const PhoneCodes phone_codes(*phone_hasher, phone_rules);
  SendBudget host_send_budget(config.phone_sends_per_host_hour);
  auto sms_sender = make_sender_pool(config, PhoneChannel::sms);
  auto voice_sender = make_sender_pool(config, PhoneChannel::voice);
  for (const auto* made : {&sms_sender, &voice_sender}) {
    if (!*made) {
      log::error("cannot start: %s", made->error().message.c_str());
      return 1;
    }
  }
  PhoneMessageTexts phone_texts;
  phone_texts.issuer = config.phone_issuer.empty() ? config.issuer : config.phone_issuer;
  phone_texts.sms = config.phone_message;
  phone_texts.voice = config.voice_message;
  std::optional<PhoneDispatch> phone_dispatch;
  if (sms_sender->configured() || voice_sender->configured()) {
    phone_dispatch.emplace(ledger, phone_codes, host_send_budget, sms_sender->pool.get(),
                           voice_sender->pool.get(), phone_texts);
    log::info("codes by phone: %s%s%s, at most %u sendings at once per channel",
              sms_sender->configured() ? "sms" : "",
              sms_sender->configured() && voice_sender->configured() ? " and " : "",
              voice_sender->configured() ? "voice" : "", config.sender_concurrency);
  }
  PhoneLogin phone_login;
  phone_login.codes = &phone_codes;
  phone_login.dispatch = phone_dispatch ? &*phone_dispatch : nullptr;
  phone_login.self_enroll = config.phone_self_enroll;
  Authenticator authenticator(ledger, *sealer, *backup_codes, passwords, auth_settings, &policy,
                              &password_queue, phone_login);
  AccountAdmin admin(ledger, authenticator);
  const StoreMigration migration(config, *startup->store, config.store);
  RequestHandler handler(authenticator, admin,
                         HandlerSettings{config.issuer, config.admin_group, &migration});
  raise_descriptor_limit(config.max_connections);
  Server server(ServerSettings{.socket_path = config.socket_path,
                               .max_connections = config.max_connections,
                               .root_reserved_connections = config.root_reserved_connections,
                               .max_connections_per_uid = config.max_connections_per_uid,
                               .max_requests_per_uid = config.max_requests_per_uid,
                               .request_timeout = config.request_timeout,
                               .idle_timeout = config.idle_timeout,
                               .connection_lifetime = config.connection_lifetime,
                               .worker_threads = config.worker_threads},
                handler);

  // After a reload the daemon is already in the background, and its listening socket was kept
  // open across the exec: clients arriving meanwhile waited in its backlog.
  const bool reexec = getenv(k_reexec_env) != nullptr;
  const char* inherited = getenv(k_listen_fd_env);
  int inherited_fd = inherited != nullptr ? atoi(inherited) : -1;
  unsetenv(k_reexec_env);
  unsetenv(k_listen_fd_env);

  int ready_fd = -1;
  if (!foreground && !reexec && daemonize(ready_fd) != 0) {
    log::error("cannot daemonize: %s", strerror(errno));
    return 1;
  }
  if (!foreground) {
    log::init(false, debug);
  }
  auto listening = inherited_fd > 2 ? server.adopt(inherited_fd) : server.listen();
  if (!listening) {
    log::error("cannot start: %s", listening.error().message.c_str());
    report_ready(ready_fd, false);
    return 1;
  }

  g_server = &server;
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hup{};
  hup.sa_handler = on_reload_signal;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);
  signal(SIGPIPE, SIG_IGN);

  log::notice("studio2fad %s %s on %s (db %s)", PACKAGE_VERSION,
              reexec ? "reloaded, serving" : "serving", config.socket_path.c_str(),
              config.db_path.c_str());
  report_ready(ready_fd, true);
  for (;;) {
    auto ran = server.run(g_stop);
    if (!ran) {
      log::error("%s", ran.error().message.c_str());
      return 1;
    }
    if (!g_reload.exchange(false)) {
      break; // SIGTERM or SIGINT
    }
    if (auto usable = check_reload(config_path, config_given); !usable) {
      log::error("reload refused, keeping the running configuration: %s",
                 usable.error().message.c_str());
      g_stop.store(false);
      continue;
    }
    // Hand the listening socket to the next image, close everything else (the database is
    // closed cleanly by the destructors on the way out of main's scope) and execute afresh.
    log::notice("reloading %s", config_path.c_str());
    std::string fd_text = std::to_string(server.release_listener());
    setenv(k_listen_fd_env, fd_text.c_str(), 1);
    setenv(k_reexec_env, "1", 1);
    g_server = nullptr;
    return k_exit_reexec;
  }
  g_server = nullptr;
  unlink(config.socket_path.c_str());
  log::notice("stopped");
  return 0;
}

int main(int argc, char** argv)
{
  int status = run_daemon(argc, argv);
  if (status != k_exit_reexec) {
    return status;
  }
  execv("/proc/self/exe", argv);
  log::error("cannot execute the daemon again for the reload: %s", strerror(errno));
  return 1;
}
