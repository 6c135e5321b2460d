// SqliteStore (daemon/sqlite_store), and the file checks that guard what it stores:
// check_private_path (daemon/file_safety) and load_or_create_master_key (daemon/master_key).
#include "file_safety.hpp"
#include "master_key.hpp"
#include "sealer.hpp"
#include "sqlite_store.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sqlite3.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace studio2fa;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct TempDir {
  std::string path;
  std::string file(const char* name) const { return path + "/" + name; }
};

int make_temp_dir(void** state)
{
  char templ[] = "/tmp/studio2fa-store-test.XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  *state = new TempDir{templ};
  return 0;
}

int remove_temp_dir(void** state)
{
  auto* dir = static_cast<TempDir*>(*state);
  std::error_code ignored;
  std::filesystem::remove_all(dir->path, ignored);
  delete dir;
  return 0;
}

const TempDir& temp_dir(void** state)
{
  return *static_cast<const TempDir*>(*state);
}

void write_file(const std::string& path, const Bytes& bytes, mode_t mode)
{
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  assert_int_equal(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  assert_int_equal(::fchmod(fd, mode), 0);
  assert_int_equal(::close(fd), 0);
}

Bytes read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool contains(const Bytes& haystack, const Bytes& needle)
{
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

mode_t file_mode(const std::string& path)
{
  struct stat st {};
  assert_int_equal(::lstat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

void assert_error_contains(const std::string& message, const std::string& part)
{
  if (message.find(part) == std::string::npos) {
    fail_msg("error \"%s\" does not contain \"%s\"", message.c_str(), part.c_str());
  }
}

// The checks insist on root ownership, so tests of what they accept, or of the message for a
// bad mode (ownership is reported first), need root; CI runs as root.
bool skip_unless_root()
{
  if (geteuid() != 0) {
    skip();
    return true;
  }
  return false;
}

std::unique_ptr<SqliteStore> open_store(const std::string& path)
{
  auto store = SqliteStore::open(path);
  if (!store) {
    fail_msg("cannot open %s: %s", path.c_str(), store.error().message.c_str());
  }
  return std::move(*store);
}

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
}

UserRecord load_existing(SqliteStore& store, const std::string& user)
{
  auto loaded = store.load(user);
  if (!loaded) {
    fail_msg("load(%s): %s", user.c_str(), loaded.error().message.c_str());
  }
  assert_true(loaded->has_value());
  return std::move(**loaded);
}

// Runs one integer-valued statement on a database outside SqliteStore.
std::int64_t raw_query(const std::string& path, const char* sql)
{
  sqlite3* db = nullptr;
  assert_int_equal(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  const std::int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void raw_exec(const std::string& path, const char* sql)
{
  sqlite3* db = nullptr;
  assert_int_equal(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// A closed database with enough rows to span many pages.
void make_populated_db(const std::string& path)
{
  auto store = open_store(path);
  for (int i = 0; i < 400; ++i) {
    UserRecord record = sample_record("user" + std::to_string(i));
    record.sealed_secret.assign(48, static_cast<std::uint8_t>(i));
    assert_true(store->save(record).has_value());
  }
}

// --- SqliteStore --------------------------------------------------------------------------

void test_create_and_schema_version(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  open_store(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), SqliteStore::k_schema_version);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 3);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'users'"), 1);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 1);
}

void test_file_mode_is_0600(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  const mode_t old_umask = ::umask(022);
  auto store = open_store(path);
  assert_true(store->save(sample_record("alice")).has_value());
  ::umask(old_umask);
  assert_int_equal(file_mode(path), 0600);
  // WAL mode: while the store is open, the write-ahead log holds the same data.
  assert_int_equal(::access((path + "-wal").c_str(), F_OK), 0);
  assert_int_equal(file_mode(path + "-wal"), 0600);
}

void test_round_trip_all_fields(void** state)
{
  auto store = open_store(temp_dir(state).file("store.db"));
  const UserRecord record = sample_record("alice");
  auto saved = store->save(record);
  assert_true(saved.has_value());
  assert_records_equal(load_existing(*store, "alice"), record);
}

void test_empty_blobs_round_trip(void** state)
{
  auto store = open_store(temp_dir(state).file("store.db"));
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
  auto store = open_store(temp_dir(state).file("store.db"));
  assert_true(store->save(sample_record("alice")).has_value());
  assert_true(store->save(sample_record("bob")).has_value());

  UserRecord changed = sample_record("alice");
  changed.sealed_secret = {0x42};
  changed.params = {totp::Algorithm::sha1, 6, 30};
  changed.last_step = 99;
  changed.failures = 0;
  changed.pending_secret.clear();
  assert_true(store->save(changed).has_value());

  assert_records_equal(load_existing(*store, "alice"), changed);
  assert_records_equal(load_existing(*store, "bob"), sample_record("bob"));
}

void test_update_keeps_every_field(void** state)
{
  // A save of an existing record with the same algorithms and lock state takes a narrower
  // UPDATE (no CHECK (x IN ...) work); each of those three changing takes the upsert. Either
  // way the stored record is the one saved, every field of it.
  auto store = open_store(temp_dir(state).file("store.db"));
  UserRecord record = sample_record("alice");
  assert_true(store->save(record).has_value());
  assert_true(store->save(sample_record("bob")).has_value());

  record.sealed_secret = {0x07};
  record.params.digits = 6;
  record.params.period = 30;
  record.enrolled_at += 1;
  record.last_step += 1;
  record.failures = 0;
  record.last_failure_at = 0;
  record.pending_secret.clear();
  record.pending_params.digits = 6;
  record.pending_params.period = 30;
  record.pending_created_at = 0;
  record.backup_codes.pop_back();
  record.backup_failures = 0;
  record.locked_at += 1;
  record.pass_until = 0;
  record.last_login_at += 1;
  record.grace_until = 1'700'000'999;
  assert_true(store->save(record).has_value());
  UserRecord loaded = load_existing(*store, "alice");
  assert_records_equal(loaded, record);
  assert_int_equal(loaded.grace_until, record.grace_until);

  record.lock = protocol::LockState::none;
  assert_true(store->save(record).has_value());
  assert_records_equal(load_existing(*store, "alice"), record);
  record.params.algorithm = totp::Algorithm::sha1;
  assert_true(store->save(record).has_value());
  assert_records_equal(load_existing(*store, "alice"), record);
  record.pending_params.algorithm = totp::Algorithm::sha256;
  record.grace_until = 0;
  assert_true(store->save(record).has_value());
  loaded = load_existing(*store, "alice");
  assert_records_equal(loaded, record);
  assert_int_equal(loaded.grace_until, 0);
  assert_records_equal(load_existing(*store, "bob"), sample_record("bob"));
}

void test_remove(void** state)
{
  auto store = open_store(temp_dir(state).file("store.db"));
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
  auto store = open_store(temp_dir(state).file("store.db"));
  assert_true(store->save(sample_record("alice")).has_value());
  auto loaded = store->load("mallory");
  assert_true(loaded.has_value());
  assert_false(loaded->has_value());
  // A prefix or a LIKE pattern is not a match.
  assert_false(store->load("ali")->has_value());
  assert_false(store->load("%")->has_value());
}

void test_reopen_persists(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  {
    auto store = open_store(path);
    assert_true(store->save(sample_record("alice")).has_value());
  }
  {
    auto store = open_store(path);
    assert_records_equal(load_existing(*store, "alice"), sample_record("alice"));
  }
  // The store holds the database exclusively while open: look at it after closing.
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 3);
}

void test_second_opener_is_refused(void** state)
{
  // A second daemon started on the same file must not run beside the first.
  const std::string path = temp_dir(state).file("store.db");
  auto first = open_store(path);
  assert_true(first->save(sample_record("alice")).has_value());
  auto second = SqliteStore::open(path);
  assert_false(second.has_value());
  assert_error_contains(second.error().message, path);
}

void test_concurrent_use(void** state)
{
  // The daemon's worker threads share one store.
  auto store = open_store(temp_dir(state).file("store.db"));
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
  auto store = open_store(temp_dir(state).file("store.db"));
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
  auto store = open_store(temp_dir(state).file("store.db"));
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

// The schema of version 1, as released: a database written by that build.
constexpr const char* k_schema_v1 = R"sql(
CREATE TABLE users (
  name               TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
  secret             BLOB CHECK (secret IS NULL OR typeof(secret) = 'blob'),
  algorithm          INTEGER NOT NULL CHECK (algorithm IN (1, 2, 3)),
  digits             INTEGER NOT NULL CHECK (digits BETWEEN 6 AND 8),
  period             INTEGER NOT NULL CHECK (period BETWEEN 1 AND 4294967295),
  enrolled_at        INTEGER NOT NULL,
  last_step          INTEGER NOT NULL CHECK (last_step >= 0),
  failures           INTEGER NOT NULL CHECK (failures BETWEEN 0 AND 4294967295),
  last_failure_at    INTEGER NOT NULL,
  pending_secret     BLOB CHECK (pending_secret IS NULL OR typeof(pending_secret) = 'blob'),
  pending_algorithm  INTEGER NOT NULL CHECK (pending_algorithm IN (1, 2, 3)),
  pending_digits     INTEGER NOT NULL CHECK (pending_digits BETWEEN 6 AND 8),
  pending_period     INTEGER NOT NULL CHECK (pending_period BETWEEN 1 AND 4294967295),
  pending_created_at INTEGER NOT NULL
);
PRAGMA application_id = 1395803713;
PRAGMA user_version = 1;
INSERT INTO users VALUES ('alice', x'0102', 2, 8, 60, 1700000000, 56666666, 3, 1700000123,
                          NULL, 1, 6, 30, 0);
INSERT INTO users VALUES ('bob', NULL, 1, 6, 30, 0, 0, 0, 0, x'aabbcc', 3, 7, 45, 1700000456);
)sql";

void test_migrates_version_1(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  raw_exec(path, k_schema_v1);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 1);
  {
    auto store = open_store(path);
    const UserRecord alice = load_existing(*store, "alice");
    assert_true(alice.sealed_secret == Bytes({0x01, 0x02}));
    assert_int_equal(static_cast<int>(alice.params.algorithm),
                     static_cast<int>(totp::Algorithm::sha256));
    assert_int_equal(alice.params.digits, 8);
    assert_int_equal(alice.enrolled_at, 1'700'000'000);
    assert_int_equal(alice.last_step, 56'666'666);
    assert_int_equal(alice.failures, 3);
    // The new fields start empty.
    assert_true(alice.backup_codes.empty());
    assert_int_equal(alice.backup_failures, 0);
    assert_int_equal(static_cast<int>(alice.lock), 0);
    assert_int_equal(alice.pass_until, 0);
    assert_int_equal(alice.last_login_at, 0);
    const UserRecord bob = load_existing(*store, "bob");
    assert_true(bob.pending_secret == Bytes({0xaa, 0xbb, 0xcc}));
    assert_int_equal(bob.pending_params.digits, 7);

    // The migrated database takes the new fields and the audit trail.
    UserRecord changed = alice;
    changed.backup_codes.assign(10, BackupCodeHash{});
    changed.lock = protocol::LockState::account;
    AuditEvent event;
    event.at = 1'700'000'001;
    event.action = "login";
    event.subject = "alice";
    event.outcome = "success";
    assert_true(store->commit({{&changed, 1}, {&event, 1}, 0}).has_value());
    assert_records_equal(load_existing(*store, "alice"), changed);
    auto events = store->read_audit({});
    assert_true(events.has_value());
    assert_int_equal(events->size(), 1);
  }
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 3);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM users"), 2);
  assert_int_equal(raw_query(path, "PRAGMA application_id"), 1395803713);
  // Opening again leaves it as it is.
  open_store(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 3);
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
  auto store = open_store(temp_dir(state).file("store.db"));
  // A record and its event in one commit; events alone too.
  const UserRecord alice = sample_record("alice");
  const AuditEvent first = sample_event("alice", 1000, "success");
  assert_true(store->commit({{&alice, 1}, {&first, 1}, 0}).has_value());
  const AuditEvent more[] = {sample_event("bob", 1001, "denied"),
                             sample_event("alice", 1002, "denied"),
                             sample_event("bob", 1003, "locked")};
  assert_true(store->commit({{}, more, 0}).has_value());

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
  assert_true(store->commit({{}, {&long_event, 1}, 0}).has_value());
  query = {};
  query.since = 1004;
  auto cut = store->read_audit(query);
  assert_int_equal(cut->size(), 1);
  assert_int_equal(cut->front().event.subject.size(), protocol::limits::user);
  assert_int_equal(cut->front().event.outcome.size(), protocol::limits::action);
  assert_int_equal(cut->front().event.detail.size(), protocol::limits::reason);
  assert_int_equal(cut->front().event.rhost.size(), protocol::limits::rhost);

  // Pruning rides along with a commit.
  assert_true(store->commit({{}, {}, 1002}).has_value());
  auto pruned = store->read_audit({});
  assert_int_equal(pruned->size(), 3);
  assert_int_equal(pruned->front().event.at, 1002);
}

void test_commit_is_all_or_nothing(void** state)
{
  // A record that cannot be stored takes its audit events with it.
  auto store = open_store(temp_dir(state).file("store.db"));
  UserRecord bad = sample_record("bad");
  bad.last_step = std::numeric_limits<std::uint64_t>::max();
  const AuditEvent event = sample_event("bad", 1, "success");
  assert_false(store->commit({{&bad, 1}, {&event, 1}, 0}).has_value());
  assert_int_equal(store->read_audit({})->size(), 0);
  assert_false(store->load("bad")->has_value());
  // Eleven backup codes are more than a user can have.
  UserRecord too_many = sample_record("many");
  too_many.backup_codes.assign(11, BackupCodeHash{});
  assert_false(store->save(too_many).has_value());
}

void test_list(void** state)
{
  auto store = open_store(temp_dir(state).file("store.db"));
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

void test_refuses_garbage_file(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  Bytes garbage;
  for (int i = 0; i < 200; ++i) {
    for (char c : std::string_view("this is not a database\n")) {
      garbage.push_back(static_cast<std::uint8_t>(c));
    }
  }
  write_file(path, garbage, 0600);

  auto store = SqliteStore::open(path);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, path);
  assert_error_contains(store.error().message, "not a SQLite database");
  assert_true(read_file(path) == garbage);
  assert_int_equal(file_mode(path), 0600);
}

void test_refuses_newer_schema(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  raw_exec(path, "CREATE TABLE users (name TEXT); PRAGMA user_version = 99;");
  const Bytes before = read_file(path);

  auto store = SqliteStore::open(path);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, path);
  assert_error_contains(store.error().message, "newer studio2fa");
  assert_true(read_file(path) == before);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 99);
}

void test_refuses_foreign_database(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  raw_exec(path, "CREATE TABLE accounts (id INTEGER);");
  const Bytes before = read_file(path);
  auto store = SqliteStore::open(path);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, path);
  assert_error_contains(store.error().message, "did not create");
  assert_true(read_file(path) == before);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM sqlite_master"), 1);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 0);
}

