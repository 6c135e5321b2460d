// The one place that turns the config into a Store: the daemon and the tools that write its
// database open it through here.
#pragma once

#include "config.hpp"
#include "store.hpp"

#include <memory>

namespace studio2fa {

// The kinds of store (store = local | directory in the config).
using StoreKind = Config::StoreKind;

// Opens the store the config names: with store = local the SQLite database at db_path, created
// and migrated as SqliteStore::open does; with store = directory a DirectoryStore over the
// directory and that database. Logs which one (and for the directory, which form of conditional
// write the write server takes). The caller checks the file's permissions first.
Expected<std::unique_ptr<Store>> open_store(const Config& config);

// The users' records alone in the store of `kind`, whatever kind the daemon serves
// (studio2fa-admin migrate reads one and writes the other): the SQLite database at db_path, or
// the directory's records under enrollment_base.
Expected<std::unique_ptr<EnrollmentStore>> open_records(const Config& config, StoreKind kind);

} // namespace studio2fa
