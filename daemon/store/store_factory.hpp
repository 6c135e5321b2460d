// The one place that turns the config into a Store: the daemon and the tools that write its
// database open it through here.
#pragma once

#include "config.hpp"
#include "store.hpp"

#include <memory>

namespace studio2fa {

// The kinds of store there are: the host's SQLite database (db_path), or the directory shared
// by every host.
enum class StoreKind { local, directory };

// Opens the store the config names: the SQLite database at db_path (the only kind so far),
// created and migrated as SqliteStore::open does. The caller checks the file's permissions first.
Expected<std::unique_ptr<Store>> open_store(const Config& config);

// Opens the store of `kind` with the config's settings for it, whatever kind the daemon serves
// (studio2fa-admin migrate reads one and writes the other). A kind not built in fails with
// Errc::unavailable.
Expected<std::unique_ptr<Store>> open_store(const Config& config, StoreKind kind);

} // namespace studio2fa
