// pam_studio2fa.so: asks for the password, then the verification code (or for both in one
// answer), and lets studio2fad decide. See pam_studio2fa(8).
//
// This code runs inside sshd, login, sudo and screen lockers. It is built without exceptions or
// RTTI and linked without libstdc++, allocates nothing that outlives a call, never sees a TOTP
// secret, and wipes every password and code it held before returning.
#include "client.hpp"
#include "conversation.hpp"
#include "module_args.hpp"
#include "protocol.hpp"
#include "secure_memory.hpp"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

namespace studio2fa {

namespace {

constexpr const char* k_password_prompt = "Password: ";
constexpr const char* k_code_prompt = "Verification code: ";
constexpr const char* k_combined_prompt = "Password and verification code: ";
constexpr const char* k_unavailable_message =
    "Two-factor authentication is not available right now. Contact your administrator.";
constexpr const char* k_busy_message =
    "Two-factor authentication is busy right now. Try again in a moment.";
constexpr const char* k_locked_message =
    "Login is locked for this account. Contact your administrator.";
constexpr const char* k_enrolled_message =
    "Two-factor authentication is now on for this account. Use a code from the app at every login.";
constexpr const char* k_password_as_code_message =
    "The code prompt was answered with the password, so no code was checked. SSH does this when "
    "it asks for the password alone: the administrator must turn on keyboard-interactive "
    "authentication in sshd_config (KbdInteractiveAuthentication yes, AuthenticationMethods "
    "keyboard-interactive).";
constexpr const char* k_could_not_send = "Could not send a code; use your app or a backup code.";
constexpr unsigned k_few_backup_codes = 2;
constexpr int k_enrollment_attempts = 3;

const char* item_string(pam_handle_t* pamh, int item)
{
  const void* value = nullptr;
  if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == nullptr) {
    return "";
  }
  return static_cast<const char*>(value);
}

// The answer to the single prompt, split into the password and the code appended to it. Both
// parts live on the stack and are wiped when it goes away.
class CombinedAnswer {
public:
  CombinedAnswer() = default;
  CombinedAnswer(const CombinedAnswer&) = delete;
  CombinedAnswer& operator=(const CombinedAnswer&) = delete;
  ~CombinedAnswer()
  {
    secure_wipe(m_password, sizeof(m_password));
    secure_wipe(m_code, sizeof(m_code));
  }

  // Takes the last `digits` characters of `answer` as the code and the rest as the password.
  // Only that one split is tried: trying several lengths would give several guesses per attempt.
  // Returns false, keeping nothing, unless they are all digits after a non-empty password that
  // fits the protocol.
  bool split(const char* answer, std::size_t digits)
  {
    std::size_t length = strnlen(answer, protocol::limits::password + digits + 1);
    if (length <= digits || length - digits > protocol::limits::password) {
      return false;
    }
    std::size_t password_length = length - digits;
    for (std::size_t i = password_length; i < length; ++i) {
      if (answer[i] < '0' || answer[i] > '9') {
        return false;
      }
    }
    memcpy(m_password, answer, password_length);
    m_password[password_length] = '\0';
    memcpy(m_code, answer + password_length, digits);
    m_code[digits] = '\0';
    return true;
  }

  const char* password() const { return m_password; }
  const char* code() const { return m_code; }

private:
  char m_password[protocol::limits::password + 1] = {};
  char m_code[protocol::limits::code + 1] = {};
};

class Login {
public:
  Login(pam_handle_t* pamh, int flags, const ModuleArgs& args, const char* user)
      : m_pamh(pamh), m_flags(flags), m_args(args), m_user(user)
  {
  }

