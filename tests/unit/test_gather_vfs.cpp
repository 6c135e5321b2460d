// The SQLite VFS that gathers a WAL commit's writes into one (daemon/store/sqlite_gather_vfs):
// counted through unix-excl's own system call table, with a write failure injected there.
#include "sqlite_connection.hpp"
#include "sqlite_gather_vfs.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <sqlite3.h>
#include <string>
#include <unistd.h>

using namespace studio2fa;

namespace {

std::atomic<int> g_writes{0};
std::atomic<bool> g_fail_writes{false};

ssize_t counting_pwrite(int fd, const void* buffer, size_t count, off_t offset)
{
  ++g_writes;
  if (g_fail_writes) {
    errno = EIO;
    return -1;
  }
  return ::pwrite(fd, buffer, count, offset);
}

// Counts (and may fail) every write unix-excl makes, by either of its pwrite entries.
struct CountedWrites {
  sqlite3_vfs* unix_vfs = sqlite3_vfs_find("unix-excl");
  CountedWrites()
  {
    for (const char* name : {"pwrite", "pwrite64"}) {
      unix_vfs->xSetSystemCall(unix_vfs, name,
                               reinterpret_cast<sqlite3_syscall_ptr>(counting_pwrite));
    }
    g_writes = 0;
    g_fail_writes = false;
  }
  ~CountedWrites()
  {
    for (const char* name : {"pwrite", "pwrite64"}) {
      unix_vfs->xSetSystemCall(unix_vfs, name, nullptr);
    }
    g_fail_writes = false;
  }
};

struct Db {
  std::string dir;
  std::string path;
  DbHandle writer;
  DbHandle reader;
};

void exec_ok(sqlite3* db, const char* sql)
{
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    fail_msg("%s: %s", sql, message ? message : sqlite3_errstr(rc));
  }
}

// Rows of t, or those matching `where`.
long long count_rows(sqlite3* db, const char* where = nullptr)
{
  const std::string sql = std::string("SELECT count(*) FROM t") + (where ? " WHERE " : "") +
                          (where ? where : "");
  sqlite3_stmt* stmt = nullptr;
  assert_int_equal(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  const long long n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return n;
}

// A database in WAL mode with synchronous=FULL (as the store's), a table of 2,000 rows spread
// over many pages, and a second connection to read.
Db open_db()
{
  configure_library();
  char templ[] = "/tmp/studio2fa-gather-test.XXXXXX";
  assert_non_null(mkdtemp(templ));
  Db db{templ, std::string(templ) + "/test.db", nullptr, nullptr};
  auto writer = open_connection(db.path);
  assert_true(writer.has_value());
  db.writer = std::move(*writer);
  assert_true(configure_connection(db.path, db.writer.get()).has_value());
  exec_ok(db.writer.get(), "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  exec_ok(db.writer.get(), "CREATE INDEX t_by_v ON t (v)");
  exec_ok(db.writer.get(), "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < 2000) INSERT INTO t SELECT i, printf('%08d', i * 7919 % "
                           "2000) FROM n");
  auto reader = open_connection(db.path);
  assert_true(reader.has_value());
  db.reader = std::move(*reader);
  return db;
}

void remove_db(Db& db)
{
  db.reader.reset();
  db.writer.reset();
  std::error_code ignored;
  std::filesystem::remove_all(db.dir, ignored);
}

// Changes rows at both ends of the table and of its index: several pages, each written as a
// frame header and a page.
const char* k_spread_update = "UPDATE t SET v = 'x' || v WHERE id IN (1, 1000, 2000)";

void test_commit_is_one_write_and_seen(void**)
{
  Db db = open_db();
  count_rows(db.reader.get()); // the reader's WAL is open from here on
  assert_true(set_wal_gathering(db.writer.get(), true));
  {
    CountedWrites counted;
    exec_ok(db.writer.get(), k_spread_update);
    assert_int_equal(g_writes.load(), 1);
  }
  // Another connection sees the commit, and the database is whole.
  assert_int_equal(count_rows(db.reader.get(), "v LIKE 'x%'"), 3);
  exec_ok(db.reader.get(), "PRAGMA integrity_check");

  // Off: the same commit is written frame header by page, as SQLite does by itself.
  assert_true(set_wal_gathering(db.writer.get(), false));
  {
    CountedWrites counted;
    exec_ok(db.writer.get(), "UPDATE t SET v = 'y' || v WHERE id IN (1, 1000, 2000)");
    assert_true(g_writes.load() >= 6);
  }
  remove_db(db);
}

// A commit of many pages (as a migration's or a rekey's) goes out in pieces, each one write that
// unix-excl takes whole (it writes at most 128 KiB at once).
void test_large_commit_in_pieces(void**)
{
  Db db = open_db();
  assert_true(set_wal_gathering(db.writer.get(), true));
  {
    CountedWrites counted;
    exec_ok(db.writer.get(), "UPDATE t SET v = printf('%0200d', id)"); // every page, twice over
    assert_true(g_writes.load() >= 2);
    assert_true(g_writes.load() < 40);
  }
  assert_int_equal(count_rows(db.reader.get(), "length(v) = 200"), 2000);
  exec_ok(db.reader.get(), "PRAGMA integrity_check");
  remove_db(db);
}

void test_failed_write_fails_the_commit(void**)
{
  Db db = open_db();
  const long long before = count_rows(db.reader.get());
  assert_true(set_wal_gathering(db.writer.get(), true));
  {
    CountedWrites counted;
    g_fail_writes = true;
    char* message = nullptr;
    const int rc = sqlite3_exec(db.writer.get(), "INSERT INTO t VALUES (5000, 'lost')", nullptr,
                                nullptr, &message);
    sqlite3_free(message);
    // The held writes failed when the commit synced: the commit fails, nothing is published.
    assert_int_not_equal(rc, SQLITE_OK);
    assert_int_equal(rc & 0xff, SQLITE_IOERR);
  }
  assert_int_equal(count_rows(db.reader.get()), before);
  // The same connection goes on: the next commit is written and seen.
  exec_ok(db.writer.get(), "INSERT INTO t VALUES (5001, 'kept')");
  assert_int_equal(count_rows(db.reader.get()), before + 1);
  exec_ok(db.writer.get(), "PRAGMA integrity_check");
  // And a new connection, after the writer has gone, finds the same.
  std::string path = db.path;
  db.reader.reset();
  db.writer.reset();
  auto again = open_connection(path);
  assert_true(again.has_value());
  assert_int_equal(count_rows(again->get()), before + 1);
  again->reset();
  remove_db(db);
}

void test_not_gathered_unless_on(void**)
{
  Db db = open_db();
  {
    CountedWrites counted;
    exec_ok(db.writer.get(), k_spread_update);
    assert_true(g_writes.load() >= 6); // off by default
  }
  // A connection opened on unix-excl itself has nothing to turn on.
  sqlite3* plain = nullptr;
  assert_int_equal(sqlite3_open_v2(db.path.c_str(), &plain, SQLITE_OPEN_READWRITE, "unix-excl"),
                   SQLITE_OK);
  count_rows(plain);
  assert_false(set_wal_gathering(plain, true));
  sqlite3_close(plain);
  remove_db(db);
}

} // namespace

int main()
{
  const CMUnitTest tests[] = {
    cmocka_unit_test(test_commit_is_one_write_and_seen),
    cmocka_unit_test(test_large_commit_in_pieces),
    cmocka_unit_test(test_failed_write_fails_the_commit),
    cmocka_unit_test(test_not_gathered_unless_on),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
