// Logins (daemon/auth/authenticator.cpp): the three modes, the password verdicts, the TOTP
// window and replay guard (across restarts too, and for a code two steps share), throttling.
#include "auth_fixture.hpp"

namespace {

// --- login ------------------------------------------------------------------------------------

void test_login_success_then_replay(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  assert_auth(login(f, code), AuthResult::success);
  assert_int_equal(stored(f, "alice").last_step, f.step_now());

  // The same code again, in any mode, even a few seconds later in the same step.
  assert_auth(login(f, code), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code, k_who), AuthResult::denied);
  f.clock.advance(20);
  assert_auth(login(f, code), AuthResult::denied);

  // The next step's code works when its time comes.
  f.clock.advance(10);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_code_only_mode(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const unsigned calls = f.passwords.calls;
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", wrong_code(f, secret), k_who),
              AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::success);
  assert_int_equal(f.passwords.calls, calls); // no password in this mode
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_window(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll(f, "alice");
  f.clock.advance(60); // two steps after the confirming one

  assert_auth(login(f, code_for(f, secret, 2)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, 1)), AuthResult::success);
  assert_int_equal(stored(f, "alice").last_step, f.step_now() + 1);

  // Earlier steps than the last accepted one are refused, though inside the window and never
  // used themselves.
  assert_auth(login(f, code_for(f, secret, 0)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, -1)), AuthResult::denied);

  // Once the clock catches up, step+2 is inside the window.
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, secret, 1)), AuthResult::success);
}

void test_window_zero(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.window = 0;
  f.reconfigure(settings);
  const Bytes secret = enroll(f, "alice");
  f.clock.advance(90);

  assert_auth(login(f, code_for(f, secret, 1)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, -1)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, 0)), AuthResult::success);
}

void test_wrong_password_right_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  // One counted failure first, so that "unchanged" is not just "still zero".
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);

  const unsigned calls = f.passwords.calls;
  for (int i = 0; i < 5; ++i) {
    assert_auth(login(f, code, "wrong"), AuthResult::denied);
  }
  assert_int_equal(f.passwords.calls, calls + 5);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 1);
  assert_int_equal(status.retry_after, 0); // more than throttle_after tries, yet no throttle
  assert_int_equal(stored(f, "alice").last_step, f.step_now() - 1);

  // Wrong password and wrong code: still not counted.
  assert_auth(login(f, wrong_code(f, secret), "wrong"), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);

  // The step was not consumed.
  assert_auth(login(f, code), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_right_password_wrong_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  const UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 2);
  assert_int_equal(status.retry_after, 0);
  assert_int_equal(stored(f, "alice").last_failure_at, f.clock.now());
}

void test_password_source_unreachable(void** state)
{
  Fixture& f = fixture(state);
  // Not enrolled, password only: "unavailable", not "wrong password".
  f.passwords.unreachable = true;
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::unavailable);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::unavailable);
  f.passwords.unreachable = false;
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  // Enrolled, password and code: right and wrong codes get the same answer, and neither counts.
  f.passwords.unreachable = true;
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::unavailable);
  assert_auth(login(f, code), AuthResult::unavailable);
  assert_int_equal(status_of(f, "alice").failures, 0);
  f.passwords.unreachable = false;
  assert_auth(login(f, code), AuthResult::success); // the code was not used up
  // Code only: no password involved, so the directory does not matter.
  f.clock.advance(f.settings.new_enrollment.period);
  f.passwords.unreachable = true;
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::success);
}

void test_empty_password(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const unsigned calls = f.passwords.calls;

  assert_auth(login(f, code_for(f, secret), ""), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "", "", k_who), AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_only, "", "", k_who), AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_and_code, "", "123456", k_who),
              AuthResult::denied);
  assert_int_equal(f.passwords.calls, calls);
  assert_int_equal(status_of(f, "alice").failures, 0);
  // The code was not consumed.
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_password_only(void** state)
{
  Fixture& f = fixture(state);
  // Not enrolled: the password decides.
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_only, "right", "", k_who),
              AuthResult::denied);

  // Enrolled: never, whatever the password.
  const Bytes secret = enroll_alice(f);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", code_for(f, secret), k_who),
              AuthResult::denied);
}

