// A SQLite VFS over "unix-excl" that can gather the writes of a WAL commit into one write(2).
//
// A commit in WAL mode writes each page as two writes (its 24-byte frame header, then the page):
// ten system calls for a login's five pages, about an eighth of the daemon's CPU per code check.
// With gathering on, contiguous writes to the WAL are held in memory and written together when
// SQLite syncs the WAL, reads it, asks its size, truncates or closes it, or writes elsewhere in
// it. Every other file, and every other call, goes straight to "unix-excl".
//
// Gathering is safe only while every commit syncs the WAL (synchronous=FULL): SQLite then syncs
// before it makes the commit visible to readers, the held writes reach the file first, and a
// failed write fails the sync, hence the commit. With synchronous=NORMAL a commit is published
// without a sync, so gathering must be off then (set_wal_gathering); it is off by default.
#pragma once

#include "expected.hpp"

#include <sqlite3.h>

namespace studio2fa {

inline constexpr const char* k_gather_vfs_name = "studio2fa-unix-excl";

// Registers the VFS (not as the default); idempotent and thread-safe.
Expected<void> register_gather_vfs();

// Turns gathering on or off for the WAL of `db`'s main database (turning it off writes what is
// held). Returns false when the WAL is not open through this VFS (then nothing is gathered), or
// when writing what was held failed.
bool set_wal_gathering(sqlite3* db, bool on);

} // namespace studio2fa