void test_refuses_other_application_id(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  raw_exec(path, "CREATE TABLE users (name TEXT); PRAGMA user_version = 1;");
  const Bytes before = read_file(path);
  auto store = SqliteStore::open(path);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, "another program");
  assert_true(read_file(path) == before);
}

void test_refuses_truncated_database(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  make_populated_db(path);
  assert_int_equal(::access((path + "-wal").c_str(), F_OK), -1); // checkpointed on close
  const Bytes whole = read_file(path);
  assert_true(whole.size() >= 8 * 4096);

  const Bytes half(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2));
  write_file(path, half, 0600);
  auto store = SqliteStore::open(path);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, path);
  assert_true(read_file(path) == half);
}

void test_refuses_corrupted_page(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  make_populated_db(path);
  Bytes bytes = read_file(path);
  const std::size_t page = 4096;
  assert_true(bytes.size() >= 8 * page);
  // Scribble over the b-tree header of a page in the middle of the table.
  const std::size_t victim = (bytes.size() / page / 2) * page;
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(victim),
            bytes.begin() + static_cast<std::ptrdiff_t>(victim + 64), 0x5a);
  write_file(path, bytes, 0600);

  auto store = SqliteStore::open(path);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, path);
  assert_true(read_file(path) == bytes);
}

void test_refuses_symlink(void** state)
{
  const std::string real = temp_dir(state).file("real.db");
  const std::string link = temp_dir(state).file("link.db");
  open_store(real);
  assert_int_equal(::symlink(real.c_str(), link.c_str()), 0);
  auto store = SqliteStore::open(link);
  assert_false(store.has_value());
  assert_error_contains(store.error().message, "symbolic link");
}

