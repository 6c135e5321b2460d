#include "sqlite_store.hpp"

#include "fd.hpp"
#include "file_safety.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <limits>
#include <span>
#include <vector>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace studio2fa {

namespace {

constexpr int k_busy_timeout_ms = 5000;
// SQLite's default automatic checkpoint size (wal_autocheckpoint), in WAL frames (pages).
constexpr int k_checkpoint_frames = 1000;
// "S2FA": marks the file as ours, so a database of another program is never migrated.
constexpr std::int64_t k_application_id = 0x53324641;

// k_migrations[i] takes the schema from version i to version i + 1 and runs in one transaction
// with the user_version update. Append new steps; never edit one that has been released.
constexpr const char* k_migrations[] = {
    // 0 → 1
    R"sql(
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
)sql",
    // 1 → 2: backup codes, locks, temporary passes, last login; the audit trail.
    R"sql(
ALTER TABLE users ADD COLUMN backup_codes BLOB CHECK (backup_codes IS NULL OR
  (typeof(backup_codes) = 'blob' AND length(backup_codes) % 32 = 0 AND
   length(backup_codes) BETWEEN 32 AND 320));
ALTER TABLE users ADD COLUMN backup_failures INTEGER NOT NULL DEFAULT 0
  CHECK (backup_failures BETWEEN 0 AND 4294967295);
ALTER TABLE users ADD COLUMN lock_state INTEGER NOT NULL DEFAULT 0 CHECK (lock_state IN (0, 1, 2));
ALTER TABLE users ADD COLUMN locked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN pass_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  actor_uid INTEGER NOT NULL CHECK (actor_uid BETWEEN 0 AND 4294967295),
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  subject   TEXT NOT NULL,
  service   TEXT NOT NULL,
  rhost     TEXT NOT NULL,
  tty       TEXT NOT NULL,
  outcome   TEXT NOT NULL,
  detail    TEXT NOT NULL
);
CREATE INDEX audit_by_subject ON audit (subject, id);
CREATE INDEX audit_by_time ON audit (at);
)sql",
    // 2 → 3: the directory policy: grace periods, the policy cache, the global switch.
    R"sql(
ALTER TABLE users ADD COLUMN grace_until INTEGER NOT NULL DEFAULT 0;
CREATE TABLE policy_cache (
  name         TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
  in_directory INTEGER NOT NULL CHECK (in_directory IN (0, 1)),
  dn           TEXT NOT NULL,
  decision     INTEGER NOT NULL CHECK (decision IN (0, 1, 2)),
  reason       TEXT NOT NULL,
  grace_period INTEGER CHECK (grace_period IS NULL OR grace_period BETWEEN 0 AND 4294967295),
  fetched_at   INTEGER NOT NULL
);
CREATE TABLE enforcement (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  enforced INTEGER NOT NULL CHECK (enforced IN (0, 1)),
  grace    INTEGER NOT NULL CHECK (grace BETWEEN 0 AND 4294967295),
  since    INTEGER NOT NULL,
  by       TEXT NOT NULL
);
)sql",
};
static_assert(std::size(k_migrations) == SqliteStore::k_schema_version,
              "one migration step per schema version");
static_assert(k_application_id == 1395803713, "the migration above spells the same id");

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Readies a cached statement for its next use when this use ends, however it ends; clearing
// the bindings also drops the pointers to the caller's buffers.
class StatementUse {
public:
  explicit StatementUse(sqlite3_stmt* stmt) : m_stmt(stmt) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  ~StatementUse()
  {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }

private:
  sqlite3_stmt* m_stmt;
};

std::string quoted(std::string_view text)
{
  std::string out = "'";
  out.append(text);
  out.push_back('\'');
  return out;
}

Unexpected<Error> db_error(const std::string& path, sqlite3* db, std::string_view what)
{
  std::string message = path + ": " + std::string(what) + ": " + sqlite3_errmsg(db);
  int code = sqlite3_errcode(db) & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    message += " (another process holds it: is another studio2fad running on this database?)";
  }
  return make_error(message);
}

int primary_code(sqlite3* db)
{
  return sqlite3_extended_errcode(db) & 0xff;
}

Expected<void> exec(const std::string& path, sqlite3* db, const char* sql, std::string_view what)
{
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error(path, db, what);
  }
  return {};
}

Expected<Statement> prepare(const std::string& path, sqlite3* db, const char* sql,
                            unsigned flags = 0)
{
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, flags, &raw, nullptr);
  Statement stmt(raw);
  if (rc != SQLITE_OK) {
    return db_error(path, db, "cannot prepare a statement");
  }
  return stmt;
}

// Runs a query that yields one integer (a PRAGMA or a count).
Expected<std::int64_t> query_integer(const std::string& path, sqlite3* db, const char* sql)
{
  auto stmt = prepare(path, db, sql);
  if (!stmt) {
    return make_error(stmt.error().message);
  }
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) {
    return db_error(path, db, std::string("cannot run ") + sql);
  }
  return static_cast<std::int64_t>(sqlite3_column_int64(stmt->get(), 0));
}

// Rolls back unless committed.
class Transaction {
public:
  Transaction(const std::string& path, sqlite3* db) : m_path(path), m_db(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction()
  {
    if (m_open) {
      sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  // IMMEDIATE: take the write lock now, so two daemons starting at once migrate in turn.
  Expected<void> begin()
  {
    auto begun = exec(m_path, m_db, "BEGIN IMMEDIATE", "cannot begin a transaction");
    m_open = begun.has_value();
    return begun;
  }
  Expected<void> commit()
  {
    auto committed = exec(m_path, m_db, "COMMIT", "cannot commit");
    m_open = !committed.has_value();
    return committed;
  }

private:
  const std::string& m_path;
  sqlite3* m_db;
  bool m_open = false;
};

// Process-wide settings, which SQLite takes only before its first use (later calls are refused
// with SQLITE_MISUSE and change nothing). No bulk allocation for page caches: a page cache
// otherwise starts with one block of 20 pages (about 86 KiB), and the CHECK (x IN (...))
// constraints of `users` make every insert or update open three small temporary tables, each
// with its own page cache. Freeing a block that size makes glibc hand the memory back to the
// kernel and fault it in again at the next statement: that cost about a third of the daemon's CPU
// time per code verification (bench/).
void configure_library()
{
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0); });
}

