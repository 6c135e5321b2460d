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
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(AuthResult::enroll_required);
}

bool valid(EnrollResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(EnrollResult::locked);
}

bool valid(LockState lock)
{
  return static_cast<std::uint8_t>(lock) <= static_cast<std::uint8_t>(LockState::account);
}

bool valid(SecondFactor factor)
{
  return static_cast<std::uint8_t>(factor) <= static_cast<std::uint8_t>(SecondFactor::phone_code);
}

bool valid(CodeResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(CodeResult::not_enrolled);
}

bool valid(AdminDisableResult result)
{
  return static_cast<std::uint8_t>(result) <=
         static_cast<std::uint8_t>(AdminDisableResult::not_enrolled);
}

bool valid(UnlockResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(UnlockResult::not_locked);
}

bool valid(PassResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(PassResult::no_pass);
}

bool valid(ImportResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(ImportResult::bad_entry);
}

bool valid(PolicyDecision decision)
{
  return static_cast<std::uint8_t>(decision) <= static_cast<std::uint8_t>(PolicyDecision::unknown);
}

bool valid(PolicySource source)
{
  return static_cast<std::uint8_t>(source) <= static_cast<std::uint8_t>(PolicySource::none);
}

bool valid(EnforceAction action)
{
  return static_cast<std::uint8_t>(action) <= static_cast<std::uint8_t>(EnforceAction::off);
}

bool valid(MigrateDirection direction)
{
  return static_cast<std::uint8_t>(direction) <=
         static_cast<std::uint8_t>(MigrateDirection::to_local);
}

bool valid(StoreKindCode kind)
{
  return static_cast<std::uint8_t>(kind) <= static_cast<std::uint8_t>(StoreKindCode::directory);
}

bool valid(WriteCondition condition)
{
  return static_cast<std::uint8_t>(condition) <=
         static_cast<std::uint8_t>(WriteCondition::delete_add);
}

bool valid(EnforceResult result)
{
  return static_cast<std::uint8_t>(result) <=
         static_cast<std::uint8_t>(EnforceResult::refused_not_enrolled);
}

bool valid(PhoneChannelChoice channel)
{
  return static_cast<std::uint8_t>(channel) <= static_cast<std::uint8_t>(PhoneChannelChoice::voice);
}

bool valid(SendCodeResult result)
{
  return static_cast<std::uint8_t>(result) <= static_cast<std::uint8_t>(SendCodeResult::locked);
}

bool valid(PhoneEnrollResult result)
{
  return static_cast<std::uint8_t>(result) <=
         static_cast<std::uint8_t>(PhoneEnrollResult::no_sender);
}

bool valid_methods(std::uint8_t methods)
{
  return (methods & ~(k_method_app | k_method_sms | k_method_voice)) == 0;
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

// Reads a u8 that must be 0 or 1.
bool read_flag(Reader& reader, bool& out)
{
  std::uint8_t value;
  if (!reader.u8(value) || value > 1) {
    return false;
  }
  out = value == 1;
  return true;
}

// The account state, shared by STATUS_REPLY and ADMIN_LIST entries.
bool valid(const StatusReply& state)
{
  return valid(state.state) && valid(state.lock) &&
         state.backup_codes <= k_backup_codes_per_set;
}

void write_state(Writer& writer, const StatusReply& msg)
{
  writer.u8(static_cast<std::uint8_t>(msg.state));
  writer.u64(msg.enrolled_at);
  writer.u32(msg.failures);
  writer.u32(msg.retry_after);
  writer.u8(static_cast<std::uint8_t>(msg.lock));
  writer.u8(msg.backup_codes);
  writer.u64(msg.pass_until);
  writer.u64(msg.last_login);
  writer.u8(msg.replacing ? 1 : 0);
  writer.u8(msg.required ? 1 : 0);
  writer.u64(msg.grace_until);
  writer.str(msg.reason, limits::reason);
}

bool read_state(Reader& reader, StatusReply& out)
{
  StatusReply decoded;
  std::uint8_t state;
  std::uint8_t lock;
  if (!reader.u8(state) || !reader.u64(decoded.enrolled_at) || !reader.u32(decoded.failures) ||
      !reader.u32(decoded.retry_after) || !reader.u8(lock) || !reader.u8(decoded.backup_codes) ||
      !reader.u64(decoded.pass_until) || !reader.u64(decoded.last_login) ||
      !read_flag(reader, decoded.replacing) || !read_flag(reader, decoded.required) ||
      !reader.u64(decoded.grace_until) || !reader.str(decoded.reason, limits::reason)) {
    return false;
  }
  decoded.state = static_cast<EnrollmentState>(state);
  decoded.lock = static_cast<LockState>(lock);
  if (!valid(decoded)) {
    return false;
  }
  out = decoded;
  return true;
}

// The two fields every code-proven reply starts with.
bool read_code_result(Reader& reader, CodeResult& result, std::uint32_t& retry_after)
{
  std::uint8_t value;
  if (!reader.u8(value) || !reader.u32(retry_after)) {
    return false;
  }
  result = static_cast<CodeResult>(value);
  return valid(result);
}

// A request of a user and a code (ENROLL_CONFIRM, BACKUP_CODES, DISABLE, ENROLL_REPLACE).
template <typename Request> bool encode_user_code(const Request& msg, MessageType type, FrameBuffer& out)
{
  Writer writer(out, type_byte(type));
  writer.str(msg.user, limits::user);
  writer.str(msg.code, limits::code);
  return writer.finish();
}

template <typename Request> bool decode_user_code(std::span<const std::uint8_t> payload, Request& msg)
{
  Reader reader(payload);
  Request decoded;
  if (!reader.str(decoded.user, limits::user) || !reader.str(decoded.code, limits::code) ||
      !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

// A request of a user alone (STATUS, ENROLL_BEGIN, ENROLL_PROMPT, ADMIN_DISABLE, ADMIN_UNLOCK,
// ADMIN_POLICY).
template <typename Request> bool encode_user(const Request& msg, MessageType type, FrameBuffer& out)
{
  Writer writer(out, type_byte(type));
  writer.str(msg.user, limits::user);
  return writer.finish();
}

template <typename Request> bool decode_user(std::span<const std::uint8_t> payload, Request& msg)
{
  Reader reader(payload);
  std::string_view user;
  if (!reader.str(user, limits::user) || !reader.at_end()) {
    return false;
  }
  msg.user = user;
  return true;
}

// A reply of one u8 result (ADMIN_DISABLE, ADMIN_UNLOCK).
template <typename Reply> bool encode_result(const Reply& msg, MessageType type, FrameBuffer& out)
{
  Writer writer(out, reply_type(type));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  return valid(msg.result) && writer.finish();
}

template <typename Reply> bool decode_result(std::span<const std::uint8_t> payload, Reply& msg)
{
  Reader reader(payload);
  std::uint8_t value;
  if (!reader.u8(value) || !reader.at_end()) {
    return false;
  }
  const auto result = static_cast<decltype(msg.result)>(value);
  if (!valid(result)) {
    return false;
  }
  msg.result = result;
  return true;
}

std::size_t string_size(std::string_view text)
{
  return 2 + text.size();
}

constexpr std::size_t k_state_fixed_size = 1 + 8 + 4 + 4 + 1 + 1 + 8 + 8 + 1 + 1 + 8;

// With ok: a real offer; otherwise every field empty or zero.
bool valid_replace_offer(CodeResult result, const EnrollBeginReply& offer)
{
  if (result == CodeResult::ok) {
    return valid_enroll_parameters(offer.algorithm, offer.digits, offer.period);
  }
  return offer.secret.empty() && offer.issuer.empty() && offer.account.empty() &&
         offer.algorithm.empty() && offer.digits == 0 && offer.period == 0 &&
         offer.expires_at == 0;
}

} // namespace

// --- PING ----------------------------------------------------------------------------------------

bool encode(const PingRequest&, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::ping));
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, PingRequest&)
{
  return Reader(payload).at_end();
}

