// Two hosts sharing one store of records (store = directory), as the Authenticator sees them:
// host A's commit loses to a write host B made after A loaded the record (Errc::conflict), and
// A decides the login again on what B wrote. B's write is slipped in just before A's commit by
// a Store that forwards to the fixture's SqliteStore (its revisions make the commit fail the
// same way the directory's assertion does). That Store can also hand A a copy of the record
// (load_for_commit), as a directory store's warm cache does, stale or not.
#include "phone_fixture.hpp"

#include <functional>

namespace {

// Forwards everything to `inner`; runs `before_commit` once, before the next commit.
class InterleavingStore final : public Store {
public:
  explicit InterleavingStore(Store& inner) : m_inner(inner) {}

  std::function<void()> before_commit;
  unsigned conflicts = 0;
  // Handed out by load_for_commit() as a copy, when set: once, or every time with `keep_copy`
  // (as a directory store keeps what it last read or wrote).
  std::optional<UserRecord> copy;
  bool keep_copy = false;
  unsigned loads = 0;

  Expected<std::optional<UserRecord>> load(std::string_view user) override
  {
    ++loads;
    return m_inner.load(user);
  }
  Expected<Loaded> load_for_commit(std::string_view user) override
  {
    if (copy && keep_copy) {
      return Loaded{copy, true};
    }
    if (copy) {
      Loaded loaded{std::move(copy), true};
      copy.reset();
      return loaded;
    }
    return Store::load_for_commit(user);
  }
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) override
  {
    return m_inner.list(after, limit);
  }
  Expected<void> commit_records(std::span<const UserRecord> records) override
  {
    return commit({records, {}});
  }
  Expected<void> remove(std::string_view user) override { return m_inner.remove(user); }
  Expected<void> commit_local(const LocalChanges& changes) override
  {
    return m_inner.commit_local(changes);
  }
  Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query) override
  {
    return m_inner.read_audit(query);
  }
  Expected<std::optional<CachedPolicy>> load_policy(std::string_view user) override
  {
    return m_inner.load_policy(user);
  }
  Expected<Enforcement> load_enforcement() override { return m_inner.load_enforcement(); }
  Expected<void> commit(const StoreChanges& changes) override
  {
    if (before_commit && !changes.records.empty()) {
      auto hook = std::move(before_commit);
      before_commit = nullptr;
      hook();
    }
    auto done = m_inner.commit(changes);
    if (!done && done.error().code == Errc::conflict) {
      ++conflicts;
    }
    return done;
  }

private:
  Store& m_inner;
};

// Host A: the fixture's clock, sealer and hasher (one studio key), its own ledger and locks,
// over the interleaving store. The fixture's own Authenticator and AccountAdmin are host B.
struct HostA {
  explicit HostA(Fixture& f)
      : store(*f.store), ledger(store, f.clock, f.audit_retention),
        auth(ledger, *f.sealer, *f.hasher, f.passwords, f.settings), admin(ledger, auth)
  {
  }
  InterleavingStore store;
  AccountLedger ledger;
  Authenticator auth;
  AccountAdmin admin;
};

// alice's login on `auth`: the code alone (otp_only), or her password ("right") and the code.
AuthOutcome code_login(Authenticator& auth, const std::string& code,
                       AuthMode mode = AuthMode::code_only)
{
  return auth.authenticate("alice", mode, mode == AuthMode::code_only ? "" : "right", code, k_who);
}

void test_code_used_meanwhile_on_another_host_is_a_replay(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  AuthOutcome on_b;
  a.store.before_commit = [&] { on_b = code_login(*f.auth, code); };
  const AuthOutcome on_a = code_login(a.auth, code);

  assert_auth(on_b, AuthResult::success);
  assert_auth(on_a, AuthResult::denied);
  assert_int_equal(a.store.conflicts, 1);
  // A's second decision counted the reused code as a wrong one, on B's record.
  const UserRecord record = stored(f, "alice");
  assert_int_equal(record.last_step, f.step_now());
  assert_int_equal(record.failures, 1);
}

void test_disable_meanwhile_on_another_host_is_seen(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);

  a.store.before_commit = [&] {
    assert_int_equal(static_cast<int>(*f.admin->disable("alice", k_admin)),
                     static_cast<int>(protocol::AdminDisableResult::disabled));
  };
  const AuthOutcome on_a = code_login(a.auth, code_for(f, secret));
  assert_true(on_a.result != AuthResult::success);
  assert_int_equal(a.store.conflicts, 1);
  assert_false(stored(f, "alice").enrolled());
}

