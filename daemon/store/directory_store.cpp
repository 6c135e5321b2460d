#include "directory_store.hpp"

#include "log.hpp"

#include <algorithm>
#include <ctime>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace studio2fa {

namespace {

std::int64_t wall_now()
{
  return static_cast<std::int64_t>(std::time(nullptr));
}

bool same_parameters(const totp::Parameters& a, const totp::Parameters& b)
{
  return a.algorithm == b.algorithm && a.digits == b.digits && a.period == b.period;
}

// The phone factor: nothing of it changes offline (no codes are sent or checked).
bool same_phone_factor(const UserRecord& a, const UserRecord& b)
{
  return a.phone == b.phone && a.phone_methods == b.phone_methods &&
         a.phone_enrolled_at == b.phone_enrolled_at && a.pending_phone == b.pending_phone &&
         a.pending_phone_methods == b.pending_phone_methods && a.phone_code == b.phone_code &&
         a.phone_code_purpose == b.phone_code_purpose &&
         a.phone_code_sent_at == b.phone_code_sent_at &&
         a.phone_code_expires_at == b.phone_code_expires_at &&
         a.phone_code_tries == b.phone_code_tries && a.phone_sends_since == b.phone_sends_since &&
         a.phone_sends == b.phone_sends;
}

// Whether `changed` differs from `cached` only as a TOTP login on this host may change it:
// the last step raised, the login time, the failure counters and the lock they set.
bool offline_change_allowed(const UserRecord& cached, const UserRecord& changed)
{
  return changed.last_step >= cached.last_step && changed.sealed_secret == cached.sealed_secret &&
         same_parameters(changed.params, cached.params) &&
         changed.enrolled_at == cached.enrolled_at &&
         changed.pending_secret == cached.pending_secret &&
         same_parameters(changed.pending_params, cached.pending_params) &&
         changed.pending_created_at == cached.pending_created_at &&
         changed.backup_codes == cached.backup_codes && changed.pass_until == cached.pass_until &&
         changed.grace_until == cached.grace_until &&
         changed.backup_failures == cached.backup_failures && same_phone_factor(changed, cached);
}

} // namespace

struct DirectoryStore::Impl {
  OfflineSettings offline;
  CacheSettings cache;
  std::mutex mutex;
  // When this daemon last read or wrote each user's record in the directory (seconds since the
  // epoch): the age of its cache copy.
  std::unordered_map<std::string, std::int64_t> fresh_at;
  // The cache copies handed out while the directory could not be reached, as they were.
  std::unordered_map<std::string, UserRecord> offline_loaded;
  // Users with a last step accepted offline that the directory has not seen yet.
  std::unordered_set<std::string> unsynced;
  // The directory's last answer was that it could not be reached: no copies are handed out
  // (load_for_commit) until it answers again, so a login does not wait for it twice.
  bool unreachable = false;
  // The last write could not reach the write server (ldap_write_uri), whatever the read servers
  // answer: a record read from a replica then cannot be written, so with offline_logins =
  // cached a login is decided on this host's copy until the write server answers again.
  bool write_unreachable = false;

  void note_answer(const Error* error)
  {
    std::lock_guard lock(mutex);
    unreachable = error != nullptr && error->code == Errc::unavailable;
  }
  void note_write(const Error* error)
  {
    note_answer(error);
    std::lock_guard lock(mutex);
    write_unreachable = error != nullptr && error->code == Errc::unavailable;
  }
};

DirectoryStore::DirectoryStore(std::unique_ptr<LdapEnrollmentStore> records,
                               std::unique_ptr<SqliteStore> local, OfflineSettings offline,
                               CacheSettings cache)
    : m_records(std::move(records)), m_local(std::move(local)), m_impl(std::make_unique<Impl>())
{
  m_impl->offline = offline;
  m_impl->cache = cache;
}

DirectoryStore::~DirectoryStore() = default;

Expected<std::optional<UserRecord>> DirectoryStore::load(std::string_view user)
{
  const std::string key(user);
  if (auto down = write_server_down()) {
    return from_cache(user, "the write server (ldap_write_uri)", *down);
  }
  auto loaded = m_records->load(user);
  m_impl->note_answer(loaded ? nullptr : &loaded.error());
  if (loaded) {
    bool unsynced = false;
    {
      std::lock_guard lock(m_impl->mutex);
      m_impl->offline_loaded.erase(key);
      if (loaded->has_value()) {
        m_impl->fresh_at[key] = wall_now();
      }
      unsynced = m_impl->unsynced.erase(key) > 0;
    }
    if (unsynced) {
      reconcile(user, *loaded);
    }
    return loaded;
  }
  if (loaded.error().code != Errc::unavailable || !m_impl->offline.cached) {
    return loaded;
  }
  return from_cache(user, "the directory", loaded.error());
}