void test_no_plaintext_secret_on_disk(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  const std::string_view secret = "12345678901234567890";
  const Bytes plaintext(secret.begin(), secret.end());

  auto key = load_or_create_master_key(temp_dir(state).file("master.key"));
  if (!key) {
    // Without root the key directory check fails; any 32 bytes will do for this test.
    key = SecretBytes(Bytes(32, 0x17));
  }
  auto sealer = Sealer::create(std::move(*key));
  assert_true(sealer.has_value());
  UserRecord record = sample_record("alice");
  auto sealed = sealer->seal(plaintext, "alice", "active");
  auto sealed_pending = sealer->seal(plaintext, "alice", "pending");
  assert_true(sealed.has_value());
  assert_true(sealed_pending.has_value());
  record.sealed_secret = *sealed;
  record.pending_secret = *sealed_pending;

  auto store = open_store(path);
  assert_true(store->save(record).has_value());
  // While open, the row lives in the write-ahead log.
  Bytes db = read_file(path);
  Bytes wal = read_file(path + "-wal");
  assert_true(contains(db, *sealed) || contains(wal, *sealed)); // the search can find a blob
  assert_false(contains(db, plaintext));
  assert_false(contains(wal, plaintext));

  store.reset();
  db = read_file(path);
  wal = read_file(path + "-wal");
  assert_true(contains(db, *sealed));
  assert_false(contains(db, plaintext));
  assert_false(contains(wal, plaintext));

  // And it opens again from what was stored.
  store = open_store(path);
  const UserRecord loaded = load_existing(*store, "alice");
  auto opened = sealer->open(loaded.sealed_secret, "alice", "active");
  assert_true(opened.has_value());
  assert_memory_equal(opened->data(), secret.data(), secret.size());
}

