// Account administration (daemon/auth/account_admin.cpp): list, disable, temporary passes,
// imports and the audit log.
#include "auth_fixture.hpp"

namespace {

// --- administration ---------------------------------------------------------------------------

void test_admin_list(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  new_codes(f, secret);
  begin(f, "carol");
  begin(f, "bob");
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "right",
                                   code_for(f, secret), k_who),
              AuthResult::success);
  auto page = f.admin->list("", 2, k_admin);
  assert_true(page.has_value());
  assert_int_equal(page->accounts.size(), 2);
  assert_true(page->more);
  assert_string_equal(page->accounts[0].user.c_str(), "alice");
  const UserStatus& alice = page->accounts[0].status;
  assert_int_equal(static_cast<int>(alice.state), static_cast<int>(EnrollmentState::active));
  assert_int_equal(alice.backup_codes, 10);
  assert_int_equal(alice.last_login, f.clock.now());
  assert_false(alice.required);
  assert_false(alice.reason.empty());
  assert_string_equal(page->accounts[1].user.c_str(), "bob");
  assert_int_equal(static_cast<int>(page->accounts[1].status.state),
                   static_cast<int>(EnrollmentState::pending));
  auto rest = f.admin->list("bob", 2, k_admin);
  assert_int_equal(rest->accounts.size(), 1);
  assert_string_equal(rest->accounts[0].user.c_str(), "carol");
  assert_false(rest->more);
  // The first page is audited, with the admin as the actor; later pages are not.
  AuditQuery query;
  query.limit = 1000;
  auto all = f.store->read_audit(query);
  const auto listed = std::count_if(all->begin(), all->end(), [](const AuditRecord& record) {
    return record.event.action == "admin-list" && record.event.actor == "dave" &&
           record.event.actor_uid == 5004;
  });
  assert_int_equal(listed, 1);
}

void test_admin_disable(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  new_codes(f, secret);
  assert_int_equal(static_cast<int>(*f.admin->disable("alice", k_admin)),
                   static_cast<int>(protocol::AdminDisableResult::disabled));
  const UserRecord record = stored(f, "alice");
  assert_false(record.enrolled());
  assert_true(record.backup_codes.empty());
  assert_auth(login(f, code_for(f, secret)), AuthResult::denied);
  assert_int_equal(static_cast<int>(*f.admin->disable("alice", k_admin)),
                   static_cast<int>(protocol::AdminDisableResult::not_enrolled));
  assert_int_equal(static_cast<int>(*f.admin->disable("nobody", k_admin)),
                   static_cast<int>(protocol::AdminDisableResult::not_enrolled));
  const std::vector<AuditRecord> events = audit_of(f, "alice");
  assert_string_equal(events.back().event.action.c_str(), "admin-disable");
  assert_string_equal(events.back().event.actor.c_str(), "dave");
}

void test_pass_then_enroll_again(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);
  // Locked out by wrong backup codes; a pass lets alice in with her password.
  for (int i = 0; i < 3; ++i) {
    login(f, k_wrong_backup);
  }
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);

  auto granted = f.admin->pass("alice", 3600, k_admin);
  assert_int_equal(static_cast<int>(granted->result), static_cast<int>(protocol::PassResult::granted));
  assert_int_equal(granted->pass_until, f.clock.now() + 3600);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_int_equal(static_cast<int>(status.lock), 0);
  assert_int_equal(status.pass_until, f.clock.now() + 3600);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::denied);
  // The old secret and codes are void already.
  assert_auth(login(f, code_for(f, secret)), AuthResult::denied);
  assert_auth(login(f, codes[0]), AuthResult::denied);

  // The pass ends: still not enrolled (the old secret never comes back), and enrollment is due
  // before any login, with or without a policy that requires 2FA.
  f.clock.advance(3601);
  status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_true(status.pass_until < f.clock.now() && status.pass_until != 0);
  assert_true(status.required);
  assert_true(status.grace_until < f.clock.now());
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::enroll_required);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::enroll_required);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::denied);
  const Bytes fresh = begin(f, "alice");
  assert_confirm(f, "alice", code_for(f, fresh), EnrollResult::confirmed);
  assert_int_equal(status_of(f, "alice").pass_until, 0);
}

void test_pass_revoke(void** state)
{
  Fixture& f = fixture(state);
  enroll_alice(f);
  assert_int_equal(static_cast<int>(f.admin->pass("alice", 0, k_admin)->result),
                   static_cast<int>(protocol::PassResult::no_pass));
  f.admin->pass("alice", 86400, k_admin);
  f.clock.advance(60);
  auto revoked = f.admin->pass("alice", 0, k_admin);
  assert_int_equal(static_cast<int>(revoked->result), static_cast<int>(protocol::PassResult::revoked));
  assert_int_equal(status_of(f, "alice").pass_until, f.clock.now());
  // A pass for a user the daemon has not met yet.
  assert_int_equal(static_cast<int>(f.admin->pass("erin", 60, k_admin)->result),
                   static_cast<int>(protocol::PassResult::granted));
  // Confirming an enrollment during a pass ends it.
  const Bytes secret = begin(f, "erin");
  assert_confirm(f, "erin", code_for(f, secret), EnrollResult::confirmed);
  assert_int_equal(status_of(f, "erin").pass_until, 0);
  const std::vector<AuditRecord> events = audit_of(f, "alice");
  assert_string_equal(events.back().event.action.c_str(), "admin-pass-revoke");
}

