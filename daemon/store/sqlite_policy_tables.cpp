#include "sqlite_policy_tables.hpp"

namespace studio2fa {

namespace {

constexpr const char* k_policy_load_sql =
    "SELECT in_directory, dn, decision, reason, grace_period, fetched_at FROM policy_cache "
    "WHERE name = ?1";
constexpr const char* k_policy_save_sql =
    "INSERT OR REPLACE INTO policy_cache (name, in_directory, dn, decision, reason, "
    "grace_period, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* k_enforcement_load_sql =
    "SELECT enforced, grace, since, by FROM enforcement WHERE id = 1";
constexpr const char* k_enforcement_save_sql = "INSERT OR REPLACE INTO enforcement (id, enforced, "
                                               "grace, since, by) VALUES (1, ?1, ?2, ?3, ?4)";

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

Expected<void> PolicyCacheTable::prepare(const Connections& db)
{
  m_db = db;
  if (auto prepared = prepare_all(db.path, db.writer, {{&m_save, k_policy_save_sql}}); !prepared) {
    return prepared;
  }
  return prepare_all(db.path, db.reader, {{&m_load, k_policy_load_sql}});
}

Expected<std::optional<CachedPolicy>> PolicyCacheTable::load(std::string_view user)
{
  sqlite3_stmt* stmt = m_load.get();
  StatementUse use(stmt);
  auto found = step_to_row_of(m_db.path, m_db.reader, stmt, user,
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
    return make_error(m_db.path + ": the cached policy of user " + quoted(user) +
                      " holds impossible values; the database is damaged");
  }
  policy.decision = *decision;
  if (has_grace) {
    policy.grace_period = static_cast<std::uint32_t>(grace);
  }
  return std::optional<CachedPolicy>{std::move(policy)};
}

Expected<void> PolicyCacheTable::save(const CachedPolicy& policy)
{
  const std::string what = "cannot cache the policy of user " + quoted(policy.user);
  if (policy.decision == protocol::PolicyDecision::unknown) {
    return make_error(m_db.path + ": " + what + ": an unknown decision is never cached");
  }
  sqlite3_stmt* stmt = m_save.get();
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
    return db_error(m_db.path, m_db.writer, what);
  }
  return {};
}

Expected<void> EnforcementTable::prepare(const Connections& db)
{
  m_db = db;
  return prepare_all(db.path, db.writer,
                     {{&m_load, k_enforcement_load_sql}, {&m_save, k_enforcement_save_sql}});
}

Expected<Enforcement> EnforcementTable::load()
{
  sqlite3_stmt* stmt = m_load.get();
  StatementUse use(stmt);
  const int rc = sqlite3_step(stmt);
  Enforcement enforcement;
  if (rc == SQLITE_DONE) {
    return enforcement;
  }
  if (rc != SQLITE_ROW) {
    return db_error(m_db.path, m_db.writer, "cannot read the global enforcement switch");
  }
  enforcement.on = sqlite3_column_int64(stmt, 0) != 0;
  const std::int64_t grace = sqlite3_column_int64(stmt, 1);
  enforcement.since = sqlite3_column_int64(stmt, 2);
  enforcement.by = column_string(stmt, 3);
  if (!fits_u32(grace)) {
    return make_error(m_db.path + ": the global enforcement switch holds impossible values");
  }
  enforcement.grace = static_cast<std::uint32_t>(grace);
  return enforcement;
}

Expected<void> EnforcementTable::save(const Enforcement& enforcement)
{
  sqlite3_stmt* stmt = m_save.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(enforcement.on ? 1 : 0);
  bind.integer(enforcement.grace);
  bind.integer(enforcement.since);
  bind.text(enforcement.by);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(m_db.path, m_db.writer, "cannot save the global enforcement switch");
  }
  return {};
}

} // namespace studio2fa
