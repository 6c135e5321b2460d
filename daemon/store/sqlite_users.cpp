#include "sqlite_users.hpp"

#include <algorithm>
#include <limits>
#include <span>

namespace studio2fa {

namespace {

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

// The columns of a record after its name, in the order read_record() reads them and
// bind_record() binds them (from ?2).
#define STUDIO2FA_RECORD_COLUMNS                                                                   \
  "secret, algorithm, digits, period, enrolled_at, last_step, failures, last_failure_at, "         \
  "pending_secret, pending_algorithm, pending_digits, pending_period, pending_created_at, "        \
  "backup_codes, backup_failures, lock_state, locked_at, pass_until, last_login_at, grace_until, " \
  "revision, phone, phone_methods, phone_enrolled_at, pending_phone, pending_phone_methods, "       \
  "phone_code, phone_code_purpose, phone_code_sent_at, phone_code_expires_at, phone_code_tries, "  \
  "phone_sends_since, phone_sends"

constexpr const char* k_load_sql = "SELECT " STUDIO2FA_RECORD_COLUMNS " FROM users WHERE name = ?1";

constexpr int k_list_name_column = 33;
constexpr const char* k_list_sql =
    "SELECT " STUDIO2FA_RECORD_COLUMNS ", name FROM users WHERE name > ?1 ORDER BY name LIMIT ?2";

// ?22 is the revision the record was read at; a row written gets ?22 + 1. The phone factor's
// columns (schema version 5) come after it, ?23 to ?34.
constexpr const char* k_insert_sql =
    "INSERT INTO users (name, " STUDIO2FA_RECORD_COLUMNS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
    "?20, ?21, ?22 + 1, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34) "
    "ON CONFLICT (name) DO NOTHING";

#undef STUDIO2FA_RECORD_COLUMNS

// The phone factor's columns in both updates: no IN-list checks among them.
#define STUDIO2FA_PHONE_SET                                                                        \
  "phone = ?23, phone_methods = ?24, phone_enrolled_at = ?25, pending_phone = ?26, "               \
  "pending_phone_methods = ?27, phone_code = ?28, phone_code_purpose = ?29, "                      \
  "phone_code_sent_at = ?30, phone_code_expires_at = ?31, phone_code_tries = ?32, "                \
  "phone_sends_since = ?33, phone_sends = ?34 "

constexpr const char* k_update_sql =
    "UPDATE users SET secret = ?2, algorithm = ?3, digits = ?4, period = ?5, enrolled_at = ?6, "
    "last_step = ?7, failures = ?8, last_failure_at = ?9, pending_secret = ?10, "
    "pending_algorithm = ?11, pending_digits = ?12, pending_period = ?13, "
    "pending_created_at = ?14, backup_codes = ?15, backup_failures = ?16, lock_state = ?17, "
    "locked_at = ?18, pass_until = ?19, last_login_at = ?20, grace_until = ?21, "
    "revision = ?22 + 1, " STUDIO2FA_PHONE_SET
    "WHERE name = ?1 AND revision = ?22";

// k_update_sql for the usual case where the columns that have CHECK (x IN (...)) constraints
// keep their values (they are matched, not set). SQLite checks a CHECK constraint on UPDATE only
// when a column it names is set, and each of those IN lists costs it a temporary table per
// statement; a row it does not match is left to k_update_sql.
constexpr const char* k_update_same_checks_sql =
    "UPDATE users SET secret = ?2, digits = ?4, period = ?5, enrolled_at = ?6, last_step = ?7, "
    "failures = ?8, last_failure_at = ?9, pending_secret = ?10, pending_digits = ?12, "
    "pending_period = ?13, pending_created_at = ?14, backup_codes = ?15, backup_failures = ?16, "
    "locked_at = ?18, pass_until = ?19, last_login_at = ?20, grace_until = ?21, "
    "revision = ?22 + 1, " STUDIO2FA_PHONE_SET
    "WHERE name = ?1 AND revision = ?22 AND algorithm = ?3 AND pending_algorithm = ?11 AND "
    "lock_state = ?17";

#undef STUDIO2FA_PHONE_SET

constexpr const char* k_remove_sql = "DELETE FROM users WHERE name = ?1";

bool fits_unsigned(std::int64_t value)
{
  return value >= 0 && static_cast<std::uint64_t>(value) <= std::numeric_limits<unsigned>::max();
}

bool fits_int64(std::uint64_t value)
{
  return value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

bool fits_blob(const std::vector<std::uint8_t>& blob)
{
  return blob.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max());
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

// Reads the phone factor's columns, from `column` on, into `record`; false if they hold
// impossible values.
bool read_phone(sqlite3_stmt* stmt, int column, UserRecord& record)
{
  record.phone = column_string(stmt, column);
  const std::int64_t methods = sqlite3_column_int64(stmt, column + 1);
  record.phone_enrolled_at = sqlite3_column_int64(stmt, column + 2);
  record.pending_phone = column_string(stmt, column + 3);
  const std::int64_t pending_methods = sqlite3_column_int64(stmt, column + 4);
  const std::vector<std::uint8_t> code = column_blob(stmt, column + 5);
  const std::int64_t purpose = sqlite3_column_int64(stmt, column + 6);
  record.phone_code_sent_at = sqlite3_column_int64(stmt, column + 7);
  record.phone_code_expires_at = sqlite3_column_int64(stmt, column + 8);
  const std::int64_t tries = sqlite3_column_int64(stmt, column + 9);
  record.phone_sends_since = sqlite3_column_int64(stmt, column + 10);
  const std::int64_t sends = sqlite3_column_int64(stmt, column + 11);
  const bool code_sent = purpose != 0;
  if (methods < 0 || methods > k_phone_methods_all || pending_methods < 0 ||
      pending_methods > k_phone_methods_all || purpose < 0 || purpose > 2 ||
      code.size() != (code_sent ? record.phone_code.size() : 0) || !fits_u32(tries) ||
      !fits_u32(sends)) {
    return false;
  }
  record.phone_methods = static_cast<std::uint8_t>(methods);
  record.pending_phone_methods = static_cast<std::uint8_t>(pending_methods);
  record.phone_code_purpose = static_cast<PhoneCodePurpose>(purpose);
  record.phone_code = {};
  std::copy(code.begin(), code.end(), record.phone_code.begin());
  record.phone_code_tries = static_cast<std::uint32_t>(tries);
  record.phone_sends = static_cast<std::uint32_t>(sends);
  return true;
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
  const std::int64_t revision = sqlite3_column_int64(stmt, 20);
  if (!read_phone(stmt, 21, record)) {
    return false;
  }
  if (!params || !pending_params || !lock || last_step < 0 || !fits_u32(failures) ||
      !fits_u32(backup_failures) || codes.size() % sizeof(BackupCodeHash) != 0 ||
      codes.size() > protocol::k_backup_codes_per_set * sizeof(BackupCodeHash) || revision < 1) {
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
  record.revision = static_cast<std::uint64_t>(revision);
  return true;
}

// Binds ?1..?34 of the insert and update statements; `codes` holds the record's backup codes
// packed.
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
  bind.blob(codes);
  bind.integer(record.backup_failures);
  bind.integer(lock_code(record.lock));
  bind.integer(record.locked_at);
  bind.integer(record.pass_until);
  bind.integer(record.last_login_at);
  bind.integer(record.grace_until);
  bind.integer(static_cast<std::int64_t>(record.revision));
  bind.text(record.phone);
  bind.integer(record.phone_methods);
  bind.integer(record.phone_enrolled_at);
  bind.text(record.pending_phone);
  bind.integer(record.pending_phone_methods);
  // No code: NULL, as in a row written before schema version 5.
  bind.blob(record.has_phone_code() ? std::span<const std::uint8_t>(record.phone_code)
                                     : std::span<const std::uint8_t>{});
  bind.integer(static_cast<std::int64_t>(record.phone_code_purpose));
  bind.integer(record.phone_code_sent_at);
  bind.integer(record.phone_code_expires_at);
  bind.integer(record.phone_code_tries);
  bind.integer(record.phone_sends_since);
  bind.integer(record.phone_sends);
  return bind.ok();
}

} // namespace

Expected<void> UsersTable::prepare(const Connections& db)
{
  m_db = db;
  if (auto prepared = prepare_all(db.path, db.writer,
                                  {{&m_list, k_list_sql},
                                   {&m_insert, k_insert_sql},
                                   {&m_update, k_update_sql},
                                   {&m_update_same_checks, k_update_same_checks_sql},
                                   {&m_remove, k_remove_sql},
                                   {&m_load_on_writer, k_load_sql}});
      !prepared) {
    return prepared;
  }
  return prepare_all(db.path, db.reader, {{&m_load, k_load_sql}});
}

Expected<std::optional<UserRecord>> UsersTable::load(std::string_view user, Side side)
{
  const bool on_writer = side == Side::writer;
  sqlite3_stmt* stmt = on_writer ? m_load_on_writer.get() : m_load.get();
  StatementUse use(stmt);
  auto found = step_to_row_of(m_db.path, on_writer ? m_db.writer : m_db.reader, stmt, user,
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
    return make_error(m_db.path + ": the record of user " + quoted(user) +
                      " holds impossible values; the database is damaged");
  }
  return std::optional<UserRecord>{std::move(record)};
}

Expected<std::vector<UserRecord>> UsersTable::list(std::string_view after, std::size_t limit)
{
  sqlite3_stmt* stmt = m_list.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.text(after);
  bind.integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, 1U << 20)));
  if (!bind.ok()) {
    return db_error(m_db.path, m_db.writer, "cannot list the users");
  }
  std::vector<UserRecord> records;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    UserRecord record;
    record.user = column_string(stmt, k_list_name_column);
    if (!read_record(stmt, record)) {
      return make_error(m_db.path + ": the record of user " + quoted(record.user) +
                        " holds impossible values; the database is damaged");
    }
    records.push_back(std::move(record));
  }
  if (rc != SQLITE_DONE) {
    return db_error(m_db.path, m_db.writer, "cannot list the users");
  }
  return records;
}

