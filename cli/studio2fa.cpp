// studio2fa: self-service two-factor authentication for the invoking user. See studio2fa(1).
#include <config.h>

#include "daemon_connection.hpp"
#include "fd.hpp"
#include "otpauth.hpp"
#include "phone_number.hpp"
#include "printable.hpp"
#include "qr_terminal.hpp"
#include "secret_bytes.hpp"
#include "secure_memory.hpp"
#include "totp.hpp"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

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
               "  enroll --replace [--no-qr]\n"
               "                     move to a new phone: asks for a code from the old one (or a\n"
               "                     backup code), then enrolls the new one; the old one works\n"
               "                     until the new one is confirmed\n"
               "  enroll --sms NUMBER | --voice NUMBER\n"
               "                     get codes by text message or voice call at NUMBER (in\n"
               "                     international form, +447946004567); a code is sent there\n"
               "                     to confirm it. With an app already, asks for its code\n"
               "  status             whether two-factor authentication is on, how codes come\n"
               "                     (app, text, call), whether it is required, and how many\n"
               "                     backup codes are left\n"
               "  backup-codes [--output FILE]\n"
               "                     make a new set of ten backup codes (the old set stops\n"
               "                     working); asks for a code from your app first\n"
               "  phone remove       stop codes by text message and voice call; asks for a\n"
               "                     code first\n"
               "  disable            turn two-factor authentication off; asks for a code from\n"
               "                     your app or a backup code\n"
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

// Prints `prompt` and reads one line: a code, from the app or a backup code.
bool ask_code(const char* prompt, SecretBytes& code)
{
  printf("%s", prompt);
  fflush(stdout);
  const bool read = read_line(code);
  if (!isatty(STDIN_FILENO)) {
    printf("\n");
  }
  return read;
}

// The message for a code-proven request the daemon did not carry out.
int code_refused(const protocol::CodeResult result, std::uint32_t retry_after,
                 const std::string& user, const char* nothing_changed)
{
  switch (result) {
  case protocol::CodeResult::ok:
    break;
  case protocol::CodeResult::bad_code:
    return fail(std::string("that code is not right; ") + nothing_changed);
  case protocol::CodeResult::throttled:
    return fail("too many wrong codes; try again in " + std::to_string(retry_after) +
                " seconds. " + nothing_changed);
  case protocol::CodeResult::locked:
    return fail("login is locked for this account after too many wrong codes; contact your "
                "administrator.");
  case protocol::CodeResult::not_enrolled:
    return fail("two-factor authentication is off for " + user +
                "; turn it on with: studio2fa enroll");
  }
  return fail("unexpected answer from the daemon");
}

// A code-proven request that got no answer: a code too long to send is a wrong one.
int call_failed(const Error& error, const std::string& user, const char* nothing_changed)
{
  if (error.code == Errc::invalid) {
    return code_refused(protocol::CodeResult::bad_code, 0, user, nothing_changed);
  }
  return fail(error.message);
}