bool encode(const PongReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::ping));
  writer.u8(msg.highest_version);
  return msg.highest_version >= 1 && writer.finish();
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

// --- STATUS --------------------------------------------------------------------------------------

bool encode(const StatusRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::status, out);
}

bool decode(std::span<const std::uint8_t> payload, StatusRequest& msg)
{
  return decode_user(payload, msg);
}

bool encode(const StatusReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::status));
  write_state(writer, msg);
  return valid(msg) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, StatusReply& msg)
{
  Reader reader(payload);
  StatusReply decoded;
  if (!read_state(reader, decoded) || !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- AUTHENTICATE --------------------------------------------------------------------------------

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

bool encode(const AuthenticateReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::authenticate));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  writer.u8(static_cast<std::uint8_t>(msg.factor));
  writer.u8(msg.backup_codes);
  writer.u64(msg.grace_until);
  return valid(msg.result) && valid(msg.factor) && msg.backup_codes <= k_backup_codes_per_set &&
         writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AuthenticateReply& msg)
{
  Reader reader(payload);
  AuthenticateReply decoded;
  std::uint8_t result;
  std::uint8_t factor;
  if (!reader.u8(result) || !reader.u32(decoded.retry_after) || !reader.u8(factor) ||
      !reader.u8(decoded.backup_codes) || !reader.u64(decoded.grace_until) || !reader.at_end()) {
    return false;
  }
  decoded.result = static_cast<AuthResult>(result);
  decoded.factor = static_cast<SecondFactor>(factor);
  if (!valid(decoded.result) || !valid(decoded.factor) ||
      decoded.backup_codes > k_backup_codes_per_set) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ENROLL_BEGIN --------------------------------------------------------------------------------

bool encode(const EnrollBeginRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::enroll_begin, out);
}

bool decode(std::span<const std::uint8_t> payload, EnrollBeginRequest& msg)
{
  return decode_user(payload, msg);
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

// --- ENROLL_CONFIRM ------------------------------------------------------------------------------

bool encode(const EnrollConfirmRequest& msg, FrameBuffer& out)
{
  return encode_user_code(msg, MessageType::enroll_confirm, out);
}

bool decode(std::span<const std::uint8_t> payload, EnrollConfirmRequest& msg)
{
  return decode_user_code(payload, msg);
}

bool encode(const EnrollConfirmReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::enroll_confirm));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  return valid(msg.result) && writer.finish();
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

// --- PHONE_STATUS, SEND_CODE, PHONE_ENROLL, PHONE_CONFIRM --------------------------------------

bool encode(const PhoneStatusRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::phone_status, out);
}

bool decode(std::span<const std::uint8_t> payload, PhoneStatusRequest& msg)
{
  return decode_user(payload, msg);
}

