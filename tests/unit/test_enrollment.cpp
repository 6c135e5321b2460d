// The enrollment life cycle (daemon/auth/enrollment.cpp) and the status of an account:
// a pending secret, its confirmation, expiry and replacement of a pending one.
#include "auth_fixture.hpp"

namespace {

// --- status and enrollment --------------------------------------------------------------------

void test_status_unknown_user(void** state)
{
  Fixture& f = fixture(state);
  const UserStatus status = status_of(f, "nobody");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_int_equal(status.enrolled_at, 0);
  assert_int_equal(status.failures, 0);
  assert_int_equal(status.retry_after, 0);
  // Asking does not create a record.
  auto loaded = f.store->load("nobody");
  assert_true(loaded.has_value());
  assert_false(loaded->has_value());
}

void test_begin_enrollment(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.new_enrollment = {totp::Algorithm::sha256, 8, 60};
  f.reconfigure(settings);

  auto offer = f.auth->begin_enrollment("alice", k_who);
  assert_true(offer.has_value());
  assert_int_equal(offer->secret.size(), 20);
  assert_int_equal(static_cast<int>(offer->params.algorithm),
                   static_cast<int>(totp::Algorithm::sha256));
  assert_int_equal(offer->params.digits, 8);
  assert_int_equal(offer->params.period, 60);
  assert_int_equal(offer->expires_at, k_start_time + 600);

  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::pending));
  assert_int_equal(status.enrolled_at, 0);

  // Stored sealed, never in the clear.
  const UserRecord record = stored(f, "alice");
  assert_true(record.has_pending());
  assert_false(record.enrolled());
  assert_int_equal(record.pending_created_at, k_start_time);
  const Bytes secret(offer->secret.data(), offer->secret.data() + offer->secret.size());
  assert_true(std::search(record.pending_secret.begin(), record.pending_secret.end(),
                          secret.begin(), secret.end()) == record.pending_secret.end());

  // Two offers never share a secret.
  auto other = f.auth->begin_enrollment("bob", k_who);
  assert_true(other.has_value());
  assert_false(constant_time_equal(offer->secret.span(), other->secret.span()));

  // The enrollment's parameters are the ones codes are checked with.
  const std::string code = reference_code(secret, static_cast<std::uint64_t>(k_start_time) / 60,
                                          settings.new_enrollment);
  assert_int_equal(code.size(), 8);
  assert_confirm(f, "alice", code, EnrollResult::confirmed);
  const UserRecord active = stored(f, "alice");
  assert_int_equal(static_cast<int>(active.params.algorithm),
                   static_cast<int>(totp::Algorithm::sha256));
  assert_int_equal(active.params.digits, 8);
  assert_int_equal(active.params.period, 60);
}

void test_pending_never_authenticates(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  const std::string code = code_for(f, secret);

  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code, k_who),
              AuthResult::not_enrolled);
  assert_auth(login(f, code), AuthResult::denied);

  // Nothing was consumed or counted: the same code still confirms.
  assert_int_equal(status_of(f, "alice").failures, 0);
  assert_confirm(f, "alice", code, EnrollResult::confirmed);
}

void test_confirm_wrong_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");

  assert_confirm(f, "alice", wrong_code(f, secret), EnrollResult::bad_code);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 1);
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::pending));

  assert_confirm(f, "alice", "abcdef", EnrollResult::bad_code);
  assert_int_equal(status_of(f, "alice").failures, 2);

  // A right code confirms and resets the count.
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::confirmed);
  status = status_of(f, "alice");
  assert_int_equal(status.failures, 0);
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::active));
}

void test_confirm_right_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  f.clock.advance(100);
  const std::int64_t confirmed_at = f.clock.now();
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::confirmed);

  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::active));
  assert_int_equal(status.enrolled_at, confirmed_at);
  assert_int_equal(status.failures, 0);

  const UserRecord record = stored(f, "alice");
  assert_true(record.enrolled());
  assert_false(record.has_pending());
  assert_int_equal(record.enrolled_at, confirmed_at);
  assert_int_equal(record.last_step, f.step_now());

  assert_confirm(f, "alice", code_for(f, secret, 1), EnrollResult::no_pending);
}

