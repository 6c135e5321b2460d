// Ownership and permission checks on the files that hold secrets (master key, database,
// LDAP bind password) and on the directories above them.
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"

#include <string>

namespace studio2fa {

enum class PathKind { file, directory };

// Refuses `path` unless it is owned by uid 0, is of the expected kind (symlinks are refused, not
// followed), and grants nothing to "other" and no write to group. The error names the path and
// says what is wrong and how to fix it (e.g. "chmod 600 /etc/studio2fa/master.key").
Expected<void> check_private_path(const std::string& path, PathKind kind);

// Reads a file that holds a secret (a password, a gateway's auth header): opened without
// following a symlink, it must be a regular file owned by root and closed to group and others
// (mode 0600 or 0400), non-empty and at most `max_size` bytes. `what` names it in errors (the
// config key, such as "ldap_bind_password_file"). The content is returned whole, final newline
// and all.
Expected<SecretBytes> read_private_file(const std::string& path, std::size_t max_size,
                                        const char* what);

// The directory part of a path ("/a/b/c" → "/a/b", "c" → ".").
std::string parent_directory(const std::string& path);

} // namespace studio2fa
