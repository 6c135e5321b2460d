// SqliteStore (daemon/sqlite_store), and the file checks that guard what it stores:
// check_private_path (daemon/file_safety) and load_or_create_master_key (daemon/master_key).
#include "file_safety.hpp"
#include "master_key.hpp"
#include "sealer.hpp"
#include "sqlite_schema.hpp"
#include "sqlite_store.hpp"
#include "store_contract.hpp"

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
using namespace studio2fa::store_contract;

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

// Runs `sql` on a database outside SqliteStore; whether it succeeded.
bool raw_try(const std::string& path, const char* sql)
{
  sqlite3* db = nullptr;
  assert_int_equal(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc == SQLITE_OK;
}

void raw_exec(const std::string& path, const char* sql)
{
  assert_true(raw_try(path, sql));
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

// Saves `record` and moves it on to the revision the store now holds, for the next save.
void save_next(SqliteStore& store, UserRecord& record)
{
  auto saved = store.save(record);
  if (!saved) {
    fail_msg("save(%s): %s", record.user.c_str(), saved.error().message.c_str());
  }
  ++record.revision;
}

// --- SqliteStore --------------------------------------------------------------------------

void test_create_and_schema_version(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  open_store(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), SqliteStore::k_schema_version);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
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

void test_update_keeps_every_field(void** state)
{
  // A save of an existing record with the same algorithms and lock state takes a narrower
  // UPDATE (no CHECK (x IN ...) work); each of those three changing takes the upsert. Either
  // way the stored record is the one saved, every field of it.
  auto store = open_store(temp_dir(state).file("store.db"));
  UserRecord record = sample_record("alice");
  save_next(*store, record);
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
  save_next(*store, record);
  UserRecord loaded = load_existing(*store, "alice");
  assert_records_equal(loaded, record);
  assert_int_equal(loaded.grace_until, record.grace_until);

  record.lock = protocol::LockState::none;
  save_next(*store, record);
  assert_records_equal(load_existing(*store, "alice"), record);
  record.params.algorithm = totp::Algorithm::sha1;
  save_next(*store, record);
  assert_records_equal(load_existing(*store, "alice"), record);
  record.pending_params.algorithm = totp::Algorithm::sha256;
  record.grace_until = 0;
  save_next(*store, record);
  loaded = load_existing(*store, "alice");
  assert_records_equal(loaded, record);
  assert_int_equal(loaded.grace_until, 0);
  assert_records_equal(load_existing(*store, "bob"), sample_record("bob"));
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
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
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
    assert_true(store->commit({{&changed, 1}, {{&event, 1}, 0}}).has_value());
    assert_records_equal(load_existing(*store, "alice"), changed);
    auto events = store->read_audit({});
    assert_true(events.has_value());
    assert_int_equal(events->size(), 1);
  }
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM users"), 2);
  assert_int_equal(raw_query(path, "PRAGMA application_id"), 1395803713);
  // Opening again leaves it as it is.
  open_store(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
}

// A database as the build of schema version 3 left it: version 1 and the released steps to 2 and
// 3, with two users and the enforcement switch on.
void make_version_3_db(const std::string& path)
{
  raw_exec(path, k_schema_v1);
  for (int version = 1; version < 3; ++version) {
    raw_exec(path, schema_migrations()[static_cast<std::size_t>(version)]);
  }
  raw_exec(path, "PRAGMA user_version = 3;"
                 "UPDATE users SET backup_codes = zeroblob(64), grace_until = 1700001000 "
                 "WHERE name = 'alice';"
                 "INSERT INTO enforcement VALUES (1, 1, 600, 1700000500, 'root');");
}

void test_migrates_version_3(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  make_version_3_db(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 3);
  {
    auto store = open_store(path);
    // Every record that was there is at revision 1, with all it held.
    UserRecord alice = load_existing(*store, "alice");
    assert_int_equal(alice.revision, 1);
    assert_true(alice.sealed_secret == Bytes({0x01, 0x02}));
    assert_int_equal(alice.backup_codes.size(), 2);
    assert_int_equal(alice.grace_until, 1'700'001'000);
    assert_int_equal(load_existing(*store, "bob").revision, 1);
    assert_true(store->load_enforcement()->on);

    // A migrated record takes conditional commits like a new one.
    UserRecord fresh = sample_record("alice");
    auto refused = store->save(fresh);
    assert_false(refused.has_value());
    assert_int_equal(static_cast<int>(refused.error().code), static_cast<int>(Errc::conflict));
    alice.failures = 1;
    assert_true(store->save(alice).has_value());
    assert_int_equal(load_existing(*store, "alice").revision, 2);
  }
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM users WHERE revision = 1"), 1);
  // Opening again leaves it as it is.
  open_store(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
}

// A database as the build of schema version 4 left it: version 3 and the released step to 4.
void make_version_4_db(const std::string& path)
{
  make_version_3_db(path);
  raw_exec(path, schema_migrations()[3]);
  raw_exec(path, "PRAGMA user_version = 4; UPDATE users SET revision = 7 WHERE name = 'alice';");
}

void test_migrates_version_4(void** state)
{
  const std::string path = temp_dir(state).file("store.db");
  make_version_4_db(path);
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 4);
  {
    auto store = open_store(path);
    // What was there is kept, revision included; nobody has a phone yet.
    UserRecord alice = load_existing(*store, "alice");
    assert_int_equal(alice.revision, 7);
    assert_true(alice.sealed_secret == Bytes({0x01, 0x02}));
    assert_int_equal(alice.backup_codes.size(), 2);
    assert_int_equal(alice.grace_until, 1'700'001'000);
    assert_phone_fields_equal(alice, UserRecord{});
    assert_false(alice.has_phone());
    assert_false(alice.has_phone_code());

    // A migrated record takes the phone factor, and a later save clears it again.
    set_phone_fields(alice);
    save_next(*store, alice);
    UserRecord loaded = load_existing(*store, "alice");
    assert_phone_fields_equal(loaded, alice);
    assert_int_equal(loaded.revision, 8);
    assert_true(loaded.has_phone());
    assert_true(loaded.has_phone_code());
    UserRecord cleared = loaded;
    assert_phone_fields_equal(cleared, alice);
    cleared.phone.clear();
    cleared.phone_methods = 0;
    cleared.phone_code_purpose = PhoneCodePurpose::none;
    cleared.phone_code = {};
    save_next(*store, cleared);
    loaded = load_existing(*store, "alice");
    assert_false(loaded.has_phone());
    assert_false(loaded.has_phone_code());
    assert_phone_fields_equal(loaded, cleared);
  }
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 5);
  // No code: no hash stored at all.
  assert_int_equal(raw_query(path, "SELECT count(*) FROM users WHERE phone_code IS NULL"), 2);
  // The database refuses what no build writes.
  assert_false(raw_try(path, "UPDATE users SET phone_methods = 4 WHERE name = 'bob'"));
  assert_false(raw_try(path, "UPDATE users SET phone_code = zeroblob(31) WHERE name = 'bob'"));
  assert_false(raw_try(path, "UPDATE users SET phone = '+1234567890123456' WHERE name = 'bob'"));
}

void test_phone_fields_of_new_record(void** state)
{
  // Insert and both updates carry the phone factor's fields.
  auto store = open_store(temp_dir(state).file("store.db"));
  UserRecord record = sample_record("carol");
  set_phone_fields(record);
  save_next(*store, record);
  assert_phone_fields_equal(load_existing(*store, "carol"), record);
  record.lock = protocol::LockState::account; // the wider update
  record.phone_code_tries = 3;
  save_next(*store, record);
  assert_phone_fields_equal(load_existing(*store, "carol"), record);
  record.phone_sends = 4; // the narrower one
  save_next(*store, record);
  assert_phone_fields_equal(load_existing(*store, "carol"), record);
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

std::unique_ptr<Store> open_contract_store(const std::string& dir)
{
  return open_store(dir + "/store.db");
}

int main()
{
#define TMP_TEST(name) cmocka_unit_test_setup_teardown(name, make_temp_dir, remove_temp_dir)
  std::vector<CMUnitTest> tests = {
      TMP_TEST(test_create_and_schema_version),
      TMP_TEST(test_file_mode_is_0600),
      TMP_TEST(test_update_keeps_every_field),
      TMP_TEST(test_reopen_persists),
      TMP_TEST(test_second_opener_is_refused),
      TMP_TEST(test_migrates_version_1),
      TMP_TEST(test_migrates_version_3),
      TMP_TEST(test_migrates_version_4),
      TMP_TEST(test_phone_fields_of_new_record),
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
  for (const CMUnitTest& test : store_contract_tests(open_contract_store)) {
    tests.push_back(test);
  }
  return _cmocka_run_group_tests("test_sqlite_store", tests.data(), tests.size(), nullptr, nullptr);
}