// Shows a pending secret (QR code, address, key), then asks for codes until one confirms it.
// `offer` points into daemon.reply(), which is wiped once it is shown.
int show_and_confirm(DaemonConnection& daemon, const protocol::EnrollBeginReply& offer,
                     bool show_qr, bool replacing)
{
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
  SecretBytes grouped = otpauth::group_key(offer.secret);
  printf("Or type the key by hand: %.*s\n", static_cast<int>(grouped.size()),
         reinterpret_cast<const char*>(grouped.data()));
  printf("(time-based, %s, %u digits, a new code every %u seconds)\n\n",
         totp::algorithm_name(params.algorithm), params.digits, params.period);
  printf("Then type the code the app shows, before %s.\n", format_time(
                                                               static_cast<std::int64_t>(offer.expires_at)).c_str());
  if (replacing) {
    printf("Until then, your old phone keeps working.\n");
  } else {
    printf("Until then, running 'studio2fa enroll' again, or a login that asks you to set it up,\n"
           "shows this same key.\n");
  }
  std::string account(offer.account);
  daemon.wipe_reply();
  daemon.close(); // a person may take longer than the daemon's idle_timeout

  const char* again = replacing ? "studio2fa enroll --replace" : "studio2fa enroll";
  const char* stays = replacing ? "your old phone keeps working" : "two-factor authentication stays off";
  bool interactive = isatty(STDIN_FILENO) != 0;
  for (int attempt = 1;; ++attempt) {
    printf("Verification code: ");
    fflush(stdout);
    SecretBytes code;
    if (!read_line(code)) {
      printf("\n");
      return fail(std::string("no code given; ") + stays + ". Run '" + again +
                  "' again when you are ready.");
    }
    if (!interactive) {
      printf("\n");
    }
    auto confirmed = call(daemon, protocol::EnrollConfirmRequest{account, code.view()});
    if (!confirmed && confirmed.error().code != Errc::invalid) {
      return fail(confirmed.error().message);
    }
    // A code too long to send is a wrong one.
    switch (confirmed ? confirmed->result : protocol::EnrollResult::bad_code) {
    case protocol::EnrollResult::confirmed:
      if (replacing) {
        printf("Your new phone is now the one for %s: codes from the old one no longer work.\n"
               "Your backup codes still work. Remove the old entry from the old phone.\n",
               account.c_str());
      } else {
        printf("Two-factor authentication is now on for %s.\n"
               "From now on, log in with your password and then the code your app shows.\n"
               "Make backup codes for the day the phone is lost: studio2fa backup-codes\n",
               account.c_str());
      }
      return 0;
    case protocol::EnrollResult::bad_code:
      if (interactive && attempt < k_interactive_attempts) {
        printf("That code is not right. Check the app's clock and try the current code.\n");
        daemon.close();
        continue;
      }
      return fail(std::string("that code is not right; ") + stays + ". Run '" + again +
                  "' to start again.");
    case protocol::EnrollResult::expired:
      return fail(std::string("the enrollment expired before it was confirmed; ") + stays +
                  ". Run '" + again + "' again and remove the new entry from your app.");
    case protocol::EnrollResult::no_pending:
      return fail(std::string("there is no enrollment waiting for a code; run '") + again +
                  "' first.");
    case protocol::EnrollResult::throttled:
      return fail(std::string("too many wrong codes; wait a few minutes and run '") + again +
                  "' again.");
    case protocol::EnrollResult::locked:
      return fail("login is locked for this account after too many wrong codes; contact your "
                  "administrator.");
    }
    return fail("unexpected answer from the daemon");
  }
}

int enroll(DaemonConnection& daemon, const std::string& user, bool show_qr)
{
  auto offer = call(daemon, protocol::EnrollBeginRequest{user});
  if (!offer) {
    if (daemon.last_error_code() == protocol::ErrorCode::already_enrolled) {
      return fail("two-factor authentication is already on for " + user +
                  ". To move to a new phone, run: studio2fa enroll --replace");
    }
    return fail(offer.error().message);
  }
  return show_and_confirm(daemon, *offer, show_qr, false);
}

// "text message", "voice call" or both, of k_method_* bits.
std::string phone_ways(std::uint8_t methods)
{
  std::string ways;
  if ((methods & protocol::k_method_sms) != 0) {
    ways = "text message";
  }
  if ((methods & protocol::k_method_voice) != 0) {
    ways += ways.empty() ? "voice call" : " or voice call";
  }
  return ways;
}

// Reads a password from the terminal without echo (or a line of standard input when it is not
// a terminal).
bool ask_password(SecretBytes& password)
{
  printf("Password: ");
  fflush(stdout);
  termios saved{};
  const bool terminal = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (terminal) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  const bool read = read_line(password);
  if (terminal) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  }
  printf("\n");
  return read;
}