void test_removed_secret_is_wiped(void** state)
{
  // secure_delete: the bytes of a removed record do not linger in the file.
  const std::string path = temp_dir(state).file("store.db");
  UserRecord record = sample_record("alice");
  record.sealed_secret = Bytes(40, 0xe7);
  {
    auto store = open_store(path);
    assert_true(store->save(record).has_value());
  }
  assert_true(contains(read_file(path), record.sealed_secret));
  {
    auto store = open_store(path);
    assert_true(store->remove("alice").has_value());
  }
  assert_false(contains(read_file(path), record.sealed_secret));
}

// --- check_private_path -------------------------------------------------------------------

void test_private_file_modes(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("secret");
  write_file(path, {1, 2, 3}, 0644);
  auto result = check_private_path(path, PathKind::file);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, path + " is readable by others (mode 0644)");
  assert_error_contains(result.error().message, "chmod 600 " + path);

  write_file(path, {1, 2, 3}, 0620);
  result = check_private_path(path, PathKind::file);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, "0620");

  write_file(path, {1, 2, 3}, 0602);
  assert_false(check_private_path(path, PathKind::file).has_value());

  write_file(path, {1, 2, 3}, 0600);
  assert_true(check_private_path(path, PathKind::file).has_value());
  write_file(path, {1, 2, 3}, 0640);
  assert_true(check_private_path(path, PathKind::file).has_value());
}

