#include "account_ledger.hpp"

#include "log.hpp"

#include <algorithm>
#include <functional>

namespace studio2fa {

namespace {

constexpr std::int64_t k_prune_interval = 24 * 3600;

} // namespace

AccountLedger::AccountLedger(Store& store, const Clock& clock, unsigned audit_retention)
    : m_store(store), m_clock(clock), m_audit_retention(audit_retention)
{
}

std::mutex& AccountLedger::stripe(std::string_view user)
{
  return m_user_locks[std::hash<std::string_view>{}(user) % m_user_locks.size()];
}

std::unique_lock<std::mutex> AccountLedger::lock(std::string_view user)
{
  return std::unique_lock(stripe(user));
}

std::vector<std::unique_lock<std::mutex>>
AccountLedger::lock_all(std::span<const std::string_view> users)
{
  std::vector<std::mutex*> mutexes;
  for (const std::string_view user : users) {
    mutexes.push_back(&stripe(user));
  }
  // Address order; a stripe shared by two users is taken once.
  std::sort(mutexes.begin(), mutexes.end(), std::less<std::mutex*>());
  mutexes.erase(std::unique(mutexes.begin(), mutexes.end()), mutexes.end());
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(mutexes.size());
  for (std::mutex* mutex : mutexes) {
    held.emplace_back(*mutex);
  }
  return held;
}

Expected<std::optional<UserRecord>> AccountLedger::load(std::string_view user)
{
  return m_store.load(user);
}

bool AccountLedger::try_again(const Error& error, unsigned tries)
{
  constexpr unsigned k_commit_attempts = 4;
  if (error.code != Errc::conflict || tries >= k_commit_attempts) {
    return false;
  }
  log::info("store: %s; deciding again", error.message.c_str());
  return true;
}

Expected<EnrollmentStore::Loaded> AccountLedger::load_for_commit(std::string_view user)
{
  return m_store.load_for_commit(user);
}

Expected<std::vector<UserRecord>> AccountLedger::list(std::string_view after, std::size_t limit)
{
  return m_store.list(after, limit);
}

Expected<std::vector<AuditRecord>> AccountLedger::read_audit(const AuditQuery& query)
{
  return m_store.read_audit(query);
}

AuditEvent AccountLedger::event(const Requester& who, std::string_view action,
                                std::string_view subject, std::string_view outcome,
                                std::string_view detail) const
{
  AuditEvent event;
  event.at = m_clock.now();
  event.actor_uid = who.uid;
  event.actor = who.name;
  event.action = action;
  event.subject = subject;
  event.service = who.service;
  event.rhost = who.rhost;
  event.tty = who.tty;
  event.outcome = outcome;
  event.detail = detail;
  return event;
}

std::int64_t AccountLedger::prune_before()
{
  const std::int64_t now = m_clock.now();
  std::int64_t next = m_next_prune.load();
  if (now < next || !m_next_prune.compare_exchange_strong(next, now + k_prune_interval)) {
    return 0;
  }
  return now - static_cast<std::int64_t>(m_audit_retention);
}

Expected<void> AccountLedger::commit_budgeted(std::span<const UserRecord> records,
                                              const AuditEvent& event)
{
  if (!m_audit_budget.allow(event.actor_uid, event.at)) {
    log::notice("audit row not stored (uid %u over its audit budget): actor=%s action=%s "
                "user=%s outcome=%s",
                event.actor_uid, log::sanitize(event.actor).c_str(),
                log::sanitize(event.action).c_str(), log::sanitize(event.subject).c_str(),
                log::sanitize(event.outcome).c_str());
    if (records.empty()) {
      return {};
    }
    return m_store.commit({records, {{}, prune_before()}});
  }
  return m_store.commit({records, {{&event, 1}, prune_before()}});
}

void AccountLedger::record(const AuditEvent& event)
{
  if (auto done = commit_budgeted({}, event); !done) {
    log::error("audit: %s", done.error().message.c_str());
  }
}

Expected<void> AccountLedger::commit_all(std::span<const UserRecord> records,
                                         std::span<const AuditEvent> events)
{
  return m_store.commit({records, {events, prune_before()}});
}

} // namespace studio2fa