bool encode(const PhoneStatusReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::phone_status));
  writer.u8(msg.methods);
  writer.str(msg.number, limits::masked_phone);
  writer.u8(msg.from_directory ? 1 : 0);
  writer.u8(msg.self_enroll ? 1 : 0);
  writer.u8(msg.pending);
  return valid_methods(msg.methods) && valid_methods(msg.pending) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, PhoneStatusReply& msg)
{
  Reader reader(payload);
  PhoneStatusReply decoded;
  if (!reader.u8(decoded.methods) || !reader.str(decoded.number, limits::masked_phone) ||
      !read_flag(reader, decoded.from_directory) || !read_flag(reader, decoded.self_enroll) ||
      !reader.u8(decoded.pending) || !reader.at_end() || !valid_methods(decoded.methods) ||
      !valid_methods(decoded.pending)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const SendCodeRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::send_code));
  writer.str(msg.user, limits::user);
  writer.str(msg.service, limits::service);
  writer.str(msg.rhost, limits::rhost);
  writer.str(msg.tty, limits::tty);
  writer.str(msg.password, limits::password);
  writer.u8(static_cast<std::uint8_t>(msg.channel));
  return valid(msg.channel) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, SendCodeRequest& msg)
{
  Reader reader(payload);
  SendCodeRequest decoded;
  std::uint8_t channel;
  if (!reader.str(decoded.user, limits::user) || !reader.str(decoded.service, limits::service) ||
      !reader.str(decoded.rhost, limits::rhost) || !reader.str(decoded.tty, limits::tty) ||
      !reader.str(decoded.password, limits::password) || !reader.u8(channel) || !reader.at_end()) {
    return false;
  }
  decoded.channel = static_cast<PhoneChannelChoice>(channel);
  if (!valid(decoded.channel)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const SendCodeReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::send_code));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  writer.u8(static_cast<std::uint8_t>(msg.channel));
  writer.str(msg.number, limits::masked_phone);
  return valid(msg.result) && valid(msg.channel) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, SendCodeReply& msg)
{
  Reader reader(payload);
  SendCodeReply decoded;
  std::uint8_t result;
  std::uint8_t channel;
  if (!reader.u8(result) || !reader.u32(decoded.retry_after) || !reader.u8(channel) ||
      !reader.str(decoded.number, limits::masked_phone) || !reader.at_end()) {
    return false;
  }
  decoded.result = static_cast<SendCodeResult>(result);
  decoded.channel = static_cast<PhoneChannelChoice>(channel);
  if (!valid(decoded.result) || !valid(decoded.channel)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const PhoneEnrollRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::phone_enroll));
  writer.str(msg.user, limits::user);
  writer.str(msg.number, limits::phone_input);
  writer.u8(msg.methods);
  writer.str(msg.code, limits::code);
  return valid_methods(msg.methods) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, PhoneEnrollRequest& msg)
{
  Reader reader(payload);
  PhoneEnrollRequest decoded;
  if (!reader.str(decoded.user, limits::user) || !reader.str(decoded.number, limits::phone_input) ||
      !reader.u8(decoded.methods) || !reader.str(decoded.code, limits::code) || !reader.at_end() ||
      !valid_methods(decoded.methods)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const PhoneEnrollReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::phone_enroll));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  writer.str(msg.number, limits::masked_phone);
  writer.u64(msg.expires_at);
  return valid(msg.result) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, PhoneEnrollReply& msg)
{
  Reader reader(payload);
  PhoneEnrollReply decoded;
  std::uint8_t result;
  if (!reader.u8(result) || !reader.u32(decoded.retry_after) ||
      !reader.str(decoded.number, limits::masked_phone) || !reader.u64(decoded.expires_at) ||
      !reader.at_end()) {
    return false;
  }
  decoded.result = static_cast<PhoneEnrollResult>(result);
  if (!valid(decoded.result)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const PhoneConfirmRequest& msg, FrameBuffer& out)
{
  return encode_user_code(msg, MessageType::phone_confirm, out);
}

bool decode(std::span<const std::uint8_t> payload, PhoneConfirmRequest& msg)
{
  return decode_user_code(payload, msg);
}

bool encode(const PhoneConfirmReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::phone_confirm));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  return valid(msg.result) && writer.finish();
}

bool encode(const PhoneRemoveRequest& msg, FrameBuffer& out)
{
  return encode_user_code(msg, MessageType::phone_remove, out);
}

bool decode(std::span<const std::uint8_t> payload, PhoneRemoveRequest& msg)
{
  return decode_user_code(payload, msg);
}

