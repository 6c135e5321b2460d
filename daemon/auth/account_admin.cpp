#include "account_admin.hpp"

#include "base32.hpp"
#include "duration.hpp"
#include "log.hpp"

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>

namespace studio2fa {

namespace {

using protocol::LockState;

constexpr std::string_view k_purpose_active = "totp"; // as in authenticator.cpp
constexpr std::size_t k_min_secret_bytes = 10;        // Google Authenticator's 80 bits
constexpr std::size_t k_max_secret_bytes = 64;
constexpr unsigned k_min_period = 10;
constexpr unsigned k_max_period = 300;

void clear_second_factor(UserRecord& record)
{
  record.sealed_secret.clear();
  record.enrolled_at = 0;
  record.pending_secret.clear();
  record.pending_created_at = 0;
  record.pending_params = {};
  record.backup_codes.clear();
}

void clear_counters_and_locks(UserRecord& record)
{
  record.failures = 0;
  record.last_failure_at = 0;
  record.backup_failures = 0;
  record.lock = LockState::none;
  record.locked_at = 0;
}

} // namespace

AccountAdmin::AccountAdmin(Authenticator& authenticator) : m_auth(authenticator)
{
}

Expected<AccountAdmin::AccountPage> AccountAdmin::list(std::string_view after, std::size_t limit,
                                                       const Requester& who)
{
  auto records = m_auth.m_store.list(after, limit + 1);
  if (!records) {
    return Unexpected<Error>{records.error()};
  }
  AccountPage page;
  page.more = records->size() > limit;
  if (page.more) {
    records->resize(limit);
  }
  const std::int64_t now = m_auth.m_clock.now();
  for (const UserRecord& record : *records) {
    page.accounts.push_back({record.user, m_auth.describe(&record, m_auth.decide(record.user), now)});
  }
  if (after.empty()) {
    m_auth.record_event(m_auth.event(who, "admin-list", "", "success", ""));
  }
  return page;
}

Expected<protocol::AdminDisableResult> AccountAdmin::disable(std::string_view user,
                                                             const Requester& who)
{
  constexpr std::string_view k_action = "admin-disable";
  const PolicyAnswer policy = m_auth.decide(user);
  std::lock_guard lock(m_auth.lock_for(user));
  auto loaded = m_auth.m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value()) {
    m_auth.record_event(m_auth.event(who, k_action, user, "not-enrolled", ""));
    return protocol::AdminDisableResult::not_enrolled;
  }
  UserRecord& record = **loaded;
  const bool was_enrolled = record.enrolled();
  clear_second_factor(record);
  clear_counters_and_locks(record);
  record.pass_until = 0;
  // A user who must use 2FA enrolls again at the next login, with no new grace period.
  record.grace_until = policy.required() ? UserRecord::k_enroll_now : 0;
  const char* outcome = was_enrolled ? "success" : "not-enrolled";
  const std::string detail = std::string("secret and backup codes removed") +
                             (policy.required() ? "; enrollment due at the next login" : "");
  if (auto saved = m_auth.commit(record, m_auth.event(who, k_action, user, outcome, detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return was_enrolled ? protocol::AdminDisableResult::disabled
                      : protocol::AdminDisableResult::not_enrolled;
}

AccountAdmin::PolicyReport AccountAdmin::policy(std::string_view user, const Requester& who)
{
  PolicyReport report;
  report.answer = m_auth.decide(user);
  if (report.answer.known()) {
    std::lock_guard lock(m_auth.lock_for(user));
    auto loaded = m_auth.m_store.load(user);
    if (loaded) {
      UserRecord record = record_or_new(std::move(*loaded), user);
      const Authenticator::Demand owed = m_auth.demand(record, report.answer, m_auth.m_clock.now());
      report.grace_until = owed.grace_until;
      if (owed.why != nullptr) {
        report.answer.decision = protocol::PolicyDecision::required;
        report.answer.reason = owed.why;
      }
    }
  }
  m_auth.record_event(m_auth.event(who, "admin-policy", user,
                                   protocol::name(report.answer.decision), report.answer.reason));
  return report;
}

Expected<AccountAdmin::EnforceOutcome> AccountAdmin::enforce(protocol::EnforceAction action,
                                                             std::uint32_t grace, bool force,
                                                             std::string_view acting_admin,
                                                             const Requester& who)
{
  EnforceOutcome outcome;
  if (m_auth.m_policy == nullptr) {
    return make_error("no policy resolver");
  }
  PolicyResolver& resolver = *m_auth.m_policy;
  if (action == protocol::EnforceAction::query) {
    outcome.state = resolver.enforcement();
    return outcome;
  }
  const std::int64_t now = m_auth.m_clock.now();
  std::string detail;
  if (action == protocol::EnforceAction::on) {
    // The admin who makes everyone use 2FA must use it already (PRODUCT.md story 3).
    bool has_second_factor = false;
    {
      std::lock_guard lock(m_auth.lock_for(acting_admin));
      auto loaded = m_auth.m_store.load(acting_admin);
      if (!loaded) {
        return Unexpected<Error>{loaded.error()};
      }
      has_second_factor = loaded->has_value() && (*loaded)->enrolled();
    }
    if (!has_second_factor && !force) {
      m_auth.record_event(m_auth.event(who, "admin-enforce", acting_admin, "refused",
                                       "on refused: " + std::string(acting_admin) +
                                           " has no second factor"));
      outcome.result = protocol::EnforceResult::refused_not_enrolled;
      outcome.state = resolver.enforcement();
      return outcome;
    }
    detail = "on, grace " + std::to_string(grace != 0 ? grace : resolver.default_grace_period()) + " s";
    if (!has_second_factor) {
      detail += "; forced: " + std::string(acting_admin) + " has no second factor";
      log::warning("global enforcement turned on with --force by %s, who has no second factor",
                   log::sanitize(acting_admin).c_str());
    }
  } else {
    detail = "off";
  }
  Enforcement state;
  state.on = action == protocol::EnforceAction::on;
  state.grace = state.on ? grace : 0;
  state.since = now;
  state.by = std::string(acting_admin);
  if (auto saved = resolver.set_enforcement(
          state, m_auth.event(who, "admin-enforce", acting_admin, "success", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  outcome.state = state;
  return outcome;
}

Expected<protocol::UnlockResult> AccountAdmin::unlock(std::string_view user, const Requester& who)
{
  constexpr std::string_view k_action = "admin-unlock";
  std::lock_guard lock(m_auth.lock_for(user));
  auto loaded = m_auth.m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value()) {
    m_auth.record_event(m_auth.event(who, k_action, user, "not-locked", ""));
    return protocol::UnlockResult::not_locked;
  }
  UserRecord& record = **loaded;
  const LockState was = record.lock;
  clear_counters_and_locks(record);
  const char* detail = was == LockState::account         ? "the account was locked"
                       : was == LockState::second_factor ? "the second factor was locked"
                                                         : "counters reset";
  if (auto saved = m_auth.commit(record, m_auth.event(who, k_action, user,
                                                      was != LockState::none ? "success"
                                                                             : "not-locked",
                                                      detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return was != LockState::none ? protocol::UnlockResult::unlocked
                                : protocol::UnlockResult::not_locked;
}

Expected<AccountAdmin::PassOutcome> AccountAdmin::pass(std::string_view user,
                                                       std::uint32_t duration,
                                                       const Requester& who)
{
  std::lock_guard lock(m_auth.lock_for(user));
  auto loaded = m_auth.m_store.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  const std::int64_t now = m_auth.m_clock.now();
  UserRecord record = record_or_new(std::move(*loaded), user);

  if (duration == 0) {
    constexpr std::string_view k_action = "admin-pass-revoke";
    if (record.pass_until <= now) {
      m_auth.record_event(m_auth.event(who, k_action, user, "no-pass", ""));
      return PassOutcome{protocol::PassResult::no_pass, 0};
    }
    // Ended now: the user must enroll again, as when a pass runs out.
    record.pass_until = now;
    if (auto saved = m_auth.commit(record, m_auth.event(who, k_action, user, "success", ""));
        !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return PassOutcome{protocol::PassResult::revoked, 0};
  }

  // The old secret is void from now on: the pass exists because it is lost or locked.
  const bool had_secret = record.enrolled();
  clear_second_factor(record);
  clear_counters_and_locks(record);
  record.pass_until = now + static_cast<std::int64_t>(duration);
  std::string detail = "until " + utc_time(record.pass_until);
  if (had_secret) {
    detail += "; the old secret and backup codes are void";
  }
  if (auto saved = m_auth.commit(record, m_auth.event(who, "admin-pass", user, "success", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return PassOutcome{protocol::PassResult::granted, record.pass_until};
}

Expected<AccountAdmin::LogPage> AccountAdmin::log(const AuditQuery& query, const Requester& who)
{
  AuditQuery one_more = query;
  one_more.limit = query.limit + 1;
  auto records = m_auth.m_store.read_audit(one_more);
  if (!records) {
    return Unexpected<Error>{records.error()};
  }
  LogPage page;
  page.more = records->size() > query.limit;
  if (page.more) {
    records->resize(query.limit);
  }
  page.records = std::move(*records);
  if (query.after_id == 0) {
    std::string detail = query.subject.empty() ? "everyone" : "user " + query.subject;
    if (query.since != 0) {
      detail += " since " + utc_time(query.since);
    }
    m_auth.record_event(m_auth.event(who, "admin-log", query.subject, "success", detail));
  }
  return page;
}

Expected<AccountAdmin::ImportOutcome> AccountAdmin::import(
  std::span<const protocol::ImportEntry> entries, bool replace, const Requester& who)
{
  constexpr std::string_view k_action = "admin-import";
  auto refuse = [&](protocol::ImportResult result, std::size_t index, std::string why) {
    const std::string_view user = index < entries.size() ? entries[index].user : "";
    m_auth.record_event(m_auth.event(who, k_action, user, "refused", why));
    return ImportOutcome{result, index, std::move(why)};
  };

  // Check everything that needs no lock first.
  struct Checked {
    SecretBytes secret;
    totp::Parameters params;
  };
  std::vector<Checked> checked;
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const protocol::ImportEntry& entry = entries[i];
    if (entry.user.empty() || !seen.insert(entry.user).second) {
      return refuse(protocol::ImportResult::bad_entry, i, "an empty or repeated user name");
    }
    auto secret = base32::decode(entry.secret);
    if (!secret || secret->size() < k_min_secret_bytes || secret->size() > k_max_secret_bytes) {
      return refuse(protocol::ImportResult::bad_entry, i,
                    "the secret is not base32 of 10 to 64 bytes");
    }
    const auto algorithm = totp::parse_algorithm(entry.algorithm);
    if (!algorithm || entry.digits < 6 || entry.digits > 8 || entry.period < k_min_period ||
        entry.period > k_max_period) {
      return refuse(protocol::ImportResult::bad_entry, i,
                    "the parameters are not SHA1/SHA256/SHA512, 6 to 8 digits, 10 to 300 s");
    }
    std::vector<SecretBytes> codes_seen; // at most 10: compared pairwise, in constant time
    for (std::size_t c = 0; c < entry.code_count; ++c) {
      SecretBytes normalised = normalise_backup_code(entry.codes[c]);
      if (normalised.empty()) {
        return refuse(protocol::ImportResult::bad_entry, i,
                      "a backup code is not 8 to 32 letters and digits");
      }
      for (const SecretBytes& earlier : codes_seen) {
        if (constant_time_equal(earlier.span(), normalised.span())) {
          // Each copy would be a separate single-use code: the code would work twice.
          return refuse(protocol::ImportResult::bad_entry, i, "a backup code is repeated");
        }
      }
      codes_seen.push_back(std::move(normalised));
    }
    checked.push_back({std::move(*secret), {*algorithm, entry.digits, entry.period}});
  }

  // Every user's lock, in one order (so two imports cannot deadlock; a login takes one only).
  std::vector<std::mutex*> locks;
  for (const protocol::ImportEntry& entry : entries) {
    locks.push_back(&m_auth.lock_for(entry.user));
  }
  std::sort(locks.begin(), locks.end(), std::less<std::mutex*>());
  locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(locks.size());
  for (std::mutex* mutex : locks) {
    held.emplace_back(*mutex);
  }

  const std::int64_t now = m_auth.m_clock.now();
  std::vector<UserRecord> records;
  std::vector<AuditEvent> events;
  records.reserve(entries.size());
  events.reserve(entries.size() + 1);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const protocol::ImportEntry& entry = entries[i];
    auto loaded = m_auth.m_store.load(entry.user);
    if (!loaded) {
      return Unexpected<Error>{loaded.error()};
    }
    UserRecord record;
    if (loaded->has_value()) {
      record = std::move(**loaded);
    } else {
      record.user = std::string(entry.user);
    }
    const bool had_secret = record.enrolled();
    // Kept across a replacement: a code already used (possibly of this very secret, imported
    // again) must stay used.
    const std::uint64_t previous_step = record.last_step;
    if (had_secret && !replace) {
      // The locks are released with `held`, after the refusal is recorded: no harm.
      return refuse(protocol::ImportResult::already_enrolled, i,
                    "already has an active secret (import with --replace to overwrite it)");
    }
    auto sealed = m_auth.m_sealer.seal(checked[i].secret.span(), entry.user, k_purpose_active);
    if (!sealed) {
      return Unexpected<Error>{sealed.error()};
    }
    clear_second_factor(record);
    clear_counters_and_locks(record);
    record.sealed_secret = std::move(*sealed);
    record.params = checked[i].params;
    record.enrolled_at = now;
    record.last_step = previous_step;
    record.pass_until = 0;
    for (std::size_t c = 0; c < entry.code_count; ++c) {
      auto hash = m_auth.m_backup_codes.hash(entry.user, entry.codes[c]);
      if (!hash) {
        return make_error("cannot hash a backup code");
      }
      record.backup_codes.push_back(*hash);
    }
    std::string detail = std::to_string(entry.code_count) + " backup codes kept";
    if (had_secret) {
      detail += "; replaced an active secret";
    }
    events.push_back(m_auth.event(who, k_action, entry.user, "success", detail));
    records.push_back(std::move(record));
  }
  if (auto saved = m_auth.m_store.commit({records, {events, m_auth.prune_before()}}); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return ImportOutcome{};
}

} // namespace studio2fa
