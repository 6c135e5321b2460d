// The Authenticator's flows of codes by phone (daemon/auth/phone_login.cpp), under a set clock
// with a real store and a fake gateway: SEND_CODE only after the password (or from root with
// none), a number registered by the code sent to it, a phone-only user's login, and removal.
#include "phone_fixture.hpp"

namespace {

using protocol::PhoneEnrollResult;
using protocol::SendCodeResult;

const Requester k_alice_herself{5001, "alice", "screen-locker", "", ""};

void test_phone_only_login(void** state)
{
  Fixture& f = fixture(state);
  PhoneSetup p(f);
  p.register_number(f, "alice", "+44 7946 004567");
  assert_string_equal(p.sender.numbers.back().c_str(), "+447946004567");
  auto status = p.auth.status("alice");
  assert_true(status.has_value());
  assert_true(status->state == EnrollmentState::active); // a phone alone is a second factor

  const std::size_t sent_before = p.sender.messages.size();
  const SendCodeOutcome wrong = p.auth.send_code("alice", "wrong", std::nullopt, k_who);
  assert_true(wrong.result == SendCodeResult::denied);
  assert_int_equal(p.sender.messages.size(), sent_before); // no text for a wrong password

  const SendCodeOutcome sent = p.auth.send_code("alice", "right", std::nullopt, k_who);
  assert_true(sent.result == SendCodeResult::sent);
  assert_string_equal(sent.masked.c_str(), "••••••4567");
  const std::string code = p.sender.last_code();
  AuthOutcome in = p.auth.authenticate("alice", AuthMode::password_and_code, "right", code, k_who);
  assert_true(in.result == AuthResult::success);
  assert_true(in.factor == protocol::SecondFactor::phone_code);
  AuthOutcome again =
      p.auth.authenticate("alice", AuthMode::password_and_code, "right", code, k_who);
  assert_true(again.result == AuthResult::denied); // used once

  // A resend within the minute is refused, with the seconds left.
  f.clock.advance(61);
  assert_true(p.auth.send_code("alice", "right", std::nullopt, k_who).result ==
              SendCodeResult::sent);
  const SendCodeOutcome soon = p.auth.send_code("alice", "right", std::nullopt, k_who);
  assert_true(soon.result == SendCodeResult::refused);
  assert_true(soon.retry_after > 0 && soon.retry_after <= 60);
}

void test_password_required(void** state)
{
  Fixture& f = fixture(state);
  PhoneSetup p(f);
  p.register_number(f, "alice", "+447946004567");
  const std::size_t sent_before = p.sender.messages.size();
  // Not root: no password, no text; a wrong one counts like a wrong code.
  assert_true(p.auth.send_code("alice", "", std::nullopt, k_alice_herself).result ==
              SendCodeResult::denied);
  assert_true(p.auth.send_code("alice", "wrong", std::nullopt, k_alice_herself).result ==
              SendCodeResult::denied);
  assert_int_equal(p.sender.messages.size(), sent_before);
  assert_int_equal(stored(f, "alice").failures, 1);
  // Root (otp_only, after the stack's earlier modules) may leave it out.
  assert_true(p.auth.send_code("alice", "", std::nullopt, k_who).result == SendCodeResult::sent);
  // A user without a number gets nothing.
  assert_true(p.auth.send_code("bob", "", std::nullopt, k_who).result == SendCodeResult::no_phone);
}

void test_enroll_needs_proof_of_the_app(void** state)
{
  Fixture& f = fixture(state);
  PhoneSetup p(f);
  const Bytes secret = enroll_alice(f);
  auto refused =
      p.auth.phone_enroll("alice", "+447946004567", protocol::k_method_sms, "000000", k_who);
  assert_true(refused.has_value());
  assert_true(refused->result == PhoneEnrollResult::bad_code);
  assert_true(p.sender.messages.empty());
  auto bad = p.auth.phone_enroll("alice", "07946 004567", protocol::k_method_sms, "", k_who);
  assert_true(bad.has_value() && bad->result == PhoneEnrollResult::bad_number);
  f.clock.advance(30);
  auto sent = p.auth.phone_enroll("alice", "+447946004567", protocol::k_method_sms,
                                  code_for(f, secret), k_who);
  assert_true(sent.has_value());
  assert_true(sent->result == PhoneEnrollResult::sent);
  // Three wrong confirmation codes void it.
  for (int i = 0; i < 3; ++i) {
    auto wrong = p.auth.phone_confirm("alice", "000000", k_who);
    assert_true(wrong.has_value() && wrong->result == EnrollResult::bad_code);
  }
  f.clock.advance(3); // past the throttle the three wrong codes started (throttle_after = 3)
  auto late = p.auth.phone_confirm("alice", p.sender.last_code(), k_who);
  assert_true(late.has_value() && late->result == EnrollResult::expired);
  assert_false(stored(f, "alice").has_phone());
}

void test_remove(void** state)
{
  Fixture& f = fixture(state);
  PhoneSetup p(f);
  p.register_number(f, "alice", "+447946004567");
  auto wrong = p.auth.phone_remove("alice", "000000", k_who);
  assert_true(wrong.has_value() && wrong->result == CodeResult::bad_code);
  assert_true(p.auth.send_code("alice", "right", std::nullopt, k_who).result ==
              SendCodeResult::sent);
  auto removed = p.auth.phone_remove("alice", p.sender.last_code(), k_who);
  assert_true(removed.has_value() && removed->result == CodeResult::ok);
  assert_false(stored(f, "alice").has_second_factor());
}

} // namespace

int main()
{
  const CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_phone_only_login, setup, teardown),
      cmocka_unit_test_setup_teardown(test_password_required, setup, teardown),
      cmocka_unit_test_setup_teardown(test_enroll_needs_proof_of_the_app, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
