// The one place that turns the config into a Store: the daemon and the tools that write its
// database open it through here.
#pragma once

#include "config.hpp"
#include "store.hpp"

#include <memory>

namespace studio2fa {

// Opens the store the config names: the SQLite database at db_path (the only kind so far),
// created and migrated as SqliteStore::open does. The caller checks the file's permissions first.
Expected<std::unique_ptr<Store>> open_store(const Config& config);

} // namespace studio2fa