void test_not_enrolled(void** state)
{
  Fixture& f = fixture(state);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", "123456", k_who),
              AuthResult::not_enrolled);
  assert_auth(f.auth->authenticate("nobody", AuthMode::code_only, "", "123456", k_who),
              AuthResult::not_enrolled);
  // Password and code for someone with no second factor: not a way in.
  assert_auth(login(f, "123456"), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_malformed_codes(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);

  std::uint32_t failures = 0;
  for (const char* code : {"", "12345", "1234567", "abcdef", "12345a", "-12345"}) {
    assert_auth(login(f, code), AuthResult::denied);
    ++failures;
    assert_int_equal(status_of(f, "alice").failures, failures);
  }
  // A right code with a character too many is malformed too.
  assert_auth(login(f, code_for(f, secret) + "0"), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, failures + 1);

  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

// --- throttling -------------------------------------------------------------------------------

void test_throttle(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);

  UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 3);
  assert_int_equal(status.retry_after, 2);

  // Throttled even with the right password and code; nothing is evaluated.
  const unsigned calls = f.passwords.calls;
  AuthOutcome outcome = login(f, code_for(f, secret));
  assert_auth(outcome, AuthResult::throttled);
  assert_int_equal(outcome.retry_after, 2);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::throttled);
  assert_auth(login(f, code_for(f, secret), "wrong"), AuthResult::throttled);
  assert_int_equal(f.passwords.calls, calls);
  status = status_of(f, "alice");
  assert_int_equal(status.failures, 3); // throttled attempts are not failures
  assert_int_equal(status.retry_after, 2);

  f.clock.advance(1);
  outcome = login(f, code_for(f, secret));
  assert_auth(outcome, AuthResult::throttled);
  assert_int_equal(outcome.retry_after, 1);
  assert_int_equal(f.passwords.calls, calls);

  f.clock.advance(1);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  status = status_of(f, "alice");
  assert_int_equal(status.failures, 0);
  assert_int_equal(status.retry_after, 0);

  // The count starts again from zero.
  f.clock.advance(30);
  fail_codes(f, secret, 2);
  assert_int_equal(status_of(f, "alice").retry_after, 0);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_throttle_doubles_and_caps(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);
  std::uint32_t wait = status_of(f, "alice").retry_after;
  assert_int_equal(wait, 2);

  // 4, 8, ..., 512, then 900 (throttle_max) from there on.
  for (unsigned further = 1; further <= 12; ++further) {
    f.clock.advance(wait);
    fail_codes(f, secret, 1);
    const UserStatus status = status_of(f, "alice");
    assert_int_equal(status.failures, 3 + further);
    const std::uint32_t expected = std::min<std::uint32_t>(2u << further, 900);
    assert_int_equal(status.retry_after, expected);
    const AuthOutcome outcome = login(f, code_for(f, secret));
    assert_auth(outcome, AuthResult::throttled);
    assert_int_equal(outcome.retry_after, expected);
    wait = expected;
  }
  f.clock.advance(wait - 1);
  assert_auth(login(f, code_for(f, secret)), AuthResult::throttled);
  f.clock.advance(1);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_throttle_small_max(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_base = 3;
  settings.throttle_max = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);
  for (std::uint32_t expected : {3u, 6u, 10u, 10u}) {
    const std::uint32_t wait = status_of(f, "alice").retry_after;
    assert_int_equal(wait, expected);
    f.clock.advance(wait);
    fail_codes(f, secret, 1);
  }
}

void test_throttle_applies_to_confirm(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  for (int i = 0; i < 3; ++i) {
    assert_confirm(f, "alice", wrong_code(f, secret), EnrollResult::bad_code);
  }
  const EnrollOutcome outcome = confirm(f, "alice", code_for(f, secret));
  assert_int_equal(static_cast<int>(outcome.result), static_cast<int>(EnrollResult::throttled));
  assert_int_equal(outcome.retry_after, 2);
  f.clock.advance(2);
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::confirmed);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_throttle_is_per_user(void** state)
{
  Fixture& f = fixture(state);
  const Bytes alice = enroll(f, "alice");
  const Bytes bob = enroll(f, "bob");
  f.clock.advance(30);
  fail_codes(f, alice, 3);
  assert_auth(login(f, code_for(f, alice)), AuthResult::throttled);
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, bob), k_who),
              AuthResult::success);
  assert_int_equal(status_of(f, "bob").failures, 0);
}

// --- the store ---------------------------------------------------------------------------------

void test_record_sealed_for_another_user(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  UserRecord copy = stored(f, "alice");
  copy.user = "bob";
  copy.revision = 0; // a new record for bob
  assert_true(f.store->save(copy).has_value());

  assert_int_equal(static_cast<int>(status_of(f, "bob").state),
                   static_cast<int>(EnrollmentState::active));
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::unavailable);
  // Alice's own record still works.
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);

  // The same for a pending secret.
  const Bytes pending = begin(f, "carol");
  UserRecord pending_copy = stored(f, "carol");
  pending_copy.user = "dave";
  pending_copy.revision = 0;
  assert_true(f.store->save(pending_copy).has_value());
  assert_false(f.auth->confirm_enrollment("dave", code_for(f, pending), k_who).has_value());
}

void test_replay_across_restart(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);
  assert_auth(login(f, code), AuthResult::success);

  f.restart();
  assert_auth(login(f, code), AuthResult::denied);
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_throttle_across_restart(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);
  f.restart();
  assert_int_equal(status_of(f, "alice").failures, 3);
  const AuthOutcome outcome = login(f, code_for(f, secret));
  assert_auth(outcome, AuthResult::throttled);
  assert_int_equal(outcome.retry_after, 2);
}

