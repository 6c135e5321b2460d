// Backup codes as a second factor (daemon/auth/backup_code_factor.cpp, factors.cpp): a set
// of ten, single use, their shape against TOTP codes, and the failures that lock.
#include "auth_fixture.hpp"

namespace {

// --- backup codes -----------------------------------------------------------------------------

void test_backup_codes_set_of_ten(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);
  assert_int_equal(codes.size(), 10);
  for (const std::string& code : codes) {
    assert_int_equal(code.size(), 14);
    assert_true(code[4] == '-' && code[9] == '-');
    for (std::size_t i = 0; i < code.size(); ++i) {
      if (i != 4 && i != 9) {
        assert_true(k_backup_code_alphabet.find(code[i]) != std::string_view::npos);
      }
    }
    assert_int_equal(std::count(codes.begin(), codes.end(), code), 1);
  }
  assert_int_equal(status_of(f, "alice").backup_codes, 10);
  // Stored only as hashes: no code appears in the record.
  const UserRecord record = stored(f, "alice");
  assert_int_equal(record.backup_codes.size(), 10);
  for (const BackupCodeHash& hash : record.backup_codes) {
    for (const std::string& code : codes) {
      assert_true(std::search(hash.begin(), hash.end(), code.begin(), code.end()) == hash.end());
    }
  }
}

void test_backup_codes_need_a_totp_code(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);

  assert_code_result(backup_request(f, wrong_code(f, secret)), CodeResult::bad_code);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_int_equal(status_of(f, "alice").backup_codes, 0);

  const std::vector<std::string> codes = new_codes(f, secret);
  // A backup code does not make a new set: it is refused and counted, not used up.
  assert_code_result(backup_request(f, codes[0]), CodeResult::bad_code);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_int_equal(status_of(f, "alice").backup_codes, 10);

  // The TOTP code that made a set cannot log in.
  const std::string code = code_for(f, secret);
  assert_code_result(backup_request(f, code), CodeResult::ok);
  assert_auth(login(f, code), AuthResult::denied);

  // Not enrolled: nothing to prove.
  auto bob = f.auth->new_backup_codes("bob", "123456", k_who);
  assert_code_result(bob->code, CodeResult::not_enrolled);
}

void test_backup_code_login_single_use(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);

  // Any order; each once; lower case, without dashes or with spaces works too.
  const std::string typed[] = {codes[7],
                               [&] {
                                 std::string lower = codes[2];
                                 std::transform(lower.begin(), lower.end(), lower.begin(),
                                                [](char c) { return static_cast<char>(std::tolower(c)); });
                                 return lower;
                               }(),
                               codes[5].substr(0, 4) + codes[5].substr(5, 4) + codes[5].substr(10),
                               codes[0].substr(0, 4) + " " + codes[0].substr(5)};
  unsigned left = 10;
  for (const std::string& code : typed) {
    const AuthOutcome outcome = login(f, code);
    assert_auth(outcome, AuthResult::success);
    assert_int_equal(static_cast<int>(outcome.factor),
                     static_cast<int>(protocol::SecondFactor::backup_code));
    assert_int_equal(outcome.backup_codes_left, --left);
    assert_int_equal(status_of(f, "alice").backup_codes, left);
  }
  // Used ones never work again, in any spelling.
  assert_auth(login(f, codes[7]), AuthResult::denied);
  assert_auth(login(f, typed[1]), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").backup_codes, left);
  // A TOTP code still works, and says it was one.
  const AuthOutcome totp_login = login(f, code_for(f, secret));
  assert_auth(totp_login, AuthResult::success);
  assert_int_equal(static_cast<int>(totp_login.factor), static_cast<int>(protocol::SecondFactor::totp));
  // The rest, down to none.
  for (const std::size_t i : {1, 3, 4, 6, 8, 9}) {
    assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", codes[i], k_who),
                AuthResult::success);
  }
  assert_int_equal(status_of(f, "alice").backup_codes, 0);
}

void test_new_set_voids_old(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> first = new_codes(f, secret);
  const std::vector<std::string> second = new_codes(f, secret);
  assert_auth(login(f, first[0]), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").backup_codes, 10);
  assert_auth(login(f, second[0]), AuthResult::success);
}

void test_three_wrong_backup_codes_lock(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);

  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, "AAAA-BBBB-CCCC"), AuthResult::denied);
  // The third locks, and says so.
  assert_auth(login(f, "DDDD-EEEE-FFFF"), AuthResult::locked);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.lock), static_cast<int>(LockState::second_factor));
  assert_int_equal(status.retry_after, 0);

  // Nothing is accepted; the same answer whatever the password, in every mode.
  const unsigned calls = f.passwords.calls;
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);
  assert_auth(login(f, codes[0]), AuthResult::locked);
  assert_auth(login(f, code_for(f, secret), "wrong"), AuthResult::locked);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::locked);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::locked);
  assert_int_equal(f.passwords.calls, calls);
  assert_code_result(backup_request(f, code_for(f, secret)), CodeResult::locked);
  assert_code_result(*f.auth->disable("alice", codes[0], k_who), CodeResult::locked);
  auto replace = f.auth->replace_enrollment("alice", code_for(f, secret), k_who);
  assert_code_result(replace->code, CodeResult::locked);
  assert_int_equal(status_of(f, "alice").backup_codes, 10);

  // It survives a restart; an admin unlocks it.
  f.restart();
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);
  auto unlocked = f.admin->unlock("alice", k_who);
  assert_int_equal(static_cast<int>(*unlocked), static_cast<int>(protocol::UnlockResult::unlocked));
  status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.lock), 0);
  assert_int_equal(status.failures, 0);
  assert_auth(login(f, codes[0]), AuthResult::success);
  assert_int_equal(static_cast<int>(*f.admin->unlock("alice", k_who)),
                   static_cast<int>(protocol::UnlockResult::not_locked));
}

void test_backup_lock_rules(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 20;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);

  // Without backup codes there are none to guess: backup-shaped codes are plain wrong codes.
  for (int i = 0; i < 4; ++i) {
    assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  }
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  f.clock.advance(30);

  const std::vector<std::string> codes = new_codes(f, secret);
  // A success resets the count: 2 wrong, a right TOTP code, 2 wrong: not locked.
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  // Wrong TOTP codes in between neither reset nor add to it.
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  // Wrong passwords never count: nobody locks an account without its password.
  for (int i = 0; i < 5; ++i) {
    assert_auth(login(f, k_wrong_backup, "wrong"), AuthResult::denied);
  }
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  assert_auth(login(f, k_wrong_backup), AuthResult::locked);
  // Too short or long, or with other characters: not a backup code, a plain wrong code.
  assert_int_equal(status_of(f, "alice").backup_codes, 10);
}

void test_lockout_after(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  settings.lockout_after = 6;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  for (int i = 0; i < 5; ++i) {
    assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  }
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::locked);
  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.lock), static_cast<int>(LockState::account));
  assert_int_equal(status.failures, 6);
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::locked);
  // Wrong enrollment codes count too.
  assert_true(f.admin->unlock("alice", k_who).has_value());
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);

  // 0: never.
  settings.lockout_after = 0;
  settings.throttle_after = 100;
  f.reconfigure(settings);
  for (int i = 0; i < 30; ++i) {
    assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  }
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_backup_codes_set_of_ten),
      TEST(test_backup_codes_need_a_totp_code),
      TEST(test_backup_code_login_single_use),
      TEST(test_new_set_voids_old),
      TEST(test_three_wrong_backup_codes_lock),
      TEST(test_backup_lock_rules),
      TEST(test_lockout_after),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
