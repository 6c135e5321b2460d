#include "protocol.hpp"

namespace studio2fa::protocol {

using wire::FrameBuffer;
using wire::Reader;
using wire::Writer;

namespace {

std::uint8_t type_byte(MessageType type)
{
  return static_cast<std::uint8_t>(type);
}

// encode() refuses what decode() would refuse, so that a frame we send always decodes.
bool valid(EnrollmentState state)
{
  return static_cast<std::uint8_t>(state) <= static_cast<std::uint8_t>(EnrollmentState::active);
}

bool valid(AuthMode mode)
{
  const auto value = static_cast<std::uint8_t>(mode);
  return value >= static_cast<std::uint8_t>(AuthMode::password_only) &&
         value <= static_cast<std::uint8_t>(AuthMode::code_only);
}

bool valid(AuthResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(AuthResult::unavailable);
}

bool valid(EnrollResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(EnrollResult::throttled);
}

bool valid(ErrorCode code)
{
  const auto value = static_cast<std::uint16_t>(code);
  return value >= static_cast<std::uint16_t>(ErrorCode::malformed) &&
         value <= static_cast<std::uint16_t>(ErrorCode::busy);
}

bool valid_algorithm(std::string_view name)
{
  return name == "SHA1" || name == "SHA256" || name == "SHA512";
}

bool valid_enroll_parameters(std::string_view algorithm, std::uint8_t digits, std::uint32_t period)
{
  return valid_algorithm(algorithm) && digits >= 6 && digits <= 8 && period >= 1;
}

} // namespace

bool encode(const PingRequest&, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::ping));
  return writer.finish();
}

bool encode(const PongReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::ping));
  writer.u8(msg.highest_version);
  return msg.highest_version >= 1 && writer.finish();
}

bool encode(const StatusRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::status));
  writer.str(msg.user, limits::user);
  return writer.finish();
}

bool encode(const StatusReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::status));
  writer.u8(static_cast<std::uint8_t>(msg.state));
  writer.u64(msg.enrolled_at);
  writer.u32(msg.failures);
  writer.u32(msg.retry_after);
  return valid(msg.state) && writer.finish();
}

bool encode(const AuthenticateRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::authenticate));
  writer.str(msg.user, limits::user);
  writer.str(msg.service, limits::service);
  writer.str(msg.rhost, limits::rhost);
  writer.str(msg.tty, limits::tty);
  writer.u8(static_cast<std::uint8_t>(msg.mode));
  writer.str(msg.password, limits::password);
  writer.str(msg.code, limits::code);
  return valid(msg.mode) && writer.finish();
}

bool encode(const AuthenticateReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::authenticate));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  return valid(msg.result) && writer.finish();
}

bool encode(const EnrollBeginRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::enroll_begin));
  writer.str(msg.user, limits::user);
  return writer.finish();
}

bool encode(const EnrollBeginReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::enroll_begin));
  writer.str(msg.secret, limits::text);
  writer.str(msg.issuer, limits::text);
  writer.str(msg.account, limits::text);
  writer.str(msg.algorithm, limits::text);
  writer.u8(msg.digits);
  writer.u32(msg.period);
  writer.u64(msg.expires_at);
  return valid_enroll_parameters(msg.algorithm, msg.digits, msg.period) && writer.finish();
}

bool encode(const EnrollConfirmRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::enroll_confirm));
  writer.str(msg.user, limits::user);
  writer.str(msg.code, limits::code);
  return writer.finish();
}

bool encode(const EnrollConfirmReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::enroll_confirm));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  return valid(msg.result) && writer.finish();
}

bool encode(const ErrorReply& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::error));
  writer.u16(static_cast<std::uint16_t>(msg.code));
  writer.str(msg.message, limits::text);
  return valid(msg.code) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, PingRequest&)
{
  return Reader(payload).at_end();
}

bool decode(std::span<const std::uint8_t> payload, PongReply& msg)
{
  Reader reader(payload);
  std::uint8_t version;
  if (!reader.u8(version) || !reader.at_end() || version < 1) {
    return false;
  }
  msg.highest_version = version;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, StatusRequest& msg)
{
  Reader reader(payload);
  std::string_view user;
  if (!reader.str(user, limits::user) || !reader.at_end()) {
    return false;
  }
  msg.user = user;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, StatusReply& msg)
{
  Reader reader(payload);
  std::uint8_t state;
  StatusReply decoded;
  if (!reader.u8(state) || !reader.u64(decoded.enrolled_at) || !reader.u32(decoded.failures) ||
      !reader.u32(decoded.retry_after) || !reader.at_end()) {
    return false;
  }
  decoded.state = static_cast<EnrollmentState>(state);
  if (!valid(decoded.state)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, AuthenticateRequest& msg)
{
  Reader reader(payload);
  AuthenticateRequest decoded;
  std::uint8_t mode;
  if (!reader.str(decoded.user, limits::user) || !reader.str(decoded.service, limits::service) ||
      !reader.str(decoded.rhost, limits::rhost) || !reader.str(decoded.tty, limits::tty) ||
      !reader.u8(mode) || !reader.str(decoded.password, limits::password) ||
      !reader.str(decoded.code, limits::code) || !reader.at_end()) {
    return false;
  }
  decoded.mode = static_cast<AuthMode>(mode);
  if (!valid(decoded.mode)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, AuthenticateReply& msg)
{
  Reader reader(payload);
  AuthenticateReply decoded;
  std::uint8_t result;
  if (!reader.u8(result) || !reader.u32(decoded.retry_after) || !reader.at_end()) {
    return false;
  }
  decoded.result = static_cast<AuthResult>(result);
  if (!valid(decoded.result)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, EnrollBeginRequest& msg)
{
  Reader reader(payload);
  std::string_view user;
  if (!reader.str(user, limits::user) || !reader.at_end()) {
    return false;
  }
  msg.user = user;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, EnrollBeginReply& msg)
{
  Reader reader(payload);
  EnrollBeginReply decoded;
  if (!reader.str(decoded.secret, limits::text) || !reader.str(decoded.issuer, limits::text) ||
      !reader.str(decoded.account, limits::text) || !reader.str(decoded.algorithm, limits::text) ||
      !reader.u8(decoded.digits) || !reader.u32(decoded.period) ||
      !reader.u64(decoded.expires_at) || !reader.at_end()) {
    return false;
  }
  if (!valid_enroll_parameters(decoded.algorithm, decoded.digits, decoded.period)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, EnrollConfirmRequest& msg)
{
  Reader reader(payload);
  EnrollConfirmRequest decoded;
  if (!reader.str(decoded.user, limits::user) || !reader.str(decoded.code, limits::code) ||
      !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, EnrollConfirmReply& msg)
{
  Reader reader(payload);
  std::uint8_t result;
  if (!reader.u8(result) || !reader.at_end()) {
    return false;
  }
  const auto decoded = static_cast<EnrollResult>(result);
  if (!valid(decoded)) {
    return false;
  }
  msg.result = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, ErrorReply& msg)
{
  Reader reader(payload);
  ErrorReply decoded;
  std::uint16_t code;
  if (!reader.u16(code) || !reader.str(decoded.message, limits::text) || !reader.at_end()) {
    return false;
  }
  decoded.code = static_cast<ErrorCode>(code);
  if (!valid(decoded.code)) {
    return false;
  }
  msg = decoded;
  return true;
}

} // namespace studio2fa::protocol