Expected<void> fsync_directory(const std::string& dir)
{
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return make_error("cannot sync directory " + dir + ": " + std::strerror(errno));
  }
  return {};
}

// Creates the file with mode 0600 (SQLite would honour the umask, and gives its -wal and -shm
// files the main file's mode), and refuses a symlink or a non-regular file at the path even
// where SQLite is too old for SQLITE_OPEN_NOFOLLOW.
Expected<void> prepare_file(const std::string& path)
{
  Fd created(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (created.valid()) {
    if (auto synced = fsync_directory(parent_directory(path)); !synced) {
      return synced;
    }
  } else if (errno != EEXIST) {
    return make_error("cannot create database " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return make_error("cannot inspect database " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return make_error(path + " is a symbolic link; refusing to follow it");
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(path + " is not a regular file");
  }
  return {};
}

// The daemon is the database's only user: a second daemon started on the same file (or
// `studio2fad --check-config` while one runs) is refused at once. (SQLite's own lock, see
// open_connection, keeps every other process out too, but only tells after its busy timeout.) A
// flock() on a descriptor of its own, which does not mix with the POSIX locks SQLite takes; it
// must stay open until both connections are closed, since closing any descriptor of the file
// drops the process's POSIX locks on it.
Expected<Fd> lock_database(const std::string& path)
{
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error("cannot open database " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return make_error(path + ": the database is in use (another process holds it: is another "
                               "studio2fad running on this database?)");
    }
    return make_error("cannot lock database " + path + ": " + std::strerror(errno));
  }
  return fd;
}

// Refuses a file this build must not touch. Reads only: nothing is written before it passes.
Expected<void> check_readable_and_intact(const std::string& path, sqlite3* db)
{
  // The first read of page 1 tells a database from anything else.
  auto tables = query_integer(path, db, "SELECT count(*) FROM sqlite_master");
  if (!tables) {
    if (primary_code(db) == SQLITE_NOTADB) {
      return make_error(path + " is not a SQLite database (" + sqlite3_errmsg(db) +
                        "); refusing to use or overwrite it");
    }
    if (primary_code(db) == SQLITE_CORRUPT) {
      return make_error(path + " is damaged (" + sqlite3_errmsg(db) +
                        "); refusing to use it; restore it from a backup");
    }
    return make_error(tables.error().message);
  }

  auto version = query_integer(path, db, "PRAGMA user_version");
  if (!version) {
    return make_error(version.error().message);
  }
  if (*version > SqliteStore::k_schema_version) {
    return make_error(path + " was created by a newer studio2fa (schema version " +
                      std::to_string(*version) + ", this build knows up to " +
                      std::to_string(SqliteStore::k_schema_version) + "); refusing to use it");
  }
  if (*version == 0 && *tables != 0) {
    return make_error(path + " is a SQLite database that studio2fa did not create (it has "
                             "tables but no schema version); refusing to change it");
  }
  if (*version > 0) {
    auto id = query_integer(path, db, "PRAGMA application_id");
    if (!id) {
      return make_error(id.error().message);
    }
    if (*id != k_application_id) {
      return make_error(path + " is a SQLite database of another program (application_id " +
                        std::to_string(*id) + "); refusing to use it");
    }
  }

  auto check = prepare(path, db, "PRAGMA quick_check");
  if (!check) {
    return make_error(path + " is damaged (" + sqlite3_errmsg(db) +
                      "); refusing to use it; restore it from a backup");
  }
  std::string problem;
  int rc;
  while ((rc = sqlite3_step(check->get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(check->get(), 0));
    const std::string_view line = text ? text : "";
    if (line != "ok" && problem.empty()) {
      problem = line;
    }
  }
  if (rc != SQLITE_DONE) {
    const int code = primary_code(db);
    if (code != SQLITE_CORRUPT && code != SQLITE_NOTADB) {
      return db_error(path, db, "cannot run PRAGMA quick_check");
    }
    problem = sqlite3_errmsg(db);
  }
  if (!problem.empty()) {
    return make_error(path + " failed its integrity check (" + problem +
                      "); refusing to use it; restore it from a backup");
  }
  return {};
}

Expected<void> configure_connection(const std::string& path, sqlite3* db)
{
  // WAL in normal locking mode, so that the store's reader connection can read while a commit
  // on the writer waits for its fsync; the WAL index stays in memory all the same, and other
  // processes out (see open_connection).
  auto mode = prepare(path, db, "PRAGMA journal_mode=WAL");
  if (!mode) {
    return make_error(mode.error().message);
  }
  if (sqlite3_step(mode->get()) != SQLITE_ROW) {
    return db_error(path, db, "cannot switch to WAL journal mode");
  }
  const auto* mode_name = reinterpret_cast<const char*>(sqlite3_column_text(mode->get(), 0));
  if (mode_name == nullptr || std::strcmp(mode_name, "wal") != 0) {
    return make_error(path +
                      ": cannot switch to WAL journal mode (the file system may not "
                      "support it); journal mode is " +
                      std::string(mode_name ? mode_name : "unknown"));
  }
  // FULL: a commit is on disk when sqlite3_step returns. secure_delete: freed pages (old
  // sealed blobs) are overwritten with zeros rather than left in the file.
  return exec(path, db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
              "cannot configure the connection");
}

Expected<void> migrate(const std::string& path, sqlite3* db)
{
  for (;;) {
    Transaction transaction(path, db);
    if (auto begun = transaction.begin(); !begun) {
      return begun;
    }
    // Read again under the write lock: another process may have migrated meanwhile.
    auto version = query_integer(path, db, "PRAGMA user_version");
    if (!version) {
      return make_error(version.error().message);
    }
    if (*version > SqliteStore::k_schema_version) {
      return make_error(path + " was created by a newer studio2fa (schema version " +
                        std::to_string(*version) + ")");
    }
    if (*version == SqliteStore::k_schema_version) {
      return transaction.commit();
    }
    if (*version == 0) {
      auto tables = query_integer(path, db, "SELECT count(*) FROM sqlite_master");
      if (!tables) {
        return make_error(tables.error().message);
      }
      if (*tables != 0) {
        return make_error(path + " is a SQLite database that studio2fa did not create (it has "
                                 "tables but no schema version); refusing to change it");
      }
    }
    const std::string step = "migration to schema version " + std::to_string(*version + 1);
    if (auto applied = exec(path, db, k_migrations[*version], step); !applied) {
      return applied;
    }
    const std::string set_version = "PRAGMA user_version = " + std::to_string(*version + 1);
    if (auto applied = exec(path, db, set_version.c_str(), step); !applied) {
      return applied;
    }
    if (auto committed = transaction.commit(); !committed) {
      return committed;
    }
  }
}

// Stored codes for totp::Algorithm: fixed numbers, not the enum's values, so reordering the
// enum cannot silently change what a row means.
std::int64_t algorithm_code(totp::Algorithm algorithm)
{
  switch (algorithm) {
  case totp::Algorithm::sha1:
    return 1;
  case totp::Algorithm::sha256:
    return 2;
  case totp::Algorithm::sha512:
    return 3;
  }
  return 0;
}

std::optional<totp::Algorithm> algorithm_from_code(std::int64_t code)
{
  switch (code) {
  case 1:
    return totp::Algorithm::sha1;
  case 2:
    return totp::Algorithm::sha256;
  case 3:
    return totp::Algorithm::sha512;
  default:
    return std::nullopt;
  }
}

// Stored codes for protocol::LockState, fixed like the algorithm codes above.
std::int64_t lock_code(protocol::LockState lock)
{
  switch (lock) {
  case protocol::LockState::none:
    return 0;
  case protocol::LockState::second_factor:
    return 1;
  case protocol::LockState::account:
    return 2;
  }
  return 0;
}

std::optional<protocol::LockState> lock_from_code(std::int64_t code)
{
  switch (code) {
  case 0:
    return protocol::LockState::none;
  case 1:
    return protocol::LockState::second_factor;
  case 2:
    return protocol::LockState::account;
  default:
    return std::nullopt;
  }
}

// The columns of a record after its name, in the order read_record() reads them.
#define STUDIO2FA_RECORD_COLUMNS                                                                   \
  "secret, algorithm, digits, period, enrolled_at, last_step, failures, last_failure_at, "          \
  "pending_secret, pending_algorithm, pending_digits, pending_period, pending_created_at, "         \
  "backup_codes, backup_failures, lock_state, locked_at, pass_until, last_login_at, grace_until"

constexpr const char* k_load_sql =
    "SELECT " STUDIO2FA_RECORD_COLUMNS " FROM users WHERE name = ?1";

constexpr const char* k_list_sql =
    "SELECT " STUDIO2FA_RECORD_COLUMNS ", name FROM users WHERE name > ?1 ORDER BY name LIMIT ?2";

constexpr const char* k_save_sql =
    "INSERT INTO users (name, " STUDIO2FA_RECORD_COLUMNS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
    "?20, ?21) "
    "ON CONFLICT (name) DO UPDATE SET secret = excluded.secret, "
    "algorithm = excluded.algorithm, digits = excluded.digits, period = excluded.period, "
    "enrolled_at = excluded.enrolled_at, last_step = excluded.last_step, "
    "failures = excluded.failures, last_failure_at = excluded.last_failure_at, "
    "pending_secret = excluded.pending_secret, pending_algorithm = excluded.pending_algorithm, "
    "pending_digits = excluded.pending_digits, pending_period = excluded.pending_period, "
    "pending_created_at = excluded.pending_created_at, backup_codes = excluded.backup_codes, "
    "backup_failures = excluded.backup_failures, lock_state = excluded.lock_state, "
    "locked_at = excluded.locked_at, pass_until = excluded.pass_until, "
    "last_login_at = excluded.last_login_at, grace_until = excluded.grace_until";

#undef STUDIO2FA_RECORD_COLUMNS

// k_save_sql's update of an existing record, for the usual case where the columns that have
// CHECK (x IN (...)) constraints keep their values (they are matched, not set). SQLite checks a
// CHECK constraint on UPDATE only when a column it names is set, and each of those IN lists costs
// it a temporary table per statement; a row it does not match is left to k_save_sql.
constexpr const char* k_update_sql =
    "UPDATE users SET secret = ?2, digits = ?4, period = ?5, enrolled_at = ?6, last_step = ?7, "
    "failures = ?8, last_failure_at = ?9, pending_secret = ?10, pending_digits = ?12, "
    "pending_period = ?13, pending_created_at = ?14, backup_codes = ?15, backup_failures = ?16, "
    "locked_at = ?18, pass_until = ?19, last_login_at = ?20, grace_until = ?21 "
    "WHERE name = ?1 AND algorithm = ?3 AND pending_algorithm = ?11 AND lock_state = ?17";

constexpr const char* k_remove_sql = "DELETE FROM users WHERE name = ?1";

constexpr const char* k_policy_load_sql =
    "SELECT in_directory, dn, decision, reason, grace_period, fetched_at FROM policy_cache "
    "WHERE name = ?1";
constexpr const char* k_policy_save_sql =
    "INSERT OR REPLACE INTO policy_cache (name, in_directory, dn, decision, reason, "
    "grace_period, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* k_enforcement_load_sql =
    "SELECT enforced, grace, since, by FROM enforcement WHERE id = 1";
constexpr const char* k_enforcement_save_sql =
    "INSERT OR REPLACE INTO enforcement (id, enforced, grace, since, by) VALUES (1, ?1, ?2, ?3, ?4)";

constexpr const char* k_audit_insert_sql =
    "INSERT INTO audit (at, actor_uid, actor, action, subject, service, rhost, tty, outcome, "
    "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

constexpr const char* k_audit_prune_sql = "DELETE FROM audit WHERE at < ?1";

#define STUDIO2FA_AUDIT_SELECT                                                                     \
  "SELECT id, at, actor_uid, actor, action, subject, service, rhost, tty, outcome, detail "        \
  "FROM audit WHERE id > ?1 AND at >= ?2 "

constexpr const char* k_audit_read_sql = STUDIO2FA_AUDIT_SELECT "ORDER BY id LIMIT ?3";
constexpr const char* k_audit_read_subject_sql =
    STUDIO2FA_AUDIT_SELECT "AND subject = ?4 ORDER BY id LIMIT ?3";

#undef STUDIO2FA_AUDIT_SELECT

// The longest audit text fields PROTOCOL.md allows (ADMIN_LOG); longer ones are cut.
constexpr std::size_t k_audit_limits[] = {
    protocol::limits::user,    protocol::limits::action, protocol::limits::user,
    protocol::limits::service, protocol::limits::rhost,  protocol::limits::tty,
    protocol::limits::action,  protocol::limits::reason};

// Binds in order, remembering the first failure.
class Binder {
public:
  explicit Binder(sqlite3_stmt* stmt) : m_stmt(stmt) {}

  void text(std::string_view value)
  {
    record(sqlite3_bind_text(m_stmt, ++m_index, value.data(), static_cast<int>(value.size()),
                             SQLITE_STATIC));
  }
  void integer(std::int64_t value) { record(sqlite3_bind_int64(m_stmt, ++m_index, value)); }
  void null() { record(sqlite3_bind_null(m_stmt, ++m_index)); }
  // An empty blob is stored as NULL.
  void blob(const std::vector<std::uint8_t>& value)
  {
    if (value.empty()) {
      record(sqlite3_bind_null(m_stmt, ++m_index));
    } else {
      record(sqlite3_bind_blob(m_stmt, ++m_index, value.data(), static_cast<int>(value.size()),
                               SQLITE_STATIC));
    }
  }
  void blob(std::span<const std::uint8_t> value)
  {
    if (value.empty()) {
      record(sqlite3_bind_null(m_stmt, ++m_index));
    } else {
      record(sqlite3_bind_blob(m_stmt, ++m_index, value.data(), static_cast<int>(value.size()),
                               SQLITE_STATIC));
    }
  }
  bool ok() const { return m_rc == SQLITE_OK; }

private:
  void record(int rc)
  {
    if (m_rc == SQLITE_OK) {
      m_rc = rc;
    }
  }

  sqlite3_stmt* m_stmt;
  int m_index = 0;
  int m_rc = SQLITE_OK;
};

std::vector<std::uint8_t> column_blob(sqlite3_stmt* stmt, int column)
{
  // Blob before bytes, as SQLite documents, so no type conversion intervenes.
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) {
    return {};
  }
  return {data, data + size};
}

bool fits_unsigned(std::int64_t value)
{
  return value >= 0 && static_cast<std::uint64_t>(value) <= std::numeric_limits<unsigned>::max();
}

// Reads the parameter triple starting at `column`; nullopt if the row holds impossible values.
std::optional<totp::Parameters> column_parameters(sqlite3_stmt* stmt, int column)
{
  const auto algorithm = algorithm_from_code(sqlite3_column_int64(stmt, column));
  const std::int64_t digits = sqlite3_column_int64(stmt, column + 1);
  const std::int64_t period = sqlite3_column_int64(stmt, column + 2);
  if (!algorithm || digits < 6 || digits > 8 || period < 1 || !fits_unsigned(period)) {
    return std::nullopt;
  }
  totp::Parameters params;
  params.algorithm = *algorithm;
  params.digits = static_cast<unsigned>(digits);
  params.period = static_cast<unsigned>(period);
  return params;
}

bool fits_blob(const std::vector<std::uint8_t>& blob)
{
  return blob.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

bool fits_u32(std::int64_t value)
{
  return value >= 0 && value <= std::numeric_limits<std::uint32_t>::max();
}

// Reads the record columns (STUDIO2FA_RECORD_COLUMNS) of the current row into `record`; false if
// the row holds impossible values.
bool read_record(sqlite3_stmt* stmt, UserRecord& record)
{
  record.sealed_secret = column_blob(stmt, 0);
  const auto params = column_parameters(stmt, 1);
  record.enrolled_at = sqlite3_column_int64(stmt, 4);
  const std::int64_t last_step = sqlite3_column_int64(stmt, 5);
  const std::int64_t failures = sqlite3_column_int64(stmt, 6);
  record.last_failure_at = sqlite3_column_int64(stmt, 7);
  record.pending_secret = column_blob(stmt, 8);
  const auto pending_params = column_parameters(stmt, 9);
  record.pending_created_at = sqlite3_column_int64(stmt, 12);
  const std::vector<std::uint8_t> codes = column_blob(stmt, 13);
  const std::int64_t backup_failures = sqlite3_column_int64(stmt, 14);
  const auto lock = lock_from_code(sqlite3_column_int64(stmt, 15));
  record.locked_at = sqlite3_column_int64(stmt, 16);
  record.pass_until = sqlite3_column_int64(stmt, 17);
  record.last_login_at = sqlite3_column_int64(stmt, 18);
  record.grace_until = sqlite3_column_int64(stmt, 19);
  if (!params || !pending_params || !lock || last_step < 0 || !fits_u32(failures) ||
      !fits_u32(backup_failures) || codes.size() % sizeof(BackupCodeHash) != 0 ||
      codes.size() > protocol::k_backup_codes_per_set * sizeof(BackupCodeHash)) {
    return false;
  }
  record.params = *params;
  record.pending_params = *pending_params;
  record.last_step = static_cast<std::uint64_t>(last_step);
  record.failures = static_cast<std::uint32_t>(failures);
  record.backup_failures = static_cast<std::uint32_t>(backup_failures);
  record.lock = *lock;
  record.backup_codes.resize(codes.size() / sizeof(BackupCodeHash));
  for (std::size_t i = 0; i < record.backup_codes.size(); ++i) {
    std::copy_n(codes.begin() + static_cast<std::ptrdiff_t>(i * sizeof(BackupCodeHash)),
                sizeof(BackupCodeHash), record.backup_codes[i].begin());
  }
  return true;
}

std::string column_string(sqlite3_stmt* stmt, int column)
{
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  if (text == nullptr || size <= 0) {
    return {};
  }
  return std::string(text, static_cast<std::size_t>(size));
}

std::string_view clamp(std::string_view text, std::size_t limit)
{
  return text.substr(0, limit);
}

} // namespace

// One caller's changes waiting for the next group commit. It lives on the caller's stack; the
// writer hands it back by setting `turn` under `handoff`, after which it never touches it again.
// (A mutex and condition variable of its own rather than a std::promise: the promise's shared
// state pulls in glibc 2.32's __libc_single_threaded, above the EL 8 floor of 2.28.)
struct WriteTicket {
  enum class Turn { wait, write, done };

  explicit WriteTicket(const StoreChanges& changes_in) : changes(changes_in) {}

  const StoreChanges& changes;
  Expected<void> result;  // with Turn::done
  Turn turn = Turn::wait; // set by the writer, under `handoff`
  std::mutex handoff;
  std::condition_variable woken;
};

struct SqliteStore::Impl {
  std::string path;
  // Declared first: closed after both connections (see lock_database).
  Fd file_lock;
  // The writer: every write, in group commits, and the administrator's reads.
  DbHandle db;
  // Declared after db so that they are finalized before it is closed.
  Statement list_stmt;
  Statement save_stmt;
  Statement update_stmt;
  Statement remove_stmt;
  Statement audit_insert_stmt;
  Statement audit_prune_stmt;
  Statement audit_read_stmt;
  Statement audit_read_subject_stmt;
  Statement policy_save_stmt;
  Statement enforcement_load_stmt;
  Statement enforcement_save_stmt;
  // The transaction control of a group commit, parsed once.
  Statement begin_stmt;
  Statement commit_stmt;
  Statement rollback_stmt;
  Statement savepoint_stmt;
  Statement release_stmt;
  Statement rollback_to_stmt;
  // One statement object serves one caller at a time.
  std::mutex mutex;

  // The reader: the reads on the login path, so that they never wait for a batch's fsync on the
  // writer. A read there sees every commit that has returned and none that has not; a caller
  // holding a user's lock until its commit returns therefore always reads that user's latest
  // record.
  DbHandle reader;
  Statement load_stmt;
  Statement policy_load_stmt;
  std::mutex reader_mutex;

  // Group commit: callers queue tickets; whoever finds no commit under way becomes the writer,
  // takes the whole queue and commits it in one transaction, then hands the turn to the first
  // caller that queued meanwhile.
  std::mutex queue_mutex;
  std::vector<WriteTicket*> queue;
  bool writing = false;
  // Frames in the WAL after the last commit on the writer connection (count_wal_frames).
  std::atomic<int> wal_frames{0};

  Expected<void> commit(const StoreChanges& changes);
  void write_batch(const std::vector<WriteTicket*>& batch);
  void checkpoint_if_due();
  bool step_done(const Statement& stmt);
  Expected<void> write_changes(const StoreChanges& changes);
  Expected<void> upsert(const UserRecord& record);
  Expected<void> insert_event(const AuditEvent& event);
  Expected<void> prune_audit(std::int64_t before);
  Expected<void> save_policy(const CachedPolicy& policy);
  Expected<void> save_enforcement(const Enforcement& enforcement);
};

namespace {

// Wakes the caller waiting on `ticket`. Notified with the mutex held: the caller cannot see the
// new turn, return and free the ticket before this has let go of it.
void hand_back(WriteTicket* ticket, WriteTicket::Turn turn)
{
  std::lock_guard lock(ticket->handoff);
  ticket->turn = turn;
  ticket->woken.notify_one();
}

// SQLite calls this after every commit with the number of frames in the WAL. Installing it also
// turns off SQLite's own checkpoint inside COMMIT (see checkpoint_if_due).
int count_wal_frames(void* frames, sqlite3*, const char*, int count)
{
  static_cast<std::atomic<int>*>(frames)->store(count);
  return SQLITE_OK;
}

} // namespace

Expected<void> SqliteStore::Impl::commit(const StoreChanges& changes)
{
  WriteTicket ticket(changes);
  bool first = false;
  {
    std::lock_guard lock(queue_mutex);
    queue.push_back(&ticket);
    first = !writing;
    writing = true;
  }
  if (!first) {
    // `turn` and `result` are the writer's until it hands the ticket back; the ticket must
    // outlive hand_back(), so a caller that was not first always waits here.
    {
      std::unique_lock lock(ticket.handoff);
      ticket.woken.wait(lock, [&] { return ticket.turn != WriteTicket::Turn::wait; });
    }
    if (ticket.turn == WriteTicket::Turn::done) {
      return std::move(ticket.result);
    }
  }

  // This caller writes the queue, its own ticket included.
  std::vector<WriteTicket*> batch;
  {
    std::lock_guard lock(queue_mutex);
    batch.swap(queue);
  }
  write_batch(batch);
  Expected<void> result;
  for (WriteTicket* done : batch) {
    if (done == &ticket) {
      result = std::move(ticket.result);
    } else {
      hand_back(done, WriteTicket::Turn::done);
    }
  }
  // After the replies are free to go, before the next batch.
  checkpoint_if_due();
  WriteTicket* next = nullptr;
  {
    std::lock_guard lock(queue_mutex);
    if (queue.empty()) {
      writing = false;
    } else {
      next = queue.front();
    }
  }
  if (next != nullptr) {
    hand_back(next, WriteTicket::Turn::write);
  }
  return result;
}

bool SqliteStore::Impl::step_done(const Statement& stmt)
{
  const int rc = sqlite3_step(stmt.get());
  sqlite3_reset(stmt.get());
  return rc == SQLITE_DONE;
}

// One transaction for the whole batch; a savepoint per ticket, so that one caller's bad record
// fails only that caller. If the commit itself fails (disk full, I/O error), every ticket fails:
// nobody is told "saved" about something that is not on disk.
void SqliteStore::Impl::write_batch(const std::vector<WriteTicket*>& batch)
{
  std::lock_guard db_lock(mutex);
  sqlite3* handle = db.get();
  auto fail_all = [&](const Unexpected<Error>& error) {
    for (WriteTicket* ticket : batch) {
      ticket->result = error;
    }
  };
  if (!step_done(begin_stmt)) {
    fail_all(db_error(path, handle, "cannot begin a transaction"));
    return;
  }
  const bool single = batch.size() == 1;
  for (WriteTicket* ticket : batch) {
    if (!single) {
      step_done(savepoint_stmt);
    }
    Expected<void> result = write_changes(ticket->changes);
    if (!single) {
      if (!result) {
        step_done(rollback_to_stmt);
      }
      step_done(release_stmt);
    }
    ticket->result = result;
  }
  if (single && !batch.front()->result) {
    step_done(rollback_stmt);
    return;
  }
  // synchronous=FULL: COMMIT returns once the WAL is fsynced.
  if (!step_done(commit_stmt)) {
    auto error = db_error(path, handle, "cannot commit");
    step_done(rollback_stmt);
    fail_all(error);
  }
}

// SQLite would checkpoint inside the COMMIT that takes the WAL past 1000 pages, with that batch's
// callers still waiting; here the same passive checkpoint runs once they have their answers. A
// checkpoint that fails or stops short changes nothing on disk that matters: the WAL keeps the
// pages, and the next one tries again.
void SqliteStore::Impl::checkpoint_if_due()
{
  if (wal_frames < k_checkpoint_frames) {
    return;
  }
  std::lock_guard db_lock(mutex);
  sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  wal_frames = 0;
}

Expected<void> SqliteStore::Impl::write_changes(const StoreChanges& changes)
{
  for (const UserRecord& record : changes.records) {
    if (auto done = upsert(record); !done) {
      return done;
    }
  }
  for (const AuditEvent& event : changes.events) {
    if (auto done = insert_event(event); !done) {
      return done;
    }
  }
  for (const CachedPolicy& policy : changes.policies) {
    if (auto done = save_policy(policy); !done) {
      return done;
    }
  }
  if (changes.enforcement != nullptr) {
    if (auto done = save_enforcement(*changes.enforcement); !done) {
      return done;
    }
  }
  if (changes.prune_audit_before != 0) {
    return prune_audit(changes.prune_audit_before);
  }
  return {};
}

namespace {

// Stored codes for protocol::PolicyDecision (unknown is never stored).
std::optional<protocol::PolicyDecision> decision_from_code(std::int64_t code)
{
  switch (code) {
  case 0:
    return protocol::PolicyDecision::optional;
  case 1:
    return protocol::PolicyDecision::required;
  case 2:
    return protocol::PolicyDecision::exempt;
  default:
    return std::nullopt;
  }
}

std::int64_t decision_code(protocol::PolicyDecision decision)
{
  switch (decision) {
  case protocol::PolicyDecision::required:
    return 1;
  case protocol::PolicyDecision::exempt:
    return 2;
  default:
    return 0;
  }
}

} // namespace

Expected<void> SqliteStore::Impl::save_policy(const CachedPolicy& policy)
{
  const std::string what = "cannot cache the policy of user " + quoted(policy.user);
  if (policy.decision == protocol::PolicyDecision::unknown) {
    return make_error(path + ": " + what + ": an unknown decision is never cached");
  }
  sqlite3_stmt* stmt = policy_save_stmt.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.text(policy.user);
  bind.integer(policy.in_directory ? 1 : 0);
  bind.text(policy.dn);
  bind.integer(decision_code(policy.decision));
  bind.text(policy.reason);
  if (policy.grace_period) {
    bind.integer(*policy.grace_period);
  } else {
    bind.null();
  }
  bind.integer(policy.fetched_at);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(path, db.get(), what);
  }
  return {};
}

Expected<void> SqliteStore::Impl::save_enforcement(const Enforcement& enforcement)
{
  sqlite3_stmt* stmt = enforcement_save_stmt.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(enforcement.on ? 1 : 0);
  bind.integer(enforcement.grace);
  bind.integer(enforcement.since);
  bind.text(enforcement.by);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(path, db.get(), "cannot save the global enforcement switch");
  }
  return {};
}