// Asks for a code that proves the second factor. A user with a phone may press Enter to have
// one sent: the daemon sends it only with the account's password, which is asked for then.
bool ask_proof(DaemonConnection& daemon, const std::string& user, std::uint8_t methods,
               SecretBytes& code)
{
  const std::uint8_t phone = methods & (protocol::k_method_sms | protocol::k_method_voice);
  if (phone == 0) {
    return ask_code("Code from your app, or a backup code: ", code);
  }
  daemon.close();
  if (!ask_code("Code from your app or phone, or a backup code (press Enter to get one sent): ",
                code)) {
    return false;
  }
  if (!code.view().empty()) {
    return true;
  }
  SecretBytes password;
  if (!ask_password(password)) {
    return false;
  }
  protocol::SendCodeRequest request;
  request.user = user;
  request.service = "studio2fa";
  request.password = password.view();
  auto sent = call(daemon, request);
  if (!sent) {
    fprintf(stderr, "studio2fa: %s\n", sent.error().message.c_str());
    return false;
  }
  switch (sent->result) {
  case protocol::SendCodeResult::sent:
    printf("A code was sent by %s to %.*s.\n",
           sent->channel == protocol::PhoneChannelChoice::voice ? "voice call" : "text message",
           static_cast<int>(sent->number.size()), sent->number.data());
    break;
  case protocol::SendCodeResult::refused:
    printf("No code was sent: one was sent too recently or too many were sent. Try again in %u "
           "seconds, or use the code already sent.\n",
           static_cast<unsigned>(sent->retry_after));
    break;
  case protocol::SendCodeResult::failed:
    printf("Could not send a code; use your app or a backup code.\n");
    break;
  default:
    fprintf(stderr, "studio2fa: no code was sent (%s)\n", protocol::name(sent->result));
    return false;
  }
  daemon.close();
  return ask_code("Code: ", code);
}

// Removes the number codes are sent to, once a code proves the second factor.
int phone_remove(DaemonConnection& daemon, const std::string& user)
{
  auto status = call(daemon, protocol::PhoneStatusRequest{user});
  if (!status) {
    return fail(status.error().message);
  }
  if ((status->methods & (protocol::k_method_sms | protocol::k_method_voice)) == 0 &&
      status->pending == 0) {
    return fail("no phone number is registered for " + user);
  }
  if (status->from_directory) {
    return fail("your number comes from the directory; ask your administrator to change it");
  }
  SecretBytes code;
  if (!ask_proof(daemon, user, status->methods, code)) {
    return fail("no code given; nothing changed");
  }
  auto removed = call(daemon, protocol::PhoneRemoveRequest{user, code.view()});
  if (!removed) {
    return call_failed(removed.error(), user, "nothing changed.");
  }
  if (removed->result != protocol::CodeResult::ok) {
    return code_refused(removed->result, removed->retry_after, user, "nothing changed.");
  }
  printf("The phone number is removed: no more codes are sent to it.%s\n",
         (status->methods & protocol::k_method_app) == 0
             ? " Two-factor authentication is now off: turn it on again with studio2fa enroll."
             : "");
  return 0;
}

