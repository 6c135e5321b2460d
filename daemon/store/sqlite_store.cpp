#include "sqlite_store.hpp"

#include "fd.hpp"
#include "group_commit.hpp"
#include "monotonic.hpp"
#include "sqlite_audit.hpp"
#include "sqlite_connection.hpp"
#include "sqlite_gather_vfs.hpp"
#include "sqlite_handles.hpp"
#include "sqlite_policy_tables.hpp"
#include "sqlite_users.hpp"

#include <atomic>
#include <mutex>

namespace studio2fa {

namespace {

// SQLite's default automatic checkpoint size (wal_autocheckpoint), in WAL frames (pages).
constexpr int k_checkpoint_frames = 1000;

// Durability::copy batches go unsynced (synchronous=NORMAL) for at most this long after the last
// sync; the batch after that is synced (FULL), and with it every unsynced frame before it.
constexpr long long k_max_unsynced_ms = 1000;

// SQLite calls this after every commit with the number of frames in the WAL. Installing it also
// turns off SQLite's own checkpoint inside COMMIT (see after_batch).
int count_wal_frames(void* frames, sqlite3*, const char*, int count)
{
  static_cast<std::atomic<int>*>(frames)->store(count);
  return SQLITE_OK;
}

} // namespace

struct SqliteStore::Impl final : GroupCommit::Writer {
  std::string path;
  // Declared first: closed after both connections (see lock_database).
  Fd file_lock;
  // The writer: every write, in group commits, and the administrator's reads.
  DbHandle db;
  // The reader: the reads on the login path, so that they never wait for a batch's fsync on the
  // writer. A read there sees every commit that has returned and none that has not; a caller
  // holding a user's lock until its commit returns therefore always reads that user's latest
  // record.
  DbHandle reader;

  // Declared after the connections so that their statements are finalized before those close.
  UsersTable users;
  AuditTable audit;
  PolicyCacheTable policies;
  EnforcementTable enforcement;
  // The transaction control of a group commit, parsed once.
  Statement begin_stmt;
  Statement commit_stmt;
  Statement rollback_stmt;
  Statement savepoint_stmt;
  Statement release_stmt;
  Statement rollback_to_stmt;

  // One statement object serves one caller at a time: `mutex` for the writer's, `reader_mutex`
  // for the reader's.
  std::mutex mutex;
  std::mutex reader_mutex;

  // Frames in the WAL after the last commit on the writer connection (count_wal_frames).
  std::atomic<int> wal_frames{0};
  // The writer's synchronous setting (FULL unless `unsynced`), and since when, by the monotonic
  // clock, the WAL has held commits not yet synced (0: none). Under `mutex`.
  bool unsynced = false;
  long long unsynced_since_ms = 0;
  GroupCommit group{*this};

  void write_batch(std::span<GroupCommit::Ticket* const> batch) override;
  void after_batch() override;
  bool step_done(const Statement& stmt);
  bool choose_sync(std::span<GroupCommit::Ticket* const> batch);
  Expected<void> write_changes(const StoreChanges& changes);
};

bool SqliteStore::Impl::step_done(const Statement& stmt)
{
  const int rc = sqlite3_step(stmt.get());
  sqlite3_reset(stmt.get());
  return rc == SQLITE_DONE;
}

// Sets the writer's synchronous mode for `batch`: NORMAL when every ticket is a Durability::copy
// and the oldest unsynced commit is recent enough, FULL otherwise. Returns whether this batch will
// be synced. Run by sqlite3_exec each time: SQLite applies this PRAGMA when it compiles it, so a
// prepared one would not switch back. One that fails leaves the setting as it was.
bool SqliteStore::Impl::choose_sync(std::span<GroupCommit::Ticket* const> batch)
{
  const long long now = monotonic_ms();
  bool lazy = unsynced_since_ms == 0 || now - unsynced_since_ms < k_max_unsynced_ms;
  for (const GroupCommit::Ticket* ticket : batch) {
    lazy = lazy && ticket->changes.durability == Durability::copy;
  }
  if (lazy != unsynced) {
    // Gathering the WAL's writes is safe only while every commit syncs (sqlite_gather_vfs.hpp):
    // off before NORMAL; on once FULL holds (again, if NORMAL could not be set).
    if (lazy) {
      set_wal_gathering(db.get(), false);
    }
    if (exec(path, db.get(), lazy ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL",
             "cannot set the synchronous mode")) {
      unsynced = lazy;
    }
    if (!unsynced) {
      set_wal_gathering(db.get(), true);
    }
  }
  return !unsynced;
}

// One transaction for the whole batch; a savepoint per ticket, so that one caller's bad or
// conflicting record fails only that caller. If the commit itself fails (disk full, I/O error),
// every ticket fails: nobody is told "saved" about something that is not on disk.
void SqliteStore::Impl::write_batch(std::span<GroupCommit::Ticket* const> batch)
{
  std::lock_guard db_lock(mutex);
  sqlite3* handle = db.get();
  const bool synced = choose_sync(batch);
  auto fail_all = [&](const Unexpected<Error>& error) {
    for (GroupCommit::Ticket* ticket : batch) {
      ticket->result = error;
    }
  };
  if (!step_done(begin_stmt)) {
    fail_all(db_error(path, handle, "cannot begin a transaction"));
    return;
  }
  const bool single = batch.size() == 1;
  for (GroupCommit::Ticket* ticket : batch) {
    if (!single) {
      step_done(savepoint_stmt);
    }
    Expected<void> result = write_changes(ticket->changes);
    if (!single) {
      if (!result) {
        step_done(rollback_to_stmt);
      }
      step_done(release_stmt);
    }
    ticket->result = result;
  }
  if (single && !batch.front()->result) {
    step_done(rollback_stmt);
    return;
  }
  // synchronous=FULL: COMMIT returns once the WAL, with every unsynced commit before this one,
  // is fsynced. NORMAL: once it is written to the WAL.
  if (!step_done(commit_stmt)) {
    auto error = db_error(path, handle, "cannot commit");
    step_done(rollback_stmt);
    fail_all(error);
    return;
  }
  if (synced) {
    unsynced_since_ms = 0;
  } else if (unsynced_since_ms == 0) {
    unsynced_since_ms = monotonic_ms();
  }
}

// SQLite would checkpoint inside the COMMIT that takes the WAL past 1000 pages, with that batch's
// callers still waiting; here the same passive checkpoint runs once they have their answers. A
// checkpoint that fails or stops short changes nothing on disk that matters: the WAL keeps the
// pages, and the next one tries again.
void SqliteStore::Impl::after_batch()
{
  if (wal_frames < k_checkpoint_frames) {
    return;
  }
  std::lock_guard db_lock(mutex);
  sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  wal_frames = 0;
}

Expected<void> SqliteStore::Impl::write_changes(const StoreChanges& changes)
{
  for (const UserRecord& record : changes.records) {
    if (auto done = users.write(record); !done) {
      return done;
    }
  }
  const LocalChanges& local = changes.local;
  for (const AuditEvent& event : local.events) {
    if (auto done = audit.insert(event); !done) {
      return done;
    }
  }
  for (const CachedPolicy& policy : local.policies) {
    if (auto done = policies.save(policy); !done) {
      return done;
    }
  }
  if (local.enforcement != nullptr) {
    if (auto done = enforcement.save(*local.enforcement); !done) {
      return done;
    }
  }
  if (local.prune_audit_before != 0) {
    return audit.prune(local.prune_audit_before);
  }
  return {};
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl))
{
}

