// The phone factor's parts for the Authenticator's unit tests: a gateway that keeps what it is
// sent, and an Authenticator wired to it over the fixture's store.
#pragma once

#include "auth_fixture.hpp"
#include "phone_dispatch.hpp"
#include "recording_sender.hpp"

// The fixture's store, ledger and keys (or another ledger over them: another host's), with an
// Authenticator that sends codes.
struct PhoneSetup {
  explicit PhoneSetup(Fixture& f) : PhoneSetup(f, *f.ledger) {}
  PhoneSetup(Fixture& f, AccountLedger& ledger)
      : hasher(make_hasher()), codes(*hasher, PhoneCodeRules{}), budget(100),
        pool(sender, 2, std::chrono::milliseconds(1000)),
        dispatch(ledger, codes, budget, &pool, nullptr, PhoneMessageTexts{}),
        auth(ledger, *f.sealer, *f.hasher, f.passwords, f.settings, nullptr, nullptr,
             PhoneLogin{&codes, &dispatch, true})
  {
  }
  static std::optional<PhoneCodeHasher> make_hasher()
  {
    SecretBytes key(32);
    assert_true(random_bytes({key.data(), key.size()}));
    auto made = PhoneCodeHasher::create(key.span());
    assert_true(made.has_value());
    return std::move(*made);
  }
  // Registers `number` for `user` (who has no factor yet) with the code sent to it.
  void register_number(Fixture& f, std::string_view user, const char* number)
  {
    auto sent = auth.phone_enroll(user, number, protocol::k_method_sms, "", k_who);
    assert_true(sent.has_value());
    assert_int_equal(static_cast<int>(sent->result), static_cast<int>(protocol::PhoneEnrollResult::sent));
    auto confirmed = auth.phone_confirm(user, sender.last_code(), k_who);
    assert_true(confirmed.has_value());
    assert_int_equal(static_cast<int>(confirmed->result),
                     static_cast<int>(EnrollResult::confirmed));
    f.clock.advance(61);
  }

  std::optional<PhoneCodeHasher> hasher;
  PhoneCodes codes;
  SendBudget budget;
  RecordingSender sender;
  SenderPool pool;
  PhoneDispatch dispatch;
  Authenticator auth;
};