// Registers a number for codes by text or voice: the daemon sends a code there, which the user
// types back to confirm it. A user with a second factor proves it first.
int enroll_phone(DaemonConnection& daemon, const std::string& user, const std::string& typed,
                 std::uint8_t methods)
{
  auto number = phone::parse_e164(typed);
  if (!number) {
    return fail("'" + printable(typed) + "' is not a phone number in international form: " +
                number.error().message + " (for example +447946004567)");
  }
  auto status = call(daemon, protocol::PhoneStatusRequest{user});
  if (!status) {
    return fail(status.error().message);
  }
  if (status->from_directory) {
    return fail("your number comes from the directory; ask your administrator to change it");
  }
  if (!status->self_enroll) {
    return fail("registering your own phone number is turned off here (phone_self_enroll = no, "
                "or no sender is configured); ask your administrator");
  }
  SecretBytes proof;
  if (status->methods != 0) {
    daemon.close(); // the daemon closes idle connections while a person types
    if (!ask_proof(daemon, user, status->methods, proof)) {
      return fail("no code given; nothing changed");
    }
  }
  auto sent = call(daemon, protocol::PhoneEnrollRequest{user, *number, methods, proof.view()});
  if (!sent) {
    return fail(sent.error().message);
  }
  const std::string masked(sent->number);
  switch (sent->result) {
  case protocol::PhoneEnrollResult::sent:
    break;
  case protocol::PhoneEnrollResult::bad_number:
    return fail("the daemon did not take that number; give it in international form");
  case protocol::PhoneEnrollResult::not_allowed:
    return fail("registering your own phone number is turned off here; ask your administrator");
  case protocol::PhoneEnrollResult::refused:
    return fail("no code was sent: one was sent too recently or too many were sent; try again "
                "in " + std::to_string(sent->retry_after) + " seconds");
  case protocol::PhoneEnrollResult::failed:
    return fail("could not send a code to " + masked + "; check the number, or try later");
  case protocol::PhoneEnrollResult::bad_code:
    return code_refused(protocol::CodeResult::bad_code, 0, user, "nothing changed.");
  case protocol::PhoneEnrollResult::throttled:
    return code_refused(protocol::CodeResult::throttled, sent->retry_after, user,
                        "Nothing changed.");
  case protocol::PhoneEnrollResult::locked:
    return code_refused(protocol::CodeResult::locked, 0, user, "");
  case protocol::PhoneEnrollResult::no_sender:
    return fail("this host cannot send codes by " + phone_ways(methods) +
                "; ask your administrator");
  }
  printf("A code was sent by %s to %s.\n",
         (methods & protocol::k_method_sms) != 0 ? "text message" : "voice call", masked.c_str());
  daemon.close();
  for (int attempt = 1; attempt <= k_interactive_attempts; ++attempt) {
    SecretBytes code;
    if (!ask_code("Code from the message: ", code)) {
      return fail("no code given; the number is not confirmed");
    }
    auto confirmed = call(daemon, protocol::PhoneConfirmRequest{user, code.view()});
    if (!confirmed) {
      if (confirmed.error().code == Errc::invalid) {
        fprintf(stderr, "studio2fa: that is not the code that was sent\n");
        continue;
      }
      return fail(confirmed.error().message);
    }
    switch (confirmed->result) {
    case protocol::EnrollResult::confirmed:
      printf("Codes now come by %s to %s.\n"
             "Codes sent to a phone are weaker than an app's: prefer the app where you can.\n",
             phone_ways(methods).c_str(), masked.c_str());
      return 0;
    case protocol::EnrollResult::bad_code:
      fprintf(stderr, "studio2fa: that code is not right\n");
      daemon.close();
      continue;
    case protocol::EnrollResult::expired:
    case protocol::EnrollResult::no_pending:
      return fail("the code has expired or was tried too often; run the command again");
    case protocol::EnrollResult::throttled:
      return fail("too many wrong codes; wait a while, then run the command again");
    case protocol::EnrollResult::locked:
      return code_refused(protocol::CodeResult::locked, 0, user, "");
    }
  }
  return fail("the number is not confirmed; run the command again for a new code");
}

int replace(DaemonConnection& daemon, const std::string& user, bool show_qr)
{
  SecretBytes code;
  if (!ask_code("Code from your current phone, or a backup code: ", code)) {
    return fail("no code given; nothing changed.");
  }
  auto result = call(daemon, protocol::EnrollReplaceRequest{user, code.view()});
  if (!result) {
    return call_failed(result.error(), user, "nothing changed.");
  }
  if (result->result != protocol::CodeResult::ok) {
    return code_refused(result->result, result->retry_after, user, "nothing changed.");
  }
  printf("Now set up the new phone.\n\n");
  return show_and_confirm(daemon, result->offer, show_qr, true);
}

// Creates `path` for the codes: mode 0600, and never over an existing file.
Expected<Fd> create_codes_file(const std::string& path)
{
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return make_error(path + " already exists; not overwriting it. Choose another name, or "
                               "remove it first.");
    }
    return make_error("cannot create " + path + ": " + std::strerror(errno));
  }
  if (::fchmod(fd.get(), 0600) != 0) { // whatever the umask
    return make_error("cannot set the mode of " + path + ": " + std::strerror(errno));
  }
  return fd;
}

