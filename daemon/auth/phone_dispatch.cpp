#include "phone_dispatch.hpp"

#include "log.hpp"
#include "phone_number.hpp"

namespace studio2fa {

namespace {

constexpr const char* k_action = "phone-code";
constexpr const char* k_could_not_send = "could not send a code; use your app or a backup code";

std::string wait_notice(const char* why, std::uint32_t seconds)
{
  return std::string("No code was sent: ") + why + ". Try again in " + std::to_string(seconds) +
         " seconds, or use your app or a backup code.";
}

} // namespace

PhoneDispatch::PhoneDispatch(AccountLedger& ledger, const PhoneCodes& codes,
                             SendBudget& host_budget, SenderPool* sms, SenderPool* voice,
                             PhoneMessageTexts texts)
    : m_ledger(ledger), m_codes(codes), m_host_budget(host_budget), m_sms(sms), m_voice(voice),
      m_texts(std::move(texts))
{
}

PhoneSendOutcome PhoneDispatch::send_code(std::string_view user, PhoneCodePurpose purpose,
                                          std::optional<PhoneChannel> channel, const Requester& who)
{
  const bool login = purpose == PhoneCodePurpose::login;
  PhoneSendOutcome outcome;
  auto audited = [&](const char* result, const std::string& detail) {
    m_ledger.record(m_ledger.event(who, k_action, user, result, detail));
    return outcome;
  };

  OutgoingCode outgoing;
  SenderPool* pool = nullptr;
  std::int64_t sent_at = 0;
  {
    auto held = m_ledger.lock(user);
    auto loaded = m_ledger.load(user);
    if (!loaded) {
      log::error("store: %s", loaded.error().message.c_str());
      outcome.result = PhoneSendOutcome::Result::failed;
      outcome.notice = k_could_not_send;
      return audited("failed", "store error");
    }
    const bool has_number =
        loaded->has_value() && (login ? (*loaded)->has_phone() : !(*loaded)->pending_phone.empty());
    if (!has_number) {
      return audited("no_phone", "no phone number");
    }
    UserRecord& record = **loaded;
    const std::uint8_t methods = login ? record.phone_methods : record.pending_phone_methods;
    // Text first: a call is for those who asked for calls only, or who ask for one now.
    bool sms = (methods & k_phone_sms) != 0 && m_sms != nullptr;
    bool voice = (methods & k_phone_voice) != 0 && m_voice != nullptr;
    if (channel && (*channel == PhoneChannel::sms ? sms : voice)) {
      sms = *channel == PhoneChannel::sms;
      voice = !sms;
    }
    if (!sms && !voice) {
      return audited("no_phone", "no sender configured for the number's methods");
    }
    outgoing.channel = sms ? PhoneChannel::sms : PhoneChannel::voice;
    pool = sms ? m_sms : m_voice;
    const std::string& number = login ? record.phone : record.pending_phone;
    outcome.channel = outgoing.channel;
    outcome.masked = phone::mask(number);

    const std::int64_t now = m_ledger.now();
    auto issued = m_codes.issue(record, purpose, now);
    if (!issued) {
      log::error("%s", issued.error().message.c_str());
      outcome.result = PhoneSendOutcome::Result::failed;
      outcome.notice = k_could_not_send;
      return audited("failed", "no code made");
    }
    if (issued->refused()) {
      outcome.result = PhoneSendOutcome::Result::refused;
      outcome.retry_after = issued->retry_after;
      outcome.notice = wait_notice(issued->refusal, issued->retry_after);
      return audited("refused", issued->refusal);
    }
    if (const std::uint32_t wait = m_host_budget.take(now); wait != 0) {
      outcome.result = PhoneSendOutcome::Result::refused;
      outcome.retry_after = wait;
      outcome.notice =
          wait_notice("this computer has sent as many codes as it may this hour", wait);
      return audited("refused", "the host's hourly cap on codes sent");
    }
    // The hash is on disk before the message goes: a code that reached the phone can be checked
    // by every host, and one sent again voids it.
    if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "issued",
                                                            std::string("code made for ") +
                                                                name(outgoing.channel) + ", " +
                                                                outcome.masked));
        !saved) {
      log::error("store: %s", saved.error().message.c_str());
      m_host_budget.give_back(now);
      outcome.result = PhoneSendOutcome::Result::failed;
      outcome.notice = k_could_not_send;
      return outcome;
    }
    outgoing.number = number;
    outgoing.message = compose_message(m_texts, outgoing.channel, issued->code.view(),
                                       (m_codes.rules().lifetime + 59) / 60);
    sent_at = now;
  }

  const SendOutcome sent = pool->send(outgoing);
  if (sent.accepted) {
    outcome.result = PhoneSendOutcome::Result::sent;
    outcome.notice = std::string("A code was sent by ") +
                     (outgoing.channel == PhoneChannel::sms ? "text message" : "voice call") +
                     " to " + phone::mask(outgoing.number) + ".";
    return audited("sent", sent_detail(outgoing.channel, outgoing.number, sent.elapsed_ms));
  }

  // Fail closed: the code that may or may not have gone is voided, unless a newer one replaced it.
  log::error("sending a code to %s for %s failed: %s", phone::mask(outgoing.number).c_str(),
             log::sanitize(user).c_str(), sent.problem.c_str());
  outcome.result = PhoneSendOutcome::Result::failed;
  outcome.notice = k_could_not_send;
  auto held = m_ledger.lock(user);
  auto loaded = m_ledger.load(user);
  const std::string detail = std::string("not sent (") + name(outgoing.channel) + ", " +
                             phone::mask(outgoing.number) + ", " + sent.problem + ")";
  if (loaded && loaded->has_value() && (*loaded)->phone_code_sent_at == sent_at &&
      (*loaded)->phone_code_purpose == purpose) {
    UserRecord& record = **loaded;
    PhoneCodes::use(record);
    if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "failed", detail));
        !saved) {
      log::error("store: %s", saved.error().message.c_str());
    }
    return outcome;
  }
  return audited("failed", detail);
}

} // namespace studio2fa