  int run()
  {
    // One question decides the prompts: PHONE_STATUS says which second factors the user has
    // (none: not enrolled). A daemon that answers it otherwise (an older one: unknown_type) is
    // asked STATUS, and an enrolled user taken to have the app alone.
    bool answered = false;
    if (int rc = query_methods(m_methods, answered); rc != PAM_SUCCESS) {
      return rc;
    }
    if (!answered) {
      protocol::StatusReply status;
      if (int rc = query_status(status); rc != PAM_SUCCESS) {
        return rc;
      }
      m_methods = status.state == protocol::EnrollmentState::active ? protocol::k_method_app : 0;
    }
    bool enrolled = m_methods != 0;
    if (m_args.debug) {
      pam_syslog(m_pamh, LOG_DEBUG, "user %s is %s", m_user,
                 enrolled ? "enrolled" : "not enrolled");
    }

    if (m_args.otp_only) {
      if (!enrolled) {
        // Nothing to add to what the earlier modules decided, unless the policy makes this user
        // enroll now: the daemon says which.
        return authenticate(protocol::AuthMode::code_only, "", "");
      }
      // The earlier modules checked the password: a code may be sent now (root's request).
      Answer code;
      if (int rc = ask_code("", code); rc != PAM_SUCCESS) {
        return rc;
      }
      if (answered_with_password(code.get())) {
        return PAM_AUTH_ERR;
      }
      return authenticate(protocol::AuthMode::code_only, "", code.get());
    }
    if (m_args.single_prompt) {
      return run_single_prompt(enrolled);
    }

    // pam_get_authtok honours use_first_pass / try_first_pass and stores what was typed as
    // PAM_AUTHTOK for the modules stacked after this one.
    const char* password = nullptr;
    int rc = pam_get_authtok(m_pamh, PAM_AUTHTOK, &password, k_password_prompt);
    if (rc != PAM_SUCCESS) {
      return rc;
    }
    if (password == nullptr) {
      return PAM_AUTH_ERR;
    }
    if (!enrolled) {
      return authenticate(protocol::AuthMode::password_only, password, "");
    }
    // The code is asked for whatever the password was, and the answer does not say which was
    // wrong: a password cannot be confirmed without the second factor.
    Answer code;
    if (rc = ask_code(password, code); rc != PAM_SUCCESS) {
      return rc;
    }
    if (answered_with_password(code.get())) {
      return PAM_AUTH_ERR;
    }
    return authenticate(protocol::AuthMode::password_and_code, password, code.get());
  }

private:
  // Asks for the code. A user with a phone only is sent one first (the daemon sends it only when
  // `password` is right, or, empty, when root asks after the stack's earlier modules); a user
  // with an app and a phone is told that an empty answer (or "sms", "voice") sends one, and is
  // asked again after it went. Whatever became of a sending, a code is asked for: a backup code
  // works, and the answer never tells whether the password was right.
  int ask_code(const char* password, Answer& code)
  {
    const std::uint8_t methods = m_methods;
    const std::uint8_t phone = methods & (protocol::k_method_sms | protocol::k_method_voice);
    if (phone == 0) {
      return prompt_hidden(m_pamh, k_code_prompt, code);
    }
    if ((methods & protocol::k_method_app) == 0) {
      if (int rc = send_code(password, protocol::PhoneChannelChoice::any); rc != PAM_SUCCESS) {
        return rc;
      }
      return prompt_hidden(m_pamh, k_code_prompt, code);
    }
    const bool texts = (phone & protocol::k_method_sms) != 0;
    const char* offer = texts ? "Verification code (press Enter to get one by text message): "
                              : "Verification code (press Enter to get one by voice call): ";
    if (int rc = prompt_hidden(m_pamh, offer, code); rc != PAM_SUCCESS) {
      return rc;
    }
    protocol::PhoneChannelChoice channel = protocol::PhoneChannelChoice::any;
    if (strcmp(code.get(), "sms") == 0 || strcmp(code.get(), "text") == 0) {
      channel = protocol::PhoneChannelChoice::sms;
    } else if (strcmp(code.get(), "voice") == 0 || strcmp(code.get(), "call") == 0) {
      channel = protocol::PhoneChannelChoice::voice;
    } else if (code.get()[0] != '\0') {
      return PAM_SUCCESS;
    }
    if (int rc = send_code(password, channel); rc != PAM_SUCCESS) {
      return rc;
    }
    Answer again;
    if (int rc = prompt_hidden(m_pamh, k_code_prompt, again); rc != PAM_SUCCESS) {
      return rc;
    }
    code.swap(again);
    return PAM_SUCCESS;
  }