namespace {

// Binds ?1..?21 of k_save_sql or k_update_sql; `codes` holds the record's backup codes packed.
bool bind_record(sqlite3_stmt* stmt, const UserRecord& record,
                 const std::vector<std::uint8_t>& codes)
{
  Binder bind(stmt);
  bind.text(record.user);
  bind.blob(record.sealed_secret);
  bind.integer(algorithm_code(record.params.algorithm));
  bind.integer(record.params.digits);
  bind.integer(record.params.period);
  bind.integer(record.enrolled_at);
  bind.integer(static_cast<std::int64_t>(record.last_step));
  bind.integer(record.failures);
  bind.integer(record.last_failure_at);
  bind.blob(record.pending_secret);
  bind.integer(algorithm_code(record.pending_params.algorithm));
  bind.integer(record.pending_params.digits);
  bind.integer(record.pending_params.period);
  bind.integer(record.pending_created_at);
  bind.blob(std::span<const std::uint8_t>(codes));
  bind.integer(record.backup_failures);
  bind.integer(lock_code(record.lock));
  bind.integer(record.locked_at);
  bind.integer(record.pass_until);
  bind.integer(record.last_login_at);
  bind.integer(record.grace_until);
  return bind.ok();
}

} // namespace

Expected<void> SqliteStore::Impl::upsert(const UserRecord& record)
{
  const std::string what = "cannot save the record of user " + quoted(record.user);
  if (record.last_step > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
      !fits_blob(record.sealed_secret) || !fits_blob(record.pending_secret) ||
      record.backup_codes.size() > protocol::k_backup_codes_per_set) {
    return make_error(path + ": " + what + ": a value is out of range");
  }
  std::vector<std::uint8_t> codes;
  codes.reserve(record.backup_codes.size() * sizeof(BackupCodeHash));
  for (const BackupCodeHash& hash : record.backup_codes) {
    codes.insert(codes.end(), hash.begin(), hash.end());
  }
  {
    // Most saves (every login) are of a record that exists, with the same algorithms and lock
    // state: then k_update_sql does it.
    sqlite3_stmt* stmt = update_stmt.get();
    StatementUse use(stmt);
    if (!bind_record(stmt, record, codes) || sqlite3_step(stmt) != SQLITE_DONE) {
      return db_error(path, db.get(), what);
    }
    if (sqlite3_changes(db.get()) == 1) {
      return {};
    }
  }
  sqlite3_stmt* stmt = save_stmt.get();
  StatementUse use(stmt);
  if (!bind_record(stmt, record, codes) || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(path, db.get(), what);
  }
  return {};
}