void test_lock_meanwhile_on_another_host_is_seen(void** state)
{
  Fixture& f = fixture(state);
  f.settings.lockout_after = 3;
  f.reconfigure(f.settings);
  HostA a(f);
  const Bytes secret = enroll_alice(f);

  // B locks the account with wrong codes while A checks a right one.
  a.store.before_commit = [&] {
    for (int i = 0; i < 3; ++i) {
      code_login(*f.auth, wrong_code(f, secret));
    }
    assert_int_equal(static_cast<int>(stored(f, "alice").lock),
                     static_cast<int>(LockState::account));
  };
  assert_auth(code_login(a.auth, code_for(f, secret)), AuthResult::locked);
  assert_int_equal(a.store.conflicts, 1);
}

void test_conflicts_without_end_fail_closed(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);

  // Another host writes before each of A's commits: A gives up after a few tries.
  std::function<void()> interfere = [&] {
    UserRecord record = stored(f, "alice");
    record.last_login_at += 1;
    assert_true(f.store->save(record).has_value());
    a.store.before_commit = interfere;
  };
  a.store.before_commit = interfere;
  assert_auth(code_login(a.auth, code_for(f, secret)), AuthResult::unavailable);
  assert_true(a.store.conflicts >= 2);
  assert_true(a.store.conflicts <= 8);
  a.store.before_commit = nullptr;
}

void test_fresh_copy_logs_in_without_a_load(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);

  a.store.copy = stored(f, "alice");
  a.store.loads = 0;
  assert_auth(code_login(a.auth, code_for(f, secret)), AuthResult::success);
  assert_int_equal(a.store.loads, 0);
  assert_int_equal(a.store.conflicts, 0);
  assert_int_equal(stored(f, "alice").last_step, f.step_now());
}

void test_stale_copy_after_a_code_used_on_another_host_is_a_replay(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  a.store.copy = stored(f, "alice"); // A's copy, from before B's login
  assert_auth(code_login(*f.auth, code), AuthResult::success);
  assert_auth(code_login(a.auth, code), AuthResult::denied);
  assert_int_equal(a.store.conflicts, 1);
  assert_int_equal(stored(f, "alice").failures, 1);
}

// Locks alice on B (lockout_after = 3 wrong codes), hands A a copy of the locked record, and
// has B's administrator lift the lock: A's copy is stale.
void hand_a_stale_locked_copy(Fixture& f, HostA& a, const Bytes& secret)
{
  for (int i = 0; i < 3; ++i) {
    code_login(*f.auth, wrong_code(f, secret));
  }
  a.store.copy = stored(f, "alice");
  assert_int_equal(static_cast<int>(a.store.copy->lock), static_cast<int>(LockState::account));
  assert_int_equal(static_cast<int>(*f.admin->unlock("alice", k_admin)),
                   static_cast<int>(protocol::UnlockResult::unlocked));
}

void test_stale_copy_decides_nothing_without_a_commit(void** state)
{
  Fixture& f = fixture(state);
  f.settings.lockout_after = 3;
  f.reconfigure(f.settings);
  HostA a(f);
  const Bytes secret = enroll_alice(f);
  // A reads the record again rather than refusing on its copy: a code-only login, and the first
  // look of a password-and-code one (the copy kept, as a directory store keeps it).
  for (AuthMode mode : {AuthMode::code_only, AuthMode::password_and_code}) {
    hand_a_stale_locked_copy(f, a, secret);
    a.store.keep_copy = mode == AuthMode::password_and_code;
    a.store.loads = 0;
    assert_auth(code_login(a.auth, code_for(f, secret), mode), AuthResult::success);
    assert_true(mode == AuthMode::code_only ? a.store.loads == 1 : a.store.loads >= 1);
    f.clock.advance(30);
  }
  // The copy says not enrolled (alice enrolled since): read again too.
  UserRecord unenrolled = stored(f, "alice");
  unenrolled.sealed_secret.clear();
  a.store.copy = unenrolled;
  assert_false(a.store.copy->has_second_factor());
  a.store.loads = 0;
  assert_auth(code_login(a.auth, code_for(f, secret), AuthMode::password_and_code),
              AuthResult::success);
  assert_true(a.store.loads >= 1);
}

