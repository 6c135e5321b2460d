// Codes by text message and voice call: sending a login code once the password is right
// (SEND_CODE), what a user has (PHONE_STATUS), and registering a number (PHONE_ENROLL, then
// PHONE_CONFIRM with the code sent to it).
#include "authenticator.hpp"
#include "log.hpp"
#include "phone_number.hpp"

namespace studio2fa {

namespace {

using protocol::LockState;
using protocol::PhoneEnrollResult;
using protocol::SendCodeResult;

// UserRecord's k_phone_* bits as the protocol's k_method_* bits, and back.
std::uint8_t wire_methods(std::uint8_t phone_methods)
{
  return static_cast<std::uint8_t>((phone_methods & k_phone_methods_all) << 1);
}

std::uint8_t record_methods(std::uint8_t wire)
{
  return static_cast<std::uint8_t>((wire >> 1) & k_phone_methods_all);
}

} // namespace

bool Authenticator::sync_directory_phone(std::string_view user)
{
  if (m_policy == nullptr || !m_policy->phone_from_directory()) {
    return false;
  }
  auto phone = m_policy->directory_phone(user);
  if (!phone) {
    log::warning("the directory's number of %s is unknown (%s); using the one last read",
                 log::sanitize(user).c_str(), phone.error().message.c_str());
    return false;
  }
  if (!phone->managed) {
    return false;
  }
  auto held = m_ledger.lock(user);
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    log::error("store: %s", loaded.error().message.c_str());
    return true;
  }
  UserRecord record = record_or_new(std::move(*loaded), user);
  const bool same = phone->number.empty()
                        ? record.phone.empty() && record.pending_phone.empty()
                        : record.phone == phone->number && record.phone_methods == k_phone_sms;
  if (same) {
    return true;
  }
  std::string detail;
  if (phone->number.empty()) {
    detail = "the directory holds no number: " + phone::mask(record.phone) + " removed";
    record.phone.clear();
    record.phone_methods = 0;
    record.phone_enrolled_at = 0;
  } else {
    detail = "number from the directory: " + phone::mask(phone->number);
    if (record.phone != phone->number) {
      record.phone_enrolled_at = m_ledger.now();
    }
    record.phone = phone->number;
    record.phone_methods = k_phone_sms;
  }
  record.pending_phone.clear();
  record.pending_phone_methods = 0;
  if (record.has_phone_code()) {
    PhoneCodes::use(record); // a code sent to another number proves nothing now
  }
  if (auto saved =
          m_ledger.commit(record, m_ledger.event(Requester{0, "root", "", "", ""},
                                                 "phone-directory", user, "success", detail));
      !saved) {
    log::error("store: %s", saved.error().message.c_str());
  }
  return true;
}

