// PHONE_STATUS, SEND_CODE, PHONE_ENROLL, PHONE_CONFIRM and PHONE_REMOVE: codes by text message
// and voice call.
#include "requests.hpp"

#include "log.hpp"

namespace studio2fa::requests {

using namespace protocol;

namespace {

PhoneChannelChoice wire_channel(PhoneChannel channel)
{
  return channel == PhoneChannel::voice ? PhoneChannelChoice::voice : PhoneChannelChoice::sms;
}

} // namespace

AfterReply phone_status(RequestExchange& exchange, const PhoneStatusRequest& msg)
{
  auto status = exchange.authenticator().phone_status(msg.user);
  if (!status) {
    return exchange.internal(status.error());
  }
  PhoneStatusReply out;
  out.methods = status->methods;
  out.number = status->masked;
  out.self_enroll = status->self_enroll;
  out.from_directory = status->from_directory;
  out.pending = status->pending;
  encode(out, exchange.reply());
  return AfterReply::keep_open;
}

AfterReply send_code(RequestExchange& exchange, const SendCodeRequest& msg)
{
  Requester who = exchange.acting_for(msg.user);
  who.service = client_said(exchange.peer(), msg.service);
  who.rhost = client_said(exchange.peer(), msg.rhost);
  who.tty = client_said(exchange.peer(), msg.tty);
  std::optional<PhoneChannel> channel;
  if (msg.channel != PhoneChannelChoice::any) {
    channel = msg.channel == PhoneChannelChoice::voice ? PhoneChannel::voice : PhoneChannel::sms;
  }
  const SendCodeOutcome outcome =
      exchange.authenticator().send_code(msg.user, msg.password, channel, who);
  if (outcome.busy) {
    return exchange.error(ErrorCode::busy, "studio2fad is busy; try again in a moment",
                          AfterReply::keep_open);
  }
  auto line = outcome.result == SendCodeResult::sent ? log::notice : log::warning;
  line("send code %s: user=%s service=%s rhost=%s uid=%u reason=\"%s\"", name(outcome.result),
       log::sanitize(msg.user).c_str(), log::sanitize(msg.service).c_str(),
       log::sanitize(msg.rhost).c_str(), static_cast<unsigned>(exchange.peer().uid),
       outcome.reason);
  SendCodeReply out;
  out.result = outcome.result;
  out.retry_after = outcome.retry_after;
  if (outcome.result == SendCodeResult::sent) {
    out.channel = wire_channel(outcome.channel);
    out.number = outcome.masked;
  }
  encode(out, exchange.reply());
  return AfterReply::keep_open;
}

AfterReply phone_enroll(RequestExchange& exchange, const PhoneEnrollRequest& msg)
{
  auto outcome = exchange.authenticator().phone_enroll(msg.user, msg.number, msg.methods, msg.code,
                                                       exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  exchange.log_outcome(outcome->result == PhoneEnrollResult::sent, "phone enrollment",
                       name(outcome->result), msg.user);
  PhoneEnrollReply out;
  out.result = outcome->result;
  out.retry_after = outcome->retry_after;
  out.number = outcome->masked;
  out.expires_at = wire_time(outcome->expires_at);
  encode(out, exchange.reply());
  return AfterReply::keep_open;
}

AfterReply phone_confirm(RequestExchange& exchange, const PhoneConfirmRequest& msg)
{
  auto outcome =
      exchange.authenticator().phone_confirm(msg.user, msg.code, exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  exchange.log_outcome(outcome->result == EnrollResult::confirmed, "phone confirmation",
                       name(outcome->result), msg.user);
  encode(PhoneConfirmReply{outcome->result}, exchange.reply());
  return AfterReply::keep_open;
}

AfterReply phone_remove(RequestExchange& exchange, const PhoneRemoveRequest& msg)
{
  auto outcome =
      exchange.authenticator().phone_remove(msg.user, msg.code, exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  encode(code_reply<PhoneRemoveReply>(*outcome), exchange.reply());
  exchange.log_outcome(outcome->result == CodeResult::ok, "phone number removal",
                       name(outcome->result), msg.user);
  return AfterReply::keep_open;
}

} // namespace studio2fa::requests