bool encode(const PhoneRemoveReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::phone_remove));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  return valid(msg.result) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, PhoneRemoveReply& msg)
{
  Reader reader(payload);
  PhoneRemoveReply decoded;
  if (!read_code_result(reader, decoded.result, decoded.retry_after) || !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

bool decode(std::span<const std::uint8_t> payload, PhoneConfirmReply& msg)
{
  EnrollConfirmReply same;
  if (!decode(payload, same)) {
    return false;
  }
  msg.result = same.result;
  return true;
}

// --- BACKUP_CODES --------------------------------------------------------------------------------

bool encode(const BackupCodesRequest& msg, FrameBuffer& out)
{
  return encode_user_code(msg, MessageType::backup_codes, out);
}

bool decode(std::span<const std::uint8_t> payload, BackupCodesRequest& msg)
{
  return decode_user_code(payload, msg);
}

bool encode(const BackupCodesReply& msg, FrameBuffer& out)
{
  const bool counted = msg.result == CodeResult::ok
                         ? msg.count >= 1 && msg.count <= k_backup_codes_per_set
                         : msg.count == 0;
  if (!valid(msg.result) || !counted) {
    out.set_size(0);
    return false;
  }
  Writer writer(out, reply_type(MessageType::backup_codes));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  writer.u8(msg.count);
  for (std::size_t i = 0; i < msg.count; ++i) {
    if (msg.codes[i].empty()) {
      out.set_size(0);
      return false;
    }
    writer.str(msg.codes[i], limits::backup_code);
  }
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, BackupCodesReply& msg)
{
  Reader reader(payload);
  BackupCodesReply decoded;
  if (!read_code_result(reader, decoded.result, decoded.retry_after) ||
      !reader.u8(decoded.count)) {
    return false;
  }
  const bool counted = decoded.result == CodeResult::ok
                         ? decoded.count >= 1 && decoded.count <= k_backup_codes_per_set
                         : decoded.count == 0;
  if (!counted) {
    return false;
  }
  for (std::size_t i = 0; i < decoded.count; ++i) {
    if (!reader.str(decoded.codes[i], limits::backup_code) || decoded.codes[i].empty()) {
      return false;
    }
  }
  if (!reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- DISABLE -------------------------------------------------------------------------------------

bool encode(const DisableRequest& msg, FrameBuffer& out)
{
  return encode_user_code(msg, MessageType::disable, out);
}

bool decode(std::span<const std::uint8_t> payload, DisableRequest& msg)
{
  return decode_user_code(payload, msg);
}

bool encode(const DisableReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::disable));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  return valid(msg.result) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, DisableReply& msg)
{
  Reader reader(payload);
  DisableReply decoded;
  if (!read_code_result(reader, decoded.result, decoded.retry_after) || !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ENROLL_REPLACE ------------------------------------------------------------------------------

bool encode(const EnrollReplaceRequest& msg, FrameBuffer& out)
{
  return encode_user_code(msg, MessageType::enroll_replace, out);
}

bool decode(std::span<const std::uint8_t> payload, EnrollReplaceRequest& msg)
{
  return decode_user_code(payload, msg);
}

bool encode(const EnrollReplaceReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::enroll_replace));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u32(msg.retry_after);
  writer.str(msg.offer.secret, limits::text);
  writer.str(msg.offer.issuer, limits::text);
  writer.str(msg.offer.account, limits::text);
  writer.str(msg.offer.algorithm, limits::text);
  writer.u8(msg.offer.digits);
  writer.u32(msg.offer.period);
  writer.u64(msg.offer.expires_at);
  return valid(msg.result) && valid_replace_offer(msg.result, msg.offer) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, EnrollReplaceReply& msg)
{
  Reader reader(payload);
  EnrollReplaceReply decoded;
  EnrollBeginReply& offer = decoded.offer;
  if (!read_code_result(reader, decoded.result, decoded.retry_after) ||
      !reader.str(offer.secret, limits::text) || !reader.str(offer.issuer, limits::text) ||
      !reader.str(offer.account, limits::text) || !reader.str(offer.algorithm, limits::text) ||
      !reader.u8(offer.digits) || !reader.u32(offer.period) || !reader.u64(offer.expires_at) ||
      !reader.at_end() || !valid_replace_offer(decoded.result, offer)) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ENROLL_PROMPT -------------------------------------------------------------------------------

bool encode(const EnrollPromptRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::enroll_prompt, out);
}

bool decode(std::span<const std::uint8_t> payload, EnrollPromptRequest& msg)
{
  return decode_user(payload, msg);
}

bool encode(const EnrollPromptReply& msg, FrameBuffer& out)
{
  if (msg.count > k_max_display_lines) {
    out.set_size(0);
    return false;
  }
  Writer writer(out, reply_type(MessageType::enroll_prompt));
  writer.u64(msg.expires_at);
  writer.u8(msg.count);
  for (std::size_t i = 0; i < msg.count; ++i) {
    writer.str(msg.lines[i], limits::display_line);
  }
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, EnrollPromptReply& msg)
{
  Reader reader(payload);
  msg.count = 0;
  std::uint64_t expires_at;
  std::uint8_t count;
  if (!reader.u64(expires_at) || !reader.u8(count) || count > k_max_display_lines) {
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!reader.str(msg.lines[i], limits::display_line)) {
      return false;
    }
  }
  if (!reader.at_end()) {
    return false;
  }
  msg.expires_at = expires_at;
  msg.count = count;
  return true;
}

// --- ADMIN_LIST ----------------------------------------------------------------------------------

// A request that is one page of a walk through the accounts: only the user to start after
// (ADMIN_LIST, ADMIN_REKEY).
template <typename Request> bool encode_page_request(const Request& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(Request::k_type));
  writer.str(msg.after, limits::user);
  return writer.finish();
}

template <typename Request>
bool decode_page_request(std::span<const std::uint8_t> payload, Request& msg)
{
  Reader reader(payload);
  std::string_view after;
  if (!reader.str(after, limits::user) || !reader.at_end()) {
    return false;
  }
  msg.after = after;
  return true;
}

