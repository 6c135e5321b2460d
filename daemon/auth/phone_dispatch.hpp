// Sending one login code to a user's phone: the per-user rations (PhoneCodes), the per-host cap
// (SendBudget), the message (phone_message), the gateway (a SenderPool per channel) and the
// audit row, in that order. The code's hash is committed before the message goes, under the
// user's lock; the send itself runs outside it, bounded by the pool. Called only once the
// password (or the stack's earlier modules) has been checked, so that a user name alone never
// makes the studio send a text.
#pragma once

#include "account_ledger.hpp"
#include "phone_codes.hpp"
#include "phone_message.hpp"
#include "send_budget.hpp"
#include "sender_pool.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace studio2fa {

struct PhoneSendOutcome {
  enum class Result {
    sent,     // the gateway accepted it
    refused,  // a ration refused it: nothing was sent; retry_after says when one may be
    failed,   // the gateway failed or did not answer in time: fail closed, the code is void
    no_phone, // the user has no number (or no channel for its methods is configured)
  };
  Result result = Result::no_phone;
  std::uint32_t retry_after = 0;
  // What the user is told, e.g. "A code was sent by text message to ••••••4567." (never the
  // code or the whole number).
  std::string notice;
  // With sent (and failed): the channel used and the number's mask.
  PhoneChannel channel = PhoneChannel::sms;
  std::string masked;
};

class PhoneDispatch {
public:
  // `sms` or `voice` may be null: that channel is not configured.
  PhoneDispatch(AccountLedger& ledger, const PhoneCodes& codes, SendBudget& host_budget,
                SenderPool* sms, SenderPool* voice, PhoneMessageTexts texts);

  PhoneSendOutcome send_login_code(std::string_view user, const Requester& who)
  {
    return send_code(user, PhoneCodePurpose::login, std::nullopt, who);
  }
  // A code for `purpose`: to record.phone for login, to record.pending_phone (which the caller
  // has committed) to confirm a new number. `channel`: the one to use if the number takes it;
  // none: text first, a call for numbers that take calls only.
  PhoneSendOutcome send_code(std::string_view user, PhoneCodePurpose purpose,
                             std::optional<PhoneChannel> channel, const Requester& who);

  // Whether a sender is configured for `channel`.
  bool can_send(PhoneChannel channel) const
  {
    return (channel == PhoneChannel::sms ? m_sms : m_voice) != nullptr;
  }

private:
  AccountLedger& m_ledger;
  const PhoneCodes& m_codes;
  SendBudget& m_host_budget;
  SenderPool* m_sms;
  SenderPool* m_voice;
  PhoneMessageTexts m_texts;
};

} // namespace studio2fa
