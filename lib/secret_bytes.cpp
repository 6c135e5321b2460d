#include "secret_bytes.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>
#include <utility>

namespace studio2fa {

bool init_secure_heap(std::size_t bytes)
{
  // One mlocked, MADV_DONTDUMP arena between guard pages, set up once, instead of a locked
  // page per buffer (which cost five system calls per secret on the login path).
  return CRYPTO_secure_malloc_init(bytes, 32) != 0;
}

SecretBytes::SecretBytes(std::size_t size)
{
  if (size == 0) {
    return;
  }
  // From the secure heap when the process set one up (the daemon); when it has none or it is
  // full, from the ordinary heap: still zeroed and wiped on release, just not locked.
  void* memory = CRYPTO_secure_malloc_initialized() ? OPENSSL_secure_zalloc(size) : nullptr;
  if (memory == nullptr) {
    memory = std::calloc(1, size);
  }
  if (memory == nullptr) {
    throw std::bad_alloc();
  }
  m_data = static_cast<std::uint8_t*>(memory);
  m_size = size;
  m_capacity = size;
}

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes) : SecretBytes(bytes.size())
{
  if (!bytes.empty()) {
    std::memcpy(m_data, bytes.data(), bytes.size());
  }
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)),
      m_capacity(std::exchange(other.m_capacity, 0))
{
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept
{
  if (this != &other) {
    release();
    m_data = std::exchange(other.m_data, nullptr);
    m_size = std::exchange(other.m_size, 0);
    m_capacity = std::exchange(other.m_capacity, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes()
{
  release();
}

void SecretBytes::truncate(std::size_t size)
{
  if (size < m_size) {
    OPENSSL_cleanse(m_data + size, m_size - size);
    m_size = size;
  }
}

void SecretBytes::release()
{
  if (m_data != nullptr) {
    if (CRYPTO_secure_allocated(m_data)) {
      OPENSSL_secure_clear_free(m_data, m_capacity);
    } else {
      OPENSSL_cleanse(m_data, m_capacity);
      std::free(m_data);
    }
  }
  m_data = nullptr;
  m_size = 0;
  m_capacity = 0;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b)
{
  // The shorter length is compared even when the lengths differ, so that the time depends on
  // the lengths only, never on where the contents first differ.
  const std::size_t common = std::min(a.size(), b.size());
  const int differ = common > 0 ? CRYPTO_memcmp(a.data(), b.data(), common) : 0;
  return (differ == 0) & (a.size() == b.size());
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
  return constant_time_equal(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(a.data()), a.size()),
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
}

bool random_bytes(std::span<std::uint8_t> out)
{
  if (out.size() > static_cast<std::size_t>(INT_MAX)) {
    return false;
  }
  if (out.empty()) {
    return true;
  }
  return RAND_priv_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

} // namespace studio2fa