bool encode(const AdminListRequest& msg, FrameBuffer& out)
{
  return encode_page_request(msg, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminListRequest& msg)
{
  return decode_page_request(payload, msg);
}

std::size_t encoded_size(const AccountEntry& entry)
{
  return string_size(entry.user) + k_state_fixed_size + string_size(entry.state.reason);
}

bool encode(const AdminListReply& msg, FrameBuffer& out)
{
  if (msg.count > k_max_list_entries) {
    out.set_size(0);
    return false;
  }
  Writer writer(out, reply_type(MessageType::admin_list));
  writer.u8(msg.count);
  for (std::size_t i = 0; i < msg.count; ++i) {
    const AccountEntry& entry = msg.entries[i];
    if (entry.user.empty() || !valid(entry.state)) {
      out.set_size(0);
      return false;
    }
    writer.str(entry.user, limits::user);
    write_state(writer, entry.state);
  }
  writer.u8(msg.more ? 1 : 0);
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminListReply& msg)
{
  Reader reader(payload);
  // Decoded in place (the reply is big); a failure leaves no entries.
  msg.count = 0;
  std::uint8_t count;
  if (!reader.u8(count) || count > k_max_list_entries) {
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    AccountEntry& entry = msg.entries[i];
    if (!reader.str(entry.user, limits::user) || entry.user.empty() ||
        !read_state(reader, entry.state)) {
      return false;
    }
  }
  bool more;
  if (!read_flag(reader, more) || !reader.at_end()) {
    return false;
  }
  msg.count = count;
  msg.more = more;
  return true;
}

// --- ADMIN_DISABLE -------------------------------------------------------------------------------

bool encode(const AdminDisableRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::admin_disable, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminDisableRequest& msg)
{
  return decode_user(payload, msg);
}

bool encode(const AdminDisableReply& msg, FrameBuffer& out)
{
  return encode_result(msg, MessageType::admin_disable, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminDisableReply& msg)
{
  return decode_result(payload, msg);
}

// --- ADMIN_UNLOCK --------------------------------------------------------------------------------

bool encode(const AdminUnlockRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::admin_unlock, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminUnlockRequest& msg)
{
  return decode_user(payload, msg);
}

bool encode(const AdminUnlockReply& msg, FrameBuffer& out)
{
  return encode_result(msg, MessageType::admin_unlock, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminUnlockReply& msg)
{
  return decode_result(payload, msg);
}

// --- ADMIN_PASS ----------------------------------------------------------------------------------

bool encode(const AdminPassRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::admin_pass));
  writer.str(msg.user, limits::user);
  writer.u32(msg.duration);
  return msg.duration <= k_max_pass_duration && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminPassRequest& msg)
{
  Reader reader(payload);
  AdminPassRequest decoded;
  if (!reader.str(decoded.user, limits::user) || !reader.u32(decoded.duration) ||
      !reader.at_end() || decoded.duration > k_max_pass_duration) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const AdminPassReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_pass));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u64(msg.pass_until);
  return valid(msg.result) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminPassReply& msg)
{
  Reader reader(payload);
  AdminPassReply decoded;
  std::uint8_t result;
  if (!reader.u8(result) || !reader.u64(decoded.pass_until) || !reader.at_end()) {
    return false;
  }
  decoded.result = static_cast<PassResult>(result);
  if (!valid(decoded.result)) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ADMIN_LOG -----------------------------------------------------------------------------------

bool encode(const AdminLogRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::admin_log));
  writer.str(msg.user, limits::user);
  writer.u64(msg.since);
  writer.u64(msg.after_id);
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminLogRequest& msg)
{
  Reader reader(payload);
  AdminLogRequest decoded;
  if (!reader.str(decoded.user, limits::user) || !reader.u64(decoded.since) ||
      !reader.u64(decoded.after_id) || !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

std::size_t encoded_size(const AuditEntry& entry)
{
  return 8 + 8 + 4 + string_size(entry.actor) + string_size(entry.action) +
         string_size(entry.subject) + string_size(entry.service) + string_size(entry.rhost) +
         string_size(entry.tty) + string_size(entry.outcome) + string_size(entry.detail);
}

bool encode(const AdminLogReply& msg, FrameBuffer& out)
{
  if (msg.count > k_max_log_entries) {
    out.set_size(0);
    return false;
  }
  Writer writer(out, reply_type(MessageType::admin_log));
  writer.u8(msg.count);
  for (std::size_t i = 0; i < msg.count; ++i) {
    const AuditEntry& entry = msg.entries[i];
    writer.u64(entry.id);
    writer.u64(entry.at);
    writer.u32(entry.actor_uid);
    writer.str(entry.actor, limits::user);
    writer.str(entry.action, limits::action);
    writer.str(entry.subject, limits::user);
    writer.str(entry.service, limits::service);
    writer.str(entry.rhost, limits::rhost);
    writer.str(entry.tty, limits::tty);
    writer.str(entry.outcome, limits::action);
    writer.str(entry.detail, limits::reason);
  }
  writer.u8(msg.more ? 1 : 0);
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminLogReply& msg)
{
  Reader reader(payload);
  msg.count = 0;
  std::uint8_t count;
  if (!reader.u8(count) || count > k_max_log_entries) {
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    AuditEntry& entry = msg.entries[i];
    if (!reader.u64(entry.id) || !reader.u64(entry.at) || !reader.u32(entry.actor_uid) ||
        !reader.str(entry.actor, limits::user) || !reader.str(entry.action, limits::action) ||
        !reader.str(entry.subject, limits::user) || !reader.str(entry.service, limits::service) ||
        !reader.str(entry.rhost, limits::rhost) || !reader.str(entry.tty, limits::tty) ||
        !reader.str(entry.outcome, limits::action) || !reader.str(entry.detail, limits::reason)) {
      return false;
    }
  }
  bool more;
  if (!read_flag(reader, more) || !reader.at_end()) {
    return false;
  }
  msg.count = count;
  msg.more = more;
  return true;
}

// --- ADMIN_IMPORT --------------------------------------------------------------------------------

std::size_t encoded_size(const ImportEntry& entry)
{
  std::size_t size = string_size(entry.user) + string_size(entry.secret) +
                     string_size(entry.algorithm) + 1 + 4 + 1;
  for (std::size_t i = 0; i < entry.code_count && i < entry.codes.size(); ++i) {
    size += string_size(entry.codes[i]);
  }
  return size;
}

bool encode(const AdminImportRequest& msg, FrameBuffer& out)
{
  if (msg.count < 1 || msg.count > k_max_import_entries) {
    out.set_size(0);
    return false;
  }
  Writer writer(out, type_byte(MessageType::admin_import));
  writer.u8(msg.replace ? 1 : 0);
  writer.u8(msg.count);
  for (std::size_t i = 0; i < msg.count; ++i) {
    const ImportEntry& entry = msg.entries[i];
    if (entry.code_count > k_backup_codes_per_set ||
        !valid_enroll_parameters(entry.algorithm, entry.digits, entry.period)) {
      out.set_size(0);
      return false;
    }
    writer.str(entry.user, limits::user);
    writer.str(entry.secret, limits::import_secret);
    writer.str(entry.algorithm, limits::text);
    writer.u8(entry.digits);
    writer.u32(entry.period);
    writer.u8(entry.code_count);
    for (std::size_t c = 0; c < entry.code_count; ++c) {
      writer.str(entry.codes[c], limits::code);
    }
  }
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminImportRequest& msg)
{
  Reader reader(payload);
  msg.count = 0;
  bool replace;
  std::uint8_t count;
  if (!read_flag(reader, replace) || !reader.u8(count) || count < 1 ||
      count > k_max_import_entries) {
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    ImportEntry& entry = msg.entries[i];
    if (!reader.str(entry.user, limits::user) || !reader.str(entry.secret, limits::import_secret) ||
        !reader.str(entry.algorithm, limits::text) || !reader.u8(entry.digits) ||
        !reader.u32(entry.period) || !reader.u8(entry.code_count) ||
        entry.code_count > k_backup_codes_per_set ||
        !valid_enroll_parameters(entry.algorithm, entry.digits, entry.period)) {
      return false;
    }
    for (std::size_t c = 0; c < entry.code_count; ++c) {
      if (!reader.str(entry.codes[c], limits::code)) {
        return false;
      }
    }
  }
  if (!reader.at_end()) {
    return false;
  }
  msg.replace = replace;
  msg.count = count;
  return true;
}

bool encode(const AdminImportReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_import));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u8(msg.index);
  const bool index_ok = msg.result != ImportResult::imported || msg.index == 0;
  return valid(msg.result) && index_ok && msg.index < k_max_import_entries && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminImportReply& msg)
{
  Reader reader(payload);
  std::uint8_t result;
  std::uint8_t index;
  if (!reader.u8(result) || !reader.u8(index) || !reader.at_end()) {
    return false;
  }
  const auto decoded = static_cast<ImportResult>(result);
  if (!valid(decoded) || index >= k_max_import_entries ||
      (decoded == ImportResult::imported && index != 0)) {
    return false;
  }
  msg.result = decoded;
  msg.index = index;
  return true;
}