  // The k_method_* bits of the user's second factors (0: none, not enrolled), asked with
  // PHONE_STATUS. `answered` stays false when the daemon answered something else (an older
  // daemon's ERROR unknown_type, busy, an internal error): the caller asks STATUS then, whose
  // errors the user is told. A daemon that cannot be reached ends the login here.
  int query_methods(std::uint8_t& methods, bool& answered)
  {
    answered = false;
    if (!protocol::encode(protocol::PhoneStatusRequest{m_user}, m_request)) {
      return PAM_SUCCESS;
    }
    ClientError error = m_client.connect(m_args.socket_path, m_args.timeout_ms);
    if (error == ClientError::none) {
      error = m_client.call(m_request, m_reply, /*last=*/true);
    }
    m_client.close();
    m_request.wipe();
    if (error != ClientError::none) {
      return unavailable(error);
    }
    protocol::PhoneStatusReply status;
    if (m_reply.type() == protocol::reply_type(protocol::MessageType::phone_status) &&
        protocol::decode(m_reply.payload(), status)) {
      methods = status.methods;
      answered = true;
    }
    return PAM_SUCCESS;
  }

  // Asks the daemon to send a code and tells the user what became of it. PAM_SUCCESS unless the
  // login must end here (locked, throttled, the daemon unreachable).
  int send_code(const char* password, protocol::PhoneChannelChoice channel)
  {
    protocol::SendCodeRequest request;
    request.user = m_user;
    request.service = item_string(m_pamh, PAM_SERVICE);
    request.rhost = item_string(m_pamh, PAM_RHOST);
    request.tty = item_string(m_pamh, PAM_TTY);
    request.password = password;
    request.channel = channel;
    if (!protocol::encode(request, m_request)) {
      m_request.wipe();
      return PAM_SUCCESS; // an over-long password: the code prompt follows and fails
    }
    if (int rc = exchange(protocol::MessageType::send_code); rc != PAM_SUCCESS) {
      return rc;
    }
    protocol::SendCodeReply reply;
    if (!protocol::decode(m_reply.payload(), reply)) {
      return unavailable(ClientError::protocol);
    }
    char message[200];
    switch (reply.result) {
    case protocol::SendCodeResult::sent:
      snprintf(message, sizeof(message), "A code was sent by %s to %.*s.",
               reply.channel == protocol::PhoneChannelChoice::voice ? "voice call" : "text message",
               static_cast<int>(reply.number.size()), reply.number.data());
      tell(m_pamh, m_flags, message);
      return PAM_SUCCESS;
    case protocol::SendCodeResult::refused:
      snprintf(message, sizeof(message),
               "No code was sent: one was sent too recently or too many were sent. Try again "
               "in %u seconds, or use the code already sent, your app or a backup code.",
               static_cast<unsigned>(reply.retry_after));
      tell_error(m_pamh, m_flags, message);
      return PAM_SUCCESS;
    case protocol::SendCodeResult::failed:
      pam_syslog(m_pamh, LOG_ERR, "studio2fad could not send a code to %s's phone", m_user);
      tell_error(m_pamh, m_flags, k_could_not_send);
      return PAM_SUCCESS;
    case protocol::SendCodeResult::throttled:
      return tell_throttled(reply.retry_after);
    case protocol::SendCodeResult::locked:
      tell_error(m_pamh, m_flags, k_locked_message);
      return PAM_MAXTRIES;
    case protocol::SendCodeResult::unavailable:
      tell_error(m_pamh, m_flags, k_unavailable_message);
      return PAM_AUTHINFO_UNAVAIL;
    case protocol::SendCodeResult::denied:   // a wrong password: the code prompt follows
    case protocol::SendCodeResult::no_phone: // an app code or a backup code may still come
      break;
    }
    return PAM_SUCCESS;
  }