Expected<void> UsersTable::write(const UserRecord& record)
{
  const std::string what = "cannot save the record of user " + quoted(record.user);
  if (!fits_int64(record.last_step) ||
      record.revision >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
      !fits_blob(record.sealed_secret) || !fits_blob(record.pending_secret) ||
      record.backup_codes.size() > protocol::k_backup_codes_per_set) {
    return make_error(m_db.path + ": " + what + ": a value is out of range");
  }
  std::vector<std::uint8_t> codes;
  codes.reserve(record.backup_codes.size() * sizeof(BackupCodeHash));
  for (const BackupCodeHash& hash : record.backup_codes) {
    codes.insert(codes.end(), hash.begin(), hash.end());
  }
  // Runs one statement of the record; true when it wrote a row.
  auto run = [&](const Statement& statement) -> Expected<bool> {
    sqlite3_stmt* stmt = statement.get();
    StatementUse use(stmt);
    if (!bind_record(stmt, record, codes) || sqlite3_step(stmt) != SQLITE_DONE) {
      return db_error(m_db.path, m_db.writer, what);
    }
    return sqlite3_changes(m_db.writer) == 1;
  };
  // Most writes (every login) are of a record that exists, with the same algorithms and lock
  // state: then the narrower update does it.
  const Statement* const inserts[] = {&m_insert};
  const Statement* const updates[] = {&m_update_same_checks, &m_update};
  for (const Statement* statement : record.revision == 0
                                        ? std::span<const Statement* const>(inserts)
                                        : std::span<const Statement* const>(updates)) {
    auto wrote = run(*statement);
    if (!wrote) {
      return Unexpected<Error>{wrote.error()};
    }
    if (*wrote) {
      return {};
    }
  }
  return make_error(Errc::conflict, m_db.path + ": " + what +
                                        ": it changed since it was read (at revision " +
                                        std::to_string(record.revision) + ")");
}

Expected<void> UsersTable::remove(std::string_view user)
{
  sqlite3_stmt* stmt = m_remove.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.text(user);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(m_db.path, m_db.writer, "cannot remove the record of user " + quoted(user));
  }
  return {};
}

} // namespace studio2fa