Expected<void> SqliteStore::Impl::insert_event(const AuditEvent& event)
{
  sqlite3_stmt* stmt = audit_insert_stmt.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(event.at);
  bind.integer(event.actor_uid);
  const std::string* const texts[] = {&event.actor,   &event.action, &event.subject,
                                      &event.service, &event.rhost,  &event.tty,
                                      &event.outcome, &event.detail};
  for (std::size_t i = 0; i < std::size(texts); ++i) {
    bind.text(clamp(*texts[i], k_audit_limits[i]));
  }
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(path, db.get(), "cannot add to the audit trail");
  }
  return {};
}

Expected<void> SqliteStore::Impl::prune_audit(std::int64_t before)
{
  sqlite3_stmt* stmt = audit_prune_stmt.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(before);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(path, db.get(), "cannot prune the audit trail");
  }
  return {};
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl))
{
}

SqliteStore::~SqliteStore() = default;

namespace {

// Opens one connection to the database: `flags` plus the ones every connection gets.
// Both connections use SQLite's "unix-excl" VFS: the first lock either of them takes is one
// lock for the whole process, held until both are closed, so no other process can open the
// database and no transaction pays for file locks; and the WAL index lives in this process's
// memory, shared by the two connections, instead of in a -shm file mapped into memory.
Expected<DbHandle> open_connection(const std::string& path)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
#ifdef SQLITE_OPEN_NOFOLLOW
  flags |= SQLITE_OPEN_NOFOLLOW;
#endif
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, "unix-excl");
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return make_error(
        path + ": cannot open database: " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), k_busy_timeout_ms);
  return db;
}