std::optional<Error> DirectoryStore::write_server_down()
{
  {
    std::lock_guard lock(m_impl->mutex);
    if (!m_impl->offline.cached || !m_impl->write_unreachable) {
      return std::nullopt;
    }
  }
  // Asked again at every load while it is down: a stopped server refuses at once, and the
  // first login after it is back pushes what was accepted here meanwhile.
  ServerHealth writer = m_records->probe_write_server();
  std::lock_guard lock(m_impl->mutex);
  m_impl->write_unreachable = !writer.answers;
  if (writer.answers) {
    return std::nullopt;
  }
  return Error{Errc::unavailable,
               "the write server (ldap_write_uri) cannot be reached: " + writer.problem};
}

Expected<std::optional<UserRecord>>
DirectoryStore::from_cache(std::string_view user, const char* unreachable, const Error& why)
{
  const std::string key(user);
  std::int64_t fresh = 0;
  {
    std::lock_guard lock(m_impl->mutex);
    if (auto found = m_impl->fresh_at.find(key); found != m_impl->fresh_at.end()) {
      fresh = found->second;
    }
  }
  if (fresh == 0 || wall_now() - fresh > m_impl->offline.max_age.count()) {
    return make_error(Errc::unavailable, why.message + "; no copy of the record of " +
                                             log::sanitize(user) +
                                             " read within offline_cache_age");
  }
  auto cached = m_local->load(user);
  if (!cached || !cached->has_value()) {
    return make_error(Errc::unavailable,
                      why.message + "; no cached record of " + log::sanitize(user));
  }
  log::notice("directory store: %s cannot be reached; %s is checked against this host's copy "
              "of the record",
              unreachable, log::sanitize(user).c_str());
  std::lock_guard lock(m_impl->mutex);
  m_impl->offline_loaded[key] = **cached;
  return cached;
}

Expected<EnrollmentStore::Loaded> DirectoryStore::load_for_commit(std::string_view user)
{
  const std::string key(user);
  bool copy_allowed = false;
  {
    std::lock_guard lock(m_impl->mutex);
    copy_allowed = !m_impl->unreachable && !m_impl->write_unreachable &&
                   !m_impl->unsynced.contains(key) && !m_impl->offline_loaded.contains(key);
  }
  if (copy_allowed) {
    if (auto copy = m_records->copy_of(user)) {
      return Loaded{std::move(copy), true};
    }
  }
  return EnrollmentStore::load_for_commit(user);
}

StoreHealth DirectoryStore::health()
{
  StoreHealth health;
  health.directory = true;
  health.write = m_records->probe_write_server();
  health.cas_form = m_records->cas_form();
  health.read = m_records->probe_read_server();
  health.offline_cached = m_impl->offline.cached;
  health.offline_cache_age = m_impl->offline.max_age.count();
  std::lock_guard lock(m_impl->mutex);
  health.cached_users = static_cast<std::uint32_t>(m_impl->fresh_at.size());
  for (const auto& [user, at] : m_impl->fresh_at) {
    health.newest_at = std::max(health.newest_at, at);
    health.oldest_at = health.oldest_at == 0 ? at : std::min(health.oldest_at, at);
  }
  return health;
}

void DirectoryStore::reconcile(std::string_view user, std::optional<UserRecord>& directory)
{
  auto cached = m_local->load(user);
  if (!cached || !cached->has_value() || !directory) {
    return;
  }
  const std::uint64_t local_step = (*cached)->last_step;
  // The first read may come from a replica that has not yet seen this host's last write before
  // the outage: a push that loses is tried again on a read of the write server (the store reads
  // it after a lost write), so that only a step the write server itself holds is a conflict.
  constexpr int k_push_attempts = 3;
  std::string problem;
  for (int attempt = 1; problem.empty(); ++attempt) {
    if (directory->last_step >= local_step) {
      problem = "the directory is already at step " + std::to_string(directory->last_step) +
                ", at or past step " + std::to_string(local_step) + " accepted here offline";
      break;
    }
    UserRecord pushed = *directory;
    pushed.last_step = local_step;
    auto written = m_records->commit_records({&pushed, 1});
    if (written) {
      directory->last_step = local_step;
      directory->revision = pushed.revision + 1;
      log::notice("directory store: pushed step %llu of %s, accepted offline, to the directory",
                  static_cast<unsigned long long>(local_step), log::sanitize(user).c_str());
      return;
    }
    if (written.error().code == Errc::conflict && attempt < k_push_attempts) {
      auto reread = m_records->load(user);
      if (reread && reread->has_value()) {
        directory = std::move(*reread);
        continue;
      }
    } else if (written.error().code == Errc::conflict) {
      problem = "pushing step " + std::to_string(local_step) +
                ", accepted here offline, lost to another write";
      break;
    }
    std::lock_guard lock(m_impl->mutex);
    m_impl->unsynced.insert(std::string(user)); // tried again on the next load
    return;
  }
  const std::string detail = problem + ": the code may have been used on another host too";
  log::warning("directory store: %s: %s", log::sanitize(user).c_str(), detail.c_str());
  AuditEvent event;
  event.at = wall_now();
  event.actor = "studio2fad";
  event.action = "offline-reconcile";
  event.subject = std::string(user);
  event.outcome = "conflict";
  event.detail = detail;
  if (auto recorded = m_local->commit_local({{&event, 1}}); !recorded) {
    log::error("audit: %s", recorded.error().message.c_str());
  }
}

