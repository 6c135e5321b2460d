#include "store_contract.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <thread>
#include <vector>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

namespace studio2fa::store_contract {

namespace {

StoreOpener g_open = nullptr;

struct Fixture {
  std::string dir;
  std::unique_ptr<Store> store;
};

int open_fixture(void** state)
{
  char templ[] = "/tmp/studio2fa-store-contract.XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  auto* fixture = new Fixture{templ, nullptr};
  *state = fixture;
  fixture->store = g_open(fixture->dir);
  return fixture->store ? 0 : -1;
}

int close_fixture(void** state)
{
  auto* fixture = static_cast<Fixture*>(*state);
  fixture->store.reset();
  std::error_code ignored;
  std::filesystem::remove_all(fixture->dir, ignored);
  delete fixture;
  return 0;
}

Store& contract_store(void** state)
{
  return *static_cast<Fixture*>(*state)->store;
}

void assert_error_contains(const std::string& message, const std::string& part)
{
  if (message.find(part) == std::string::npos) {
    fail_msg("error \"%s\" does not contain \"%s\"", message.c_str(), part.c_str());
  }
}

void test_round_trip_all_fields(void** state)
{
  Store* store = &contract_store(state);
  const UserRecord record = sample_record("alice");
  auto saved = store->save(record);
  assert_true(saved.has_value());
  assert_records_equal(load_existing(*store, "alice"), record);
}

void test_empty_blobs_round_trip(void** state)
{
  Store* store = &contract_store(state);
  UserRecord record = sample_record("bob");
  record.sealed_secret.clear();
  record.pending_secret.clear();
  assert_true(store->save(record).has_value());
  const UserRecord loaded = load_existing(*store, "bob");
  assert_false(loaded.enrolled());
  assert_false(loaded.has_pending());
  assert_records_equal(loaded, record);
}

void test_upsert_overwrites(void** state)
{
  Store* store = &contract_store(state);
  assert_true(store->save(sample_record("alice")).has_value());
  assert_true(store->save(sample_record("bob")).has_value());

  UserRecord changed = sample_record("alice");
  changed.revision = load_existing(*store, "alice").revision;
  changed.sealed_secret = {0x42};
  changed.params = {totp::Algorithm::sha1, 6, 30};
  changed.last_step = 99;
  changed.failures = 0;
  changed.pending_secret.clear();
  assert_true(store->save(changed).has_value());

  assert_records_equal(load_existing(*store, "alice"), changed);
  assert_records_equal(load_existing(*store, "bob"), sample_record("bob"));
}

void test_remove(void** state)
{
  Store* store = &contract_store(state);
  assert_true(store->save(sample_record("alice")).has_value());
  assert_true(store->save(sample_record("bob")).has_value());
  assert_true(store->remove("alice").has_value());
  auto loaded = store->load("alice");
  assert_true(loaded.has_value());
  assert_false(loaded->has_value());
  assert_records_equal(load_existing(*store, "bob"), sample_record("bob"));
  // Removing what is not there is not an error.
  assert_true(store->remove("alice").has_value());
}

void test_load_unknown_user(void** state)
{
  Store* store = &contract_store(state);
  assert_true(store->save(sample_record("alice")).has_value());
  auto loaded = store->load("mallory");
  assert_true(loaded.has_value());
  assert_false(loaded->has_value());
  // A prefix or a LIKE pattern is not a match.
  assert_false(store->load("ali")->has_value());
  assert_false(store->load("%")->has_value());
}

void test_concurrent_use(void** state)
{
  // The daemon's worker threads share one store.
  Store* store = &contract_store(state);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string user = "t" + std::to_string(t) + "u" + std::to_string(i);
        UserRecord record = sample_record(user);
        record.failures = static_cast<std::uint32_t>(i);
        if (!store->save(record) || !store->load(user) || !store->load("nobody")) {
          return; // the checks below notice the missing record
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 25; ++i) {
      const UserRecord loaded =
          load_existing(*store, "t" + std::to_string(t) + "u" + std::to_string(i));
      assert_int_equal(loaded.failures, i);
    }
  }
}

void test_save_all_is_all_or_nothing(void** state)
{
  Store* store = &contract_store(state);
  std::vector<UserRecord> records = {sample_record("good1"), sample_record("bad"),
                                     sample_record("good2")};
  records[1].last_step = std::numeric_limits<std::uint64_t>::max(); // cannot be stored
  auto saved = store->save_all(records);
  assert_false(saved.has_value());
  assert_error_contains(saved.error().message, "bad");
  assert_false(store->load("good1")->has_value());
  assert_false(store->load("good2")->has_value());

  records.erase(records.begin() + 1);
  assert_true(store->save_all(records).has_value());
  assert_records_equal(load_existing(*store, "good1"), records[0]);
  assert_records_equal(load_existing(*store, "good2"), records[1]);
}

void test_group_commit_isolates_failures(void** state)
{
  // Many savers at once are committed together; one caller's bad record fails only that caller.
  Store* store = &contract_store(state);
  constexpr int k_threads = 16;
  constexpr int k_saves = 40;
  std::vector<int> failures(k_threads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_saves; ++i) {
        UserRecord record = sample_record("g" + std::to_string(t) + "u" + std::to_string(i));
        if (t == 0 && i % 2 == 1) {
          record.last_step = std::numeric_limits<std::uint64_t>::max();
        }
        if (!store->save(record)) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  assert_int_equal(failures[0], k_saves / 2);
  for (int t = 1; t < k_threads; ++t) {
    assert_int_equal(failures[t], 0);
  }
  for (int t = 0; t < k_threads; ++t) {
    for (int i = 0; i < k_saves; ++i) {
      auto loaded = store->load("g" + std::to_string(t) + "u" + std::to_string(i));
      assert_true(loaded.has_value());
      assert_int_equal(loaded->has_value(), !(t == 0 && i % 2 == 1));
    }
  }
}

AuditEvent sample_event(const std::string& subject, std::int64_t at, const std::string& outcome)
{
  AuditEvent event;
  event.at = at;
  event.actor_uid = 0;
  event.actor = "root";
  event.action = "login";
  event.subject = subject;
  event.service = "sshd";
  event.rhost = "192.0.2.1";
  event.tty = "ssh";
  event.outcome = outcome;
  event.detail = "password and code";
  return event;
}

void test_audit_trail(void** state)
{
  Store* store = &contract_store(state);
  // A record and its event in one commit; events alone too.
  const UserRecord alice = sample_record("alice");
  const AuditEvent first = sample_event("alice", 1000, "success");
  assert_true(store->commit({{&alice, 1}, {{&first, 1}, 0}}).has_value());
  const AuditEvent more[] = {sample_event("bob", 1001, "denied"),
                             sample_event("alice", 1002, "denied"),
                             sample_event("bob", 1003, "locked")};
  assert_true(store->commit({{}, {more, 0}}).has_value());

  auto all = store->read_audit({});
  assert_true(all.has_value());
  assert_int_equal(all->size(), 4);
  for (std::size_t i = 1; i < all->size(); ++i) {
    assert_true((*all)[i].id > (*all)[i - 1].id);
  }
  const AuditEvent& read = (*all)[0].event;
  assert_int_equal(read.at, 1000);
  assert_string_equal(read.actor.c_str(), "root");
  assert_string_equal(read.action.c_str(), "login");
  assert_string_equal(read.subject.c_str(), "alice");
  assert_string_equal(read.service.c_str(), "sshd");
  assert_string_equal(read.rhost.c_str(), "192.0.2.1");
  assert_string_equal(read.tty.c_str(), "ssh");
  assert_string_equal(read.outcome.c_str(), "success");
  assert_string_equal(read.detail.c_str(), "password and code");

  AuditQuery query;
  query.subject = "bob";
  auto bob = store->read_audit(query);
  assert_int_equal(bob->size(), 2);
  assert_string_equal((*bob)[1].event.outcome.c_str(), "locked");
  query = {};
  query.since = 1002;
  assert_int_equal(store->read_audit(query)->size(), 2);
  // Pages: after_id and limit.
  query = {};
  query.limit = 3;
  auto page = store->read_audit(query);
  assert_int_equal(page->size(), 3);
  query.after_id = page->back().id;
  auto rest = store->read_audit(query);
  assert_int_equal(rest->size(), 1);
  assert_int_equal(rest->front().event.at, 1003);

  // Over-long text is cut to the protocol's limits, never refused.
  AuditEvent long_event = sample_event(std::string(300, 's'), 1004, std::string(40, 'o'));
  long_event.detail = std::string(500, 'd');
  long_event.rhost = std::string(300, 'r');
  assert_true(store->commit({{}, {{&long_event, 1}, 0}}).has_value());
  query = {};
  query.since = 1004;
  auto cut = store->read_audit(query);
  assert_int_equal(cut->size(), 1);
  assert_int_equal(cut->front().event.subject.size(), protocol::limits::user);
  assert_int_equal(cut->front().event.outcome.size(), protocol::limits::action);
  assert_int_equal(cut->front().event.detail.size(), protocol::limits::reason);
  assert_int_equal(cut->front().event.rhost.size(), protocol::limits::rhost);

  // Pruning rides along with a commit.
  assert_true(store->commit({{}, {{}, 1002}}).has_value());
  auto pruned = store->read_audit({});
  assert_int_equal(pruned->size(), 3);
  assert_int_equal(pruned->front().event.at, 1002);
}

void test_commit_is_all_or_nothing(void** state)
{
  // A record that cannot be stored takes its audit events with it.
  Store* store = &contract_store(state);
  UserRecord bad = sample_record("bad");
  bad.last_step = std::numeric_limits<std::uint64_t>::max();
  const AuditEvent event = sample_event("bad", 1, "success");
  assert_false(store->commit({{&bad, 1}, {{&event, 1}, 0}}).has_value());
  assert_int_equal(store->read_audit({})->size(), 0);
  assert_false(store->load("bad")->has_value());
  // Eleven backup codes are more than a user can have.
  UserRecord too_many = sample_record("many");
  too_many.backup_codes.assign(11, BackupCodeHash{});
  assert_false(store->save(too_many).has_value());
}

void test_list(void** state)
{
  Store* store = &contract_store(state);
  auto empty = store->list("", 10);
  assert_true(empty.has_value());
  assert_true(empty->empty());
  std::vector<UserRecord> records;
  for (const char* name : {"dave", "alice", "carol", "bob", "erin"}) {
    records.push_back(sample_record(name));
  }
  assert_true(store->save_all(records).has_value());

  auto first = store->list("", 2);
  assert_int_equal(first->size(), 2);
  assert_string_equal((*first)[0].user.c_str(), "alice");
  assert_string_equal((*first)[1].user.c_str(), "bob");
  assert_records_equal((*first)[0], records[1]);
  auto second = store->list("bob", 2);
  assert_int_equal(second->size(), 2);
  assert_string_equal((*second)[0].user.c_str(), "carol");
  assert_string_equal((*second)[1].user.c_str(), "dave");
  auto last = store->list("dave", 2);
  assert_int_equal(last->size(), 1);
  assert_string_equal((*last)[0].user.c_str(), "erin");
  assert_true(store->list("erin", 2)->empty());
}

void assert_conflict(const Expected<void>& result)
{
  assert_false(result.has_value());
  assert_int_equal(static_cast<int>(result.error().code), static_cast<int>(Errc::conflict));
}

void test_revisions(void** state)
{
  // 0 for a record never stored; each commit of a record moves its revision on by one.
  Store& store = contract_store(state);
  UserRecord record = sample_record("alice");
  assert_int_equal(record.revision, 0);
  assert_true(store.save(record).has_value());
  UserRecord loaded = load_existing(store, "alice");
  assert_int_equal(loaded.revision, 1);
  loaded.failures = 0;
  assert_true(store.save(loaded).has_value());
  loaded = load_existing(store, "alice");
  assert_int_equal(loaded.revision, 2);
  assert_int_equal(loaded.failures, 0);
  // list() reports the same revision as load().
  auto listed = store.list("", 10);
  assert_true(listed.has_value());
  assert_int_equal(listed->size(), 1);
  assert_int_equal(listed->front().revision, 2);
}

void test_stale_record_conflicts(void** state)
{
  // Two callers read the same revision; the first to commit wins, the second changes nothing,
  // neither its record nor its audit event.
  Store& store = contract_store(state);
  assert_true(store.save(sample_record("alice")).has_value());
  UserRecord first = load_existing(store, "alice");
  UserRecord second = load_existing(store, "alice");
  first.last_step += 1;
  assert_true(store.save(first).has_value());

  second.failures += 1;
  const AuditEvent event = sample_event("alice", 1, "denied");
  assert_conflict(store.commit({{&second, 1}, {{&event, 1}, 0}}));
  const UserRecord stored = load_existing(store, "alice");
  assert_records_equal(stored, first);
  assert_int_equal(stored.revision, 2);
  assert_int_equal(store.read_audit({})->size(), 0);

  // Read again, it commits.
  UserRecord again = stored;
  again.failures += 1;
  assert_true(store.commit({{&again, 1}, {{&event, 1}, 0}}).has_value());
  assert_int_equal(load_existing(store, "alice").revision, 3);
  assert_int_equal(store.read_audit({})->size(), 1);
}

void test_new_record_conflicts_with_stored_one(void** state)
{
  // Revision 0 means "no record": two enrollments of one new user cannot both be written.
  Store& store = contract_store(state);
  const UserRecord first = sample_record("alice");
  assert_true(store.save(first).has_value());
  UserRecord second = sample_record("alice");
  second.sealed_secret = {0x99};
  assert_conflict(store.save(second));
  assert_records_equal(load_existing(store, "alice"), first);
}

void test_revision_of_absent_record_conflicts(void** state)
{
  // A record read before it was removed cannot bring it back.
  Store& store = contract_store(state);
  assert_true(store.save(sample_record("alice")).has_value());
  const UserRecord read = load_existing(store, "alice");
  assert_true(store.remove("alice").has_value());
  assert_conflict(store.save(read));
  assert_false(store.load("alice")->has_value());
  UserRecord never = sample_record("bob");
  never.revision = 5;
  assert_conflict(store.save(never));
  assert_false(store.load("bob")->has_value());
  // A new record (revision 0) is welcome again.
  assert_true(store.save(sample_record("alice")).has_value());
  assert_int_equal(load_existing(store, "alice").revision, 1);
}

void test_conflict_fails_the_whole_commit(void** state)
{
  // One stale record among several: none of them, and none of the local part, is written.
  Store& store = contract_store(state);
  assert_true(store.save(sample_record("alice")).has_value());
  UserRecord stale = load_existing(store, "alice");
  UserRecord fresh = stale;
  fresh.failures = 7;
  assert_true(store.save(fresh).has_value());

  stale.failures = 9;
  const UserRecord records[] = {sample_record("bob"), stale};
  const AuditEvent event = sample_event("alice", 1, "success");
  CachedPolicy policy;
  policy.user = "alice";
  policy.decision = protocol::PolicyDecision::required;
  Enforcement enforcement;
  enforcement.on = true;
  enforcement.since = 5;
  assert_conflict(store.commit({records, {{&event, 1}, 0, {&policy, 1}, &enforcement}}));
  assert_false(store.load("bob")->has_value());
  assert_int_equal(load_existing(store, "alice").failures, 7);
  assert_int_equal(store.read_audit({})->size(), 0);
  assert_false(store.load_policy("alice")->has_value());
  assert_false(store.load_enforcement()->on);
  assert_conflict(store.commit_records(records));
  assert_false(store.load("bob")->has_value());
}

void test_concurrent_conflicts_fail_only_their_callers(void** state)
{
  // Callers committing at once: those with stale records get a conflict, the others are saved.
  Store& store = contract_store(state);
  constexpr int k_threads = 8;
  constexpr int k_rounds = 20;
  std::vector<UserRecord> stale;
  for (int t = 0; t < k_threads; ++t) {
    const std::string user = "c" + std::to_string(t);
    assert_true(store.save(sample_record(user)).has_value());
    stale.push_back(load_existing(store, user));
  }
  std::vector<int> conflicts(k_threads, 0);
  std::vector<int> failures(k_threads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      UserRecord current = stale[static_cast<std::size_t>(t)];
      for (int i = 0; i < k_rounds; ++i) {
        // Odd threads write their stale copy every other round.
        const bool write_stale = t % 2 == 1 && i % 2 == 1;
        UserRecord record = write_stale ? stale[static_cast<std::size_t>(t)] : current;
        record.failures = static_cast<std::uint32_t>(i);
        auto saved = store.save(record);
        if (saved) {
          current = record;
          ++current.revision;
        } else if (saved.error().code == Errc::conflict) {
          ++conflicts[static_cast<std::size_t>(t)];
        } else {
          ++failures[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < k_threads; ++t) {
    assert_int_equal(failures[static_cast<std::size_t>(t)], 0);
    assert_int_equal(conflicts[static_cast<std::size_t>(t)], t % 2 == 1 ? k_rounds / 2 : 0);
    const UserRecord stored = load_existing(store, "c" + std::to_string(t));
    assert_int_equal(stored.revision, 1 + (t % 2 == 1 ? k_rounds / 2 : k_rounds));
    assert_int_equal(stored.failures, t % 2 == 1 ? k_rounds - 2 : k_rounds - 1);
  }
}

void test_policy_cache(void** state)
{
  Store& store = contract_store(state);
  assert_false(store.load_policy("alice")->has_value());
  CachedPolicy policy;
  policy.user = "alice";
  policy.in_directory = true;
  policy.dn = "uid=alice,ou=people,dc=example";
  policy.decision = protocol::PolicyDecision::required;
  policy.reason = "member of cn=2fa";
  policy.grace_period = 3600;
  policy.fetched_at = 1'700'000'000;
  assert_true(store.commit_local({{}, 0, {&policy, 1}}).has_value());
  auto loaded = store.load_policy("alice");
  assert_true(loaded.has_value() && loaded->has_value());
  assert_true((*loaded)->in_directory);
  assert_string_equal((*loaded)->dn.c_str(), policy.dn.c_str());
  assert_int_equal(static_cast<int>((*loaded)->decision), static_cast<int>(policy.decision));
  assert_string_equal((*loaded)->reason.c_str(), policy.reason.c_str());
  assert_true((*loaded)->grace_period == std::optional<std::uint32_t>(3600));
  assert_int_equal((*loaded)->fetched_at, policy.fetched_at);
  assert_false(store.load_policy("bob")->has_value());

  // A newer answer replaces the old one; no grace period stays none.
  policy.in_directory = false;
  policy.dn.clear();
  policy.decision = protocol::PolicyDecision::exempt;
  policy.grace_period.reset();
  policy.fetched_at += 60;
  assert_true(store.commit_local({{}, 0, {&policy, 1}}).has_value());
  loaded = store.load_policy("alice");
  assert_int_equal(static_cast<int>((*loaded)->decision),
                   static_cast<int>(protocol::PolicyDecision::exempt));
  assert_false((*loaded)->grace_period.has_value());
  assert_int_equal((*loaded)->fetched_at, policy.fetched_at);

  // "Unknown" is no answer: it is never cached.
  CachedPolicy unknown = policy;
  unknown.decision = protocol::PolicyDecision::unknown;
  assert_false(store.commit_local({{}, 0, {&unknown, 1}}).has_value());
  assert_int_equal(static_cast<int>((*store.load_policy("alice"))->decision),
                   static_cast<int>(protocol::PolicyDecision::exempt));
}

void test_enforcement(void** state)
{
  Store& store = contract_store(state);
  auto initial = store.load_enforcement();
  assert_true(initial.has_value());
  assert_false(initial->on);
  assert_int_equal(initial->grace, 0);
  assert_int_equal(initial->since, 0);
  assert_true(initial->by.empty());

  Enforcement on;
  on.on = true;
  on.grace = 86'400;
  on.since = 1'700'000'000;
  on.by = "root";
  const AuditEvent event = sample_event("root", 1, "success");
  assert_true(store.commit_local({{&event, 1}, 0, {}, &on}).has_value());
  auto loaded = store.load_enforcement();
  assert_true(loaded->on);
  assert_int_equal(loaded->grace, on.grace);
  assert_int_equal(loaded->since, on.since);
  assert_string_equal(loaded->by.c_str(), "root");
  assert_int_equal(store.read_audit({})->size(), 1);

  Enforcement off;
  off.since = on.since + 1;
  off.by = "admin";
  assert_true(store.commit_local({{}, 0, {}, &off}).has_value());
  loaded = store.load_enforcement();
  assert_false(loaded->on);
  assert_int_equal(loaded->since, off.since);
  assert_string_equal(loaded->by.c_str(), "admin");
}

} // namespace

UserRecord sample_record(const std::string& user)
{
  UserRecord record;
  record.user = user;
  record.sealed_secret = {0x01, 0x02, 0x00, 0xff, 0x10};
  record.params = {totp::Algorithm::sha256, 8, 60};
  record.enrolled_at = 1'700'000'000;
  record.last_step = 56'666'666;
  record.failures = 3;
  record.last_failure_at = 1'700'000'123;
  record.pending_secret = {0xaa, 0xbb, 0xcc};
  record.pending_params = {totp::Algorithm::sha512, 7, 45};
  record.pending_created_at = 1'700'000'456;
  for (std::uint8_t i = 0; i < 3; ++i) {
    BackupCodeHash hash{};
    hash.fill(static_cast<std::uint8_t>(0x40 + i));
    record.backup_codes.push_back(hash);
  }
  record.backup_failures = 2;
  record.lock = protocol::LockState::second_factor;
  record.locked_at = 1'700'000'789;
  record.pass_until = 1'700'086'400;
  record.last_login_at = 1'699'999'999;
  return record;
}

// The phone factor's fields, every one set.
void set_phone_fields(UserRecord& record)
{
  record.phone = "+447946004567";
  record.phone_methods = k_phone_sms | k_phone_voice;
  record.phone_enrolled_at = 1'700'000'100;
  record.pending_phone = "+14155550100";
  record.pending_phone_methods = k_phone_voice;
  record.phone_code.fill(0xA5);
  record.phone_code_purpose = PhoneCodePurpose::confirm;
  record.phone_code_sent_at = 1'700'000'200;
  record.phone_code_expires_at = 1'700'000'500;
  record.phone_code_tries = 2;
  record.phone_sends_since = 1'700'000'000;
  record.phone_sends = 3;
}

void assert_phone_fields_equal(const UserRecord& a, const UserRecord& b)
{
  assert_string_equal(a.phone.c_str(), b.phone.c_str());
  assert_int_equal(a.phone_methods, b.phone_methods);
  assert_int_equal(a.phone_enrolled_at, b.phone_enrolled_at);
  assert_string_equal(a.pending_phone.c_str(), b.pending_phone.c_str());
  assert_int_equal(a.pending_phone_methods, b.pending_phone_methods);
  assert_true(a.phone_code == b.phone_code);
  assert_int_equal(static_cast<int>(a.phone_code_purpose), static_cast<int>(b.phone_code_purpose));
  assert_int_equal(a.phone_code_sent_at, b.phone_code_sent_at);
  assert_int_equal(a.phone_code_expires_at, b.phone_code_expires_at);
  assert_int_equal(a.phone_code_tries, b.phone_code_tries);
  assert_int_equal(a.phone_sends_since, b.phone_sends_since);
  assert_int_equal(a.phone_sends, b.phone_sends);
}

void assert_records_equal(const UserRecord& a, const UserRecord& b)
{
  assert_string_equal(a.user.c_str(), b.user.c_str());
  assert_true(a.sealed_secret == b.sealed_secret);
  assert_int_equal(static_cast<int>(a.params.algorithm), static_cast<int>(b.params.algorithm));
  assert_int_equal(a.params.digits, b.params.digits);
  assert_int_equal(a.params.period, b.params.period);
  assert_int_equal(a.enrolled_at, b.enrolled_at);
  assert_int_equal(a.last_step, b.last_step);
  assert_int_equal(a.failures, b.failures);
  assert_int_equal(a.last_failure_at, b.last_failure_at);
  assert_true(a.pending_secret == b.pending_secret);
  assert_int_equal(static_cast<int>(a.pending_params.algorithm),
                   static_cast<int>(b.pending_params.algorithm));
  assert_int_equal(a.pending_params.digits, b.pending_params.digits);
  assert_int_equal(a.pending_params.period, b.pending_params.period);
  assert_int_equal(a.pending_created_at, b.pending_created_at);
  assert_true(a.backup_codes == b.backup_codes);
  assert_int_equal(a.backup_failures, b.backup_failures);
  assert_int_equal(static_cast<int>(a.lock), static_cast<int>(b.lock));
  assert_int_equal(a.locked_at, b.locked_at);
  assert_int_equal(a.pass_until, b.pass_until);
  assert_int_equal(a.last_login_at, b.last_login_at);
  assert_int_equal(a.grace_until, b.grace_until);
  assert_phone_fields_equal(a, b);
}

UserRecord load_existing(EnrollmentStore& store, const std::string& user)
{
  auto loaded = store.load(user);
  if (!loaded) {
    fail_msg("load(%s): %s", user.c_str(), loaded.error().message.c_str());
  }
  assert_true(loaded->has_value());
  return std::move(**loaded);
}

std::vector<CMUnitTest> store_contract_tests(StoreOpener open)
{
  g_open = open;
#define CONTRACT_TEST(name) cmocka_unit_test_setup_teardown(name, open_fixture, close_fixture)
  std::vector<CMUnitTest> tests = {
      CONTRACT_TEST(test_round_trip_all_fields),
      CONTRACT_TEST(test_empty_blobs_round_trip),
      CONTRACT_TEST(test_upsert_overwrites),
      CONTRACT_TEST(test_remove),
      CONTRACT_TEST(test_load_unknown_user),
      CONTRACT_TEST(test_concurrent_use),
      CONTRACT_TEST(test_save_all_is_all_or_nothing),
      CONTRACT_TEST(test_group_commit_isolates_failures),
      CONTRACT_TEST(test_revisions),
      CONTRACT_TEST(test_stale_record_conflicts),
      CONTRACT_TEST(test_new_record_conflicts_with_stored_one),
      CONTRACT_TEST(test_revision_of_absent_record_conflicts),
      CONTRACT_TEST(test_conflict_fails_the_whole_commit),
      CONTRACT_TEST(test_concurrent_conflicts_fail_only_their_callers),
      CONTRACT_TEST(test_audit_trail),
      CONTRACT_TEST(test_commit_is_all_or_nothing),
      CONTRACT_TEST(test_list),
      CONTRACT_TEST(test_policy_cache),
      CONTRACT_TEST(test_enforcement),
  };
#undef CONTRACT_TEST
  return tests;
}

} // namespace studio2fa::store_contract