  // Whether the answer to a code prompt is the password just given (PAM_AUTHTOK, stored by this
  // module or an earlier one). sshd's password authentication, and any application that answers
  // every hidden prompt with the same text, does that: it is no code, and sent as one it would
  // count as a wrong code (or backup code) and soon lock the account. Such an answer is not
  // sent; the user is told, and the log says what to change.
  bool answered_with_password(const char* answer)
  {
    const char* password = item_string(m_pamh, PAM_AUTHTOK);
    if (password[0] == '\0' || !same_text(answer, password, protocol::limits::password)) {
      return false;
    }
    pam_syslog(m_pamh, LOG_WARNING,
               "the answer to the code prompt for %s (service %s) was the password; it was not "
               "checked as a code. The application answers every prompt with the password "
               "(sshd with PasswordAuthentication does): for sshd set "
               "KbdInteractiveAuthentication yes and AuthenticationMethods "
               "keyboard-interactive, see pam_studio2fa(8)",
               m_user, item_string(m_pamh, PAM_SERVICE));
    tell_error(m_pamh, m_flags, k_password_as_code_message);
    return true;
  }

  // One hidden answer: the password with the code appended; for a user who is not enrolled, the
  // password alone.
  int run_single_prompt(bool enrolled)
  {
    const char* answer = nullptr;
    int rc = pam_get_authtok(m_pamh, PAM_AUTHTOK, &answer, k_combined_prompt);
    if (rc != PAM_SUCCESS) {
      return rc;
    }
    if (answer == nullptr) {
      return PAM_AUTH_ERR;
    }
    if (!enrolled) {
      return authenticate(protocol::AuthMode::password_only, answer, "");
    }
    CombinedAnswer combined;
    if (!combined.split(answer, static_cast<std::size_t>(m_args.code_digits))) {
      // Refused without asking the daemon: the same failure as a wrong answer, and no attempt
      // is spent on something that cannot be right.
      if (m_args.debug) {
        pam_syslog(m_pamh, LOG_DEBUG, "the answer for %s does not end in %d digits", m_user,
                   m_args.code_digits);
      }
      return PAM_AUTH_ERR;
    }
    // The modules stacked after this one (pam_gnome_keyring, for one) need the password alone.
    // libpam keeps its own copy and wipes the combined answer it replaces.
    if (rc = pam_set_item(m_pamh, PAM_AUTHTOK, combined.password()); rc != PAM_SUCCESS) {
      return rc;
    }
    return authenticate(protocol::AuthMode::password_and_code, combined.password(),
                        combined.code());
  }

  // Too many wrong codes: the user is told how long to wait.
  int tell_throttled(std::uint32_t retry_after)
  {
    char message[160];
    snprintf(message, sizeof(message), "Too many wrong codes. Wait %u seconds before trying again.",
             static_cast<unsigned>(retry_after));
    tell_error(m_pamh, m_flags, message);
    return PAM_AUTH_ERR;
  }

  int unavailable(ClientError error)
  {
    pam_syslog(m_pamh, LOG_ERR, "cannot reach studio2fad at %s: %s", m_args.socket_path,
               describe(error));
    tell_error(m_pamh, m_flags, k_unavailable_message);
    return PAM_AUTHINFO_UNAVAIL;
  }

