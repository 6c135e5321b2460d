// AccountAdmin::rekey: moving every record's secrets to the current studio key, a page at a time
// (studio2fa-admin rekey; README, "Rotating the studio key").
#include "account_admin.hpp"
#include "log.hpp"

namespace studio2fa {

namespace {

// Attempts at one record that keeps changing under us (other hosts' logins) before it is counted
// as failed; the next run takes it up again.
constexpr int k_rekey_attempts = 5;

enum class Resealed { done, already_current, failed };

} // namespace

Expected<AccountAdmin::RekeyPage> AccountAdmin::rekey(std::string_view after, std::size_t limit,
                                                      const Requester& who)
{
  auto records = m_ledger.list(after, limit + 1);
  if (!records) {
    return Unexpected<Error>{records.error()};
  }
  RekeyPage page;
  page.more = records->size() > limit;
  if (page.more) {
    records->resize(limit);
  }
  const TotpFactor& totp = m_auth.factors().totp();
  const BackupCodeFactor& backup_codes = m_auth.factors().backup_codes();
  page.key_id = key_id_text(totp.current_key_id());
  for (const UserRecord& listed : *records) {
    const std::string& user = listed.user;
    Resealed outcome = Resealed::failed;
    bool old_codes = false;
    bool conflicted = false;
    for (int attempt = 0; attempt < k_rekey_attempts; ++attempt) {
      auto held = m_ledger.lock(user);
      auto loaded = m_ledger.load(user);
      if (!loaded) {
        return Unexpected<Error>{loaded.error()};
      }
      if (!loaded->has_value()) {
        outcome = Resealed::already_current; // removed meanwhile: nothing left to re-seal
        break;
      }
      UserRecord& record = **loaded;
      old_codes = backup_codes.has_codes_under_old_key(record);
      auto changed = totp.reseal(record);
      if (!changed) {
        log::warning("rekey: %s", changed.error().message.c_str());
        break;
      }
      if (!*changed) {
        outcome = Resealed::already_current;
        break;
      }
      auto saved = m_ledger.commit(record, m_ledger.event(who, "admin-rekey", user, "resealed",
                                                          "sealed under the current studio key"));
      if (saved) {
        outcome = Resealed::done;
        break;
      }
      if (saved.error().code != Errc::conflict) {
        return Unexpected<Error>{saved.error()};
      }
      conflicted = true;
    }
    if (outcome == Resealed::failed && conflicted) {
      log::warning("rekey: the record of %s kept changing; run rekey again",
                   log::sanitize(user).c_str());
    }
    switch (outcome) {
    case Resealed::done:
      ++page.resealed;
      break;
    case Resealed::already_current:
      ++page.current;
      break;
    case Resealed::failed:
      ++page.failed;
      break;
    }
    page.old_backup_codes += old_codes ? 1 : 0;
    page.last = user;
  }
  return page;
}

} // namespace studio2fa
