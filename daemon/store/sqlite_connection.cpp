#include "sqlite_connection.hpp"

#include "file_safety.hpp"
#include "sqlite_gather_vfs.hpp"
#include "sqlite_handles.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace studio2fa {

namespace {

constexpr int k_busy_timeout_ms = 5000;

Expected<void> fsync_directory(const std::string& dir)
{
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return make_error("cannot sync directory " + dir + ": " + std::strerror(errno));
  }
  return {};
}

} // namespace

void configure_library()
{
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0); });
}

Expected<void> prepare_file(const std::string& path)
{
  Fd created(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (created.valid()) {
    if (auto synced = fsync_directory(parent_directory(path)); !synced) {
      return synced;
    }
  } else if (errno != EEXIST) {
    return make_error("cannot create database " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return make_error("cannot inspect database " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return make_error(path + " is a symbolic link; refusing to follow it");
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(path + " is not a regular file");
  }
  return {};
}

Expected<Fd> lock_database(const std::string& path)
{
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error("cannot open database " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return make_error(path + ": the database is in use (another process holds it: is another "
                               "studio2fad running on this database?)");
    }
    return make_error("cannot lock database " + path + ": " + std::strerror(errno));
  }
  return fd;
}

Expected<DbHandle> open_connection(const std::string& path)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
#ifdef SQLITE_OPEN_NOFOLLOW
  flags |= SQLITE_OPEN_NOFOLLOW;
#endif
  sqlite3* raw = nullptr;
  // unix-excl, through the VFS that can gather a commit's WAL writes (sqlite_gather_vfs.hpp);
  // unix-excl itself if that cannot be registered.
  const char* vfs = register_gather_vfs() ? k_gather_vfs_name : "unix-excl";
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return make_error(
        path + ": cannot open database: " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), k_busy_timeout_ms);
  return db;
}

Expected<void> configure_connection(const std::string& path, sqlite3* db)
{
  // WAL in normal locking mode, so that the store's reader connection can read while a commit
  // on the writer waits for its fsync; the WAL index stays in memory all the same, and other
  // processes out (see open_connection).
  auto mode = prepare(path, db, "PRAGMA journal_mode=WAL");
  if (!mode) {
    return make_error(mode.error().message);
  }
  if (sqlite3_step(mode->get()) != SQLITE_ROW) {
    return db_error(path, db, "cannot switch to WAL journal mode");
  }
  const auto* mode_name = reinterpret_cast<const char*>(sqlite3_column_text(mode->get(), 0));
  if (mode_name == nullptr || std::strcmp(mode_name, "wal") != 0) {
    return make_error(path +
                      ": cannot switch to WAL journal mode (the file system may not "
                      "support it); journal mode is " +
                      std::string(mode_name ? mode_name : "unknown"));
  }
  // FULL: a commit is on disk when sqlite3_step returns. secure_delete: freed pages (old
  // sealed blobs) are overwritten with zeros rather than left in the file.
  return exec(path, db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
              "cannot configure the connection");
}

} // namespace studio2fa
