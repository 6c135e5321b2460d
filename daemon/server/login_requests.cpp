// PING, STATUS and AUTHENTICATE: what a login asks.
#include "requests.hpp"

#include "log.hpp"

namespace studio2fa::requests {

using namespace protocol;

StatusReply to_wire(const UserStatus& status)
{
  StatusReply out;
  out.state = status.state;
  out.enrolled_at = wire_time(status.enrolled_at);
  out.failures = status.failures;
  out.retry_after = status.retry_after;
  out.lock = status.lock;
  out.backup_codes = wire_backup_codes(status.backup_codes);
  out.pass_until = wire_time(status.pass_until);
  out.last_login = wire_time(status.last_login);
  out.replacing = status.replacing;
  out.required = status.required;
  out.grace_until = wire_time(status.grace_until);
  out.reason = std::string_view(status.reason).substr(0, limits::reason);
  return out;
}

AfterReply ping(RequestExchange& exchange, const PingRequest&)
{
  encode(PongReply{}, exchange.reply());
  return AfterReply::keep_open;
}

AfterReply status(RequestExchange& exchange, const StatusRequest& msg)
{
  auto status = exchange.authenticator().status(msg.user);
  if (!status) {
    return exchange.internal(status.error());
  }
  encode(to_wire(*status), exchange.reply());
  return AfterReply::keep_open;
}

std::string client_said(const PeerCredentials& peer, std::string_view text)
{
  if (peer.uid == 0 || text.empty()) {
    return std::string(text);
  }
  return "client-said:" + std::string(text);
}

AfterReply authenticate(RequestExchange& exchange, const AuthenticateRequest& msg)
{
  Requester who = exchange.acting_for(msg.user);
  who.service = client_said(exchange.peer(), msg.service);
  who.rhost = client_said(exchange.peer(), msg.rhost);
  who.tty = client_said(exchange.peer(), msg.tty);
  AuthOutcome outcome =
    exchange.authenticator().authenticate(msg.user, msg.mode, msg.password, msg.code, who);
  if (outcome.busy) {
    return exchange.error(ErrorCode::busy, "studio2fad is busy; try again in a moment",
                          AfterReply::keep_open);
  }
  auto line = outcome.result == AuthResult::success ? log::notice : log::warning;
  line("authentication %s: user=%s service=%s rhost=%s tty=%s uid=%u reason=\"%s\"",
       name(outcome.result), log::sanitize(msg.user).c_str(), log::sanitize(msg.service).c_str(),
       log::sanitize(msg.rhost).c_str(), log::sanitize(msg.tty).c_str(),
       static_cast<unsigned>(exchange.peer().uid), outcome.reason);
  AuthenticateReply out;
  out.result = outcome.result;
  out.retry_after = outcome.retry_after;
  out.factor = outcome.factor;
  out.backup_codes = wire_backup_codes(outcome.backup_codes_left);
  out.grace_until = wire_time(outcome.grace_until);
  encode(out, exchange.reply());
  return AfterReply::keep_open;
}

} // namespace studio2fa::requests