  // Connects, sends `m_request`, reads into `m_reply` and disconnects; returns PAM_SUCCESS when
  // the reply has the expected type, a failure status (after logging) otherwise. A connection
  // is never held open while the user types: that may take longer than the daemon's
  // idle_timeout, and holding it would cost the daemon a connection per pending login.
  int exchange(protocol::MessageType type)
  {
    ClientError error = m_client.connect(m_args.socket_path, m_args.timeout_ms);
    if (error == ClientError::none) {
      error = m_client.call(m_request, m_reply, /*last=*/true);
    }
    m_client.close();
    m_request.wipe();
    if (error != ClientError::none) {
      return unavailable(error);
    }
    if (m_reply.type() == protocol::reply_type(type)) {
      return PAM_SUCCESS;
    }
    protocol::ErrorReply failure;
    if (m_reply.type() == static_cast<std::uint8_t>(protocol::MessageType::error) &&
        protocol::decode(m_reply.payload(), failure)) {
      char message[protocol::limits::text + 1];
      snprintf(message, sizeof(message), "%.*s", static_cast<int>(failure.message.size()),
               failure.message.data());
      pam_syslog(m_pamh, LOG_ERR, "studio2fad refused the request for %s: %s", m_user, message);
      if (failure.code == protocol::ErrorCode::permission_denied) {
        return PAM_AUTH_ERR;
      }
      if (failure.code == protocol::ErrorCode::busy) {
        tell_error(m_pamh, m_flags, k_busy_message);
        return PAM_AUTHINFO_UNAVAIL;
      }
      tell_error(m_pamh, m_flags, k_unavailable_message);
      return PAM_AUTHINFO_UNAVAIL;
    }
    return unavailable(ClientError::protocol);
  }

  int query_status(protocol::StatusReply& status)
  {
    if (!protocol::encode(protocol::StatusRequest{m_user}, m_request)) {
      pam_syslog(m_pamh, LOG_ERR, "user name too long");
      return PAM_USER_UNKNOWN;
    }
    if (int rc = exchange(protocol::MessageType::status); rc != PAM_SUCCESS) {
      return rc;
    }
    if (!protocol::decode(m_reply.payload(), status)) {
      return unavailable(ClientError::protocol);
    }
    return PAM_SUCCESS;
  }

  int authenticate(protocol::AuthMode mode, const char* password, const char* code)
  {
    protocol::AuthenticateRequest request;
    request.user = m_user;
    request.service = item_string(m_pamh, PAM_SERVICE);
    request.rhost = item_string(m_pamh, PAM_RHOST);
    request.tty = item_string(m_pamh, PAM_TTY);
    request.mode = mode;
    request.password = password;
    request.code = code;
    if (!protocol::encode(request, m_request)) {
      // Only an over-long password, code or item gets here: a wrong answer, not an outage.
      m_request.wipe();
      return PAM_AUTH_ERR;
    }
    if (int rc = exchange(protocol::MessageType::authenticate); rc != PAM_SUCCESS) {
      return rc;
    }
    protocol::AuthenticateReply reply;
    if (!protocol::decode(m_reply.payload(), reply)) {
      return unavailable(ClientError::protocol);
    }
    switch (reply.result) {
    case protocol::AuthResult::success:
      if (reply.factor == protocol::SecondFactor::backup_code) {
        tell_backup_codes_left(reply.backup_codes);
      }
      if (reply.grace_until != 0) {
        tell_grace(reply.grace_until);
      }
      return PAM_SUCCESS;
    case protocol::AuthResult::enroll_required:
      // The password is right (or earlier modules checked it) and the policy requires a second
      // factor that the account does not have yet: enroll now, or no login.
      return enroll_inline();
    case protocol::AuthResult::locked:
      // The same words for a locked second factor and a locked account: which factor failed is
      // never said.
      tell_error(m_pamh, m_flags, k_locked_message);
      return PAM_MAXTRIES;
    case protocol::AuthResult::not_enrolled:
      if (reply.grace_until != 0) {
        tell_grace(reply.grace_until);
      }
      return PAM_IGNORE;
    case protocol::AuthResult::throttled:
      return tell_throttled(reply.retry_after);
    case protocol::AuthResult::unavailable:
      tell_error(m_pamh, m_flags, k_unavailable_message);
      return PAM_AUTHINFO_UNAVAIL;
    case protocol::AuthResult::denied:
      break;
    }
    return PAM_AUTH_ERR;
  }

