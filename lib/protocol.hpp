// Message types of the studio2fad protocol (PROTOCOL.md is the contract).
//
// Every struct holds string_views into a FrameBuffer: decode() fills them from a frame's
// payload and rejects trailing data; encode() writes one complete frame. Allocation-free, so
// the PAM module can use it.
#pragma once

#include "wire.hpp"

#include <cstdint>
#include <string_view>

namespace studio2fa::protocol {

enum class MessageType : std::uint8_t {
  ping = 0x01,
  status = 0x02,
  authenticate = 0x03,
  enroll_begin = 0x04,
  enroll_confirm = 0x05,
  error = 0xFF,
};

inline constexpr std::uint8_t k_reply_bit = 0x80;
constexpr std::uint8_t reply_type(MessageType request)
{
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(request) | k_reply_bit);
}

namespace limits {
inline constexpr std::size_t user = 256;
inline constexpr std::size_t service = 64;
inline constexpr std::size_t tty = 64;
inline constexpr std::size_t rhost = 256;
inline constexpr std::size_t password = 512;
inline constexpr std::size_t code = 32;
inline constexpr std::size_t text = 512; // message, issuer, account, algorithm, secret
} // namespace limits

enum class EnrollmentState : std::uint8_t { none = 0, pending = 1, active = 2 };
enum class AuthMode : std::uint8_t { password_only = 1, password_and_code = 2, code_only = 3 };
enum class AuthResult : std::uint8_t {
  success = 0,
  denied = 1,
  not_enrolled = 2,
  throttled = 3,
  unavailable = 4,
};
enum class EnrollResult : std::uint8_t {
  confirmed = 0,
  bad_code = 1,
  expired = 2,
  no_pending = 3,
  throttled = 4,
};
enum class ErrorCode : std::uint16_t {
  malformed = 1,
  unsupported_version = 2,
  unknown_type = 3,
  permission_denied = 4,
  already_enrolled = 5,
  internal = 6,
  busy = 7,
};

struct PingRequest {};
struct PongReply {
  std::uint8_t highest_version = wire::k_version;
};
struct StatusRequest {
  std::string_view user;
};
struct StatusReply {
  EnrollmentState state = EnrollmentState::none;
  std::uint64_t enrolled_at = 0;
  std::uint32_t failures = 0;
  std::uint32_t retry_after = 0;
};
struct AuthenticateRequest {
  std::string_view user;
  std::string_view service;
  std::string_view rhost;
  std::string_view tty;
  AuthMode mode = AuthMode::password_and_code;
  std::string_view password;
  std::string_view code;
};
struct AuthenticateReply {
  AuthResult result = AuthResult::denied;
  std::uint32_t retry_after = 0;
};
struct EnrollBeginRequest {
  std::string_view user;
};
struct EnrollBeginReply {
  std::string_view secret; // base32, no padding
  std::string_view issuer;
  std::string_view account;
  std::string_view algorithm;
  std::uint8_t digits = 6;
  std::uint32_t period = 30;
  std::uint64_t expires_at = 0;
};
struct EnrollConfirmRequest {
  std::string_view user;
  std::string_view code;
};
struct EnrollConfirmReply {
  EnrollResult result = EnrollResult::bad_code;
};
struct ErrorReply {
  ErrorCode code = ErrorCode::internal;
  std::string_view message;
};

// encode(): writes one whole frame of the message's type; false if it does not fit or a field
// breaks its limit. decode(): reads the payload of a frame whose type the caller already checked;
// false on truncation, over-long fields, out-of-range enums or trailing data.
bool encode(const PingRequest& msg, wire::FrameBuffer& out);
bool encode(const PongReply& msg, wire::FrameBuffer& out);
bool encode(const StatusRequest& msg, wire::FrameBuffer& out);
bool encode(const StatusReply& msg, wire::FrameBuffer& out);
bool encode(const AuthenticateRequest& msg, wire::FrameBuffer& out);
bool encode(const AuthenticateReply& msg, wire::FrameBuffer& out);
bool encode(const EnrollBeginRequest& msg, wire::FrameBuffer& out);
bool encode(const EnrollBeginReply& msg, wire::FrameBuffer& out);
bool encode(const EnrollConfirmRequest& msg, wire::FrameBuffer& out);
bool encode(const EnrollConfirmReply& msg, wire::FrameBuffer& out);
bool encode(const ErrorReply& msg, wire::FrameBuffer& out);

bool decode(std::span<const std::uint8_t> payload, PingRequest& msg);
bool decode(std::span<const std::uint8_t> payload, PongReply& msg);
bool decode(std::span<const std::uint8_t> payload, StatusRequest& msg);
bool decode(std::span<const std::uint8_t> payload, StatusReply& msg);
bool decode(std::span<const std::uint8_t> payload, AuthenticateRequest& msg);
bool decode(std::span<const std::uint8_t> payload, AuthenticateReply& msg);
bool decode(std::span<const std::uint8_t> payload, EnrollBeginRequest& msg);
bool decode(std::span<const std::uint8_t> payload, EnrollBeginReply& msg);
bool decode(std::span<const std::uint8_t> payload, EnrollConfirmRequest& msg);
bool decode(std::span<const std::uint8_t> payload, EnrollConfirmReply& msg);
bool decode(std::span<const std::uint8_t> payload, ErrorReply& msg);

} // namespace studio2fa::protocol
