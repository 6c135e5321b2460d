// The 256-bit master key that seals every TOTP secret.
#pragma once

#include "expected.hpp"
#include "secret_bytes.hpp"

#include <string>

namespace studio2fa {

inline constexpr std::size_t k_master_key_size = 32;

// Loads the key from `path`. If the file does not exist it is created (O_EXCL, mode 0600,
// 32 bytes from the CSPRNG, fsynced with its directory). Refuses (with the path in the
// message) a key file or directory that check_private_path() rejects, a symlink, or a file
// that is not exactly 32 bytes.
Expected<SecretBytes> load_or_create_master_key(const std::string& path);

// Loads an existing key from `path` with the same checks; never creates one (an older studio
// key listed in previous_key_paths must be there).
Expected<SecretBytes> load_master_key(const std::string& path);

} // namespace studio2fa