  // During the grace period: how long is left and what to do.
  void tell_grace(std::uint64_t grace_until)
  {
    const time_t now = time(nullptr);
    const std::uint64_t left = grace_until > static_cast<std::uint64_t>(now)
                                   ? grace_until - static_cast<std::uint64_t>(now)
                                   : 0;
    // To the nearest day or hour: a grace period that began a second ago still has its days
    // (2 days 23:59:59 reads "3 days", not "2").
    char when[64];
    if (left >= 2 * 86400) {
      snprintf(when, sizeof(when), "%llu days",
               static_cast<unsigned long long>((left + 43200) / 86400));
    } else if (left >= 2 * 3600) {
      snprintf(when, sizeof(when), "%llu hours",
               static_cast<unsigned long long>((left + 1800) / 3600));
    } else {
      snprintf(when, sizeof(when), "%llu minutes",
               static_cast<unsigned long long>((left + 59) / 60));
    }
    char message[320];
    snprintf(message, sizeof(message),
             "Two-factor authentication is required for this account. You have %s left to set "
             "it up: run 'studio2fa enroll'. After that, login will ask you to do it first.",
             when);
    tell(m_pamh, m_flags, message);
  }

  // Enrollment inside the login: the daemon makes a pending secret and the text that shows it
  // (a QR code, the key, the otpauth URI); this module relays the lines, then asks for the first
  // code, which confirms it. The lines hold the secret: their buffers are wiped.
  int enroll_inline()
  {
    if ((m_flags & PAM_SILENT) != 0) {
      pam_syslog(m_pamh, LOG_NOTICE,
                 "%s must enroll first, but the application asked for "
                 "silence; refusing the login",
                 m_user);
      return PAM_AUTH_ERR;
    }
    if (!protocol::encode(protocol::EnrollPromptRequest{m_user}, m_request)) {
      return PAM_USER_UNKNOWN;
    }
    if (int rc = exchange(protocol::MessageType::enroll_prompt); rc != PAM_SUCCESS) {
      return rc;
    }
    protocol::EnrollPromptReply prompt;
    if (!protocol::decode(m_reply.payload(), prompt)) {
      m_reply.wipe();
      return unavailable(ClientError::protocol);
    }
    // Each line NUL-terminated in one buffer.
    char text[wire::k_max_frame];
    const char* lines[protocol::k_max_display_lines];
    std::size_t used = 0;
    for (std::size_t i = 0; i < prompt.count; ++i) {
      const std::string_view line = prompt.lines[i];
      if (used + line.size() + 1 > sizeof(text)) {
        prompt.count = static_cast<std::uint8_t>(i);
        break;
      }
      memcpy(text + used, line.data(), line.size());
      text[used + line.size()] = '\0';
      lines[i] = text + used;
      used += line.size() + 1;
    }
    const std::uint64_t expires_at = prompt.expires_at;
    m_reply.wipe();
    int rc = show_lines(m_pamh, lines, prompt.count);
    secure_wipe(text, used);
    if (rc != PAM_SUCCESS) {
      return rc;
    }
    tell_key_validity(expires_at);
    for (int attempt = 1; attempt <= k_enrollment_attempts; ++attempt) {
      Answer code;
      if (rc = prompt_hidden(m_pamh, k_code_prompt, code); rc != PAM_SUCCESS) {
        return rc;
      }
      if (answered_with_password(code.get())) {
        return PAM_AUTH_ERR;
      }
      if (!protocol::encode(protocol::EnrollConfirmRequest{m_user, code.get()}, m_request)) {
        m_request.wipe();
        tell_error(m_pamh, m_flags, "That is not a code from the app.");
        continue;
      }
      if (rc = exchange(protocol::MessageType::enroll_confirm); rc != PAM_SUCCESS) {
        return rc;
      }
      protocol::EnrollConfirmReply confirmed;
      if (!protocol::decode(m_reply.payload(), confirmed)) {
        return unavailable(ClientError::protocol);
      }
      switch (confirmed.result) {
      case protocol::EnrollResult::confirmed:
        tell(m_pamh, m_flags, k_enrolled_message);
        return PAM_SUCCESS;
      case protocol::EnrollResult::bad_code:
        if (attempt < k_enrollment_attempts) {
          tell_error(m_pamh, m_flags, "That code is not right. Check the app and try again.");
        }
        continue;
      case protocol::EnrollResult::locked:
        tell_error(m_pamh, m_flags, k_locked_message);
        return PAM_MAXTRIES;
      case protocol::EnrollResult::throttled:
        tell_error(m_pamh, m_flags, "Too many wrong codes. Wait a while, then log in again.");
        return PAM_AUTH_ERR;
      case protocol::EnrollResult::expired:
      case protocol::EnrollResult::no_pending:
        tell_error(m_pamh, m_flags, "The new key has expired. Log in again to get another.");
        return PAM_AUTH_ERR;
      }
      return PAM_AUTH_ERR;
    }
    tell_error(m_pamh, m_flags,
               "That code is not right either. Log in again to try again: the same key is shown "
               "until it expires.");
    pam_syslog(m_pamh, LOG_NOTICE, "enrollment of %s inside the login was not confirmed", m_user);
    return PAM_AUTH_ERR;
  }