void test_confirm_codes_of_neighbour_steps(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  assert_confirm(f, "alice", code_for(f, secret, 2), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, secret, -2), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, secret, 1), EnrollResult::confirmed);
  // The step of the confirming code counts as used.
  assert_int_equal(stored(f, "alice").last_step, f.step_now() + 1);
}

void test_confirming_code_not_reusable_for_login(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  const std::string code = code_for(f, secret);
  assert_confirm(f, "alice", code, EnrollResult::confirmed);
  assert_auth(login(f, code), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code, k_who), AuthResult::denied);
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_confirm_expired(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  const Bytes carol_secret = begin(f, "carol");

  // One second before the timeout it is still pending and confirmable.
  f.clock.advance(599);
  assert_int_equal(static_cast<int>(status_of(f, "alice").state),
                   static_cast<int>(EnrollmentState::pending));
  assert_confirm(f, "carol", code_for(f, carol_secret), EnrollResult::confirmed);

  f.clock.advance(1);
  assert_int_equal(static_cast<int>(status_of(f, "alice").state),
                   static_cast<int>(EnrollmentState::none));
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::expired);
  const UserRecord record = stored(f, "alice");
  assert_false(record.has_pending());
  assert_false(record.enrolled());
  assert_int_equal(record.pending_created_at, 0);
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::no_pending);

  // A new enrollment can start.
  const Bytes fresh = begin(f, "alice");
  assert_confirm(f, "alice", code_for(f, fresh), EnrollResult::confirmed);
}

void test_confirm_without_pending(void** state)
{
  Fixture& f = fixture(state);
  assert_confirm(f, "nobody", "123456", EnrollResult::no_pending);
}

void test_begin_keeps_pending_in_its_window(void** state)
{
  Fixture& f = fixture(state);
  const Bytes first = begin(f, "alice");
  // A later attempt within enroll_timeout (a login that timed out, then another, or the CLI)
  // gets the same secret and the same expiry: a key already scanned still confirms.
  f.clock.advance(590);
  auto again = f.auth->begin_enrollment("alice", k_who);
  assert_true(again.has_value());
  assert_true(Bytes(again->secret.data(), again->secret.data() + again->secret.size()) == first);
  assert_int_equal(again->expires_at, k_start_time + 600);
  assert_int_equal(stored(f, "alice").pending_created_at, k_start_time);
  assert_confirm(f, "alice", code_for(f, first), EnrollResult::confirmed);
}

void test_begin_after_the_window_makes_a_new_secret(void** state)
{
  Fixture& f = fixture(state);
  const Bytes first = begin(f, "alice");
  f.clock.advance(600);
  const Bytes second = begin(f, "alice");
  assert_false(first == second);
  assert_int_equal(stored(f, "alice").pending_created_at, k_start_time + 600);

  assert_confirm(f, "alice", code_for(f, first), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, second), EnrollResult::confirmed);
}

void test_begin_when_active(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);

  auto again = f.auth->begin_enrollment("alice", k_who);
  assert_false(again.has_value());
  assert_int_equal(static_cast<int>(again.error().code), static_cast<int>(Errc::already_enrolled));

  // The active secret is untouched and no pending one was added.
  assert_false(stored(f, "alice").has_pending());
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_status_unknown_user),
      TEST(test_begin_enrollment),
      TEST(test_pending_never_authenticates),
      TEST(test_confirm_wrong_code),
      TEST(test_confirm_right_code),
      TEST(test_confirm_codes_of_neighbour_steps),
      TEST(test_confirming_code_not_reusable_for_login),
      TEST(test_confirm_expired),
      TEST(test_confirm_without_pending),
      TEST(test_begin_keeps_pending_in_its_window),
      TEST(test_begin_after_the_window_makes_a_new_secret),
      TEST(test_begin_when_active),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
