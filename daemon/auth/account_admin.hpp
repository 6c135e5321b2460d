// The administration side of studio2fad (the ADMIN_* requests; PROTOCOL.md, "Administration"):
// the account list, turning a second factor off, unlocking, temporary passes, the audit trail
// and imports of existing TOTP secrets. It shares the Authenticator's AccountLedger (the same
// per-user locks, so an admin action never races a login) and writes every action to the audit
// trail with what it changed. Re-sealing under a new studio key (rekey) is here too. Who may call
// it is the request handler's business.
#pragma once

#include "account_ledger.hpp"
#include "authenticator.hpp"
#include "protocol.hpp"
#include "store.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

class AccountAdmin {
public:
  // `ledger` is the one `authenticator` uses; the policy, the status of an account and the
  // factors are the authenticator's.
  AccountAdmin(AccountLedger& ledger, Authenticator& authenticator);

  struct Account {
    std::string user;
    UserStatus status;
  };
  struct AccountPage {
    std::vector<Account> accounts;
    bool more = false; // there are accounts after the last one
  };
  // Up to `limit` accounts whose names sort after `after` (bytewise). Only the first page
  // (`after` empty) is audited.
  Expected<AccountPage> list(std::string_view after, std::size_t limit, const Requester& who);

  // Removes the secret, any pending secret, the backup codes, counters, locks and pass.
  Expected<protocol::AdminDisableResult> disable(std::string_view user, const Requester& who);

  // Lifts both locks and resets the counters.
  Expected<protocol::UnlockResult> unlock(std::string_view user, const Requester& who);

  struct PassOutcome {
    protocol::PassResult result = protocol::PassResult::granted;
    std::int64_t pass_until = 0;
  };
  // Grants a pass of `duration` seconds (voiding the second factor), or revokes one (0).
  Expected<PassOutcome> pass(std::string_view user, std::uint32_t duration, const Requester& who);

  struct LogPage {
    std::vector<AuditRecord> records;
    bool more = false;
  };
  // The audit events matching `query` (query.limit of them at most). Only the first page
  // (after_id 0) is audited.
  Expected<LogPage> log(const AuditQuery& query, const Requester& who);

  struct ImportOutcome {
    protocol::ImportResult result = protocol::ImportResult::imported;
    std::size_t index = 0; // the entry at fault
    std::string why;       // for the log and the audit trail
  };
  // Makes each entry's secret the user's active one, all in one transaction or none. Refuses
  // the whole set for an entry that does not check out, or (unless `replace`) for a user who
  // already has an active secret.
  Expected<ImportOutcome> import(std::span<const protocol::ImportEntry> entries, bool replace,
                                 const Requester& who);

  struct PolicyReport {
    PolicyAnswer answer;
    std::int64_t grace_until = 0; // while required and not enrolled
  };
  // The policy decision for `user`, and why (ADMIN_POLICY). Starts no grace period.
  PolicyReport policy(std::string_view user, const Requester& who);

  struct EnforceOutcome {
    protocol::EnforceResult result = protocol::EnforceResult::done;
    Enforcement state; // after the request
  };
  // Reads or switches global enforcement. Turning it on is refused unless `acting_admin` (the
  // person behind the request) has an active second factor, or `force` (logged).
  Expected<EnforceOutcome> enforce(protocol::EnforceAction action, std::uint32_t grace, bool force,
                                   std::string_view acting_admin, const Requester& who);

  struct RekeyPage {
    std::uint32_t resealed = 0;         // records re-sealed under the current studio key
    std::uint32_t current = 0;          // records with nothing to re-seal
    std::uint32_t failed = 0;           // records whose secret did not open (logged)
    std::uint32_t old_backup_codes = 0; // records with backup codes under an older key
    std::string last;                   // the last user gone through
    bool more = false;                  // there are records after `last`
    std::string key_id;                 // the current studio key's id, in hex
  };
  // Re-seals, under the current studio key, the secret and pending secret of each of the up to
  // `limit` records after `after` that is not already under it (admin_rekey.cpp). Each record
  // is committed on its own, conditionally; one that changed meanwhile (on another host) is read
  // again and tried again. Running it again re-seals nothing more: it may stop and resume at
  // any page.
  Expected<RekeyPage> rekey(std::string_view after, std::size_t limit, const Requester& who);

  // The store this daemon serves, as studio2fa-admin health shows it (Store::health).
  StoreHealth store_health() { return m_ledger.store_health(); }

private:
  // disable, unlock and pass once, under the user's lock: a fresh load, the change, its commit
  // (Errc::conflict when another host wrote the record meanwhile: retry_on_conflict).
  Expected<protocol::AdminDisableResult>
  disable_held(std::string_view user, const PolicyAnswer& policy, const Requester& who);
  Expected<protocol::UnlockResult> unlock_held(std::string_view user, const Requester& who);
  Expected<PassOutcome> pass_held(std::string_view user, std::uint32_t duration,
                                  const Requester& who);

  AccountLedger& m_ledger;
  Authenticator& m_auth;
};

} // namespace studio2fa