Expected<std::vector<UserRecord>> DirectoryStore::list(std::string_view after, std::size_t limit)
{
  return m_records->list(after, limit);
}

Expected<void> DirectoryStore::commit_records(std::span<const UserRecord> records)
{
  return commit({records, {}});
}

Expected<void> DirectoryStore::remove(std::string_view user)
{
  if (auto removed = m_records->remove(user); !removed) {
    return removed;
  }
  std::lock_guard lock(m_impl->mutex);
  m_impl->fresh_at.erase(std::string(user));
  return m_local->remove(user);
}

Expected<void> DirectoryStore::commit_local(const LocalChanges& changes)
{
  return m_local->commit_local(changes);
}

Expected<std::vector<AuditRecord>> DirectoryStore::read_audit(const AuditQuery& query)
{
  return m_local->read_audit(query);
}

Expected<std::optional<CachedPolicy>> DirectoryStore::load_policy(std::string_view user)
{
  return m_local->load_policy(user);
}

Expected<Enforcement> DirectoryStore::load_enforcement()
{
  return m_local->load_enforcement();
}

Expected<void> DirectoryStore::commit(const StoreChanges& changes)
{
  // Records loaded from the cache (the directory could not be reached) go to the cache alone,
  // at the cache's revision; the others to the directory, and then a copy to the cache.
  std::vector<UserRecord> online;
  std::vector<UserRecord> cache_writes;
  std::vector<std::string> offline_users;
  for (const UserRecord& record : changes.records) {
    std::optional<UserRecord> base;
    {
      std::lock_guard lock(m_impl->mutex);
      if (auto found = m_impl->offline_loaded.find(record.user);
          found != m_impl->offline_loaded.end() && found->second.revision == record.revision) {
        base = found->second;
      }
    }
    if (base) {
      if (!offline_change_allowed(*base, record)) {
        return make_error(Errc::unavailable,
                          "the directory cannot be reached: only a code can be checked for " +
                              log::sanitize(record.user) + " until it answers again");
      }
      cache_writes.push_back(record);
      offline_users.push_back(record.user);
    } else {
      online.push_back(record);
    }
  }
  if (!online.empty()) {
    auto written = m_records->commit_records(online);
    m_impl->note_write(written ? nullptr : &written.error());
    if (!written) {
      return written;
    }
  }
  for (UserRecord copy : online) {
    auto cached = m_local->load(copy.user);
    if (!cached) {
      return Unexpected<Error>{cached.error()};
    }
    copy.revision = cached->has_value() ? (*cached)->revision : 0;
    cache_writes.push_back(std::move(copy));
  }
  // What the directory took is durable there: the cache's copy of it, and the audit rows with it,
  // need not wait for this host's disk (cache_sync). Anything accepted offline, or a change with
  // no directory part, waits for it.
  const Durability durability =
      !online.empty() && offline_users.empty() ? m_impl->cache.copies : changes.durability;
  if (auto written = m_local->commit({cache_writes, changes.local, durability}); !written) {
    return written;
  }
  const std::int64_t now = wall_now();
  std::lock_guard lock(m_impl->mutex);
  for (const UserRecord& record : online) {
    m_impl->fresh_at[record.user] = now;
    m_impl->offline_loaded.erase(record.user);
  }
  for (const std::string& user : offline_users) {
    m_impl->unsynced.insert(user);
    m_impl->offline_loaded.erase(user);
  }
  return {};
}

} // namespace studio2fa
