// The one place that turns the config into a Store: the daemon and the tools that write its
// database open it through here.
#pragma once

#include "config.hpp"
#include "store.hpp"

#include <memory>

namespace studio2fa {

// Opens the store the config names: with store = local the SQLite database at db_path, created
// and migrated as SqliteStore::open does; with store = directory a DirectoryStore over the
// directory and that database. Logs which one (and for the directory, which form of conditional
// write the write server takes). The caller checks the file's permissions first.
Expected<std::unique_ptr<Store>> open_store(const Config& config);

} // namespace studio2fa