SendCodeOutcome Authenticator::send_code(std::string_view user, std::string_view password,
                                         std::optional<PhoneChannel> channel, const Requester& who)
{
  auto audited = [&](SendCodeResult result, const char* reason, std::uint32_t wait = 0) {
    SendCodeOutcome outcome;
    outcome.result = result;
    outcome.reason = reason;
    outcome.retry_after = wait;
    m_ledger.record(m_ledger.event(who, "send-code", user, protocol::name(result), reason));
    return outcome;
  };
  if (m_phone.dispatch == nullptr) {
    return audited(SendCodeResult::no_phone, "no sender configured");
  }
  // A user name alone never makes the studio send a text: the password first. Only root's
  // callers (the PAM stack, whose earlier modules checked it) may leave it out.
  if (password.empty() && who.uid != 0) {
    return audited(SendCodeResult::denied, "no password");
  }
  sync_directory_phone(user);

  bool has_phone = false;
  {
    auto held = m_ledger.lock(user);
    auto loaded = m_ledger.load(user);
    if (!loaded) {
      log::error("store: %s", loaded.error().message.c_str());
      return audited(SendCodeResult::unavailable, "store error");
    }
    if (loaded->has_value()) {
      const UserRecord& record = **loaded;
      if (record.lock != LockState::none) {
        return audited(SendCodeResult::locked, "locked");
      }
      if (std::uint32_t wait = throttle_wait(record, m_ledger.now()); wait > 0) {
        return audited(SendCodeResult::throttled, "throttled", wait);
      }
      has_phone = record.has_phone();
    }
  }

  if (!password.empty()) {
    const std::optional<PasswordVerdict> verdict = check_password(user, password, who);
    if (!verdict) {
      SendCodeOutcome outcome;
      outcome.result = SendCodeResult::unavailable;
      outcome.reason = "password check not run: too many waiting";
      outcome.busy = true;
      return outcome;
    }
    switch (*verdict) {
    case PasswordVerdict::match:
      break;
    case PasswordVerdict::unavailable:
      return audited(SendCodeResult::unavailable,
                     "password not checked: the directory holding it cannot be reached");
    case PasswordVerdict::mismatch:
      if (who.uid != 0) {
        // As for AUTHENTICATE: from the user's own processes a wrong password counts.
        const AuthOutcome counted = count_wrong_password(user, who);
        SendCodeOutcome outcome;
        outcome.result = counted.result == protocol::AuthResult::locked ? SendCodeResult::locked
                                                                        : SendCodeResult::denied;
        outcome.reason = "wrong password";
        return outcome;
      }
      return audited(SendCodeResult::denied, "wrong password");
    }
  }
  if (!has_phone) {
    return audited(SendCodeResult::no_phone, "no phone number");
  }

  const PhoneSendOutcome sent =
      m_phone.dispatch->send_code(user, PhoneCodePurpose::login, channel, who);
  SendCodeOutcome outcome;
  outcome.channel = sent.channel;
  outcome.masked = sent.masked;
  outcome.retry_after = sent.retry_after;
  switch (sent.result) {
  case PhoneSendOutcome::Result::sent:
    outcome.result = SendCodeResult::sent;
    outcome.reason = "code sent";
    break;
  case PhoneSendOutcome::Result::refused:
    outcome.result = SendCodeResult::refused;
    outcome.reason = "refused by a ration";
    break;
  case PhoneSendOutcome::Result::failed:
    outcome.result = SendCodeResult::failed;
    outcome.reason = "the gateway failed";
    break;
  case PhoneSendOutcome::Result::no_phone:
    outcome.result = SendCodeResult::no_phone;
    outcome.reason = "no sender for the number's methods";
    break;
  }
  return outcome;
}

Expected<PhoneStatus> Authenticator::phone_status(std::string_view user)
{
  const bool managed = sync_directory_phone(user);
  auto held = m_ledger.lock(user);
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  PhoneStatus status;
  status.from_directory = managed;
  status.self_enroll = m_phone.self_enroll && m_phone.dispatch != nullptr && !managed;
  if (!loaded->has_value()) {
    return status;
  }
  const UserRecord& record = **loaded;
  if (record.enrolled()) {
    status.methods |= protocol::k_method_app;
  }
  if (record.has_phone()) {
    status.methods |= wire_methods(record.phone_methods);
    status.masked = phone::mask(record.phone);
  }
  if (!record.pending_phone.empty()) {
    status.pending = wire_methods(record.pending_phone_methods);
  }
  return status;
}

