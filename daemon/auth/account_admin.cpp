#include "account_admin.hpp"

#include "base32.hpp"
#include "duration.hpp"
#include "log.hpp"

#include <set>

namespace studio2fa {

namespace {

using protocol::LockState;

constexpr std::size_t k_min_secret_bytes = 10; // Google Authenticator's 80 bits
constexpr std::size_t k_max_secret_bytes = 64;
constexpr unsigned k_min_period = 10;
constexpr unsigned k_max_period = 300;

} // namespace

AccountAdmin::AccountAdmin(AccountLedger& ledger, Authenticator& authenticator)
    : m_ledger(ledger), m_auth(authenticator)
{
}

Expected<AccountAdmin::AccountPage> AccountAdmin::list(std::string_view after, std::size_t limit,
                                                       const Requester& who)
{
  auto records = m_ledger.list(after, limit + 1);
  if (!records) {
    return Unexpected<Error>{records.error()};
  }
  AccountPage page;
  page.more = records->size() > limit;
  if (page.more) {
    records->resize(limit);
  }
  for (const UserRecord& record : *records) {
    page.accounts.push_back({record.user, m_auth.describe(&record, m_auth.decide(record.user))});
  }
  if (after.empty()) {
    m_ledger.record(m_ledger.event(who, "admin-list", "", "success", ""));
  }
  return page;
}

Expected<protocol::AdminDisableResult> AccountAdmin::disable(std::string_view user,
                                                             const Requester& who)
{
  const PolicyAnswer policy = m_auth.decide(user);
  auto held = m_ledger.lock(user);
  return m_ledger.retry_on_conflict([&] { return disable_held(user, policy, who); });
}

Expected<protocol::AdminDisableResult>
AccountAdmin::disable_held(std::string_view user, const PolicyAnswer& policy, const Requester& who)
{
  constexpr std::string_view k_action = "admin-disable";
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value()) {
    m_ledger.record(m_ledger.event(who, k_action, user, "not-enrolled", ""));
    return protocol::AdminDisableResult::not_enrolled;
  }
  UserRecord& record = **loaded;
  const bool was_enrolled = record.enrolled();
  m_auth.factors().remove_all(record);
  m_auth.factors().unlock(record);
  record.pass_until = 0;
  // A user who must use 2FA enrolls again at the next login, with no new grace period.
  record.grace_until = policy.required() ? UserRecord::k_enroll_now : 0;
  const char* outcome = was_enrolled ? "success" : "not-enrolled";
  const std::string detail = std::string("secret and backup codes removed") +
                             (policy.required() ? "; enrollment due at the next login" : "");
  if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, outcome, detail));
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
    auto held = m_ledger.lock(user);
    auto loaded = m_ledger.load(user);
    if (loaded) {
      // As a status query sees it: what the answer demands of this user, starting nothing.
      // A temporary pass that ended makes the user required whatever the answer said.
      const UserStatus status =
          m_auth.describe(loaded->has_value() ? &**loaded : nullptr, report.answer);
      report.grace_until = status.grace_until;
      if (status.required) {
        report.answer.decision = protocol::PolicyDecision::required;
      }
      report.answer.reason = status.reason;
    }
  }
  m_ledger.record(m_ledger.event(who, "admin-policy", user, protocol::name(report.answer.decision),
                                 report.answer.reason));
  return report;
}

