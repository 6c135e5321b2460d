// Code-proven self-service (daemon/auth/self_service.cpp): replacing the secret, and
// turning the second factor off.
#include "auth_fixture.hpp"

namespace {

// --- self-service -----------------------------------------------------------------------------

void test_replace_keeps_old_secret_until_confirmed(void** state)
{
  Fixture& f = fixture(state);
  const Bytes old_secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, old_secret);

  auto refused = f.auth->replace_enrollment("alice", wrong_code(f, old_secret), k_who);
  assert_code_result(refused->code, CodeResult::bad_code);
  assert_false(stored(f, "alice").has_pending());

  auto offer = f.auth->replace_enrollment("alice", code_for(f, old_secret), k_who);
  assert_code_result(offer->code, CodeResult::ok);
  const Bytes new_secret(offer->offer.secret.data(),
                         offer->offer.secret.data() + offer->offer.secret.size());
  assert_false(new_secret == old_secret);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::active));
  assert_true(status.replacing);

  // Until confirmed, the old secret works and the new one does not.
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, new_secret)), AuthResult::denied);
  assert_auth(login(f, code_for(f, old_secret)), AuthResult::success);
  // Confirmed: the new one works, the old one is gone; backup codes survive the move.
  f.clock.advance(30);
  assert_confirm(f, "alice", code_for(f, new_secret), EnrollResult::confirmed);
  status = status_of(f, "alice");
  assert_false(status.replacing);
  assert_int_equal(status.backup_codes, 10);
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, old_secret)), AuthResult::denied);
  assert_auth(login(f, code_for(f, new_secret)), AuthResult::success);
  assert_auth(login(f, codes[0]), AuthResult::success);
}

void test_replace_interrupted_loses_nothing(void** state)
{
  Fixture& f = fixture(state);
  const Bytes old_secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, old_secret);
  // Proved with a backup code, which is then used up.
  auto offer = f.auth->replace_enrollment("alice", codes[3], k_who);
  assert_code_result(offer->code, CodeResult::ok);
  assert_int_equal(status_of(f, "alice").backup_codes, 9);
  const Bytes new_secret(offer->offer.secret.data(),
                         offer->offer.secret.data() + offer->offer.secret.size());
  f.clock.advance(601);
  assert_false(status_of(f, "alice").replacing);
  assert_confirm(f, "alice", code_for(f, new_secret), EnrollResult::expired);
  assert_auth(login(f, code_for(f, old_secret)), AuthResult::success);
  // Without an active secret there is nothing to replace.
  auto bob = f.auth->replace_enrollment("bob", "123456", k_who);
  assert_code_result(bob->code, CodeResult::not_enrolled);
}

void test_disable_needs_a_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);
  assert_code_result(*f.auth->disable("alice", wrong_code(f, secret), k_who), CodeResult::bad_code);
  assert_code_result(*f.auth->disable("alice", "", k_who), CodeResult::bad_code);
  assert_int_equal(static_cast<int>(status_of(f, "alice").state),
                   static_cast<int>(EnrollmentState::active));
  // A backup code does it.
  assert_code_result(*f.auth->disable("alice", codes[1], k_who), CodeResult::ok);
  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_int_equal(status.backup_codes, 0);
  assert_true(stored(f, "alice").backup_codes.empty());
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
  assert_code_result(*f.auth->disable("alice", codes[2], k_who), CodeResult::not_enrolled);

  // And a TOTP code, after enrolling again.
  const Bytes again = enroll_alice(f);
  assert_code_result(*f.auth->disable("alice", code_for(f, again), k_who), CodeResult::ok);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_replace_keeps_old_secret_until_confirmed),
      TEST(test_replace_interrupted_loses_nothing),
      TEST(test_disable_needs_a_code),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