// Runs a lookup whose one parameter is a user name: true when it stands on that user's row,
// false when there is none. `what` names the lookup in an error.
Expected<bool> step_to_row_of(const std::string& path, sqlite3* db, sqlite3_stmt* stmt,
                              std::string_view user, const std::string& what)
{
  Binder bind(stmt);
  bind.text(user);
  if (!bind.ok()) {
    return db_error(path, db, what);
  }
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    return false;
  }
  if (rc != SQLITE_ROW) {
    return db_error(path, db, what);
  }
  return true;
}

} // namespace

Expected<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path)
{
  configure_library();
  if (auto file_ok = prepare_file(path); !file_ok) {
    return make_error(file_ok.error().message);
  }
  auto lock = lock_database(path);
  if (!lock) {
    return make_error(lock.error().message);
  }
  auto db = open_connection(path);
  if (!db) {
    return make_error(db.error().message);
  }
  for (auto step : {check_readable_and_intact, configure_connection, migrate}) {
    if (auto done = step(path, db->get()); !done) {
      return make_error(done.error().message);
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file_lock = std::move(*lock);
  impl->db = std::move(*db);
  sqlite3* writer = impl->db.get();
  for (auto [slot, sql] : {std::pair{&impl->list_stmt, k_list_sql},
                           std::pair{&impl->save_stmt, k_save_sql},
                           std::pair{&impl->update_stmt, k_update_sql},
                           std::pair{&impl->remove_stmt, k_remove_sql},
                           std::pair{&impl->audit_insert_stmt, k_audit_insert_sql},
                           std::pair{&impl->audit_prune_stmt, k_audit_prune_sql},
                           std::pair{&impl->audit_read_stmt, k_audit_read_sql},
                           std::pair{&impl->audit_read_subject_stmt, k_audit_read_subject_sql},
                           std::pair{&impl->policy_save_stmt, k_policy_save_sql},
                           std::pair{&impl->enforcement_load_stmt, k_enforcement_load_sql},
                           std::pair{&impl->enforcement_save_stmt, k_enforcement_save_sql},
                           std::pair{&impl->begin_stmt, "BEGIN IMMEDIATE"},
                           std::pair{&impl->commit_stmt, "COMMIT"},
                           std::pair{&impl->rollback_stmt, "ROLLBACK"},
                           std::pair{&impl->savepoint_stmt, "SAVEPOINT ticket"},
                           std::pair{&impl->release_stmt, "RELEASE ticket"},
                           std::pair{&impl->rollback_to_stmt, "ROLLBACK TO ticket"}}) {
    auto stmt = prepare(path, writer, sql, SQLITE_PREPARE_PERSISTENT);
    if (!stmt) {
      return make_error(stmt.error().message);
    }
    *slot = std::move(*stmt);
  }
  sqlite3_wal_hook(writer, count_wal_frames, &impl->wal_frames);

  // Opened for writing like the writer (a read-only connection would take locks of its own),
  // but it never writes.
  auto reader = open_connection(path);
  if (!reader) {
    return make_error(reader.error().message);
  }
  impl->reader = std::move(*reader);
  if (auto read_only = exec(path, impl->reader.get(), "PRAGMA query_only=ON",
                            "cannot configure the reader connection");
      !read_only) {
    return make_error(read_only.error().message);
  }
  for (auto [slot, sql] : {std::pair{&impl->load_stmt, k_load_sql},
                           std::pair{&impl->policy_load_stmt, k_policy_load_sql}}) {
    auto stmt = prepare(path, impl->reader.get(), sql, SQLITE_PREPARE_PERSISTENT);
    if (!stmt) {
      return make_error(stmt.error().message);
    }
    *slot = std::move(*stmt);
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Expected<std::optional<UserRecord>> SqliteStore::load(std::string_view user)
{
  Impl& impl = *m_impl;
  std::lock_guard lock(impl.reader_mutex);
  sqlite3* db = impl.reader.get();
  sqlite3_stmt* stmt = impl.load_stmt.get();
  StatementUse use(stmt);

  auto found = step_to_row_of(impl.path, db, stmt, user,
                              "cannot load the record of user " + quoted(user));
  if (!found) {
    return Unexpected<Error>{found.error()};
  }
  if (!*found) {
    return std::optional<UserRecord>{};
  }
  UserRecord record;
  record.user = user;
  if (!read_record(stmt, record)) {
    return make_error(impl.path + ": the record of user " + quoted(user) +
                      " holds impossible values; the database is damaged");
  }
  return std::optional<UserRecord>{std::move(record)};
}

Expected<std::vector<UserRecord>> SqliteStore::list(std::string_view after, std::size_t limit)
{
  Impl& impl = *m_impl;
  std::lock_guard lock(impl.mutex);
  sqlite3_stmt* stmt = impl.list_stmt.get();
  StatementUse use(stmt);

  Binder bind(stmt);
  bind.text(after);
  bind.integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, 1U << 20)));
  if (!bind.ok()) {
    return db_error(impl.path, impl.db.get(), "cannot list the users");
  }
  std::vector<UserRecord> records;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    UserRecord record;
    record.user = column_string(stmt, 20);
    if (!read_record(stmt, record)) {
      return make_error(impl.path + ": the record of user " + quoted(record.user) +
                        " holds impossible values; the database is damaged");
    }
    records.push_back(std::move(record));
  }
  if (rc != SQLITE_DONE) {
    return db_error(impl.path, impl.db.get(), "cannot list the users");
  }
  return records;
}

