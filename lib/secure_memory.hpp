// Wiping memory that held a password, a code or a secret. No OpenSSL here: the PAM module
// links this and must stay small; the daemon side uses OPENSSL_cleanse via SecretBytes.
#pragma once

#include <cstddef>

namespace studio2fa {

// Overwrites `size` bytes with zeros in a way the compiler may not elide.
void secure_wipe(void* data, std::size_t size);

// Whether two NUL-terminated strings are equal, in a time that depends on their lengths but not
// on where they differ (a password is one of them). Reads at most `limit` bytes of each; strings
// longer than that compare unequal.
bool same_text(const char* a, const char* b, std::size_t limit);

} // namespace studio2fa
