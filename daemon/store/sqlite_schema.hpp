// The schema of SqliteStore's database and its migrations: PRAGMA user_version holds the
// database's version, and each step from one version to the next runs in one transaction.
//
// Versions: 1 the users' records; 2 backup codes, locks, passes and the audit trail; 3 the
// directory policy (grace periods, the policy cache, the enforcement switch); 4 a revision per
// record, for conditional commits; 5 the phone factor (codes by text message or voice call).
#pragma once

#include "expected.hpp"

#include <span>
#include <string>

struct sqlite3;

namespace studio2fa {

// The schema version this build writes.
constexpr int k_schema_version = 5;

// The migration steps, as released: step i takes the schema from version i to i + 1 (without
// setting PRAGMA user_version, which migrate() does in the same transaction).
std::span<const char* const> schema_migrations();

// Refuses, with a message naming the file, a file this build must not touch: one that is not a
// SQLite database, that another program made, that fails PRAGMA quick_check, or whose schema is
// newer than this build. Reads only: nothing is written before it passes.
Expected<void> check_readable_and_intact(const std::string& path, sqlite3* db);

// Takes the schema to k_schema_version, one step and one transaction at a time; an empty file
// gets the whole schema. Safe against another process migrating at the same time.
Expected<void> migrate(const std::string& path, sqlite3* db);

} // namespace studio2fa
