// The daemon's whole state as one object: the users' records (EnrollmentStore) and this host's
// own state (LocalState), with one commit for changes to both, so that a login's record and its
// audit row are written together.
//
// Which implementation: open_stores() (store_factory.hpp) chooses it from the config.
#pragma once

#include "enrollment_store.hpp"
#include "local_state.hpp"
#include "store_health.hpp"

#include <span>

namespace studio2fa {

// A records part and a host-local part, committed together by Store::commit.
struct StoreChanges {
  std::span<const UserRecord> records; // conditional, as in EnrollmentStore::commit_records
  LocalChanges local;

  bool empty() const { return records.empty() && local.empty(); }
};

class Store : public EnrollmentStore, public LocalState {
public:
  // Writes both parts, all or none, and returns once they are durable: callers reply to clients
  // after this. A record that is no longer at its revision fails it with Errc::conflict, and
  // then neither part is written.
  //
  // The conditional write of the records decides: a store whose records live apart from its
  // host-local state writes the records first and the local part after them; one that holds both
  // (SQLite) writes them in one transaction.
  virtual Expected<void> commit(const StoreChanges& changes) = 0;

  // For studio2fa-admin health; may ask the directory (bounded by its timeout).
  virtual StoreHealth health() { return {}; }
};

} // namespace studio2fa
