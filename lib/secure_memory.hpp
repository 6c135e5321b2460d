// Wiping memory that held a password, a code or a secret. No OpenSSL here: the PAM module
// links this and must stay small; the daemon side uses OPENSSL_cleanse via SecretBytes.
#pragma once

#include <cstddef>

namespace studio2fa {

// Overwrites `size` bytes with zeros in a way the compiler may not elide.
void secure_wipe(void* data, std::size_t size);

} // namespace studio2fa
