#include "sqlite_audit.hpp"

#include <algorithm>
#include <iterator>

namespace studio2fa {

namespace {

constexpr const char* k_insert_sql =
    "INSERT INTO audit (at, actor_uid, actor, action, subject, service, rhost, tty, outcome, "
    "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

constexpr const char* k_prune_sql = "DELETE FROM audit WHERE at < ?1";

#define STUDIO2FA_AUDIT_SELECT                                                                     \
  "SELECT id, at, actor_uid, actor, action, subject, service, rhost, tty, outcome, detail "        \
  "FROM audit WHERE id > ?1 AND at >= ?2 "

constexpr const char* k_read_sql = STUDIO2FA_AUDIT_SELECT "ORDER BY id LIMIT ?3";
constexpr const char* k_read_subject_sql =
    STUDIO2FA_AUDIT_SELECT "AND subject = ?4 ORDER BY id LIMIT ?3";

#undef STUDIO2FA_AUDIT_SELECT

// The longest audit text fields PROTOCOL.md allows (ADMIN_LOG); longer ones are cut.
constexpr std::size_t k_audit_limits[] = {protocol::limits::user,   protocol::limits::action,
                                          protocol::limits::user,   protocol::limits::service,
                                          protocol::limits::rhost,  protocol::limits::tty,
                                          protocol::limits::action, protocol::limits::reason};

} // namespace

Expected<void> AuditTable::prepare(const Connections& db)
{
  m_db = db;
  return prepare_all(db.path, db.writer,
                     {{&m_insert, k_insert_sql},
                      {&m_prune, k_prune_sql},
                      {&m_read, k_read_sql},
                      {&m_read_subject, k_read_subject_sql}});
}

Expected<void> AuditTable::insert(const AuditEvent& event)
{
  sqlite3_stmt* stmt = m_insert.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(event.at);
  bind.integer(event.actor_uid);
  const std::string* const texts[] = {&event.actor, &event.action, &event.subject, &event.service,
                                      &event.rhost, &event.tty,    &event.outcome, &event.detail};
  for (std::size_t i = 0; i < std::size(texts); ++i) {
    bind.text(std::string_view(*texts[i]).substr(0, k_audit_limits[i]));
  }
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(m_db.path, m_db.writer, "cannot add to the audit trail");
  }
  return {};
}

Expected<void> AuditTable::prune(std::int64_t before)
{
  sqlite3_stmt* stmt = m_prune.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(before);
  if (!bind.ok() || sqlite3_step(stmt) != SQLITE_DONE) {
    return db_error(m_db.path, m_db.writer, "cannot prune the audit trail");
  }
  return {};
}

Expected<std::vector<AuditRecord>> AuditTable::read(const AuditQuery& query)
{
  sqlite3_stmt* stmt = query.subject.empty() ? m_read.get() : m_read_subject.get();
  StatementUse use(stmt);
  Binder bind(stmt);
  bind.integer(query.after_id);
  bind.integer(query.since);
  bind.integer(static_cast<std::int64_t>(std::min<std::size_t>(query.limit, 1U << 20)));
  if (!query.subject.empty()) {
    bind.text(query.subject);
  }
  if (!bind.ok()) {
    return db_error(m_db.path, m_db.writer, "cannot read the audit trail");
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
    std::string* const texts[] = {&event.actor, &event.action, &event.subject, &event.service,
                                  &event.rhost, &event.tty,    &event.outcome, &event.detail};
    for (std::size_t i = 0; i < std::size(texts); ++i) {
      *texts[i] = column_string(stmt, static_cast<int>(i) + 3);
      texts[i]->resize(std::min(texts[i]->size(), k_audit_limits[i]));
    }
    records.push_back(std::move(record));
  }
  if (rc != SQLITE_DONE) {
    return db_error(m_db.path, m_db.writer, "cannot read the audit trail");
  }
  return records;
}

} // namespace studio2fa