void test_private_file_owner(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("secret");
  write_file(path, {1, 2, 3}, 0600);
  assert_int_equal(::chown(path.c_str(), 65534, 65534), 0);
  auto result = check_private_path(path, PathKind::file);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, path + " is owned by uid 65534, not root");
  assert_error_contains(result.error().message, "chown root: " + path);
}

void test_private_path_symlink_and_missing(void** state)
{
  const std::string target = temp_dir(state).file("secret");
  const std::string link = temp_dir(state).file("link");
  write_file(target, {1, 2, 3}, 0600);
  assert_int_equal(::symlink(target.c_str(), link.c_str()), 0);
  auto result = check_private_path(link, PathKind::file);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, link + " is a symbolic link");

  const std::string missing = temp_dir(state).file("missing");
  result = check_private_path(missing, PathKind::file);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, missing + " does not exist");
}

void test_private_path_kind(void** state)
{
  const std::string dir = temp_dir(state).path;
  const std::string file = temp_dir(state).file("secret");
  write_file(file, {1}, 0600);
  auto result = check_private_path(dir, PathKind::file);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, "not a regular file");
  result = check_private_path(file, PathKind::directory);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, "not a directory");
}

void test_private_directory_modes(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string dir = temp_dir(state).file("keys");
  assert_int_equal(::mkdir(dir.c_str(), 0700), 0);
  assert_int_equal(::chmod(dir.c_str(), 0755), 0);
  auto result = check_private_path(dir, PathKind::directory);
  assert_false(result.has_value());
  assert_error_contains(result.error().message, dir + " is readable by others (mode 0755)");
  assert_error_contains(result.error().message, "chmod 700 " + dir);

  assert_int_equal(::chmod(dir.c_str(), 0701), 0);
  assert_false(check_private_path(dir, PathKind::directory).has_value());

  assert_int_equal(::chmod(dir.c_str(), 0700), 0);
  assert_true(check_private_path(dir, PathKind::directory).has_value());
}