Expected<std::vector<AuditRecord>> SqliteStore::read_audit(const AuditQuery& query)
{
  Impl& impl = *m_impl;
  std::lock_guard lock(impl.mutex);
  sqlite3_stmt* stmt =
      query.subject.empty() ? impl.audit_read_stmt.get() : impl.audit_read_subject_stmt.get();
  StatementUse use(stmt);

  Binder bind(stmt);
  bind.integer(query.after_id);
  bind.integer(query.since);
  bind.integer(static_cast<std::int64_t>(std::min<std::size_t>(query.limit, 1U << 20)));
  if (!query.subject.empty()) {
    bind.text(query.subject);
  }
  if (!bind.ok()) {
    return db_error(impl.path, impl.db.get(), "cannot read the audit trail");
  }
  std::vector<AuditRecord> records;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    AuditRecord record;
    record.id = sqlite3_column_int64(stmt, 0);
    AuditEvent& event = record.event;
    event.at = sqlite3_column_int64(stmt, 1);
    const std::int64_t uid = sqlite3_column_int64(stmt, 2);
    event.actor_uid = fits_u32(uid) ? static_cast<std::uint32_t>(uid) : 0;
    std::string* const texts[] = {&event.actor,   &event.action, &event.subject,
                                  &event.service, &event.rhost,  &event.tty,
                                  &event.outcome, &event.detail};
    for (std::size_t i = 0; i < std::size(texts); ++i) {
      *texts[i] = column_string(stmt, static_cast<int>(i) + 3);
      texts[i]->resize(std::min(texts[i]->size(), k_audit_limits[i]));
    }
    records.push_back(std::move(record));
  }
  if (rc != SQLITE_DONE) {
    return db_error(impl.path, impl.db.get(), "cannot read the audit trail");
  }
  return records;
}

