#include "sqlite_gather_vfs.hpp"

#include <cstring>
#include <mutex>
#include <string>

namespace studio2fa {

namespace {

// Past this, held writes go to the file at once: a commit of many pages (a migration, a rekey)
// is written in pieces of at most this size. It must stay below 128 KiB: unix-excl masks the
// length of one write to 17 bits (SQLite never writes more than a 64 KiB page and its header),
// and reports the short write that results as "database or disk is full".
constexpr int k_max_held = 112 * 1024;

// Our file object: this header, then the underlying VFS's file object (SQLite allocates
// szOsFile bytes for both). SQLite zeroes nothing, so xOpen sets every field.
struct GatherFile {
  sqlite3_file base; // base.pMethods: &g_methods once the underlying file is open
  sqlite3_file* real;
  bool wal;
  bool gathering;
  unsigned char* held; // sqlite3_malloc'd, k_max_held bytes, on first use
  sqlite3_int64 held_at;
  int held_length;
};

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs{};
sqlite3_io_methods g_methods{};

GatherFile* self(sqlite3_file* file)
{
  return reinterpret_cast<GatherFile*>(file);
}

sqlite3_file* real(sqlite3_file* file)
{
  return self(file)->real;
}

// Writes what is held. On failure the held bytes are dropped: SQLite treats the failed call
// (a sync, a read) as an I/O error and writes those frames again if it goes on.
int flush(GatherFile* file)
{
  if (file->held_length == 0) {
    return SQLITE_OK;
  }
  const int length = file->held_length;
  file->held_length = 0;
  return file->real->pMethods->xWrite(file->real, file->held, length, file->held_at);
}

int gather_close(sqlite3_file* file)
{
  GatherFile* g = self(file);
  const int flushed = flush(g);
  const int closed = g->real->pMethods->xClose(g->real);
  sqlite3_free(g->held);
  g->held = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int gather_read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset)
{
  if (int rc = flush(self(file)); rc != SQLITE_OK) {
    return rc;
  }
  return real(file)->pMethods->xRead(real(file), buffer, amount, offset);
}

int gather_write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset)
{
  GatherFile* g = self(file);
  if (!g->wal || !g->gathering || amount <= 0 || amount > k_max_held) {
    if (int rc = flush(g); rc != SQLITE_OK) {
      return rc;
    }
    return g->real->pMethods->xWrite(g->real, buffer, amount, offset);
  }
  const bool follows = g->held_length > 0 && offset == g->held_at + g->held_length &&
                       g->held_length + amount <= k_max_held;
  if (!follows) {
    if (int rc = flush(g); rc != SQLITE_OK) {
      return rc;
    }
    if (g->held == nullptr) {
      g->held = static_cast<unsigned char*>(sqlite3_malloc(k_max_held));
      if (g->held == nullptr) {
        return g->real->pMethods->xWrite(g->real, buffer, amount, offset);
      }
    }
    g->held_at = offset;
  }
  std::memcpy(g->held + g->held_length, buffer, static_cast<std::size_t>(amount));
  g->held_length += amount;
  return SQLITE_OK;
}

int gather_truncate(sqlite3_file* file, sqlite3_int64 size)
{
  if (int rc = flush(self(file)); rc != SQLITE_OK) {
    return rc;
  }
  return real(file)->pMethods->xTruncate(real(file), size);
}

int gather_sync(sqlite3_file* file, int flags)
{
  if (int rc = flush(self(file)); rc != SQLITE_OK) {
    return rc;
  }
  return real(file)->pMethods->xSync(real(file), flags);
}

int gather_file_size(sqlite3_file* file, sqlite3_int64* size)
{
  if (int rc = flush(self(file)); rc != SQLITE_OK) {
    return rc;
  }
  return real(file)->pMethods->xFileSize(real(file), size);
}

int gather_lock(sqlite3_file* file, int level)
{
  return real(file)->pMethods->xLock(real(file), level);
}

int gather_unlock(sqlite3_file* file, int level)
{
  return real(file)->pMethods->xUnlock(real(file), level);
}

int gather_check_reserved_lock(sqlite3_file* file, int* out)
{
  return real(file)->pMethods->xCheckReservedLock(real(file), out);
}

int gather_file_control(sqlite3_file* file, int op, void* arg)
{
  if (int rc = flush(self(file)); rc != SQLITE_OK) {
    return rc;
  }
  return real(file)->pMethods->xFileControl(real(file), op, arg);
}

int gather_sector_size(sqlite3_file* file)
{
  return real(file)->pMethods->xSectorSize(real(file));
}

int gather_device_characteristics(sqlite3_file* file)
{
  return real(file)->pMethods->xDeviceCharacteristics(real(file));
}

int gather_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out)
{
  return real(file)->pMethods->xShmMap(real(file), page, size, extend, out);
}

int gather_shm_lock(sqlite3_file* file, int offset, int n, int flags)
{
  return real(file)->pMethods->xShmLock(real(file), offset, n, flags);
}

void gather_shm_barrier(sqlite3_file* file)
{
  real(file)->pMethods->xShmBarrier(real(file));
}

int gather_shm_unmap(sqlite3_file* file, int remove)
{
  return real(file)->pMethods->xShmUnmap(real(file), remove);
}

int gather_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out)
{
  if (int rc = flush(self(file)); rc != SQLITE_OK) {
    return rc;
  }
  return real(file)->pMethods->xFetch(real(file), offset, amount, out);
}

int gather_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page)
{
  return real(file)->pMethods->xUnfetch(real(file), offset, page);
}

