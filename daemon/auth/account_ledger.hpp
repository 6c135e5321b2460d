// The accounts' records as the Authenticator and AccountAdmin change them: the per-user locks
// that serialise every change to one account, the reads, and the audited commits (a record and
// the audit row that says why it changed, in one transaction). The one place in daemon/auth/
// that talks to the Store.
#pragma once

#include "audit_budget.hpp"
#include "clock.hpp"
#include "store.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

// Who asked, for the audit trail: the peer, and for a login where it came from.
struct Requester {
  std::uint32_t uid = 0;
  std::string name;
  std::string service;
  std::string rhost;
  std::string tty;
};

class AccountLedger {
public:
  // Audit rows older than `audit_retention` seconds are pruned, at most once a day.
  AccountLedger(Store& store, const Clock& clock, unsigned audit_retention);
  AccountLedger(const AccountLedger&) = delete;
  AccountLedger& operator=(const AccountLedger&) = delete;

  std::int64_t now() const { return m_clock.now(); }

  // The lock of `user`'s account, held from a load to the commit of what it changed (the replay
  // check and the counters are read-modify-write). Different users rarely share one.
  [[nodiscard]] std::unique_lock<std::mutex> lock(std::string_view user);
  // The locks of all `users`, taken in one order, so that two callers cannot deadlock.
  [[nodiscard]] std::vector<std::unique_lock<std::mutex>>
  lock_all(std::span<const std::string_view> users);

  // nullopt when `user` has no record. Call with the user's lock held.
  Expected<std::optional<UserRecord>> load(std::string_view user);
  // The same, or the store's copy of what it last read or wrote (EnrollmentStore::
  // load_for_commit): only for a decision that ends in a commit, which fails with
  // Errc::conflict if the copy was stale.
  Expected<EnrollmentStore::Loaded> load_for_commit(std::string_view user);
  // Up to `limit` records of users whose names sort after `after` (bytewise), in that order.
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit);
  Expected<std::vector<AuditRecord>> read_audit(const AuditQuery& query);
  // The store's health (Store::health): may ask the directory.
  StoreHealth store_health() { return m_store.health(); }

  // An audit row, stamped now.
  AuditEvent event(const Requester& who, std::string_view action, std::string_view subject,
                   std::string_view outcome, std::string_view detail) const;
  // Commits `record` with `event`, durably, in one transaction. A peer over its audit budget
  // (AuditBudget) has its row logged instead of stored; the record is committed all the same.
  Expected<void> commit(const UserRecord& record, const AuditEvent& event)
  {
    return commit_budgeted({&record, 1}, event);
  }
  // Runs `attempt` (a fresh load, a decision and its commit, under the user's lock, which the
  // caller holds) and runs it again when its commit lost to a write another host made meanwhile
  // (Errc::conflict), so that the request is decided on what that host wrote; a few times only,
  // so that hosts that keep writing one record cannot keep a request going round. Returns the
  // last attempt's result.
  template <typename Attempt> auto retry_on_conflict(Attempt&& attempt) -> decltype(attempt())
  {
    for (unsigned tries = 1;; ++tries) {
      auto result = attempt();
      if (result || !try_again(result.error(), tries)) {
        return result;
      }
    }
  }
  // Whether a request whose commit failed with `error` on its `tries`-th attempt is decided
  // again (retry_on_conflict): a conflict, fewer than 4 times. Logs why.
  static bool try_again(const Error& error, unsigned tries);

  // For outcomes that change no record: the event alone; a failure is logged, not returned.
  void record(const AuditEvent& event);
  // Commits every record and every event in one transaction, or none (one administrative
  // action over many accounts; its rows are not budgeted).
  Expected<void> commit_all(std::span<const UserRecord> records,
                            std::span<const AuditEvent> events);

private:
  std::mutex& stripe(std::string_view user);
  Expected<void> commit_budgeted(std::span<const UserRecord> records, const AuditEvent& event);
  // Non-zero (the cut-off) when this commit is the one that prunes the audit trail.
  std::int64_t prune_before();

  Store& m_store;
  const Clock& m_clock;
  unsigned m_audit_retention;
  // Audit rows a non-root peer may add: 60 at once, then one a second (SECURITY.md).
  AuditBudget m_audit_budget{60, 1};
  std::atomic<std::int64_t> m_next_prune{0};
  std::array<std::mutex, 64> m_user_locks;
};

} // namespace studio2fa
