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

} // namespace studio2fa