// --- ADMIN_POLICY --------------------------------------------------------------------------------

bool encode(const AdminPolicyRequest& msg, FrameBuffer& out)
{
  return encode_user(msg, MessageType::admin_policy, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminPolicyRequest& msg)
{
  return decode_user(payload, msg);
}

bool encode(const AdminPolicyReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_policy));
  writer.u8(static_cast<std::uint8_t>(msg.decision));
  writer.u8(static_cast<std::uint8_t>(msg.source));
  writer.str(msg.reason, limits::text);
  writer.str(msg.dn, limits::dn);
  writer.u64(msg.fetched_at);
  writer.u64(msg.grace_until);
  return valid(msg.decision) && valid(msg.source) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminPolicyReply& msg)
{
  Reader reader(payload);
  AdminPolicyReply decoded;
  std::uint8_t decision;
  std::uint8_t source;
  if (!reader.u8(decision) || !reader.u8(source) || !reader.str(decoded.reason, limits::text) ||
      !reader.str(decoded.dn, limits::dn) || !reader.u64(decoded.fetched_at) ||
      !reader.u64(decoded.grace_until) || !reader.at_end()) {
    return false;
  }
  decoded.decision = static_cast<PolicyDecision>(decision);
  decoded.source = static_cast<PolicySource>(source);
  if (!valid(decoded.decision) || !valid(decoded.source)) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ADMIN_ENFORCE -------------------------------------------------------------------------------

bool encode(const AdminEnforceRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::admin_enforce));
  writer.u8(static_cast<std::uint8_t>(msg.action));
  writer.u32(msg.grace);
  writer.u8(msg.force ? 1 : 0);
  writer.str(msg.invoker, limits::user);
  return valid(msg.action) && msg.grace <= k_max_grace_period && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminEnforceRequest& msg)
{
  Reader reader(payload);
  AdminEnforceRequest decoded;
  std::uint8_t action;
  if (!reader.u8(action) || !reader.u32(decoded.grace) || !read_flag(reader, decoded.force) ||
      !reader.str(decoded.invoker, limits::user) || !reader.at_end()) {
    return false;
  }
  decoded.action = static_cast<EnforceAction>(action);
  if (!valid(decoded.action) || decoded.grace > k_max_grace_period) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const AdminEnforceReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_enforce));
  writer.u8(static_cast<std::uint8_t>(msg.result));
  writer.u8(msg.enforced ? 1 : 0);
  writer.u32(msg.grace);
  writer.u64(msg.since);
  writer.str(msg.by, limits::user);
  return valid(msg.result) && msg.grace <= k_max_grace_period && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminEnforceReply& msg)
{
  Reader reader(payload);
  AdminEnforceReply decoded;
  std::uint8_t result;
  if (!reader.u8(result) || !read_flag(reader, decoded.enforced) || !reader.u32(decoded.grace) ||
      !reader.u64(decoded.since) || !reader.str(decoded.by, limits::user) || !reader.at_end()) {
    return false;
  }
  decoded.result = static_cast<EnforceResult>(result);
  if (!valid(decoded.result) || decoded.grace > k_max_grace_period) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ADMIN_REKEY ---------------------------------------------------------------------------------

bool encode(const AdminRekeyRequest& msg, FrameBuffer& out)
{
  return encode_page_request(msg, out);
}

bool decode(std::span<const std::uint8_t> payload, AdminRekeyRequest& msg)
{
  return decode_page_request(payload, msg);
}

bool encode(const AdminRekeyReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_rekey));
  writer.u32(msg.resealed);
  writer.u32(msg.current);
  writer.u32(msg.failed);
  writer.u32(msg.old_backup_codes);
  writer.str(msg.last, limits::user);
  writer.u8(msg.more ? 1 : 0);
  writer.str(msg.key_id, k_key_id_text);
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminRekeyReply& msg)
{
  Reader reader(payload);
  AdminRekeyReply decoded;
  if (!reader.u32(decoded.resealed) || !reader.u32(decoded.current) ||
      !reader.u32(decoded.failed) || !reader.u32(decoded.old_backup_codes) ||
      !reader.str(decoded.last, limits::user) || !read_flag(reader, decoded.more) ||
      !reader.str(decoded.key_id, k_key_id_text) || !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ADMIN_MIGRATE -------------------------------------------------------------------------------

bool encode(const AdminMigrateRequest& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::admin_migrate));
  writer.u8(static_cast<std::uint8_t>(msg.direction));
  writer.str(msg.after, limits::user);
  return valid(msg.direction) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminMigrateRequest& msg)
{
  Reader reader(payload);
  AdminMigrateRequest decoded;
  std::uint8_t direction;
  if (!reader.u8(direction) || !reader.str(decoded.after, limits::user) || !reader.at_end()) {
    return false;
  }
  decoded.direction = static_cast<MigrateDirection>(direction);
  if (!valid(decoded.direction)) {
    return false;
  }
  msg = decoded;
  return true;
}