void test_import(void** state)
{
  Fixture& f = fixture(state);
  const Bytes alice_key = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
                           '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
  const SecretBytes alice_base32 = base32::encode(alice_key);
  const std::string bob_base32 = "JBSWY3DPEHPK3PXP"; // 10 bytes, as Google Authenticator makes
  auto bob_key = base32::decode(bob_base32);
  assert_true(bob_key.has_value());
  const Bytes bob_bytes(bob_key->data(), bob_key->data() + bob_key->size());

  std::vector<protocol::ImportEntry> entries = {import_entry("alice", alice_base32.view()),
                                                import_entry("bob", bob_base32)};
  entries[1].code_count = 2;
  entries[1].codes[0] = "12345678";
  entries[1].codes[1] = "87654321";
  auto imported = f.admin->import(entries, false, k_admin);
  assert_true(imported.has_value());
  assert_int_equal(static_cast<int>(imported->result), 0);

  f.clock.advance(30);
  assert_auth(login(f, code_for(f, alice_key)), AuthResult::success);
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, bob_bytes), k_who),
              AuthResult::success);
  // Google Authenticator's scratch codes became backup codes.
  assert_int_equal(status_of(f, "bob").backup_codes, 2);
  const AuthOutcome scratch =
    f.auth->authenticate("bob", AuthMode::code_only, "", "87654321", k_who);
  assert_auth(scratch, AuthResult::success);
  assert_int_equal(static_cast<int>(scratch.factor),
                   static_cast<int>(protocol::SecondFactor::backup_code));
  assert_int_equal(status_of(f, "bob").backup_codes, 1);

  // Already enrolled: the whole set is refused, unless replacing.
  std::vector<protocol::ImportEntry> again = {import_entry("carol", bob_base32),
                                              import_entry("alice", bob_base32)};
  auto refused = f.admin->import(again, false, k_admin);
  assert_int_equal(static_cast<int>(refused->result),
                   static_cast<int>(protocol::ImportResult::already_enrolled));
  assert_int_equal(refused->index, 1);
  assert_false(f.store->load("carol")->has_value());
  assert_true(f.admin->import(again, true, k_admin).has_value());
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, bob_bytes)), AuthResult::success);
  // Replacing with the very same secret keeps the replay guard: the code just used stays used.
  const std::string used = code_for(f, bob_bytes);
  assert_true(f.admin->import(again, true, k_admin).has_value());
  assert_auth(login(f, used), AuthResult::denied);

  // Bad entries, each refused with its index, and nothing written.
  auto bad_entry = [&](protocol::ImportEntry entry) {
    std::vector<protocol::ImportEntry> set = {import_entry("frank", bob_base32), entry};
    auto outcome = f.admin->import(set, true, k_admin);
    assert_true(outcome.has_value());
    assert_int_equal(static_cast<int>(outcome->result),
                     static_cast<int>(protocol::ImportResult::bad_entry));
    assert_int_equal(outcome->index, 1);
    assert_false(f.store->load("frank")->has_value());
  };
  bad_entry(import_entry("gina", "not base32!"));
  bad_entry(import_entry("gina", "JBSWY3DP")); // 5 bytes
  bad_entry(import_entry("frank", bob_base32)); // the same user twice
  bad_entry(import_entry("", bob_base32));
  protocol::ImportEntry bad_period = import_entry("gina", bob_base32);
  bad_period.period = 5;
  bad_entry(bad_period);
  protocol::ImportEntry bad_code = import_entry("gina", bob_base32);
  bad_code.code_count = 1;
  bad_code.codes[0] = "1234";
  bad_entry(bad_code);
  protocol::ImportEntry repeated_code = import_entry("gina", bob_base32);
  repeated_code.code_count = 2;
  repeated_code.codes[0] = "12345678";
  repeated_code.codes[1] = "12345678"; // would work twice
  bad_entry(repeated_code);
  const std::vector<AuditRecord> events = audit_of(f, "bob");
  assert_string_equal(events.front().event.action.c_str(), "admin-import");
}

void test_admin_log(void** state)
{
  Fixture& f = fixture(state);
  enroll_alice(f);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  AuditQuery query;
  query.limit = 2;
  auto page = f.admin->log(query, k_admin);
  assert_int_equal(page->records.size(), 2);
  assert_true(page->more);
  query.after_id = page->records.back().id;
  auto next = f.admin->log(query, k_admin);
  // The login of dave, then the first page's own admin-log event.
  assert_int_equal(next->records.size(), 2);
  assert_string_equal(next->records[0].event.subject.c_str(), "dave");
  assert_string_equal(next->records[1].event.action.c_str(), "admin-log");
  assert_false(next->more);
  // Later pages are not audited themselves.
  query.after_id = next->records.back().id;
  assert_int_equal(f.admin->log(query, k_admin)->records.size(), 0);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_admin_list),
      TEST(test_admin_disable),
      TEST(test_pass_then_enroll_again),
      TEST(test_pass_revoke),
      TEST(test_import),
      TEST(test_admin_log),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