void test_parent_directory(void**)
{
  assert_string_equal(parent_directory("/a/b/c").c_str(), "/a/b");
  assert_string_equal(parent_directory("c").c_str(), ".");
  assert_string_equal(parent_directory("/c").c_str(), "/");
  assert_string_equal(parent_directory("/").c_str(), "/");
  assert_string_equal(parent_directory("a/b/").c_str(), "a");
  assert_string_equal(parent_directory("/a//b").c_str(), "/a");
  assert_string_equal(parent_directory("").c_str(), ".");
}

// --- load_or_create_master_key ------------------------------------------------------------

void test_master_key_created_then_loaded(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("master.key");
  auto first = load_or_create_master_key(path);
  if (!first) {
    fail_msg("%s", first.error().message.c_str());
  }
  assert_int_equal(first->size(), k_master_key_size);
  assert_int_equal(file_mode(path), 0600);
  const Bytes on_disk = read_file(path);
  assert_int_equal(on_disk.size(), 32);
  assert_memory_equal(on_disk.data(), first->data(), 32);
  assert_false(std::all_of(on_disk.begin(), on_disk.end(), [](std::uint8_t b) { return b == 0; }));

  auto second = load_or_create_master_key(path);
  assert_true(second.has_value());
  assert_memory_equal(second->data(), first->data(), 32);
  assert_true(read_file(path) == on_disk);
}

void test_master_key_wrong_size(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("master.key");
  for (std::size_t size : {0, 31, 33, 64}) {
    write_file(path, Bytes(size, 0x11), 0600);
    auto key = load_or_create_master_key(path);
    assert_false(key.has_value());
    assert_error_contains(key.error().message, path);
    assert_int_equal(read_file(path).size(), size);
  }
}

