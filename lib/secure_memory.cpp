#include "secure_memory.hpp"

#include <string.h>

namespace studio2fa {

void secure_wipe(void* data, std::size_t size)
{
  // explicit_bzero (glibc >= 2.25) is memset the optimiser is not allowed to drop as a dead
  // store, and needs neither OpenSSL nor libstdc++.
  if (data != nullptr && size > 0) {
    explicit_bzero(data, size);
  }
}

bool same_text(const char* a, const char* b, std::size_t limit)
{
  const std::size_t a_length = strnlen(a, limit + 1);
  const std::size_t b_length = strnlen(b, limit + 1);
  if (a_length != b_length || a_length > limit) {
    return false;
  }
  // No early exit: every byte is compared.
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a_length; ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

} // namespace studio2fa