Expected<AccountAdmin::EnforceOutcome> AccountAdmin::enforce(protocol::EnforceAction action,
                                                             std::uint32_t grace, bool force,
                                                             std::string_view acting_admin,
                                                             const Requester& who)
{
  EnforceOutcome outcome;
  if (m_auth.policy_resolver() == nullptr) {
    return make_error("no policy resolver");
  }
  PolicyResolver& resolver = *m_auth.policy_resolver();
  if (action == protocol::EnforceAction::query) {
    outcome.state = resolver.enforcement();
    return outcome;
  }
  const std::int64_t now = m_ledger.now();
  std::string detail;
  if (action == protocol::EnforceAction::on) {
    // The admin who makes everyone use 2FA must use it already (PRODUCT.md story 3).
    bool has_second_factor = false;
    {
      auto held = m_ledger.lock(acting_admin);
      auto loaded = m_ledger.load(acting_admin);
      if (!loaded) {
        return Unexpected<Error>{loaded.error()};
      }
      has_second_factor = loaded->has_value() && (*loaded)->enrolled();
    }
    if (!has_second_factor && !force) {
      m_ledger.record(
          m_ledger.event(who, "admin-enforce", acting_admin, "refused",
                         "on refused: " + std::string(acting_admin) + " has no second factor"));
      outcome.result = protocol::EnforceResult::refused_not_enrolled;
      outcome.state = resolver.enforcement();
      return outcome;
    }
    detail =
        "on, grace " + std::to_string(grace != 0 ? grace : resolver.default_grace_period()) + " s";
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
          state, m_ledger.event(who, "admin-enforce", acting_admin, "success", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  outcome.state = state;
  return outcome;
}

Expected<protocol::UnlockResult> AccountAdmin::unlock(std::string_view user, const Requester& who)
{
  auto held = m_ledger.lock(user);
  return m_ledger.retry_on_conflict([&] { return unlock_held(user, who); });
}

Expected<protocol::UnlockResult> AccountAdmin::unlock_held(std::string_view user,
                                                           const Requester& who)
{
  constexpr std::string_view k_action = "admin-unlock";
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  if (!loaded->has_value()) {
    m_ledger.record(m_ledger.event(who, k_action, user, "not-locked", ""));
    return protocol::UnlockResult::not_locked;
  }
  UserRecord& record = **loaded;
  const LockState was = record.lock;
  m_auth.factors().unlock(record);
  const char* detail = was == LockState::account         ? "the account was locked"
                       : was == LockState::second_factor ? "the second factor was locked"
                                                         : "counters reset";
  if (auto saved = m_ledger.commit(
          record, m_ledger.event(who, k_action, user,
                                 was != LockState::none ? "success" : "not-locked", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return was != LockState::none ? protocol::UnlockResult::unlocked
                                : protocol::UnlockResult::not_locked;
}

Expected<AccountAdmin::PassOutcome> AccountAdmin::pass(std::string_view user,
                                                       std::uint32_t duration, const Requester& who)
{
  auto held = m_ledger.lock(user);
  return m_ledger.retry_on_conflict([&] { return pass_held(user, duration, who); });
}

Expected<AccountAdmin::PassOutcome>
AccountAdmin::pass_held(std::string_view user, std::uint32_t duration, const Requester& who)
{
  auto loaded = m_ledger.load(user);
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  const std::int64_t now = m_ledger.now();
  UserRecord record = record_or_new(std::move(*loaded), user);

  if (duration == 0) {
    constexpr std::string_view k_action = "admin-pass-revoke";
    if (record.pass_until <= now) {
      m_ledger.record(m_ledger.event(who, k_action, user, "no-pass", ""));
      return PassOutcome{protocol::PassResult::no_pass, 0};
    }
    // Ended now: the user must enroll again, as when a pass runs out.
    record.pass_until = now;
    if (auto saved = m_ledger.commit(record, m_ledger.event(who, k_action, user, "success", ""));
        !saved) {
      return Unexpected<Error>{saved.error()};
    }
    return PassOutcome{protocol::PassResult::revoked, 0};
  }

  // The old secret is void from now on: the pass exists because it is lost or locked.
  const bool had_secret = record.enrolled();
  m_auth.factors().remove_all(record);
  m_auth.factors().unlock(record);
  record.pass_until = now + static_cast<std::int64_t>(duration);
  std::string detail = "until " + utc_time(record.pass_until);
  if (had_secret) {
    detail += "; the old secret and backup codes are void";
  }
  if (auto saved =
          m_ledger.commit(record, m_ledger.event(who, "admin-pass", user, "success", detail));
      !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return PassOutcome{protocol::PassResult::granted, record.pass_until};
}

Expected<AccountAdmin::LogPage> AccountAdmin::log(const AuditQuery& query, const Requester& who)
{
  AuditQuery one_more = query;
  one_more.limit = query.limit + 1;
  auto records = m_ledger.read_audit(one_more);
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
    m_ledger.record(m_ledger.event(who, "admin-log", query.subject, "success", detail));
  }
  return page;
}

Expected<AccountAdmin::ImportOutcome>
AccountAdmin::import(std::span<const protocol::ImportEntry> entries, bool replace,
                     const Requester& who)
{
  constexpr std::string_view k_action = "admin-import";
  auto refuse = [&](protocol::ImportResult result, std::size_t index, std::string why) {
    const std::string_view user = index < entries.size() ? entries[index].user : "";
    m_ledger.record(m_ledger.event(who, k_action, user, "refused", why));
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
  std::vector<std::string_view> users;
  for (const protocol::ImportEntry& entry : entries) {
    users.push_back(entry.user);
  }
  auto held = m_ledger.lock_all(users);

  const std::int64_t now = m_ledger.now();
  std::vector<UserRecord> records;
  std::vector<AuditEvent> events;
  records.reserve(entries.size());
  events.reserve(entries.size() + 1);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const protocol::ImportEntry& entry = entries[i];
    auto loaded = m_ledger.load(entry.user);
    if (!loaded) {
      return Unexpected<Error>{loaded.error()};
    }
    UserRecord record = record_or_new(std::move(*loaded), entry.user);
    const bool had_secret = record.enrolled();
    // Kept across a replacement: a code already used (possibly of this very secret, imported
    // again) must stay used.
    const std::uint64_t previous_step = record.last_step;
    if (had_secret && !replace) {
      // The locks are released with `held`, after the refusal is recorded: no harm.
      return refuse(protocol::ImportResult::already_enrolled, i,
                    "already has an active secret (import with --replace to overwrite it)");
    }
    const Factors& factors = m_auth.factors();
    if (auto activated = factors.activate(record, checked[i].secret.span(), checked[i].params,
                                          previous_step, now);
        !activated) {
      return Unexpected<Error>{activated.error()};
    }
    if (auto kept = factors.backup_codes().replace(record, {entry.codes.data(), entry.code_count});
        !kept) {
      return Unexpected<Error>{kept.error()};
    }
    std::string detail = std::to_string(entry.code_count) + " backup codes kept";
    if (had_secret) {
      detail += "; replaced an active secret";
    }
    events.push_back(m_ledger.event(who, k_action, entry.user, "success", detail));
    records.push_back(std::move(record));
  }
  if (auto saved = m_ledger.commit_all(records, events); !saved) {
    return Unexpected<Error>{saved.error()};
  }
  return ImportOutcome{};
}

} // namespace studio2fa