void test_two_prompt_login_on_a_fresh_copy_reads_nothing(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);

  // The first look (enrolled, not locked, not throttled) and the code both go on the copy; the
  // commit checks it.
  a.store.copy = stored(f, "alice");
  a.store.keep_copy = true;
  a.store.loads = 0;
  assert_auth(code_login(a.auth, code_for(f, secret), AuthMode::password_and_code),
              AuthResult::success);
  assert_int_equal(a.store.loads, 0);
  assert_int_equal(a.store.conflicts, 0);
  assert_int_equal(stored(f, "alice").last_step, f.step_now());
}

// Another host's write slipped in before A's next commit (a login's bookkeeping).
void write_meanwhile(Fixture& f, const char* user)
{
  UserRecord record = stored(f, user);
  record.last_login_at += 1;
  assert_true(f.store->save(record).has_value());
}

void test_admin_unlock_is_decided_again_after_a_write_on_another_host(void** state)
{
  Fixture& f = fixture(state);
  f.settings.lockout_after = 3;
  f.reconfigure(f.settings);
  HostA a(f);
  const Bytes secret = enroll_alice(f);
  for (int i = 0; i < 3; ++i) {
    code_login(*f.auth, wrong_code(f, secret));
  }
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto unlocked = a.admin.unlock("alice", k_admin);
  assert_true(unlocked.has_value());
  assert_int_equal(static_cast<int>(*unlocked), static_cast<int>(protocol::UnlockResult::unlocked));
  assert_int_equal(a.store.conflicts, 1);
  assert_int_equal(static_cast<int>(stored(f, "alice").lock), static_cast<int>(LockState::none));
}

void test_admin_disable_and_pass_are_decided_again(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  enroll_alice(f);
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto disabled = a.admin.disable("alice", k_admin);
  assert_true(disabled.has_value());
  assert_int_equal(a.store.conflicts, 1);
  assert_false(stored(f, "alice").enrolled());

  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto pass = a.admin.pass("alice", 3600, k_admin);
  assert_true(pass.has_value());
  assert_int_equal(static_cast<int>(pass->result), static_cast<int>(protocol::PassResult::granted));
  assert_int_equal(a.store.conflicts, 2);
  assert_int_equal(stored(f, "alice").pass_until, pass->pass_until);
}

void test_enrollment_is_decided_again_after_a_write_on_another_host(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  auto offer = a.auth.begin_enrollment("alice", k_who);
  assert_true(offer.has_value());
  const Bytes secret(offer->secret.data(), offer->secret.data() + offer->secret.size());

  // Another host writes alice's record between A's load and A's confirmation: A confirms on
  // what that host wrote.
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto confirmed = a.auth.confirm_enrollment("alice", code_for(f, secret), k_who);
  assert_true(confirmed.has_value());
  assert_int_equal(static_cast<int>(confirmed->result),
                   static_cast<int>(protocol::EnrollResult::confirmed));
  assert_int_equal(a.store.conflicts, 1);
  assert_true(stored(f, "alice").enrolled());
}

void test_self_service_is_decided_again_code_proof_included(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);

  // A write that used nothing: A's second try proves the same code and goes ahead.
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto codes = a.auth.new_backup_codes("alice", code_for(f, secret), k_who);
  assert_true(codes.has_value());
  assert_int_equal(static_cast<int>(codes->code.result), static_cast<int>(CodeResult::ok));
  assert_int_equal(a.store.conflicts, 1);
  assert_int_equal(stored(f, "alice").backup_codes.size(), protocol::k_backup_codes_per_set);

  // B logs in with the code A is proving a DISABLE with: on A's second try it is a replay.
  f.clock.advance(30);
  const std::string code = code_for(f, secret);
  a.store.before_commit = [&] { assert_auth(code_login(*f.auth, code), AuthResult::success); };
  auto disabled = a.auth.disable("alice", code, k_who);
  assert_true(disabled.has_value());
  assert_int_equal(static_cast<int>(disabled->result), static_cast<int>(CodeResult::bad_code));
  assert_int_equal(a.store.conflicts, 2);
  assert_true(stored(f, "alice").enrolled());
}