bool encode(const AdminMigrateReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_migrate));
  writer.u32(msg.copied);
  writer.u32(msg.already_there);
  writer.u32(msg.failed);
  writer.str(msg.last, limits::user);
  writer.u8(msg.more ? 1 : 0);
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminMigrateReply& msg)
{
  Reader reader(payload);
  AdminMigrateReply decoded;
  if (!reader.u32(decoded.copied) || !reader.u32(decoded.already_there) ||
      !reader.u32(decoded.failed) || !reader.str(decoded.last, limits::user) ||
      !read_flag(reader, decoded.more) || !reader.at_end()) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ADMIN_HEALTH --------------------------------------------------------------------------------

bool encode(const AdminHealthRequest&, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::admin_health));
  return writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminHealthRequest&)
{
  return Reader(payload).at_end();
}

bool encode(const AdminHealthReply& msg, FrameBuffer& out)
{
  Writer writer(out, reply_type(MessageType::admin_health));
  writer.u8(static_cast<std::uint8_t>(msg.store));
  writer.str(msg.write_uri, limits::text);
  writer.u8(msg.write_answers ? 1 : 0);
  writer.u8(static_cast<std::uint8_t>(msg.write_condition));
  writer.str(msg.read_uri, limits::text);
  writer.u8(msg.read_answers ? 1 : 0);
  writer.str(msg.problem, limits::text);
  writer.u8(msg.offline_cached ? 1 : 0);
  writer.u32(msg.offline_cache_age);
  writer.u32(msg.cached_users);
  writer.u64(msg.newest_at);
  writer.u64(msg.oldest_at);
  return valid(msg.store) && valid(msg.write_condition) && writer.finish();
}

bool decode(std::span<const std::uint8_t> payload, AdminHealthReply& msg)
{
  Reader reader(payload);
  AdminHealthReply decoded;
  std::uint8_t store;
  std::uint8_t condition;
  if (!reader.u8(store) || !reader.str(decoded.write_uri, limits::text) ||
      !read_flag(reader, decoded.write_answers) || !reader.u8(condition) ||
      !reader.str(decoded.read_uri, limits::text) || !read_flag(reader, decoded.read_answers) ||
      !reader.str(decoded.problem, limits::text) || !read_flag(reader, decoded.offline_cached) ||
      !reader.u32(decoded.offline_cache_age) || !reader.u32(decoded.cached_users) ||
      !reader.u64(decoded.newest_at) || !reader.u64(decoded.oldest_at) || !reader.at_end()) {
    return false;
  }
  decoded.store = static_cast<StoreKindCode>(store);
  decoded.write_condition = static_cast<WriteCondition>(condition);
  if (!valid(decoded.store) || !valid(decoded.write_condition)) {
    return false;
  }
  msg = decoded;
  return true;
}

// --- ERROR ---------------------------------------------------------------------------------------