void test_enrolled_parameters_kept(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.new_enrollment = {totp::Algorithm::sha512, 7, 45};
  f.reconfigure(settings);
  const Bytes secret = enroll(f, "alice");
  const totp::Parameters enrolled = settings.new_enrollment;

  // New enrollments change to the defaults; alice keeps what her app was given.
  f.reconfigure(test_settings());
  f.clock.advance(45);
  const std::uint64_t step = static_cast<std::uint64_t>(f.clock.now()) / 45;
  assert_auth(login(f, reference_code(secret, static_cast<std::uint64_t>(f.clock.now()) / 30,
                                      test_settings().new_enrollment)),
              AuthResult::denied);
  assert_auth(login(f, reference_code(secret, step, enrolled)), AuthResult::success);
}

// A user's code of step S that equals their code of S+1 (RFC 6238's key at steps 910737 and
// 910738): accepted once, as S+1, and so refused during S+1 though the app shows it again. The
// benchmark met this when it reused its users one step later; a person types the next code.
void test_code_shared_by_two_steps_is_accepted_once(void** state)
{
  Fixture& f = fixture(state);
  const Bytes key = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
                     '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
  const std::int64_t period = 30;
  f.clock.set(910736 * period + 5);
  const SecretBytes key_base32 = base32::encode(key);
  const std::vector<protocol::ImportEntry> entries = {import_entry("alice", key_base32.view())};
  auto imported = f.admin->import(entries, false, k_admin);
  assert_true(imported.has_value());
  assert_int_equal(static_cast<int>(imported->result), 0);

  f.clock.set(910737 * period + 5);
  const std::string code = code_for(f, key);
  f.clock.set(910738 * period + 5);
  assert_string_equal(code_for(f, key).c_str(), code.c_str());
  f.clock.set(910737 * period + 5);
  assert_auth(login(f, code), AuthResult::success);
  assert_int_equal(stored(f, "alice").last_step, 910738);
  f.clock.set(910738 * period + 5);
  assert_auth(login(f, code_for(f, key)), AuthResult::denied);
  f.clock.set(910739 * period + 5);
  assert_auth(login(f, code_for(f, key)), AuthResult::success);
}

// Alice's own process (a screen locker, or anything running as her), not root's PAM stack.
const Requester k_alice_self{5001, "alice", "xscreensaver", "", ""};

// From alice's own uid, a wrong password counts like a wrong code: guessing it is throttled, and
// neither the answer nor the failure count tells a right password with a wrong code apart from a
// wrong password.
void test_wrong_passwords_from_the_user_are_counted(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  assert_auth(login(f, wrong_code(f, secret), "right", k_alice_self), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_auth(login(f, wrong_code(f, secret), "wrong", k_alice_self), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 2);
  // A right code with a wrong password is counted too, and not used up.
  assert_auth(login(f, code, "wrong", k_alice_self), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 3);

  // throttle_after (3) reached: the next guess waits, whatever it is.
  const unsigned calls = f.passwords.calls;
  AuthOutcome throttled = login(f, code, "right", k_alice_self);
  assert_auth(throttled, AuthResult::throttled);
  assert_true(throttled.retry_after > 0);
  assert_int_equal(f.passwords.calls, calls); // not even checked

  // Once the wait is over, the right password and the same (unused) code get in.
  f.clock.advance(throttled.retry_after);
  assert_auth(login(f, code_for(f, secret), "right", k_alice_self), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

// Mode 1 (a user who is not enrolled) answers whether the password is right: from the user's own
// uid its wrong guesses are counted and throttled; a right password clears the count.
void test_password_only_guesses_from_the_user_are_throttled(void** state)
{
  Fixture& f = fixture(state);
  for (int i = 0; i < 3; ++i) {
    assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_alice_self),
                AuthResult::denied);
  }
  assert_int_equal(status_of(f, "alice").failures, 3);
  AuthOutcome throttled =
      f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_alice_self);
  assert_auth(throttled, AuthResult::throttled);
  f.clock.advance(throttled.retry_after);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_alice_self),
              AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);

  // Root's PAM stacks are not throttled by wrong passwords: nobody can throttle an account
  // without its password.
  for (int i = 0; i < 5; ++i) {
    assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
                AuthResult::denied);
  }
  assert_int_equal(status_of(f, "alice").failures, 0);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_login_success_then_replay),
      TEST(test_code_only_mode),
      TEST(test_window),
      TEST(test_window_zero),
      TEST(test_wrong_password_right_code),
      TEST(test_right_password_wrong_code),
      TEST(test_password_source_unreachable),
      TEST(test_empty_password),
      TEST(test_password_only),
      TEST(test_not_enrolled),
      TEST(test_malformed_codes),
      TEST(test_throttle),
      TEST(test_throttle_doubles_and_caps),
      TEST(test_throttle_small_max),
      TEST(test_throttle_applies_to_confirm),
      TEST(test_throttle_is_per_user),
      TEST(test_record_sealed_for_another_user),
      TEST(test_replay_across_restart),
      TEST(test_throttle_across_restart),
      TEST(test_enrolled_parameters_kept),
      TEST(test_code_shared_by_two_steps_is_accepted_once),
      TEST(test_wrong_passwords_from_the_user_are_counted),
      TEST(test_password_only_guesses_from_the_user_are_throttled),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
