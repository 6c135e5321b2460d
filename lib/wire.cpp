#include "wire.hpp"

#include "secure_memory.hpp"

#include <cstring>

namespace studio2fa::wire {

namespace {

// Strings carry a u16 length on the wire, whatever their own limit.
constexpr std::size_t k_max_string = 0xFFFF;

std::uint64_t read_be(const std::uint8_t* bytes, std::size_t count)
{
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    value = (value << 8) | bytes[i];
  }
  return value;
}

void write_be(std::uint64_t value, std::uint8_t* bytes, std::size_t count)
{
  for (std::size_t i = count; i > 0; --i) {
    bytes[i - 1] = static_cast<std::uint8_t>(value & 0xFF);
    value >>= 8;
  }
}

// memchr's pointer must not be null even for a zero length, and an empty string_view's is.
bool contains_nul(const void* bytes, std::size_t count)
{
  return count > 0 && std::memchr(bytes, '\0', count) != nullptr;
}

} // namespace

FrameBuffer::~FrameBuffer()
{
  wipe();
}

void FrameBuffer::wipe()
{
  secure_wipe(m_bytes, sizeof(m_bytes));
  m_size = 0;
}

Writer::Writer(FrameBuffer& frame, std::uint8_t type) : m_frame(frame), m_pos(k_length_size)
{
  m_frame.set_size(0);
  u8(k_version);
  u8(type);
}

bool Writer::put(const void* bytes, std::size_t count)
{
  if (!m_ok || count > k_max_frame - m_pos) {
    m_ok = false;
    return false;
  }
  if (count > 0) {
    std::memcpy(m_frame.data() + m_pos, bytes, count);
  }
  m_pos += count;
  return true;
}

void Writer::u8(std::uint8_t value)
{
  put(&value, 1);
}

void Writer::u16(std::uint16_t value)
{
  std::uint8_t bytes[2];
  write_be(value, bytes, sizeof(bytes));
  put(bytes, sizeof(bytes));
}

void Writer::u32(std::uint32_t value)
{
  std::uint8_t bytes[4];
  write_be(value, bytes, sizeof(bytes));
  put(bytes, sizeof(bytes));
}

void Writer::u64(std::uint64_t value)
{
  std::uint8_t bytes[8];
  write_be(value, bytes, sizeof(bytes));
  put(bytes, sizeof(bytes));
}

void Writer::str(std::string_view value, std::size_t max_length)
{
  if (value.size() > max_length || value.size() > k_max_string ||
      contains_nul(value.data(), value.size())) {
    m_ok = false;
    return;
  }
  u16(static_cast<std::uint16_t>(value.size()));
  put(value.data(), value.size());
}

bool Writer::finish()
{
  if (!m_ok) {
    m_frame.set_size(0);
    return false;
  }
  write_be(m_pos - k_length_size, m_frame.data(), k_length_size);
  m_frame.set_size(m_pos);
  return true;
}

bool Reader::take(std::size_t count, const std::uint8_t*& out)
{
  if (!m_ok || count > m_data.size() - m_pos) {
    m_ok = false;
    return false;
  }
  out = m_data.data() + m_pos;
  m_pos += count;
  return true;
}

bool Reader::u8(std::uint8_t& out)
{
  const std::uint8_t* bytes;
  if (!take(1, bytes)) {
    return false;
  }
  out = bytes[0];
  return true;
}

bool Reader::u16(std::uint16_t& out)
{
  const std::uint8_t* bytes;
  if (!take(2, bytes)) {
    return false;
  }
  out = static_cast<std::uint16_t>(read_be(bytes, 2));
  return true;
}

bool Reader::u32(std::uint32_t& out)
{
  const std::uint8_t* bytes;
  if (!take(4, bytes)) {
    return false;
  }
  out = static_cast<std::uint32_t>(read_be(bytes, 4));
  return true;
}

bool Reader::u64(std::uint64_t& out)
{
  const std::uint8_t* bytes;
  if (!take(8, bytes)) {
    return false;
  }
  out = read_be(bytes, 8);
  return true;
}

bool Reader::str(std::string_view& out, std::size_t max_length)
{
  std::uint16_t length;
  if (!u16(length)) {
    return false;
  }
  if (length > max_length) {
    m_ok = false;
    return false;
  }
  const std::uint8_t* bytes;
  if (!take(length, bytes)) {
    return false;
  }
  // A NUL would truncate the string for every C API it reaches (getpwnam_r, crypt, syslog), so
  // that two different wire strings could name the same account.
  if (contains_nul(bytes, length)) {
    m_ok = false;
    return false;
  }
  out = std::string_view(reinterpret_cast<const char*>(bytes), length);
  return true;
}

std::size_t decode_length(const std::uint8_t* prefix)
{
  const std::uint64_t length = read_be(prefix, k_length_size);
  if (length < k_min_body || length > k_max_body) {
    return 0;
  }
  return static_cast<std::size_t>(length);
}

HeaderStatus decode_header(const FrameBuffer& frame)
{
  if (frame.size() < k_length_size + k_min_body || frame.size() > k_max_frame) {
    return HeaderStatus::bad_length;
  }
  const std::size_t length = decode_length(frame.data());
  if (length == 0 || length != frame.size() - k_length_size) {
    return HeaderStatus::bad_length;
  }
  if (frame.data()[k_length_size] != k_version) {
    return HeaderStatus::bad_version;
  }
  return HeaderStatus::ok;
}

} // namespace studio2fa::wire
