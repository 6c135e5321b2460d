// Framing and field codec of the studio2fad protocol (see PROTOCOL.md).
//
// Allocation-free and exception-free: this code runs inside every login process through the
// PAM module, so it works on caller-provided buffers only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace studio2fa::wire {

inline constexpr std::uint8_t k_version = 1;
inline constexpr std::size_t k_length_size = 4;
inline constexpr std::size_t k_min_body = 2;    // version + type
inline constexpr std::size_t k_max_body = 8192; // hard cap on everything after the length
inline constexpr std::size_t k_max_frame = k_length_size + k_max_body;

// A fixed buffer big enough for one frame; wiped on destruction because frames carry
// passwords, codes and (once, at enrollment) a secret.
class FrameBuffer {
public:
  FrameBuffer() = default;
  FrameBuffer(const FrameBuffer&) = delete;
  FrameBuffer& operator=(const FrameBuffer&) = delete;
  ~FrameBuffer();

  std::uint8_t* data() { return m_bytes; }
  const std::uint8_t* data() const { return m_bytes; }
  std::size_t size() const { return m_size; }
  void set_size(std::size_t size) { m_size = size; }
  void wipe();

  // The frame's type and payload; only valid after a successful decode_header().
  std::uint8_t type() const { return m_bytes[k_length_size + 1]; }
  std::span<const std::uint8_t> payload() const
  {
    return {m_bytes + k_length_size + k_min_body, m_size - k_length_size - k_min_body};
  }

private:
  std::uint8_t m_bytes[k_max_frame] = {};
  std::size_t m_size = 0;
};

// Serialises fields into a FrameBuffer. Errors are sticky: after the first field that does not
// fit (or a string over its maximum, or one containing NUL) ok() is false and nothing more is
// written. begin() starts a frame of the given type; finish() writes the length.
class Writer {
public:
  Writer(FrameBuffer& frame, std::uint8_t type);

  void u8(std::uint8_t value);
  void u16(std::uint16_t value);
  void u32(std::uint32_t value);
  void u64(std::uint64_t value);
  void str(std::string_view value, std::size_t max_length);

  // Writes the length prefix; returns false if any earlier field failed.
  bool finish();
  bool ok() const { return m_ok; }

private:
  bool put(const void* bytes, std::size_t count);

  FrameBuffer& m_frame;
  std::size_t m_pos;
  bool m_ok = true;
};

// Decodes fields from a payload. Every getter returns false (and leaves the reader failed) when
// the field is truncated or over its maximum; at_end() tells whether everything was consumed, so
// that callers can reject trailing data.
class Reader {
public:
  explicit Reader(std::span<const std::uint8_t> payload) : m_data(payload) {}

  bool u8(std::uint8_t& out);
  bool u16(std::uint16_t& out);
  bool u32(std::uint32_t& out);
  bool u64(std::uint64_t& out);
  // The view points into the payload; it is valid as long as the frame buffer is.
  bool str(std::string_view& out, std::size_t max_length);
  bool at_end() const { return m_ok && m_pos == m_data.size(); }
  bool ok() const { return m_ok; }

private:
  bool take(std::size_t count, const std::uint8_t*& out);

  std::span<const std::uint8_t> m_data;
  std::size_t m_pos = 0;
  bool m_ok = true;
};

enum class HeaderStatus { ok, bad_length, bad_version };

// Reads the 4-byte length prefix; returns the body length (version+type+payload) or 0 when it
// is outside [k_min_body, k_max_body].
std::size_t decode_length(const std::uint8_t* prefix);

// Checks a complete frame (length prefix included) already in `frame`.
HeaderStatus decode_header(const FrameBuffer& frame);

} // namespace studio2fa::wire
