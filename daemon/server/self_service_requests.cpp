// BACKUP_CODES and DISABLE: changes to one's own second factor, each proven with a code.
#include "requests.hpp"

#include <algorithm>

namespace studio2fa::requests {

using namespace protocol;

AfterReply backup_codes(RequestExchange& exchange, const BackupCodesRequest& msg)
{
  auto outcome = exchange.authenticator().new_backup_codes(msg.user, msg.code,
                                                           exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  auto out = code_reply<BackupCodesReply>(outcome->code);
  out.count = static_cast<std::uint8_t>(std::min(outcome->codes.size(), out.codes.size()));
  for (std::size_t i = 0; i < out.count; ++i) {
    out.codes[i] = outcome->codes[i].view();
  }
  encode(out, exchange.reply());
  exchange.log_outcome(out.result == CodeResult::ok, "backup codes", name(out.result), msg.user);
  return AfterReply::keep_open;
}

AfterReply disable(RequestExchange& exchange, const DisableRequest& msg)
{
  auto outcome =
    exchange.authenticator().disable(msg.user, msg.code, exchange.acting_for(msg.user));
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  encode(code_reply<DisableReply>(*outcome), exchange.reply());
  exchange.log_outcome(outcome->result == CodeResult::ok, "two-factor authentication turned off",
                       name(outcome->result), msg.user);
  return AfterReply::keep_open;
}

} // namespace studio2fa::requests
