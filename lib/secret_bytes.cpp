#include "secret_bytes.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace studio2fa {

namespace {

std::size_t page_size()
{
  static const std::size_t size = [] {
    const long value = sysconf(_SC_PAGESIZE);
    return value > 0 ? static_cast<std::size_t>(value) : std::size_t{4096};
  }();
  return size;
}

// mlock() works on whole pages and does not nest: unlocking one buffer would unlock any other
// secret sharing its page. Each buffer therefore gets pages of its own.
std::size_t round_to_pages(std::size_t size)
{
  const std::size_t page = page_size();
  if (size > SIZE_MAX - page) {
    throw std::bad_alloc();
  }
  return (size + page - 1) / page * page;
}

} // namespace

SecretBytes::SecretBytes(std::size_t size)
{
  if (size == 0) {
    return;
  }
  const std::size_t capacity = round_to_pages(size);
  void* memory = nullptr;
  if (posix_memalign(&memory, page_size(), capacity) != 0) {
    throw std::bad_alloc();
  }
  // Both best effort: without CAP_IPC_LOCK or under RLIMIT_MEMLOCK the buffer still works, it
  // just may be swapped; MADV_DONTDUMP keeps it out of core dumps.
  (void)mlock(memory, capacity);
  (void)madvise(memory, capacity, MADV_DONTDUMP);
  std::memset(memory, 0, capacity);
  m_data = static_cast<std::uint8_t*>(memory);
  m_size = size;
  m_capacity = capacity;
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
    OPENSSL_cleanse(m_data, m_capacity);
    (void)munlock(m_data, m_capacity);
    std::free(m_data);
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
