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
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 1);
  assert_int_equal(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'users'"), 1);
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
  assert_int_equal(raw_query(path, "PRAGMA user_version"), 1);
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
      TMP_TEST(test_remove),
      TMP_TEST(test_load_unknown_user),
      TMP_TEST(test_reopen_persists),
      TMP_TEST(test_second_opener_is_refused),
      TMP_TEST(test_concurrent_use),
      TMP_TEST(test_save_all_is_all_or_nothing),
      TMP_TEST(test_group_commit_isolates_failures),
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
