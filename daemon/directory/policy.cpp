#include "policy.hpp"

#include "account_names.hpp"
#include "log.hpp"
#include "phone_number.hpp"

#include <algorithm>
#include <set>

namespace studio2fa {

namespace {

using protocol::PolicyDecision;
using protocol::PolicySource;

constexpr const char* k_global_reason = "global enforcement (studio2fa-admin enforce on)";
constexpr const char* k_no_policy = "no policy requires it";
constexpr const char* k_no_answer =
    "unknown: the directory cannot be reached and no answer is cached";

Deadline deadline_after(std::chrono::milliseconds timeout)
{
  return std::chrono::steady_clock::now() + timeout;
}

} // namespace

std::string describe_source(std::string_view kind, std::string_view dn)
{
  std::string text(kind);
  text += ' ';
  text += dn;
  // STATUS carries at most protocol::limits::reason bytes; ADMIN_POLICY more.
  return text;
}

PolicyResolver::PolicyResolver(LocalState& store, Directory* directory, const Clock& clock,
                               PolicySettings settings)
  : m_store(store), m_directory(directory), m_clock(clock), m_settings(std::move(settings))
{
}

Expected<void> PolicyResolver::load()
{
  auto loaded = m_store.load_enforcement();
  if (!loaded) {
    return Unexpected<Error>{loaded.error()};
  }
  std::lock_guard lock(m_enforcement_mutex);
  m_enforcement = std::move(*loaded);
  return {};
}

Enforcement PolicyResolver::enforcement() const
{
  std::lock_guard lock(m_enforcement_mutex);
  return m_enforcement;
}

Expected<void> PolicyResolver::set_enforcement(const Enforcement& enforcement,
                                               const AuditEvent& event)
{
  LocalChanges changes;
  changes.events = {&event, 1};
  changes.enforcement = &enforcement;
  if (auto saved = m_store.commit_local(changes); !saved) {
    return saved;
  }
  std::lock_guard lock(m_enforcement_mutex);
  m_enforcement = enforcement;
  return {};
}

bool PolicyResolver::directory_resting() const
{
  return m_clock.now() < m_down_until.load();
}

void PolicyResolver::directory_failed(std::string_view what)
{
  log::error("directory: %s (not asking it again for %u s)", std::string(what).c_str(),
             m_settings.retry_after);
  m_down_until = m_clock.now() + static_cast<std::int64_t>(m_settings.retry_after);
}

PolicyResolver::Resolved
PolicyResolver::resolve_entries(const DirectoryEntry& user,
                                const std::vector<DirectoryEntry>& ancestors,
                                const std::vector<DirectoryEntry>& groups) const
{
  const std::optional<std::uint32_t> own_grace = user.flags.grace_period;
  // 1. The user's own entry, first for a requirement, then for an exemption.
  if (user.flags.required.value_or(false)) {
    return {PolicyDecision::required, describe_source("own entry", user.dn), own_grace};
  }
  if (user.flags.exempt.value_or(false)) {
    return {PolicyDecision::exempt, describe_source("exempt by own entry", user.dn), {}};
  }
  // 2. An exemption anywhere above the user or in their groups beats every requirement there.
  for (const DirectoryEntry& entry : ancestors) {
    if (entry.flags.exempt.value_or(false)) {
      return {PolicyDecision::exempt, describe_source("exempt by container", entry.dn), {}};
    }
  }
  for (const DirectoryEntry& entry : groups) {
    if (entry.flags.exempt.value_or(false)) {
      return {PolicyDecision::exempt, describe_source("exempt by group", entry.dn), {}};
    }
  }
  // 3. A requirement: the nearest container first, then groups (direct ones first).
  for (const DirectoryEntry& entry : ancestors) {
    if (entry.flags.required.value_or(false)) {
      return {PolicyDecision::required, describe_source("container", entry.dn),
              entry.flags.grace_period ? entry.flags.grace_period : own_grace};
    }
  }
  for (const DirectoryEntry& entry : groups) {
    if (entry.flags.required.value_or(false)) {
      return {PolicyDecision::required, describe_source("group", entry.dn),
              entry.flags.grace_period ? entry.flags.grace_period : own_grace};
    }
  }
  return {PolicyDecision::optional, "no entry in the directory requires it", {}};
}

Expected<std::optional<PolicyFlags>> PolicyResolver::container_flags(const std::string& dn,
                                                                    Deadline deadline)
{
  constexpr std::size_t k_max_containers = 10000;
  const std::string key = dn_key(dn);
  const std::int64_t now = m_clock.now();
  {
    std::lock_guard lock(m_containers_mutex);
    auto known = m_containers.find(key);
    if (known != m_containers.end() && now >= known->second.fetched_at &&
        now - known->second.fetched_at < static_cast<std::int64_t>(m_settings.cache_ttl)) {
      return known->second.flags;
    }
  }
  auto flags = m_directory->read_flags(dn, deadline);
  if (flags) {
    std::lock_guard lock(m_containers_mutex);
    if (m_containers.size() >= k_max_containers) {
      m_containers.clear(); // a studio has far fewer; this only bounds memory
    }
    m_containers[key] = {*flags, now};
  }
  return flags;
}

Expected<CachedPolicy> PolicyResolver::ask_directory(std::string_view user, Deadline deadline)
{
  CachedPolicy answer;
  answer.user = std::string(user);
  answer.fetched_at = m_clock.now();
  auto found = m_directory->find_user(user, deadline);
  if (!found) {
    return Unexpected<Error>{found.error()};
  }
  if (!found->has_value()) {
    answer.in_directory = false;
    answer.decision = PolicyDecision::optional;
    return answer;
  }
  const DirectoryEntry& entry = **found;
  answer.in_directory = true;
  answer.dn = entry.dn;

  std::vector<DirectoryEntry> ancestors;
  for (const std::string& dn : ancestor_dns(entry.dn, m_settings.base)) {
    auto flags = container_flags(dn, deadline);
    if (!flags) {
      return Unexpected<Error>{flags.error()};
    }
    if (flags->has_value()) {
      ancestors.push_back({dn, **flags, std::nullopt});
    }
  }

  // Groups, breadth first: those naming the user, then those naming one of those, and so on.
  std::vector<DirectoryEntry> groups;
  std::set<std::string> seen{dn_key(entry.dn)};
  std::vector<std::string> frontier{entry.dn};
  for (unsigned depth = 1; !frontier.empty(); ++depth) {
    if (depth > m_settings.nesting_depth) {
      log::warning("directory: groups of %s nest deeper than ldap_nesting_depth (%u); the "
                   "deeper ones are not followed",
                   log::sanitize(user).c_str(), m_settings.nesting_depth);
      break;
    }
    auto level =
        m_directory->groups_holding(depth == 1 ? user : std::string_view{}, frontier, deadline);
    if (!level) {
      return Unexpected<Error>{level.error()};
    }
    std::sort(level->begin(), level->end(),
              [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.dn < b.dn; });
    frontier.clear();
    for (DirectoryEntry& group : *level) {
      if (seen.insert(dn_key(group.dn)).second) { // a loop or a diamond ends here
        frontier.push_back(group.dn);
        groups.push_back(std::move(group));
      }
    }
  }

  Resolved resolved = resolve_entries(entry, ancestors, groups);
  answer.decision = resolved.decision;
  answer.reason = std::move(resolved.reason);
  answer.grace_period = resolved.grace_period;
  return answer;
}

std::optional<CachedPolicy> PolicyResolver::lookup(std::string_view user, PolicySource& source)
{
  std::optional<CachedPolicy> cached;
  if (auto loaded = m_store.load_policy(user); loaded) {
    cached = std::move(*loaded);
  } else {
    log::error("store: %s", loaded.error().message.c_str());
  }
  const std::int64_t now = m_clock.now();
  if (cached && now >= cached->fetched_at &&
      now - cached->fetched_at < static_cast<std::int64_t>(m_settings.cache_ttl)) {
    source = PolicySource::cache;
    return cached;
  }
  if (!directory_resting()) {
    const std::uint64_t before = m_directory->operations();
    auto fresh = ask_directory(user, deadline_after(m_settings.timeout));
    if (fresh) {
      log::debug("directory: policy of %s resolved with %llu operations",
                 log::sanitize(user).c_str(),
                 static_cast<unsigned long long>(m_directory->operations() - before));
      LocalChanges changes;
      changes.policies = {&*fresh, 1};
      if (auto saved = m_store.commit_local(changes); !saved) {
        log::error("store: cannot cache a policy answer: %s", saved.error().message.c_str());
      }
      source = PolicySource::directory;
      return std::move(*fresh);
    }
    directory_failed("cannot read the policy of " + log::sanitize(user) + ": " +
                     fresh.error().message);
  }
  source = cached ? PolicySource::stale_cache : PolicySource::none;
  return cached;
}

PolicyAnswer PolicyResolver::local_answer(std::string_view user, PolicySource source) const
{
  PolicyAnswer answer;
  answer.source = source;
  answer.grace_period = m_settings.grace_period;
  // One account lookup for all the groups (none when no groups are configured).
  const Account account = m_settings.exempt_groups.empty() && m_settings.require_groups.empty()
                              ? Account{}
                              : account_named(user);
  for (const std::string& group : m_settings.exempt_groups) {
    if (account_in_group(account, group).value_or(false)) {
      answer.decision = PolicyDecision::exempt;
      answer.reason = "exempt by local group " + group + " (require_groups = !" + group + ")";
      return answer;
    }
  }
  for (const std::string& group : m_settings.require_groups) {
    if (account_in_group(account, group).value_or(false)) {
      answer.decision = PolicyDecision::required;
      answer.reason = "local group " + group + " (require_groups)";
      return answer;
    }
  }
  const Enforcement global = enforcement();
  if (global.on) {
    answer.decision = PolicyDecision::required;
    answer.reason = k_global_reason;
    answer.grace_period = global.grace != 0 ? global.grace : m_settings.grace_period;
    return answer;
  }
  answer.decision = PolicyDecision::optional;
  answer.reason = k_no_policy;
  return answer;
}

PolicyAnswer PolicyResolver::finish(const CachedPolicy& cached, PolicySource source) const
{
  if (!cached.in_directory) {
    PolicyAnswer answer = local_answer(cached.user, PolicySource::local);
    answer.fetched_at = cached.fetched_at;
    return answer;
  }
  PolicyAnswer answer;
  answer.decision = cached.decision;
  answer.source = source;
  answer.reason = cached.reason;
  answer.dn = cached.dn;
  answer.in_directory = true;
  answer.fetched_at = cached.fetched_at;
  answer.grace_period = cached.grace_period.value_or(m_settings.grace_period);
  if (answer.decision == PolicyDecision::optional) {
    const Enforcement global = enforcement();
    if (global.on) {
      answer.decision = PolicyDecision::required;
      answer.reason = k_global_reason;
      answer.grace_period = global.grace != 0 ? global.grace : m_settings.grace_period;
    } else {
      answer.reason = k_no_policy;
    }
  }
  return answer;
}

PolicyAnswer PolicyResolver::decide(std::string_view user)
{
  if (m_directory == nullptr || user == "root") {
    return local_answer(user, PolicySource::local);
  }
  PolicySource source = PolicySource::none;
  auto cached = lookup(user, source);
  if (!cached) {
    PolicyAnswer unknown;
    unknown.reason = k_no_answer;
    return unknown;
  }
  return finish(*cached, source);
}

PasswordSource PolicyResolver::password_source(std::string_view user)
{
  if (m_directory == nullptr || user == "root") {
    return {};
  }
  PolicySource source = PolicySource::none;
  auto cached = lookup(user, source);
  if (!cached) {
    return {PasswordSource::Kind::unknown, {}};
  }
  if (!cached->in_directory) {
    return {};
  }
  return {PasswordSource::Kind::directory, cached->dn};
}

Expected<DirectoryPhone> PolicyResolver::directory_phone(std::string_view user)
{
  DirectoryPhone phone;
  if (m_directory == nullptr || !m_settings.phone_from_directory || user == "root") {
    return phone;
  }
  if (directory_resting()) {
    return make_error("the directory is not answering");
  }
  auto entry = m_directory->find_user(user, deadline_after(m_settings.timeout));
  if (!entry) {
    directory_failed("cannot read the number of " + log::sanitize(user) + ": " +
                     entry.error().message);
    return Unexpected<Error>{entry.error()};
  }
  if (!entry->has_value()) {
    return phone;
  }
  phone.managed = true;
  if ((*entry)->phone) {
    auto number = phone::parse_e164(*(*entry)->phone);
    if (number) {
      phone.number = std::move(*number);
    } else {
      log::warning("directory: the number of %s is not an E.164 number; no codes by text",
                   log::sanitize(user).c_str());
    }
  }
  return phone;
}

} // namespace studio2fa