int gather_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags)
{
  GatherFile* g = self(file);
  g->base.pMethods = nullptr; // until the underlying file is open: SQLite then calls no xClose
  g->real = reinterpret_cast<sqlite3_file*>(g + 1);
  g->wal = (flags & SQLITE_OPEN_WAL) != 0;
  g->gathering = false;
  g->held = nullptr;
  g->held_at = 0;
  g->held_length = 0;
  const int rc = g_real->xOpen(g_real, name, g->real, flags, out_flags);
  if (g->real->pMethods != nullptr) {
    // The underlying file's methods must all be there for ours to forward to (version 3).
    if (g->real->pMethods->iVersion < 3) {
      g->real->pMethods->xClose(g->real);
      return SQLITE_CANTOPEN;
    }
    g->base.pMethods = &g_methods;
  }
  return rc;
}

// Everything but xOpen goes to the underlying VFS as it is.
int forward_delete(sqlite3_vfs*, const char* name, int sync_dir)
{
  return g_real->xDelete(g_real, name, sync_dir);
}
int forward_access(sqlite3_vfs*, const char* name, int flags, int* out)
{
  return g_real->xAccess(g_real, name, flags, out);
}
int forward_full_pathname(sqlite3_vfs*, const char* name, int size, char* out)
{
  return g_real->xFullPathname(g_real, name, size, out);
}
void* forward_dl_open(sqlite3_vfs*, const char* name)
{
  return g_real->xDlOpen(g_real, name);
}
void forward_dl_error(sqlite3_vfs*, int size, char* out)
{
  g_real->xDlError(g_real, size, out);
}
void (*forward_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void)
{
  return g_real->xDlSym(g_real, handle, symbol);
}
void forward_dl_close(sqlite3_vfs*, void* handle)
{
  g_real->xDlClose(g_real, handle);
}
int forward_randomness(sqlite3_vfs*, int size, char* out)
{
  return g_real->xRandomness(g_real, size, out);
}
int forward_sleep(sqlite3_vfs*, int microseconds)
{
  return g_real->xSleep(g_real, microseconds);
}
int forward_current_time(sqlite3_vfs*, double* out)
{
  return g_real->xCurrentTime(g_real, out);
}
int forward_get_last_error(sqlite3_vfs*, int size, char* out)
{
  return g_real->xGetLastError(g_real, size, out);
}
int forward_current_time_int64(sqlite3_vfs*, sqlite3_int64* out)
{
  return g_real->xCurrentTimeInt64(g_real, out);
}
int forward_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr call)
{
  return g_real->xSetSystemCall(g_real, name, call);
}
sqlite3_syscall_ptr forward_get_system_call(sqlite3_vfs*, const char* name)
{
  return g_real->xGetSystemCall(g_real, name);
}
const char* forward_next_system_call(sqlite3_vfs*, const char* name)
{
  return g_real->xNextSystemCall(g_real, name);
}

} // namespace

Expected<void> register_gather_vfs()
{
  static std::once_flag once;
  static int registered = SQLITE_ERROR;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find("unix-excl");
    if (g_real == nullptr || g_real->iVersion < 3) {
      return;
    }
    g_methods.iVersion = 3;
    g_methods.xClose = gather_close;
    g_methods.xRead = gather_read;
    g_methods.xWrite = gather_write;
    g_methods.xTruncate = gather_truncate;
    g_methods.xSync = gather_sync;
    g_methods.xFileSize = gather_file_size;
    g_methods.xLock = gather_lock;
    g_methods.xUnlock = gather_unlock;
    g_methods.xCheckReservedLock = gather_check_reserved_lock;
    g_methods.xFileControl = gather_file_control;
    g_methods.xSectorSize = gather_sector_size;
    g_methods.xDeviceCharacteristics = gather_device_characteristics;
    g_methods.xShmMap = gather_shm_map;
    g_methods.xShmLock = gather_shm_lock;
    g_methods.xShmBarrier = gather_shm_barrier;
    g_methods.xShmUnmap = gather_shm_unmap;
    g_methods.xFetch = gather_fetch;
    g_methods.xUnfetch = gather_unfetch;

    g_vfs.iVersion = 3;
    g_vfs.szOsFile = static_cast<int>(sizeof(GatherFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = k_gather_vfs_name;
    g_vfs.xOpen = gather_open;
    g_vfs.xDelete = forward_delete;
    g_vfs.xAccess = forward_access;
    g_vfs.xFullPathname = forward_full_pathname;
    g_vfs.xDlOpen = forward_dl_open;
    g_vfs.xDlError = forward_dl_error;
    g_vfs.xDlSym = forward_dl_sym;
    g_vfs.xDlClose = forward_dl_close;
    g_vfs.xRandomness = forward_randomness;
    g_vfs.xSleep = forward_sleep;
    g_vfs.xCurrentTime = forward_current_time;
    g_vfs.xGetLastError = forward_get_last_error;
    g_vfs.xCurrentTimeInt64 = forward_current_time_int64;
    g_vfs.xSetSystemCall = forward_set_system_call;
    g_vfs.xGetSystemCall = forward_get_system_call;
    g_vfs.xNextSystemCall = forward_next_system_call;
    registered = sqlite3_vfs_register(&g_vfs, 0);
  });
  if (registered != SQLITE_OK) {
    return make_error("cannot register the SQLite VFS " + std::string(k_gather_vfs_name) +
                      " over unix-excl");
  }
  return {};
}

bool set_wal_gathering(sqlite3* db, bool on)
{
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods != &g_methods || !self(file)->wal) {
    return false;
  }
  GatherFile* g = self(file);
  g->gathering = on;
  return on || flush(g) == SQLITE_OK;
}

} // namespace studio2fa