SqliteStore::~SqliteStore() = default;

Expected<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path)
{
  configure_library();
  if (auto file_ok = prepare_file(path); !file_ok) {
    return make_error(file_ok.error().message);
  }
  auto lock = lock_database(path);
  if (!lock) {
    return make_error(lock.error().message);
  }
  auto db = open_connection(path);
  if (!db) {
    return make_error(db.error().message);
  }
  for (auto step : {check_readable_and_intact, configure_connection, migrate}) {
    if (auto done = step(path, db->get()); !done) {
      return make_error(done.error().message);
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file_lock = std::move(*lock);
  impl->db = std::move(*db);
  sqlite3* writer = impl->db.get();
  sqlite3_wal_hook(writer, count_wal_frames, &impl->wal_frames);
  // synchronous=FULL (configure_connection): each commit's WAL writes go out as one.
  set_wal_gathering(writer, true);

  // Opened for writing like the writer (a read-only connection would take locks of its own),
  // but it never writes.
  auto reader = open_connection(path);
  if (!reader) {
    return make_error(reader.error().message);
  }
  impl->reader = std::move(*reader);
  if (auto read_only = exec(path, impl->reader.get(), "PRAGMA query_only=ON",
                            "cannot configure the reader connection");
      !read_only) {
    return make_error(read_only.error().message);
  }
  const Connections connections{path, writer, impl->reader.get()};
  for (auto prepared : {impl->users.prepare(connections), impl->audit.prepare(connections),
                        impl->policies.prepare(connections), impl->enforcement.prepare(connections),
                        prepare_all(path, writer,
                                    {{&impl->begin_stmt, "BEGIN IMMEDIATE"},
                                     {&impl->commit_stmt, "COMMIT"},
                                     {&impl->rollback_stmt, "ROLLBACK"},
                                     {&impl->savepoint_stmt, "SAVEPOINT ticket"},
                                     {&impl->release_stmt, "RELEASE ticket"},
                                     {&impl->rollback_to_stmt, "ROLLBACK TO ticket"}})}) {
    if (!prepared) {
      return make_error(prepared.error().message);
    }
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Expected<std::optional<UserRecord>> SqliteStore::load(std::string_view user)
{
  // On the writer when no batch holds it: SQLite drops a connection's page cache when another
  // connection has committed since its last read, which the reader always finds (six page reads
  // on each login's lookup), while the writer's cache survives its own commits. Either sees every
  // commit that has returned.
  {
    std::unique_lock writer(m_impl->mutex, std::try_to_lock);
    if (writer.owns_lock()) {
      return m_impl->users.load(user, UsersTable::Side::writer);
    }
  }
  std::lock_guard lock(m_impl->reader_mutex);
  return m_impl->users.load(user);
}

Expected<std::vector<UserRecord>> SqliteStore::list(std::string_view after, std::size_t limit)
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->users.list(after, limit);
}

Expected<void> SqliteStore::commit_records(std::span<const UserRecord> records)
{
  return commit({records, {}});
}

Expected<void> SqliteStore::remove(std::string_view user)
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->users.remove(user);
}

Expected<void> SqliteStore::commit_local(const LocalChanges& changes)
{
  return commit({{}, changes});
}

Expected<std::vector<AuditRecord>> SqliteStore::read_audit(const AuditQuery& query)
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->audit.read(query);
}

Expected<std::optional<CachedPolicy>> SqliteStore::load_policy(std::string_view user)
{
  std::lock_guard lock(m_impl->reader_mutex);
  return m_impl->policies.load(user);
}

Expected<Enforcement> SqliteStore::load_enforcement()
{
  std::lock_guard lock(m_impl->mutex);
  return m_impl->enforcement.load();
}

Expected<void> SqliteStore::commit(const StoreChanges& changes)
{
  if (changes.empty()) {
    return {};
  }
  return m_impl->group.commit(changes);
}

} // namespace studio2fa