  // How long the key just shown stays valid: the daemon shows the same one at every login (and
  // to 'studio2fa enroll') until then, so a key scanned in a login that ended still works.
  void tell_key_validity(std::uint64_t expires_at)
  {
    const std::uint64_t now = static_cast<std::uint64_t>(time(nullptr));
    const unsigned long long minutes = expires_at > now ? (expires_at - now + 59) / 60 : 0;
    char message[240];
    snprintf(message, sizeof(message),
             "This key stays valid for %llu more minute%s: if this login ends before a code "
             "confirms it, log in again within that time and the same key is shown.",
             minutes, minutes == 1 ? "" : "s");
    tell(m_pamh, m_flags, message);
  }

  // After a backup code: how many are left, with a warning when few are.
  void tell_backup_codes_left(unsigned left)
  {
    char message[200];
    if (left == 0) {
      snprintf(message, sizeof(message),
               "Backup code accepted. That was your last one: make a new set with "
               "'studio2fa backup-codes'.");
    } else if (left <= k_few_backup_codes) {
      snprintf(message, sizeof(message),
               "Backup code accepted. Only %u backup code%s left: make a new set with "
               "'studio2fa backup-codes'.",
               left, left == 1 ? "" : "s");
    } else {
      snprintf(message, sizeof(message), "Backup code accepted. %u backup codes left.", left);
    }
    tell(m_pamh, m_flags, message);
  }

  pam_handle_t* m_pamh;
  int m_flags;
  const ModuleArgs& m_args;
  const char* m_user;
  std::uint8_t m_methods = 0; // k_method_* bits of the user's second factors
  Client m_client;
  wire::FrameBuffer m_request;
  wire::FrameBuffer m_reply;
};

int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
  ModuleArgs args;
  const char* bad = nullptr;
  if (!parse_module_args(argc, argv, args, &bad)) {
    pam_syslog(pamh, LOG_ERR, "unknown or malformed option '%s'; refusing to authenticate", bad);
    return PAM_SERVICE_ERR;
  }
  const char* user = nullptr;
  int rc = pam_get_user(pamh, &user, nullptr);
  if (rc != PAM_SUCCESS) {
    return rc;
  }
  if (user == nullptr || user[0] == '\0') {
    return PAM_USER_UNKNOWN;
  }
  Login login(pamh, flags, args, user);
  return login.run();
}

} // namespace

} // namespace studio2fa

extern "C" {

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags,
                                                               int argc, const char** argv)
{
  return studio2fa::authenticate(pamh, flags, argc, argv);
}

__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t*, int, int, const char**)
{
  return PAM_SUCCESS;
}

} // extern "C"
