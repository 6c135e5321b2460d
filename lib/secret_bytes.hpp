// SecretBytes: a buffer for key material, never copied implicitly, and wiped with
// OPENSSL_cleanse when it goes away. In a process that called init_secure_heap() (the daemon)
// it lives in OpenSSL's secure heap: locked in RAM, out of core dumps, between guard pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace studio2fa {

class SecretBytes {
public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  SecretBytes(std::span<const std::uint8_t> bytes);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  std::uint8_t* data() { return m_data; }
  const std::uint8_t* data() const { return m_data; }
  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  std::span<const std::uint8_t> span() const { return {m_data, m_size}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(m_data), m_size}; }

  // Shrinks the visible size (the removed tail is wiped); never grows.
  void truncate(std::size_t size);

private:
  void release();

  std::uint8_t* m_data = nullptr;
  std::size_t m_size = 0;
  std::size_t m_capacity = 0;
};

// Sets up the process's secure heap of `bytes` (a power of two); false if it cannot be had
// (SecretBytes then falls back to the ordinary heap, still wiped).
bool init_secure_heap(std::size_t bytes);

// Constant-time equality of two byte strings (CRYPTO_memcmp); different lengths are unequal,
// and the length difference is the only thing the timing can tell.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
bool constant_time_equal(std::string_view a, std::string_view b);

// Fills `out` from the OS CSPRNG (RAND_priv_bytes); false on failure.
bool random_bytes(std::span<std::uint8_t> out);

} // namespace studio2fa