bool encode(const ErrorReply& msg, FrameBuffer& out)
{
  Writer writer(out, type_byte(MessageType::error));
  writer.u16(static_cast<std::uint16_t>(msg.code));
  writer.str(msg.message, limits::text);
  return valid(msg.code) && writer.finish();
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

// --- names ---------------------------------------------------------------------------------------

const char* name(MessageType type)
{
  switch (type) {
  case MessageType::ping:
    return "PING";
  case MessageType::status:
    return "STATUS";
  case MessageType::authenticate:
    return "AUTHENTICATE";
  case MessageType::enroll_begin:
    return "ENROLL_BEGIN";
  case MessageType::enroll_confirm:
    return "ENROLL_CONFIRM";
  case MessageType::backup_codes:
    return "BACKUP_CODES";
  case MessageType::disable:
    return "DISABLE";
  case MessageType::enroll_replace:
    return "ENROLL_REPLACE";
  case MessageType::enroll_prompt:
    return "ENROLL_PROMPT";
  case MessageType::phone_status:
    return "PHONE_STATUS";
  case MessageType::send_code:
    return "SEND_CODE";
  case MessageType::phone_enroll:
    return "PHONE_ENROLL";
  case MessageType::phone_confirm:
    return "PHONE_CONFIRM";
  case MessageType::phone_remove:
    return "PHONE_REMOVE";
  case MessageType::admin_list:
    return "ADMIN_LIST";
  case MessageType::admin_disable:
    return "ADMIN_DISABLE";
  case MessageType::admin_unlock:
    return "ADMIN_UNLOCK";
  case MessageType::admin_pass:
    return "ADMIN_PASS";
  case MessageType::admin_log:
    return "ADMIN_LOG";
  case MessageType::admin_import:
    return "ADMIN_IMPORT";
  case MessageType::admin_policy:
    return "ADMIN_POLICY";
  case MessageType::admin_enforce:
    return "ADMIN_ENFORCE";
  case MessageType::admin_rekey:
    return "ADMIN_REKEY";
  case MessageType::admin_migrate:
    return "ADMIN_MIGRATE";
  case MessageType::admin_health:
    return "ADMIN_HEALTH";
  case MessageType::error:
    return "ERROR";
  }
  return "?";
}

const char* name(AuthResult result)
{
  switch (result) {
  case AuthResult::success:
    return "success";
  case AuthResult::denied:
    return "denied";
  case AuthResult::not_enrolled:
    return "not-enrolled";
  case AuthResult::throttled:
    return "throttled";
  case AuthResult::unavailable:
    return "unavailable";
  case AuthResult::locked:
    return "locked";
  case AuthResult::enroll_required:
    return "enroll-required";
  }
  return "?";
}

const char* name(SendCodeResult result)
{
  switch (result) {
  case SendCodeResult::sent:
    return "sent";
  case SendCodeResult::denied:
    return "denied";
  case SendCodeResult::refused:
    return "refused";
  case SendCodeResult::failed:
    return "failed";
  case SendCodeResult::no_phone:
    return "no-phone";
  case SendCodeResult::unavailable:
    return "unavailable";
  case SendCodeResult::throttled:
    return "throttled";
  case SendCodeResult::locked:
    return "locked";
  }
  return "?";
}

const char* name(PhoneEnrollResult result)
{
  switch (result) {
  case PhoneEnrollResult::sent:
    return "sent";
  case PhoneEnrollResult::bad_number:
    return "bad-number";
  case PhoneEnrollResult::not_allowed:
    return "not-allowed";
  case PhoneEnrollResult::refused:
    return "refused";
  case PhoneEnrollResult::failed:
    return "failed";
  case PhoneEnrollResult::bad_code:
    return "bad-code";
  case PhoneEnrollResult::throttled:
    return "throttled";
  case PhoneEnrollResult::locked:
    return "locked";
  case PhoneEnrollResult::no_sender:
    return "no-sender";
  }
  return "?";
}

const char* name(PolicyDecision decision)
{
  switch (decision) {
  case PolicyDecision::optional:
    return "optional";
  case PolicyDecision::required:
    return "required";
  case PolicyDecision::exempt:
    return "exempt";
  case PolicyDecision::unknown:
    return "unknown";
  }
  return "?";
}

const char* name(CodeResult result)
{
  switch (result) {
  case CodeResult::ok:
    return "success";
  case CodeResult::bad_code:
    return "bad-code";
  case CodeResult::throttled:
    return "throttled";
  case CodeResult::locked:
    return "locked";
  case CodeResult::not_enrolled:
    return "not-enrolled";
  }
  return "?";
}

const char* name(EnrollResult result)
{
  switch (result) {
  case EnrollResult::confirmed:
    return "confirmed";
  case EnrollResult::bad_code:
    return "bad-code";
  case EnrollResult::expired:
    return "expired";
  case EnrollResult::no_pending:
    return "no-pending";
  case EnrollResult::throttled:
    return "throttled";
  case EnrollResult::locked:
    return "locked";
  }
  return "?";
}

const char* name(AdminDisableResult result)
{
  switch (result) {
  case AdminDisableResult::disabled:
    return "disabled";
  case AdminDisableResult::not_enrolled:
    return "not-enrolled";
  }
  return "?";
}

const char* name(UnlockResult result)
{
  switch (result) {
  case UnlockResult::unlocked:
    return "unlocked";
  case UnlockResult::not_locked:
    return "not-locked";
  }
  return "?";
}

const char* name(PassResult result)
{
  switch (result) {
  case PassResult::granted:
    return "granted";
  case PassResult::revoked:
    return "revoked";
  case PassResult::no_pass:
    return "no-pass";
  }
  return "?";
}

const char* name(PolicySource source)
{
  switch (source) {
  case PolicySource::local:
    return "local";
  case PolicySource::directory:
    return "directory";
  case PolicySource::cache:
    return "cache";
  case PolicySource::stale_cache:
    return "stale-cache";
  case PolicySource::none:
    return "none";
  }
  return "?";
}

} // namespace studio2fa::protocol