bool write_all(int fd, std::string_view text)
{
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Whether the user has a set of backup codes that a new set would void (false when the daemon
// cannot say: then nothing is claimed about an old set).
bool has_backup_codes(DaemonConnection& daemon, const std::string& user)
{
  auto status = call(daemon, protocol::StatusRequest{user});
  return status && status->backup_codes > 0;
}

int backup_codes(DaemonConnection& daemon, const std::string& user, const std::string& output)
{
  // The file first: a set must not be made (voiding the old one) that cannot be written.
  Fd file;
  if (!output.empty()) {
    auto created = create_codes_file(output);
    if (!created) {
      return fail(created.error().message);
    }
    file = std::move(*created);
  }
  auto discard = [&] {
    if (file.valid()) {
      file.reset();
      ::unlink(output.c_str());
    }
  };
  const bool replaces_a_set = has_backup_codes(daemon, user);
  SecretBytes code;
  if (!ask_code("Code from your app: ", code)) {
    discard();
    return fail("no code given; your backup codes are unchanged.");
  }
  auto answer = call(daemon, protocol::BackupCodesRequest{user, code.view()});
  if (!answer) {
    discard();
    return call_failed(answer.error(), user, "your backup codes are unchanged.");
  }
  const protocol::BackupCodesReply& result = *answer;
  if (result.result != protocol::CodeResult::ok) {
    discard();
    return code_refused(result.result, result.retry_after, user,
                        "your backup codes are unchanged.");
  }

  SecretBytes text(64 * (result.count + 4) + user.size() + 256);
  std::size_t length = 0;
  auto append = [&](std::string_view part) {
    const std::size_t n = std::min(part.size(), text.size() - length);
    std::copy(part.begin(), part.begin() + static_cast<std::ptrdiff_t>(n), text.data() + length);
    length += n;
  };
  append("Backup codes for " + user + ", made " + format_time(time(nullptr)) + ".\n");
  append("Each works once, in place of a code from your app. Keep them somewhere safe,\n"
         "away from your phone. Making a new set voids this one.\n\n");
  for (std::size_t i = 0; i < result.count; ++i) {
    char number[8];
    snprintf(number, sizeof(number), "%2zu. ", i + 1);
    append(number);
    append(result.codes[i]);
    append("\n");
  }
  daemon.wipe_reply();
  const std::string_view written(reinterpret_cast<const char*>(text.data()), length);
  if (file.valid()) {
    if (!write_all(file.get(), written) || ::fsync(file.get()) != 0) {
      // The old set is void already: show the new one rather than lose it.
      fprintf(stderr, "studio2fa: cannot write %s: %s; here are the codes instead:\n\n",
              output.c_str(), std::strerror(errno));
      fwrite(written.data(), 1, written.size(), stdout);
      return 1;
    }
    file.reset();
    printf("Ten new backup codes are in %s (readable only by you).\n", output.c_str());
    if (replaces_a_set) {
      printf("Your old backup codes no longer work.\n");
    }
    return 0;
  }
  fwrite(written.data(), 1, written.size(), stdout);
  if (replaces_a_set) {
    printf("\nYour old backup codes no longer work.\n");
  }
  return 0;
}

int disable(DaemonConnection& daemon, const std::string& user)
{
  SecretBytes code;
  if (!ask_code("Code from your app, or a backup code: ", code)) {
    return fail("no code given; two-factor authentication stays on.");
  }
  auto result = call(daemon, protocol::DisableRequest{user, code.view()});
  if (!result) {
    return call_failed(result.error(), user, "two-factor authentication stays on.");
  }
  if (result->result != protocol::CodeResult::ok) {
    return code_refused(result->result, result->retry_after, user,
                        "two-factor authentication stays on.");
  }
  printf("Two-factor authentication is now off for %s; the secret and the backup codes are\n"
         "gone. Remove the entry from your app.\n",
         user.c_str());
  return 0;
}

int status(DaemonConnection& daemon, const std::string& user)
{
  auto answer = call(daemon, protocol::StatusRequest{user});
  if (!answer) {
    return fail(answer.error().message);
  }
  const protocol::StatusReply& status = *answer;
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
  const std::int64_t now = time(nullptr);
  if (status.pass_until != 0 && static_cast<std::int64_t>(status.pass_until) > now) {
    printf("An administrator has let you log in with your password alone until %s.\n"
           "Then turn two-factor authentication on again: studio2fa enroll\n",
           format_time(static_cast<std::int64_t>(status.pass_until)).c_str());
  } else if (status.pass_until != 0 && status.state != protocol::EnrollmentState::active) {
    printf("The temporary pass an administrator gave you ended at %s: turn two-factor\n"
           "authentication on again with: studio2fa enroll\n",
           format_time(static_cast<std::int64_t>(status.pass_until)).c_str());
  }
  printf("It is %s for %s: %s.\n", status.required ? "required" : "not required",
         user.c_str(), printable(status.reason).c_str());
  if (status.grace_until != 0 && static_cast<std::int64_t>(status.grace_until) > now) {
    printf("Turn it on before %s.\n",
           format_time(static_cast<std::int64_t>(status.grace_until)).c_str());
  } else if (status.grace_until != 0) {
    printf("Your next login will ask you to turn it on; or turn it on now with:\n"
           "studio2fa enroll\n");
  }
  if (status.state == protocol::EnrollmentState::active) {
    if (status.backup_codes == 0) {
      printf("You have no backup codes. Make a set with: studio2fa backup-codes\n");
    } else {
      printf("Backup codes left: %u.%s\n", status.backup_codes,
             status.backup_codes <= 2 ? " Make a new set soon: studio2fa backup-codes" : "");
    }
  }
  if (auto phone = call(daemon, protocol::PhoneStatusRequest{user}); phone) {
    std::string methods;
    if ((phone->methods & protocol::k_method_app) != 0) {
      methods = "authenticator app";
    }
    if (const std::string ways = phone_ways(phone->methods); !ways.empty()) {
      methods += (methods.empty() ? "" : ", ") + ways + " to " + std::string(phone->number);
    }
    if (!methods.empty()) {
      printf("Codes come from: %s.\n", methods.c_str());
    }
    if (phone->pending != 0) {
      printf("A number is waiting for the code sent to it (studio2fa enroll --sms/--voice).\n");
    }
  }
  if (status.replacing) {
    printf("A new phone is waiting for its first code (studio2fa enroll --replace); until it\n"
           "gets one, the old phone keeps working.\n");
  }
  if (status.lock != protocol::LockState::none) {
    printf("Login is locked for this account after too many wrong codes: contact your "
           "administrator.\n");
  } else if (status.retry_after > 0) {
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
    {"replace", no_argument, nullptr, 'r'},
    {"output", required_argument, nullptr, 'o'},
    {"sms", required_argument, nullptr, 'S'},
    {"voice", required_argument, nullptr, 'v'},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {nullptr, 0, nullptr, 0},
  };
  const char* socket_path = k_default_socket_path;
  std::string user;
  std::string output;
  bool show_qr = true;
  bool replacing = false;
  std::string number;
  std::uint8_t phone_methods = 0;
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
    case 'r':
    case 'o':
    case 'S':
    case 'v':
      fprintf(stderr, "studio2fa: options of a command come after it\n");
      usage(stderr);
      return 2;
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
  // "phone remove": a command of two words.
  std::string subcommand;
  if (command == "phone" && optind < argc) {
    subcommand = argv[optind++];
  }
  // Options of the command itself.
  while ((opt = getopt_long(argc, argv, "+", k_options, nullptr)) != -1) {
    if (opt == 'n' && command == "enroll") {
      show_qr = false;
    } else if (opt == 'r' && command == "enroll") {
      replacing = true;
    } else if ((opt == 'S' || opt == 'v') && command == "enroll") {
      if (!number.empty() && number != optarg) {
        fprintf(stderr, "studio2fa: --sms and --voice take the same number\n");
        return 2;
      }
      number = optarg;
      phone_methods |= opt == 'S' ? protocol::k_method_sms : protocol::k_method_voice;
    } else if (opt == 'o' && command == "backup-codes") {
      output = optarg;
      if (output.empty()) {
        fprintf(stderr, "studio2fa: --output needs a file name\n");
        return 2;
      }
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
  if (command == "enroll" && !number.empty()) {
    if (replacing) {
      fprintf(stderr, "studio2fa: --replace is for the app; --sms and --voice add a phone\n");
      return 2;
    }
    return enroll_phone(daemon, user, number, phone_methods);
  }
  if (command == "enroll") {
    return replacing ? replace(daemon, user, show_qr) : enroll(daemon, user, show_qr);
  }
  if (command == "status") {
    return status(daemon, user);
  }
  if (command == "backup-codes") {
    return backup_codes(daemon, user, output);
  }
  if (command == "disable") {
    return disable(daemon, user);
  }
  if (command == "phone") {
    if (subcommand != "remove") {
      fprintf(stderr, "studio2fa: usage: studio2fa phone remove\n");
      return 2;
    }
    return phone_remove(daemon, user);
  }
  fprintf(stderr, "studio2fa: unknown command '%s'\n", command.c_str());
  usage(stderr);
  return 2;
}
