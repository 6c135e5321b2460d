// studio2fa: self-service two-factor authentication for the invoking user. See studio2fa(1).
#include <config.h>

#include "daemon_connection.hpp"
#include "otpauth.hpp"
#include "qr_terminal.hpp"
#include "secret_bytes.hpp"
#include "secure_memory.hpp"
#include "totp.hpp"

#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace {

using namespace studio2fa;

constexpr int k_interactive_attempts = 3;

void usage(FILE* out)
{
  fprintf(out, "Usage: studio2fa [--socket PATH] COMMAND\n"
               "\n"
               "Commands:\n"
               "  enroll [--no-qr]   turn on two-factor authentication for your account: shows a\n"
               "                     QR code for your authenticator app, then asks for a code\n"
               "  status             tell whether two-factor authentication is on\n"
               "\n"
               "Options:\n"
               "  --socket PATH      the studio2fad socket (default %s)\n"
               "  -h, --help         show this help\n"
               "  -V, --version      show the version\n",
               k_default_socket_path);
}

int fail(const std::string& message)
{
  fprintf(stderr, "studio2fa: %s\n", message.c_str());
  return 1;
}

std::string format_time(std::int64_t unix_time)
{
  time_t t = static_cast<time_t>(unix_time);
  tm local{};
  localtime_r(&t, &local);
  char text[64];
  strftime(text, sizeof(text), "%Y-%m-%d %H:%M %Z", &local);
  return text;
}

// Reads one line (without its newline) into a wiped buffer; false at end of input.
bool read_line(SecretBytes& out)
{
  char buffer[128];
  if (fgets(buffer, sizeof(buffer), stdin) == nullptr) {
    return false;
  }
  std::size_t length = strcspn(buffer, "\r\n");
  out = SecretBytes(std::span(reinterpret_cast<const std::uint8_t*>(buffer), length));
  secure_wipe(buffer, sizeof(buffer));
  return true;
}

// The secret in groups of four characters, as people type it into an app by hand.
SecretBytes group_key(std::string_view secret)
{
  SecretBytes out(secret.size() + secret.size() / 4 + 1);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    if (i > 0 && i % 4 == 0) {
      out.data()[pos++] = ' ';
    }
    out.data()[pos++] = static_cast<std::uint8_t>(secret[i]);
  }
  out.truncate(pos);
  return out;
}

int enroll(DaemonConnection& daemon, const std::string& user, bool show_qr)
{
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
  protocol::encode(protocol::EnrollBeginRequest{user}, request);
  if (auto called = daemon.call(request, reply, protocol::MessageType::enroll_begin); !called) {
    if (daemon.last_error_code() == protocol::ErrorCode::already_enrolled) {
      return fail("two-factor authentication is already on for " + user +
                  ". To move to a new phone, ask your administrator.");
    }
    return fail(called.error().message);
  }
  protocol::EnrollBeginReply offer;
  if (!protocol::decode(reply.payload(), offer)) {
    return fail("the daemon sent an enrollment reply that does not decode");
  }
  totp::Parameters params;
  params.algorithm = totp::parse_algorithm(offer.algorithm).value_or(totp::Algorithm::sha1);
  params.digits = offer.digits;
  params.period = offer.period;
  SecretBytes uri = otpauth::build_uri(offer.issuer, offer.account, offer.secret, params);
  SecretBytes uri_text(uri.size() + 1);
  std::copy(uri.data(), uri.data() + uri.size(), uri_text.data());
  uri_text.truncate(uri.size() + 1); // keeps the terminating NUL from the zeroed buffer
  const char* uri_c = reinterpret_cast<const char*>(uri_text.data());

  if (show_qr) {
    printf("Scan this QR code with your authenticator app (Google Authenticator, Microsoft\n"
           "Authenticator, Authy, 1Password, ...):\n\n");
    QrColors colors = isatty(STDOUT_FILENO) ? QrColors::ansi : QrColors::plain;
    if (auto printed = print_qr(stdout, uri_c, colors); !printed) {
      return fail(printed.error().message);
    }
    printf("\n");
  }
  printf("Or open this address on the phone:\n%s\n\n", uri_c);
  SecretBytes grouped = group_key(offer.secret);
  printf("Or type the key by hand: %.*s\n", static_cast<int>(grouped.size()),
         reinterpret_cast<const char*>(grouped.data()));
  printf("(time-based, %s, %u digits, a new code every %u seconds)\n\n",
         totp::algorithm_name(params.algorithm), params.digits, params.period);
  printf("Then type the code the app shows, before %s.\n", format_time(
                                                               static_cast<std::int64_t>(offer.expires_at)).c_str());
  std::string account(offer.account);
  reply.wipe();
  daemon.close(); // a person may take longer than the daemon's idle_timeout

  bool interactive = isatty(STDIN_FILENO) != 0;
  for (int attempt = 1;; ++attempt) {
    printf("Verification code: ");
    fflush(stdout);
    SecretBytes code;
    if (!read_line(code)) {
      printf("\n");
      return fail("no code given; two-factor authentication stays off. Run 'studio2fa enroll' "
                  "again when you are ready.");
    }
    if (!interactive) {
      printf("\n");
    }
    protocol::encode(protocol::EnrollConfirmRequest{account, code.view()}, request);
    if (auto called = daemon.call(request, reply, protocol::MessageType::enroll_confirm);
        !called) {
      return fail(called.error().message);
    }
    protocol::EnrollConfirmReply result;
    if (!protocol::decode(reply.payload(), result)) {
      return fail("the daemon sent a confirmation reply that does not decode");
    }
    switch (result.result) {
    case protocol::EnrollResult::confirmed:
      printf("Two-factor authentication is now on for %s.\n"
             "From now on, log in with your password and then the code your app shows.\n",
             account.c_str());
      return 0;
    case protocol::EnrollResult::bad_code:
      if (interactive && attempt < k_interactive_attempts) {
        printf("That code is not right. Check the app's clock and try the current code.\n");
        daemon.close();
        continue;
      }
      return fail("that code is not right; two-factor authentication stays off. Run "
                  "'studio2fa enroll' to start again.");
    case protocol::EnrollResult::expired:
      return fail("the enrollment expired before it was confirmed; run 'studio2fa enroll' again "
                  "and remove the old entry from your app.");
    case protocol::EnrollResult::no_pending:
      return fail("there is no enrollment waiting for a code; run 'studio2fa enroll' first.");
    case protocol::EnrollResult::throttled:
      return fail("too many wrong codes; wait a few minutes and run 'studio2fa enroll' again.");
    }
    return fail("unexpected answer from the daemon");
  }
}

