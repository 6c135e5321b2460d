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

// How soon a commit must be on this host's disk.
enum class Durability {
  // Before commit() returns: this host's disk holds the only copy of it.
  synced,
  // A copy of what the directory has already made durable, with its audit rows (cache_sync =
  // normal). It is as atomic as `synced` and survives a crash of the daemon; an OS crash or a
  // power cut may take back the last ones (SqliteStore: those since its last sync, at most
  // k_max_unsynced_ms of them under load). A record copy that goes back is only an older copy,
  // which the next conditional write to the directory finds out.
  copy,
};

// A records part and a host-local part, committed together by Store::commit.
struct StoreChanges {
  std::span<const UserRecord> records; // conditional, as in EnrollmentStore::commit_records
  LocalChanges local;
  Durability durability = Durability::synced;

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
