// The store of users' second-factor records (UserRecord): the part of the daemon's state that
// every host a user logs in to must share. SQLite holds it on one host (SqliteStore); a store
// shared by many hosts implements this same interface.
#pragma once

#include "expected.hpp"
#include "user_record.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace studio2fa {

class EnrollmentStore {
public:
  virtual ~EnrollmentStore() = default;

  // nullopt when the store has no record for `user`.
  virtual Expected<std::optional<UserRecord>> load(std::string_view user) = 0;

  // The record to base a change on that is then committed (commit_records): load(), or for a
  // store that keeps a copy of what it last read or wrote of `user`, that copy, without asking
  // (`copy` says which). A copy another host has written past fails the commit with
  // Errc::conflict (its revision is old), and the caller decides again on load(). So a decision
  // that ends without a commit (a lock, a throttle, no enrollment) must not be taken on a copy.
  struct Loaded {
    std::optional<UserRecord> record;
    bool copy = false;
  };
  virtual Expected<Loaded> load_for_commit(std::string_view user)
  {
    auto loaded = load(user);
    if (!loaded) {
      return Unexpected<Error>{loaded.error()};
    }
    return Loaded{std::move(*loaded), false};
  }

  // Up to `limit` records of users whose names sort after `after` (bytewise), in that order.
  virtual Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) = 0;

  // Writes the records whole, all or none, each only if it is still at the revision it carries
  // (UserRecord::revision: the one it was loaded at, or 0 for a user with no record). Then each
  // stored record is at its revision + 1. A record that changed meanwhile fails the whole commit
  // with Errc::conflict, and nothing is written. Returns once the records are durable.
  virtual Expected<void> commit_records(std::span<const UserRecord> records) = 0;

  // Removes `user`'s record, whatever its revision; removing what is not there is no error.
  virtual Expected<void> remove(std::string_view user) = 0;

  // commit_records() of one record, or of many (for bulk changes: all or none).
  Expected<void> save(const UserRecord& record) { return commit_records({&record, 1}); }
  Expected<void> save_all(std::span<const UserRecord> records) { return commit_records(records); }
};

} // namespace studio2fa