int status(DaemonConnection& daemon, const std::string& user)
{
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
  protocol::encode(protocol::StatusRequest{user}, request);
  if (auto called = daemon.call(request, reply, protocol::MessageType::status); !called) {
    return fail(called.error().message);
  }
  protocol::StatusReply status;
  if (!protocol::decode(reply.payload(), status)) {
    return fail("the daemon sent a status reply that does not decode");
  }
  switch (status.state) {
  case protocol::EnrollmentState::active:
    printf("Two-factor authentication is on for %s (since %s).\n", user.c_str(),
           format_time(static_cast<std::int64_t>(status.enrolled_at)).c_str());
    break;
  case protocol::EnrollmentState::pending:
    printf("Two-factor authentication is off for %s: an enrollment is waiting for its first "
           "code.\n",
           user.c_str());
    break;
  case protocol::EnrollmentState::none:
    printf("Two-factor authentication is off for %s. Turn it on with: studio2fa enroll\n",
           user.c_str());
    break;
  }
  if (status.retry_after > 0) {
    printf("After %u wrong codes in a row, the next code is accepted in %u seconds.\n",
           status.failures, status.retry_after);
  }
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  static const option k_options[] = {
    {"socket", required_argument, nullptr, 's'},
    {"user", required_argument, nullptr, 'u'},
    {"no-qr", no_argument, nullptr, 'n'},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {nullptr, 0, nullptr, 0},
  };
  const char* socket_path = k_default_socket_path;
  std::string user;
  bool show_qr = true;
  int opt;
  while ((opt = getopt_long(argc, argv, "+hV", k_options, nullptr)) != -1) {
    switch (opt) {
    case 's':
      socket_path = optarg;
      break;
    case 'u':
      user = optarg;
      break;
    case 'n':
      show_qr = false;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("studio2fa %s\n", PACKAGE_VERSION);
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
  std::string command = argv[optind++];
  // Options of the command itself.
  while ((opt = getopt_long(argc, argv, "+", k_options, nullptr)) != -1) {
    if (opt == 'n' && command == "enroll") {
      show_qr = false;
    } else {
      fprintf(stderr, "studio2fa: option not valid for '%s'\n", command.c_str());
      return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "studio2fa: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }

  if (user.empty()) {
    auto me = invoking_user_name();
    if (!me) {
      return fail(me.error().message);
    }
    user = *me;
  } else if (getuid() != 0) {
    return fail("--user is for root only; you can only act for your own account");
  }

  DaemonConnection daemon;
  if (auto connected = daemon.connect(socket_path); !connected) {
    return fail(connected.error().message);
  }
  if (command == "enroll") {
    return enroll(daemon, user, show_qr);
  }
  if (command == "status") {
    return status(daemon, user);
  }
  fprintf(stderr, "studio2fa: unknown command '%s'\n", command.c_str());
  usage(stderr);
  return 2;
}
