// Copying users' records from one EnrollmentStore to another (studio2fa-admin migrate: the
// host's SQLite to the directory, or back), without ever overwriting a record the destination
// already holds: that one may be newer (logins on other hosts since), and the source's copy of it
// older.
#pragma once

#include "enrollment_store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace studio2fa {

struct MigrationRange {
  std::string after;           // start with the users whose names sort after this one
  std::size_t limit = 0;       // at most this many source records; 0: all of them
  std::size_t page_size = 256; // records read (and written in one commit) at a time
  // Replace a record the destination holds with the source's (conditional on the destination's
  // revision) instead of leaving it: for a destination that only holds copies of the source.
  bool replace_existing = false;
};

struct MigrationReport {
  std::uint64_t copied = 0;        // written to the destination (new, or replacing a copy)
  std::uint64_t already_there = 0; // the destination held the user already: left as it was
  std::uint64_t failed = 0;        // could not be written (the store said why: logged)
  std::string last;                // the last source user gone through
  bool more = false;               // the source has records after `last` (with a limit)
};

// Copies each record of `from` in `range`, in name order, that `to` does not hold. A record is
// written only as a new one (revision 0), so a user created in `to` meanwhile is a conflict: left
// alone and counted as already there. Each page is written in one commit when none of it
// conflicts, else record by record. Running it again copies nothing already copied: it may stop
// and resume anywhere. An error only when `from` cannot be read, or `to` cannot be read at all.
Expected<MigrationReport> migrate_records(EnrollmentStore& from, EnrollmentStore& to,
                                          const MigrationRange& range = {});

} // namespace studio2fa
