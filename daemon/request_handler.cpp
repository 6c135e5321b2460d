#include "request_handler.hpp"

#include "base32.hpp"
#include "log.hpp"
#include "protocol.hpp"

#include <pwd.h>

#include <vector>

namespace studio2fa {

namespace {

using namespace protocol;

// The account `user` may be acted on by `peer`: root for anyone, others only for the account
// whose uid they run as.
bool authorised(const PeerCredentials& peer, std::string_view user)
{
  if (peer.uid == 0) {
    return true;
  }
  std::string name(user);
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* result = nullptr;
  return getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result) == 0 &&
         result != nullptr && pw.pw_uid == peer.uid;
}

bool account_exists(std::string_view user)
{
  std::string name(user);
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* result = nullptr;
  return getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result) == 0 &&
         result != nullptr;
}

RequestHandler::After reply_error(wire::FrameBuffer& reply, ErrorCode code, std::string_view text,
                                  RequestHandler::After after)
{
  encode(ErrorReply{code, text}, reply);
  return after;
}

const char* result_name(AuthResult result)
{
  switch (result) {
  case AuthResult::success:
    return "success";
  case AuthResult::denied:
    return "denied";
  case AuthResult::not_enrolled:
    return "not-enrolled";
  case AuthResult::throttled:
    return "throttled";
  case AuthResult::unavailable:
    return "unavailable";
  }
  return "?";
}

} // namespace

RequestHandler::RequestHandler(Authenticator& authenticator, HandlerSettings settings)
  : m_authenticator(authenticator), m_settings(std::move(settings))
{
}

RequestHandler::After RequestHandler::handle(const wire::FrameBuffer& request,
                                             const PeerCredentials& peer,
                                             wire::FrameBuffer& reply)
{
  constexpr After k_keep = After::keep_open;
  constexpr After k_close = After::close;

  switch (wire::decode_header(request)) {
  case wire::HeaderStatus::ok:
    break;
  case wire::HeaderStatus::bad_version:
    return reply_error(reply, ErrorCode::unsupported_version, "unsupported protocol version",
                       k_close);
  case wire::HeaderStatus::bad_length:
    return reply_error(reply, ErrorCode::malformed, "bad frame length", k_close);
  }
  auto payload = request.payload();
  auto malformed = [&] {
    log::warning("malformed request (type 0x%02x) from pid %d uid %u; closing", request.type(),
                 static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
    return reply_error(reply, ErrorCode::malformed, "malformed request", k_close);
  };
  auto denied = [&](const char* what, std::string_view user) {
    log::warning("permission denied: uid %u (pid %d) may not %s for user=%s",
                 static_cast<unsigned>(peer.uid), static_cast<int>(peer.pid), what,
                 log::sanitize(user).c_str());
    return reply_error(reply, ErrorCode::permission_denied,
                       "permission denied: you may only act for your own account", k_keep);
  };
  auto internal = [&](const Error& error) {
    log::error("%s", error.message.c_str());
    return reply_error(reply, ErrorCode::internal, "internal error; see the daemon's log", k_keep);
  };

  switch (static_cast<MessageType>(request.type())) {
  case MessageType::ping: {
    PingRequest msg;
    if (!decode(payload, msg)) {
      return malformed();
    }
    encode(PongReply{}, reply);
    return k_keep;
  }

  case MessageType::status: {
    StatusRequest msg;
    if (!decode(payload, msg) || msg.user.empty()) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("query status", msg.user);
    }
    auto status = m_authenticator.status(msg.user);
    if (!status) {
      return internal(status.error());
    }
    encode(StatusReply{status->state, static_cast<std::uint64_t>(status->enrolled_at),
                       status->failures, status->retry_after},
           reply);
    return k_keep;
  }

  case MessageType::authenticate: {
    AuthenticateRequest msg;
    if (!decode(payload, msg) || msg.user.empty()) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("authenticate", msg.user);
    }
    AuthOutcome outcome = m_authenticator.authenticate(msg.user, msg.mode, msg.password, msg.code);
    auto line = outcome.result == AuthResult::success ? log::notice : log::warning;
    line("authentication %s: user=%s service=%s rhost=%s tty=%s uid=%u reason=\"%s\"",
         result_name(outcome.result), log::sanitize(msg.user).c_str(),
         log::sanitize(msg.service).c_str(), log::sanitize(msg.rhost).c_str(),
         log::sanitize(msg.tty).c_str(), static_cast<unsigned>(peer.uid), outcome.reason);
    encode(AuthenticateReply{outcome.result, outcome.retry_after}, reply);
    return k_keep;
  }

  case MessageType::enroll_begin: {
    EnrollBeginRequest msg;
    if (!decode(payload, msg) || msg.user.empty()) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("enroll", msg.user);
    }
    if (!account_exists(msg.user)) {
      return reply_error(reply, ErrorCode::permission_denied, "no such account", k_keep);
    }
    auto offer = m_authenticator.begin_enrollment(msg.user);
    if (!offer) {
      if (Authenticator::is_already_enrolled(offer.error())) {
        return reply_error(reply, ErrorCode::already_enrolled,
                           "two-factor authentication is already on for this account", k_keep);
      }
      return internal(offer.error());
    }
    SecretBytes encoded = base32::encode(offer->secret.span());
    EnrollBeginReply out;
    out.secret = encoded.view();
    out.issuer = m_settings.issuer;
    out.account = msg.user;
    out.algorithm = totp::algorithm_name(offer->params.algorithm);
    out.digits = static_cast<std::uint8_t>(offer->params.digits);
    out.period = offer->params.period;
    out.expires_at = static_cast<std::uint64_t>(offer->expires_at);
    encode(out, reply);
    log::notice("enrollment started: user=%s uid=%u", log::sanitize(msg.user).c_str(),
                static_cast<unsigned>(peer.uid));
    return k_keep;
  }

  case MessageType::enroll_confirm: {
    EnrollConfirmRequest msg;
    if (!decode(payload, msg) || msg.user.empty()) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("confirm enrollment", msg.user);
    }
    auto outcome = m_authenticator.confirm_enrollment(msg.user, msg.code);
    if (!outcome) {
      return internal(outcome.error());
    }
    static const char* const k_names[] = {"confirmed", "bad-code", "expired", "no-pending",
                                          "throttled"};
    auto line = outcome->result == EnrollResult::confirmed ? log::notice : log::warning;
    line("enrollment %s: user=%s uid=%u", k_names[static_cast<int>(outcome->result)],
         log::sanitize(msg.user).c_str(), static_cast<unsigned>(peer.uid));
    encode(EnrollConfirmReply{outcome->result}, reply);
    return k_keep;
  }

  case MessageType::error:
    break;
  }
  log::warning("unknown request type 0x%02x from pid %d uid %u", request.type(),
               static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
  return reply_error(reply, ErrorCode::unknown_type, "unknown request type", k_close);
}

} // namespace studio2fa