void test_master_key_permissions(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string path = temp_dir(state).file("master.key");
  for (mode_t mode : {0644, 0640, 0604, 0610}) {
    write_file(path, Bytes(32, 0x11), mode);
    auto key = load_or_create_master_key(path);
    assert_false(key.has_value());
    assert_error_contains(key.error().message, path);
    assert_error_contains(key.error().message, "chmod 600");
  }
  write_file(path, Bytes(32, 0x11), 0600);
  assert_int_equal(::chown(path.c_str(), 65534, 0), 0);
  auto key = load_or_create_master_key(path);
  assert_false(key.has_value());
  assert_error_contains(key.error().message, "owned by uid 65534");
}

void test_master_key_symlink_refused(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string target = temp_dir(state).file("elsewhere");
  const std::string path = temp_dir(state).file("master.key");
  write_file(target, Bytes(32, 0x11), 0600);
  assert_int_equal(::symlink(target.c_str(), path.c_str()), 0);
  auto key = load_or_create_master_key(path);
  assert_false(key.has_value());
  assert_error_contains(key.error().message, "symbolic link");

  // A dangling link is not followed to create a file either.
  const std::string dangling = temp_dir(state).file("dangling.key");
  const std::string nowhere = temp_dir(state).file("nowhere");
  assert_int_equal(::symlink(nowhere.c_str(), dangling.c_str()), 0);
  assert_false(load_or_create_master_key(dangling).has_value());
  assert_int_equal(::access(nowhere.c_str(), F_OK), -1);
}

void test_master_key_directory_checked(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const std::string dir = temp_dir(state).file("keys");
  assert_int_equal(::mkdir(dir.c_str(), 0755), 0);
  assert_int_equal(::chmod(dir.c_str(), 0755), 0);
  const std::string path = dir + "/master.key";
  auto key = load_or_create_master_key(path);
  assert_false(key.has_value());
  assert_error_contains(key.error().message, dir + " is readable by others");
  assert_int_equal(::access(path.c_str(), F_OK), -1);
}

} // namespace

int main()
{
#define TMP_TEST(name) cmocka_unit_test_setup_teardown(name, make_temp_dir, remove_temp_dir)
  const struct CMUnitTest tests[] = {
      TMP_TEST(test_create_and_schema_version),
      TMP_TEST(test_file_mode_is_0600),
      TMP_TEST(test_round_trip_all_fields),
      TMP_TEST(test_empty_blobs_round_trip),
      TMP_TEST(test_upsert_overwrites),
      TMP_TEST(test_update_keeps_every_field),
      TMP_TEST(test_remove),
      TMP_TEST(test_load_unknown_user),
      TMP_TEST(test_reopen_persists),
      TMP_TEST(test_second_opener_is_refused),
      TMP_TEST(test_concurrent_use),
      TMP_TEST(test_save_all_is_all_or_nothing),
      TMP_TEST(test_group_commit_isolates_failures),
      TMP_TEST(test_migrates_version_1),
      TMP_TEST(test_audit_trail),
      TMP_TEST(test_commit_is_all_or_nothing),
      TMP_TEST(test_list),
      TMP_TEST(test_refuses_garbage_file),
      TMP_TEST(test_refuses_newer_schema),
      TMP_TEST(test_refuses_foreign_database),
      TMP_TEST(test_refuses_other_application_id),
      TMP_TEST(test_refuses_truncated_database),
      TMP_TEST(test_refuses_corrupted_page),
      TMP_TEST(test_refuses_symlink),
      TMP_TEST(test_no_plaintext_secret_on_disk),
      TMP_TEST(test_removed_secret_is_wiped),
      TMP_TEST(test_private_file_modes),
      TMP_TEST(test_private_file_owner),
      TMP_TEST(test_private_path_symlink_and_missing),
      TMP_TEST(test_private_path_kind),
      TMP_TEST(test_private_directory_modes),
      cmocka_unit_test(test_parent_directory),
      TMP_TEST(test_master_key_created_then_loaded),
      TMP_TEST(test_master_key_wrong_size),
      TMP_TEST(test_master_key_permissions),
      TMP_TEST(test_master_key_symlink_refused),
      TMP_TEST(test_master_key_directory_checked),
  };
#undef TMP_TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