Expected<PhoneEnrollOutcome>
Authenticator::phone_enroll(std::string_view user, std::string_view number, std::uint8_t methods,
                            std::string_view code, const Requester& who)
{
  constexpr const char* k_action = "phone-enroll";
  PhoneEnrollOutcome outcome;
  auto refused = [&](PhoneEnrollResult result, const char* detail) {
    outcome.result = result;
    m_ledger.record(m_ledger.event(who, k_action, user, protocol::name(result), detail));
    return outcome;
  };
  if (m_phone.dispatch == nullptr) {
    return refused(PhoneEnrollResult::no_sender, "no sender configured");
  }
  if (!m_phone.self_enroll) {
    return refused(PhoneEnrollResult::not_allowed, "phone_self_enroll = no");
  }
  if (m_policy != nullptr && m_policy->phone_from_directory()) {
    auto phone = m_policy->directory_phone(user);
    if (!phone || phone->managed) {
      return refused(PhoneEnrollResult::not_allowed, "the number comes from the directory");
    }
  }
  auto canonical = phone::parse_e164(number);
  const std::uint8_t bits = record_methods(methods);
  if (!canonical || bits == 0) {
    return refused(PhoneEnrollResult::bad_number, "not an E.164 number");
  }
  outcome.masked = phone::mask(*canonical);
  const bool sms = (bits & k_phone_sms) != 0 && m_phone.dispatch->can_send(PhoneChannel::sms);
  const bool voice = (bits & k_phone_voice) != 0 && m_phone.dispatch->can_send(PhoneChannel::voice);
  if (!sms && !voice) {
    return refused(PhoneEnrollResult::no_sender, "no sender for the methods asked for");
  }

  // Decided again, code proof included, when its commit loses to another host's write
  // (AccountLedger::retry_on_conflict).
  auto stored = m_ledger.retry_on_conflict(
      [&] { return store_pending_phone_once(user, *canonical, bits, code, who); });
  if (!stored) {
    return Unexpected<Error>{stored.error()};
  }
  if (stored->has_value()) {
    outcome.result = (*stored)->result;
    outcome.retry_after = (*stored)->retry_after;
    return outcome;
  }

  const PhoneSendOutcome sent =
      m_phone.dispatch->send_code(user, PhoneCodePurpose::confirm, std::nullopt, who);
  outcome.retry_after = sent.retry_after;
  switch (sent.result) {
  case PhoneSendOutcome::Result::sent:
    outcome.result = PhoneEnrollResult::sent;
    outcome.expires_at = m_ledger.now() + m_phone.codes->rules().lifetime;
    break;
  case PhoneSendOutcome::Result::refused:
    outcome.result = PhoneEnrollResult::refused;
    break;
  case PhoneSendOutcome::Result::failed:
    outcome.result = PhoneEnrollResult::failed;
    break;
  case PhoneSendOutcome::Result::no_phone:
    outcome.result = PhoneEnrollResult::no_sender;
    break;
  }
  return outcome;
}

Expected<std::optional<PhoneEnrollOutcome>>
Authenticator::store_pending_phone_once(std::string_view user, const std::string& number,
                                        std::uint8_t methods, std::string_view code,
                                        const Requester& who)
{
  constexpr const char* k_action = "phone-enroll";
  PhoneEnrollOutcome outcome;
  bool has_factor = false;
  {
    auto held = m_ledger.lock(user);
    auto loaded = m_ledger.load(user);
    if (!loaded) {
      return Unexpected<Error>{loaded.error()};
    }
    has_factor = loaded->has_value() && (*loaded)->has_second_factor();
  }

  // A user with a second factor proves it before adding a number: whoever has only the user's
  // shell must not be able to add a phone of their own.
  std::unique_lock<std::mutex> held;
  UserRecord record;
  if (has_factor) {
    auto proof = prove_code(user, code, Factors::Accept::any, who, k_action);
    if (!proof) {
      return Unexpected<Error>{proof.error()};
    }
    switch (proof->refusal.result) {
    case protocol::CodeResult::ok:
      break;
    case protocol::CodeResult::throttled:
      outcome.result = PhoneEnrollResult::throttled;
      outcome.retry_after = proof->refusal.retry_after;
      return std::optional<PhoneEnrollOutcome>(outcome);
    case protocol::CodeResult::locked:
      outcome.result = PhoneEnrollResult::locked;
      return std::optional<PhoneEnrollOutcome>(outcome);
    default:
      outcome.result = PhoneEnrollResult::bad_code;
      return std::optional<PhoneEnrollOutcome>(outcome);
    }
    held = std::move(proof->held);
    record = std::move(proof->record);
  } else {
    held = m_ledger.lock(user);
    auto loaded = m_ledger.load(user);
    if (!loaded) {
      return Unexpected<Error>{loaded.error()};
    }
    record = record_or_new(std::move(*loaded), user);
    if (record.lock != LockState::none) {
      m_ledger.record(m_ledger.event(who, k_action, user, protocol::name(PhoneEnrollResult::locked),
                                     "locked"));
      outcome.result = PhoneEnrollResult::locked;
      return std::optional<PhoneEnrollOutcome>(outcome);
    }
  }
  record.pending_phone = number;
  record.pending_phone_methods = methods;
  if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "pending",
                                                          "number to confirm " +
                                                            phone::mask(number)));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return std::optional<PhoneEnrollOutcome>();
}

