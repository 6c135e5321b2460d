// ENROLL_BEGIN, ENROLL_PROMPT, ENROLL_CONFIRM and ENROLL_REPLACE: a new secret, from the CLI or
// inside a login, and its first code.
#include "requests.hpp"

#include "account_names.hpp"
#include "base32.hpp"
#include "enrollment_prompt.hpp"
#include "log.hpp"
#include "qr_text.hpp"

namespace studio2fa::requests {

using namespace protocol;

namespace {

// The reply fields that describe a new pending secret (ENROLL_BEGIN, ENROLL_REPLACE).
// `encoded` holds the base32 secret the reply points into.
void describe_offer(const EnrollmentOffer& offer, const SecretBytes& encoded,
                    std::string_view issuer, std::string_view account, EnrollBeginReply& out)
{
  out.secret = encoded.view();
  out.issuer = issuer;
  out.account = account;
  out.algorithm = totp::algorithm_name(offer.params.algorithm);
  out.digits = static_cast<std::uint8_t>(offer.params.digits);
  out.period = offer.params.period;
  out.expires_at = static_cast<std::uint64_t>(offer.expires_at);
}

// Makes a pending secret for ENROLL_BEGIN and ENROLL_PROMPT; when refused, the ERROR reply is
// written and the error says what to do with the connection.
Expected<EnrollmentOffer, AfterReply> begin_enrollment(RequestExchange& exchange,
                                                       std::string_view user)
{
  constexpr AfterReply k_keep = AfterReply::keep_open;
  if (!account_named(user).found) {
    return Unexpected<AfterReply>{
      exchange.error(ErrorCode::permission_denied, "no such account", k_keep)};
  }
  auto offer = exchange.authenticator().begin_enrollment(user, exchange.acting_for(user));
  if (offer) {
    return std::move(*offer);
  }
  if (offer.error().code == Errc::already_enrolled) {
    return Unexpected<AfterReply>{
      exchange.error(ErrorCode::already_enrolled,
                     "two-factor authentication is already on for this account", k_keep)};
  }
  if (offer.error().code == Errc::locked) {
    return Unexpected<AfterReply>{
      exchange.error(ErrorCode::permission_denied,
                     "login is locked for this account; contact your administrator", k_keep)};
  }
  return Unexpected<AfterReply>{exchange.internal(offer.error())};
}

} // namespace

AfterReply enroll_begin(RequestExchange& exchange, const EnrollBeginRequest& msg)
{
  auto offer = begin_enrollment(exchange, msg.user);
  if (!offer) {
    return offer.error();
  }
  SecretBytes encoded = base32::encode(offer->secret.span());
  EnrollBeginReply out;
  describe_offer(*offer, encoded, exchange.settings().issuer, msg.user, out);
  encode(out, exchange.reply());
  log::notice("enrollment started: user=%s uid=%u", log::sanitize(msg.user).c_str(),
              static_cast<unsigned>(exchange.peer().uid));
  return AfterReply::keep_open;
}

AfterReply enroll_prompt(RequestExchange& exchange, const EnrollPromptRequest& msg)
{
  auto offer = begin_enrollment(exchange, msg.user);
  if (!offer) {
    return offer.error();
  }
  SecretBytes encoded = base32::encode(offer->secret.span());
  auto lines =
    enrollment_prompt_lines(exchange.settings().issuer, msg.user, encoded.view(), offer->params);
  if (!lines) {
    return exchange.internal(lines.error());
  }
  EnrollPromptReply out;
  out.expires_at = static_cast<std::uint64_t>(offer->expires_at);
  for (const std::string& line : *lines) {
    out.lines[out.count++] = line;
  }
  const bool fits = encode(out, exchange.reply());
  wipe_lines(*lines);
  if (!fits) {
    return exchange.internal(Error{Errc::internal, "the enrollment text does not fit in one reply"});
  }
  log::notice("enrollment started inside a login: user=%s uid=%u",
              log::sanitize(msg.user).c_str(), static_cast<unsigned>(exchange.peer().uid));
  return AfterReply::keep_open;
}

AfterReply enroll_confirm(RequestExchange& exchange, const EnrollConfirmRequest& msg)
{
  auto outcome = exchange.authenticator().confirm_enrollment(msg.user, msg.code,
                                                             exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  exchange.log_outcome(outcome->result == EnrollResult::confirmed, "enrollment",
                       name(outcome->result), msg.user);
  encode(EnrollConfirmReply{outcome->result}, exchange.reply());
  return AfterReply::keep_open;
}

AfterReply enroll_replace(RequestExchange& exchange, const EnrollReplaceRequest& msg)
{
  auto outcome = exchange.authenticator().replace_enrollment(msg.user, msg.code,
                                                             exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  auto out = code_reply<EnrollReplaceReply>(outcome->code);
  SecretBytes encoded;
  if (out.result == CodeResult::ok) {
    encoded = base32::encode(outcome->offer.secret.span());
    describe_offer(outcome->offer, encoded, exchange.settings().issuer, msg.user, out.offer);
  }
  encode(out, exchange.reply());
  exchange.log_outcome(out.result == CodeResult::ok, "enrollment replacement", name(out.result),
                       msg.user);
  return AfterReply::keep_open;
}

} // namespace studio2fa::requests