void test_phone_removal_is_decided_again_after_a_write_on_another_host(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  const Bytes secret = enroll_alice(f);
  UserRecord record = stored(f, "alice");
  record.phone = "+447946004567";
  record.phone_methods = k_phone_sms;
  assert_true(f.store->save(record).has_value());

  // Another host writes the record between A's load and A's commit: A's copy is stale, its
  // first commit loses, and the removal is decided again on what that host wrote, not lost.
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto removed = a.auth.phone_remove("alice", code_for(f, secret), k_who);
  assert_true(removed.has_value());
  assert_int_equal(static_cast<int>(removed->result), static_cast<int>(CodeResult::ok));
  assert_int_equal(a.store.conflicts, 1);
  assert_false(stored(f, "alice").has_phone());
  assert_true(stored(f, "alice").enrolled());
}

void test_phone_confirmation_is_decided_again_after_a_write_on_another_host(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  PhoneSetup p(f, a.ledger);
  auto sent = p.auth.phone_enroll("alice", "+447946004567", protocol::k_method_sms, "", k_who);
  assert_true(sent.has_value());
  assert_int_equal(static_cast<int>(sent->result),
                   static_cast<int>(protocol::PhoneEnrollResult::sent));

  // The confirmation's first commit loses to another host's write; decided again on that
  // write, the right code confirms the number rather than answer an error.
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto confirmed = p.auth.phone_confirm("alice", p.sender.last_code(), k_who);
  assert_true(confirmed.has_value());
  assert_int_equal(static_cast<int>(confirmed->result), static_cast<int>(EnrollResult::confirmed));
  assert_int_equal(a.store.conflicts, 1);
  assert_string_equal(stored(f, "alice").phone.c_str(), "+447946004567");
  assert_true(stored(f, "alice").pending_phone.empty());
}

void test_phone_enrollment_is_decided_again_code_proof_included(void** state)
{
  Fixture& f = fixture(state);
  HostA a(f);
  PhoneSetup p(f, a.ledger);
  const Bytes secret = enroll_alice(f);

  // Another host writes the record meanwhile: the number is stored on the second try, and its
  // code sent once.
  a.store.before_commit = [&] { write_meanwhile(f, "alice"); };
  auto sent = p.auth.phone_enroll("alice", "+447946004567", protocol::k_method_sms,
                                  code_for(f, secret), k_who);
  assert_true(sent.has_value());
  assert_int_equal(static_cast<int>(sent->result),
                   static_cast<int>(protocol::PhoneEnrollResult::sent));
  assert_int_equal(a.store.conflicts, 1);
  assert_string_equal(stored(f, "alice").pending_phone.c_str(), "+447946004567");
  assert_int_equal(p.sender.messages.size(), 1);

  // Another host logs in with the very code the enrollment proves itself with: on the second
  // try it is a replay, and no number is stored or texted.
  f.clock.advance(30);
  UserRecord cleared = stored(f, "alice");
  cleared.pending_phone.clear();
  cleared.pending_phone_methods = 0;
  assert_true(f.store->save(cleared).has_value());
  const std::string code = code_for(f, secret);
  a.store.before_commit = [&] { assert_auth(code_login(*f.auth, code), AuthResult::success); };
  auto replayed =
      p.auth.phone_enroll("alice", "+447946004568", protocol::k_method_sms, code, k_who);
  assert_true(replayed.has_value());
  assert_int_equal(static_cast<int>(replayed->result),
                   static_cast<int>(protocol::PhoneEnrollResult::bad_code));
  assert_int_equal(a.store.conflicts, 2);
  assert_true(stored(f, "alice").pending_phone.empty());
  assert_int_equal(p.sender.messages.size(), 1);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_code_used_meanwhile_on_another_host_is_a_replay),
      TEST(test_disable_meanwhile_on_another_host_is_seen),
      TEST(test_lock_meanwhile_on_another_host_is_seen),
      TEST(test_conflicts_without_end_fail_closed),
      TEST(test_fresh_copy_logs_in_without_a_load),
      TEST(test_stale_copy_after_a_code_used_on_another_host_is_a_replay),
      TEST(test_stale_copy_decides_nothing_without_a_commit),
      TEST(test_two_prompt_login_on_a_fresh_copy_reads_nothing),
      TEST(test_admin_unlock_is_decided_again_after_a_write_on_another_host),
      TEST(test_admin_disable_and_pass_are_decided_again),
      TEST(test_enrollment_is_decided_again_after_a_write_on_another_host),
      TEST(test_self_service_is_decided_again_code_proof_included),
      TEST(test_phone_removal_is_decided_again_after_a_write_on_another_host),
      TEST(test_phone_confirmation_is_decided_again_after_a_write_on_another_host),
      TEST(test_phone_enrollment_is_decided_again_code_proof_included),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