// Decided again when its commit loses to another host's write (AccountLedger::retry_on_conflict):
// a wrong try is counted on what that host wrote, a right code confirms on it.
Expected<EnrollOutcome> Authenticator::phone_confirm(std::string_view user, std::string_view code,
                                                     const Requester& who)
{
  return m_ledger.retry_on_conflict([&] { return phone_confirm_once(user, code, who); });
}

Expected<EnrollOutcome> Authenticator::phone_confirm_once(std::string_view user,
                                                          std::string_view code,
                                                          const Requester& who)
{
  constexpr const char* k_action = "phone-confirm";
  using protocol::EnrollResult;
  auto held = m_ledger.lock(user);
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  auto answer = [&](EnrollResult result, std::uint32_t wait = 0) {
    m_ledger.record(m_ledger.event(who, k_action, user, protocol::name(result), ""));
    return EnrollOutcome{result, wait};
  };
  if (!loaded->has_value() || (*loaded)->pending_phone.empty() || m_phone.codes == nullptr) {
    return answer(EnrollResult::no_pending);
  }
  UserRecord& record = **loaded;
  if (record.lock != LockState::none) {
    return answer(EnrollResult::locked);
  }
  const std::int64_t now = m_ledger.now();
  if (std::uint32_t wait = throttle_wait(record, now); wait > 0) {
    return answer(EnrollResult::throttled, wait);
  }
  const PhoneCodeCheck check = m_phone.codes->check(record, PhoneCodePurpose::confirm, code, now);
  EnrollOutcome outcome;
  std::string detail;
  if (check == PhoneCodeCheck::match) {
    record.phone = std::move(record.pending_phone);
    record.phone_methods = record.pending_phone_methods;
    record.phone_enrolled_at = now;
    record.pending_phone.clear();
    record.pending_phone_methods = 0;
    record.pass_until = 0;
    PhoneCodes::use(record);
    m_factors.clear_failures(record);
    outcome = {EnrollResult::confirmed, 0};
    detail = "number " + phone::mask(record.phone);
  } else if (check == PhoneCodeCheck::no_code) {
    return answer(EnrollResult::expired);
  } else {
    // A wrong try counts toward the throttle and lock as a wrong login code does, and voids the
    // code at its last try.
    const bool locked_now = m_factors.settle(record, CodeVerdict{}, now);
    m_phone.codes->count_wrong(record);
    outcome = {locked_now ? EnrollResult::locked : EnrollResult::bad_code, 0};
    detail = "wrong code";
  }
  if (auto saved = m_ledger.commit(
          record, m_ledger.event(who, k_action, user, protocol::name(outcome.result), detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return outcome;
}

// Decided again, code proof included, when its commit loses to another host's write
// (AccountLedger::retry_on_conflict), as the other self-service requests are: a stale copy of
// the record must not lose the removal.
Expected<CodeOutcome> Authenticator::phone_remove(std::string_view user, std::string_view code,
                                                  const Requester& who)
{
  return m_ledger.retry_on_conflict([&] { return phone_remove_once(user, code, who); });
}

Expected<CodeOutcome> Authenticator::phone_remove_once(std::string_view user, std::string_view code,
                                                       const Requester& who)
{
  constexpr std::string_view k_action = "phone-remove";
  auto proof = prove_code(user, code, Factors::Accept::any, who, k_action);
  if (!proof) {
    return Unexpected<Error>{proof.error()};
  }
  if (!proof->proved()) {
    return proof->refusal;
  }
  UserRecord& record = proof->record;
  if (!record.has_phone() && record.pending_phone.empty()) {
    m_ledger.record(m_ledger.event(who, k_action, user, "not-enrolled", "no phone number"));
    return CodeOutcome{protocol::CodeResult::not_enrolled, 0};
  }
  const std::string detail = "number " + phone::mask(record.phone) + " removed";
  record.phone.clear();
  record.phone_methods = 0;
  record.phone_enrolled_at = 0;
  record.pending_phone.clear();
  record.pending_phone_methods = 0;
  PhoneCodes::use(record);
  if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "success", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return CodeOutcome{protocol::CodeResult::ok, 0};
}

} // namespace studio2fa