Expected<void> SqliteStore::commit(const StoreChanges& changes)
{
  if (changes.records.empty() && changes.events.empty() && changes.prune_audit_before == 0 &&
      changes.policies.empty() && changes.enforcement == nullptr) {
    return {};
  }
  return m_impl->commit(changes);
}

Expected<std::optional<CachedPolicy>> SqliteStore::load_policy(std::string_view user)
{
  Impl& impl = *m_impl;
  std::lock_guard lock(impl.reader_mutex);
  sqlite3* db = impl.reader.get();
  sqlite3_stmt* stmt = impl.policy_load_stmt.get();
  StatementUse use(stmt);
  auto found = step_to_row_of(impl.path, db, stmt, user,
                              "cannot read the cached policy of user " + quoted(user));
  if (!found) {
    return Unexpected<Error>{found.error()};
  }
  if (!*found) {
    return std::optional<CachedPolicy>{};
  }
  CachedPolicy policy;
  policy.user = user;
  policy.in_directory = sqlite3_column_int64(stmt, 0) != 0;
  policy.dn = column_string(stmt, 1);
  const auto decision = decision_from_code(sqlite3_column_int64(stmt, 2));
  policy.reason = column_string(stmt, 3);
  const bool has_grace = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
  const std::int64_t grace = sqlite3_column_int64(stmt, 4);
  policy.fetched_at = sqlite3_column_int64(stmt, 5);
  if (!decision || !fits_u32(grace)) {
    return make_error(impl.path + ": the cached policy of user " + quoted(user) +
                      " holds impossible values; the database is damaged");
  }
  policy.decision = *decision;
  if (has_grace) {
    policy.grace_period = static_cast<std::uint32_t>(grace);
  }
  return std::optional<CachedPolicy>{std::move(policy)};
}

