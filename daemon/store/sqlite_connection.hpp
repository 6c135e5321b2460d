// Opening SqliteStore's database file: the file itself (created 0600, never through a symlink),
// the lock that keeps a second daemon off it, and the connections to it.
#pragma once

#include "expected.hpp"
#include "fd.hpp"
#include "sqlite_handles.hpp"

#include <string>

namespace studio2fa {

// Process-wide settings, which SQLite takes only before its first use (later calls are refused
// with SQLITE_MISUSE and change nothing). No bulk allocation for page caches: a page cache
// otherwise starts with one block of 20 pages (about 86 KiB), and the CHECK (x IN (...))
// constraints of `users` make every insert or update open three small temporary tables, each
// with its own page cache. Freeing a block that size makes glibc hand the memory back to the
// kernel and fault it in again at the next statement: that cost about a third of the daemon's CPU
// time per code verification (bench/).
void configure_library();

// Creates the file with mode 0600 (SQLite would honour the umask, and gives its -wal and -shm
// files the main file's mode), and refuses a symlink or a non-regular file at the path even
// where SQLite is too old for SQLITE_OPEN_NOFOLLOW.
Expected<void> prepare_file(const std::string& path);

// The daemon is the database's only user: a second daemon started on the same file (or
// `studio2fad --check-config` while one runs) is refused at once. (SQLite's own lock, see
// open_connection, keeps every other process out too, but only tells after its busy timeout.) A
// flock() on a descriptor of its own, which does not mix with the POSIX locks SQLite takes; it
// must stay open until both connections are closed, since closing any descriptor of the file
// drops the process's POSIX locks on it.
Expected<Fd> lock_database(const std::string& path);

// Opens one connection to the database (read-write, created when missing, no symlink followed).
// Both connections use SQLite's "unix-excl" VFS: the first lock either of them takes is one
// lock for the whole process, held until both are closed, so no other process can open the
// database and no transaction pays for file locks; and the WAL index lives in this process's
// memory, shared by the two connections, instead of in a -shm file mapped into memory.
Expected<DbHandle> open_connection(const std::string& path);

// WAL, synchronous=FULL, secure_delete: what every connection of the store runs with.
Expected<void> configure_connection(const std::string& path, sqlite3* db);

} // namespace studio2fa
