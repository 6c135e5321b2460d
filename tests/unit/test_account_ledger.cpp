// The audit trail (daemon/auth/account_ledger.cpp): what each outcome records, pruning,
// and the audit budget.
#include "auth_fixture.hpp"

namespace {

// --- the audit trail --------------------------------------------------------------------------

void test_audit_records_outcomes(void** state)
{
  Fixture& f = fixture(state);
  const Requester sshd{0, "root", "sshd", "192.0.2.9", "ssh"};
  const Bytes secret = enroll_alice(f);
  const std::string right = code_for(f, secret);
  const std::string wrong = wrong_code(f, secret);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "right", wrong, sshd),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "wrong", right, sshd),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "right", right, sshd),
              AuthResult::success);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", sshd),
              AuthResult::denied);

  const std::vector<AuditRecord> events = audit_of(f, "alice");
  // enroll-begin, enroll-confirm, then the three logins.
  assert_int_equal(events.size(), 5);
  assert_string_equal(events[0].event.action.c_str(), "enroll-begin");
  assert_string_equal(events[1].event.action.c_str(), "enroll-confirm");
  assert_string_equal(events[1].event.outcome.c_str(), "confirmed");
  const char* const outcomes[] = {"denied", "denied", "success"};
  for (std::size_t i = 0; i < 3; ++i) {
    const AuditEvent& event = events[i + 2].event;
    assert_string_equal(event.action.c_str(), "login");
    assert_string_equal(event.outcome.c_str(), outcomes[i]);
    assert_string_equal(event.service.c_str(), "sshd");
    assert_string_equal(event.rhost.c_str(), "192.0.2.9");
    assert_string_equal(event.tty.c_str(), "ssh");
    assert_string_equal(event.actor.c_str(), "root");
    assert_int_equal(event.at, f.clock.now());
    // Never a code or a password.
    for (const std::string* field : {&event.detail, &event.outcome, &event.subject}) {
      assert_true(field->find(right) == std::string::npos);
      assert_true(field->find(wrong) == std::string::npos);
      assert_true(field->find("right") == std::string::npos);
    }
  }
  assert_string_equal(events[2].event.detail.c_str(), "wrong or reused code");
  assert_string_equal(events[3].event.detail.c_str(), "wrong password");
  assert_int_equal(audit_of(f, "dave").size(), 1);
  // A success updates the last login in the same commit.
  assert_int_equal(status_of(f, "alice").last_login, f.clock.now());
}

void test_audit_pruned(void** state)
{
  Fixture& f = fixture(state);
  f.audit_retention = 2 * 86400;
  f.reconfigure(test_settings());
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  f.clock.advance(86400);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  assert_int_equal(audit_of(f, "dave").size(), 2);
  // Three days on, the next commit prunes what is older than two days.
  f.clock.advance(2 * 86400);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  const std::vector<AuditRecord> events = audit_of(f, "dave");
  assert_int_equal(events.size(), 2);
  assert_int_equal(events[0].event.at, f.clock.now() - 2 * 86400);
  assert_int_equal(events[1].event.at, f.clock.now());
}

void test_audit_budget_bounds_self_requests(void** state)
{
  // A user looping requests about their own account (a code-only check while not enrolled, say)
  // cannot grow the audit table past the budget: 60 rows at once, then one a second. Root
  // (sshd, login) is never limited.
  Fixture& f = fixture(state);
  const Requester dave_self{5004, "dave", "self", "", ""};
  for (int i = 0; i < 500; ++i) {
    assert_auth(f.auth->authenticate("dave", AuthMode::code_only, "", "123456", dave_self),
                AuthResult::not_enrolled);
  }
  assert_int_equal(audit_of(f, "dave").size(), 60);
  f.clock.advance(10);
  for (int i = 0; i < 500; ++i) {
    f.auth->authenticate("dave", AuthMode::code_only, "", "123456", dave_self);
  }
  assert_int_equal(audit_of(f, "dave").size(), 70);
  for (int i = 0; i < 200; ++i) {
    f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who);
  }
  assert_int_equal(audit_of(f, "dave").size(), 270);
}

void test_audit_budget_unit(void**)
{
  AuditBudget budget(3, 2);
  for (int i = 0; i < 3; ++i) {
    assert_true(budget.allow(1000, 100));
  }
  assert_false(budget.allow(1000, 100));
  assert_true(budget.allow(1001, 100)); // per uid
  assert_false(budget.allow(1000, 101)); // half a token
  assert_true(budget.allow(1000, 102));  // one every 2 s
  assert_false(budget.allow(1000, 102));
  assert_true(budget.allow(1000, 1000)); // refilled, capped at the burst
  assert_true(budget.allow(1000, 1000));
  assert_true(budget.allow(1000, 1000));
  assert_false(budget.allow(1000, 1000));
  for (int i = 0; i < 1000; ++i) {
    assert_true(budget.allow(0, 100)); // root
  }
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_audit_records_outcomes),
      TEST(test_audit_pruned),
      TEST(test_audit_budget_bounds_self_requests),
      cmocka_unit_test(test_audit_budget_unit),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