Expected<Enforcement> SqliteStore::load_enforcement()
{
  Impl& impl = *m_impl;
  std::lock_guard lock(impl.mutex);
  sqlite3_stmt* stmt = impl.enforcement_load_stmt.get();
  StatementUse use(stmt);
  const int rc = sqlite3_step(stmt);
  Enforcement enforcement;
  if (rc == SQLITE_DONE) {
    return enforcement;
  }
  if (rc != SQLITE_ROW) {
    return db_error(impl.path, impl.db.get(), "cannot read the global enforcement switch");
  }
  enforcement.on = sqlite3_column_int64(stmt, 0) != 0;
  const std::int64_t grace = sqlite3_column_int64(stmt, 1);
  enforcement.since = sqlite3_column_int64(stmt, 2);
  enforcement.by = column_string(stmt, 3);
  if (!fits_u32(grace)) {
    return make_error(impl.path + ": the global enforcement switch holds impossible values");
  }
  enforcement.grace = static_cast<std::uint32_t>(grace);
  return enforcement;
}

Expected<void> SqliteStore::remove(std::string_view user)
{
  Impl& impl = *m_impl;
  std::lock_guard lock(impl.mutex);
  sqlite3_stmt* stmt = impl.remove_stmt.get();
  StatementUse use(stmt);

  Binder bind(stmt);
  bind.text(user);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(impl.path, impl.db.get(), "cannot remove the record of user " + quoted(user));
  }
  return {};
}

} // namespace studio2fa
