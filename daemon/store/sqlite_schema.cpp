#include "sqlite_schema.hpp"

#include "sqlite_handles.hpp"

#include <iterator>
#include <string_view>

namespace studio2fa {

namespace {

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
    // 3 → 4: a revision per record, for conditional commits. A record that exists is at
    // revision 1 or later; 0 stands for "no record" in a commit.
    R"sql(
ALTER TABLE users ADD COLUMN revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1);
)sql",
    // 4 → 5: the phone factor: the number and its methods, a number being confirmed, the code
    // last sent (its keyed hash) and the per-user send count. Numbers are E.164: '+' and at
    // most 15 digits.
    R"sql(
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 16);
ALTER TABLE users ADD COLUMN phone_methods INTEGER NOT NULL DEFAULT 0
  CHECK (phone_methods BETWEEN 0 AND 3);
ALTER TABLE users ADD COLUMN phone_enrolled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN pending_phone TEXT NOT NULL DEFAULT ''
  CHECK (length(pending_phone) <= 16);
ALTER TABLE users ADD COLUMN pending_phone_methods INTEGER NOT NULL DEFAULT 0
  CHECK (pending_phone_methods BETWEEN 0 AND 3);
ALTER TABLE users ADD COLUMN phone_code BLOB CHECK (phone_code IS NULL OR
  (typeof(phone_code) = 'blob' AND length(phone_code) = 32));
ALTER TABLE users ADD COLUMN phone_code_purpose INTEGER NOT NULL DEFAULT 0
  CHECK (phone_code_purpose BETWEEN 0 AND 2);
ALTER TABLE users ADD COLUMN phone_code_sent_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN phone_code_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN phone_code_tries INTEGER NOT NULL DEFAULT 0
  CHECK (phone_code_tries BETWEEN 0 AND 4294967295);
ALTER TABLE users ADD COLUMN phone_sends_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN phone_sends INTEGER NOT NULL DEFAULT 0
  CHECK (phone_sends BETWEEN 0 AND 4294967295);
)sql",
};
static_assert(std::size(k_migrations) == k_schema_version, "one migration step per schema version");
static_assert(k_application_id == 1395803713, "the migration above spells the same id");

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

} // namespace

std::span<const char* const> schema_migrations()
{
  return k_migrations;
}

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
  if (*version > k_schema_version) {
    return make_error(path + " was created by a newer studio2fa (schema version " +
                      std::to_string(*version) + ", this build knows up to " +
                      std::to_string(k_schema_version) + "); refusing to use it");
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
    if (*version > k_schema_version) {
      return make_error(path + " was created by a newer studio2fa (schema version " +
                        std::to_string(*version) + ")");
    }
    if (*version == k_schema_version) {
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

} // namespace studio2fa
