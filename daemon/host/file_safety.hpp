// Ownership and permission checks on the files that hold secrets (master key, database,
// LDAP bind password) and on the directories above them.
#pragma once

#include "expected.hpp"

#include <string>

namespace studio2fa {

enum class PathKind { file, directory };

// Refuses `path` unless it is owned by uid 0, is of the expected kind (symlinks are refused, not
// followed), and grants nothing to "other" and no write to group. The error names the path and
// says what is wrong and how to fix it (e.g. "chmod 600 /etc/studio2fa/master.key").
Expected<void> check_private_path(const std::string& path, PathKind kind);

// The directory part of a path ("/a/b/c" → "/a/b", "c" → ".").
std::string parent_directory(const std::string& path);

} // namespace studio2fa
