// libFuzzer target: the framing (lib/wire) and every message codec (lib/protocol).
//
// The input is one frame as it would arrive on the socket. Beyond "no crash", it checks the
// codec's invariants:
// - decode_length() gives the big-endian length when it is within [k_min_body, k_max_body],
//   else 0; decode_header() accepts exactly the frames PROTOCOL.md calls well framed, and
//   says why it refuses the others;
// - whatever any decode() overload accepts, encode() writes again as a frame of that message's
//   type whose payload is byte for byte the one decoded (the encoding is canonical: one
//   message, one frame), and that frame decodes to an identical message;
// - a decode() that fails leaves the message as it was, or, for the messages decoded in place,
//   with no entries (protocol.hpp).
#include "check.hpp"
#include "protocol.hpp"
#include "wire.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace {

using namespace studio2fa;
using namespace studio2fa::protocol;
using wire::FrameBuffer;
using wire::HeaderStatus;

bool same(const PingRequest&, const PingRequest&)
{
  return true;
}
bool same(const PongReply& a, const PongReply& b)
{
  return a.highest_version == b.highest_version;
}
bool same(const StatusRequest& a, const StatusRequest& b)
{
  return a.user == b.user;
}
bool same(const StatusReply& a, const StatusReply& b)
{
  return a.state == b.state && a.enrolled_at == b.enrolled_at && a.failures == b.failures &&
         a.retry_after == b.retry_after && a.lock == b.lock && a.backup_codes == b.backup_codes &&
         a.pass_until == b.pass_until && a.last_login == b.last_login &&
         a.replacing == b.replacing && a.required == b.required && a.grace_until == b.grace_until &&
         a.reason == b.reason;
}
bool same(const AuthenticateRequest& a, const AuthenticateRequest& b)
{
  return a.user == b.user && a.service == b.service && a.rhost == b.rhost && a.tty == b.tty &&
         a.mode == b.mode && a.password == b.password && a.code == b.code;
}
bool same(const AuthenticateReply& a, const AuthenticateReply& b)
{
  return a.result == b.result && a.retry_after == b.retry_after && a.factor == b.factor &&
         a.backup_codes == b.backup_codes && a.grace_until == b.grace_until;
}
bool same(const EnrollPromptRequest& a, const EnrollPromptRequest& b)
{
  return a.user == b.user;
}
bool same(const EnrollPromptReply& a, const EnrollPromptReply& b)
{
  if (a.expires_at != b.expires_at || a.count != b.count) {
    return false;
  }
  for (std::size_t i = 0; i < a.count; ++i) {
    if (a.lines[i] != b.lines[i]) {
      return false;
    }
  }
  return true;
}
bool same(const AdminPolicyRequest& a, const AdminPolicyRequest& b)
{
  return a.user == b.user;
}
bool same(const AdminPolicyReply& a, const AdminPolicyReply& b)
{
  return a.decision == b.decision && a.source == b.source && a.reason == b.reason &&
         a.dn == b.dn && a.fetched_at == b.fetched_at && a.grace_until == b.grace_until;
}
bool same(const AdminEnforceRequest& a, const AdminEnforceRequest& b)
{
  return a.action == b.action && a.grace == b.grace && a.force == b.force &&
         a.invoker == b.invoker;
}
bool same(const AdminEnforceReply& a, const AdminEnforceReply& b)
{
  return a.result == b.result && a.enforced == b.enforced && a.grace == b.grace &&
         a.since == b.since && a.by == b.by;
}
bool same(const AdminRekeyRequest& a, const AdminRekeyRequest& b)
{
  return a.after == b.after;
}
bool same(const AdminRekeyReply& a, const AdminRekeyReply& b)
{
  return a.resealed == b.resealed && a.current == b.current && a.failed == b.failed &&
         a.old_backup_codes == b.old_backup_codes && a.last == b.last && a.more == b.more &&
         a.key_id == b.key_id;
}
bool same(const AdminMigrateRequest& a, const AdminMigrateRequest& b)
{
  return a.direction == b.direction && a.after == b.after;
}
bool same(const AdminMigrateReply& a, const AdminMigrateReply& b)
{
  return a.copied == b.copied && a.already_there == b.already_there && a.failed == b.failed &&
         a.last == b.last && a.more == b.more;
}
bool same(const AdminHealthRequest&, const AdminHealthRequest&)
{
  return true;
}
bool same(const AdminHealthReply& a, const AdminHealthReply& b)
{
  return a.store == b.store && a.write_uri == b.write_uri && a.write_answers == b.write_answers &&
         a.write_condition == b.write_condition && a.read_uri == b.read_uri &&
         a.read_answers == b.read_answers && a.problem == b.problem &&
         a.offline_cached == b.offline_cached && a.offline_cache_age == b.offline_cache_age &&
         a.cached_users == b.cached_users && a.newest_at == b.newest_at &&
         a.oldest_at == b.oldest_at;
}
bool same(const EnrollBeginRequest& a, const EnrollBeginRequest& b)
{
  return a.user == b.user;
}
bool same(const EnrollBeginReply& a, const EnrollBeginReply& b)
{
  return a.secret == b.secret && a.issuer == b.issuer && a.account == b.account &&
         a.algorithm == b.algorithm && a.digits == b.digits && a.period == b.period &&
         a.expires_at == b.expires_at;
}
bool same(const EnrollConfirmRequest& a, const EnrollConfirmRequest& b)
{
  return a.user == b.user && a.code == b.code;
}
bool same(const EnrollConfirmReply& a, const EnrollConfirmReply& b)
{
  return a.result == b.result;
}
// BACKUP_CODES, DISABLE and ENROLL_REPLACE requests: a user and a code.
template <typename Request>
requires requires(Request r)
{
  r.code;
}
bool same(const Request& a, const Request& b)
{
  return a.user == b.user && a.code == b.code;
}
bool same(const BackupCodesReply& a, const BackupCodesReply& b)
{
  if (a.result != b.result || a.retry_after != b.retry_after || a.count != b.count) {
    return false;
  }
  for (std::size_t i = 0; i < a.count; ++i) {
    if (a.codes[i] != b.codes[i]) {
      return false;
    }
  }
  return true;
}
bool same(const DisableReply& a, const DisableReply& b)
{
  return a.result == b.result && a.retry_after == b.retry_after;
}
bool same(const EnrollReplaceReply& a, const EnrollReplaceReply& b)
{
  return a.result == b.result && a.retry_after == b.retry_after && same(a.offer, b.offer);
}
bool same(const AdminListRequest& a, const AdminListRequest& b)
{
  return a.after == b.after;
}
bool same(const AdminListReply& a, const AdminListReply& b)
{
  if (a.count != b.count || a.more != b.more) {
    return false;
  }
  for (std::size_t i = 0; i < a.count; ++i) {
    if (a.entries[i].user != b.entries[i].user || !same(a.entries[i].state, b.entries[i].state)) {
      return false;
    }
  }
  return true;
}
bool same(const AdminDisableRequest& a, const AdminDisableRequest& b)
{
  return a.user == b.user;
}
bool same(const AdminDisableReply& a, const AdminDisableReply& b)
{
  return a.result == b.result;
}
bool same(const AdminUnlockRequest& a, const AdminUnlockRequest& b)
{
  return a.user == b.user;
}
bool same(const AdminUnlockReply& a, const AdminUnlockReply& b)
{
  return a.result == b.result;
}
bool same(const AdminPassRequest& a, const AdminPassRequest& b)
{
  return a.user == b.user && a.duration == b.duration;
}
bool same(const AdminPassReply& a, const AdminPassReply& b)
{
  return a.result == b.result && a.pass_until == b.pass_until;
}
bool same(const AdminLogRequest& a, const AdminLogRequest& b)
{
  return a.user == b.user && a.since == b.since && a.after_id == b.after_id;
}
bool same(const AuditEntry& a, const AuditEntry& b)
{
  return a.id == b.id && a.at == b.at && a.actor_uid == b.actor_uid && a.actor == b.actor &&
         a.action == b.action && a.subject == b.subject && a.service == b.service &&
         a.rhost == b.rhost && a.tty == b.tty && a.outcome == b.outcome && a.detail == b.detail;
}
bool same(const AdminLogReply& a, const AdminLogReply& b)
{
  if (a.count != b.count || a.more != b.more) {
    return false;
  }
  for (std::size_t i = 0; i < a.count; ++i) {
    if (!same(a.entries[i], b.entries[i])) {
      return false;
    }
  }
  return true;
}
bool same(const ImportEntry& a, const ImportEntry& b)
{
  if (a.user != b.user || a.secret != b.secret || a.algorithm != b.algorithm ||
      a.digits != b.digits || a.period != b.period || a.code_count != b.code_count) {
    return false;
  }
  for (std::size_t i = 0; i < a.code_count; ++i) {
    if (a.codes[i] != b.codes[i]) {
      return false;
    }
  }
  return true;
}
bool same(const AdminImportRequest& a, const AdminImportRequest& b)
{
  if (a.replace != b.replace || a.count != b.count) {
    return false;
  }
  for (std::size_t i = 0; i < a.count; ++i) {
    if (!same(a.entries[i], b.entries[i])) {
      return false;
    }
  }
  return true;
}
bool same(const AdminImportReply& a, const AdminImportReply& b)
{
  return a.result == b.result && a.index == b.index;
}
bool same(const PhoneStatusRequest& a, const PhoneStatusRequest& b)
{
  return a.user == b.user;
}
bool same(const PhoneStatusReply& a, const PhoneStatusReply& b)
{
  return a.methods == b.methods && a.number == b.number && a.from_directory == b.from_directory &&
         a.self_enroll == b.self_enroll && a.pending == b.pending;
}
bool same(const SendCodeRequest& a, const SendCodeRequest& b)
{
  return a.user == b.user && a.service == b.service && a.rhost == b.rhost && a.tty == b.tty &&
         a.password == b.password && a.channel == b.channel;
}
bool same(const SendCodeReply& a, const SendCodeReply& b)
{
  return a.result == b.result && a.retry_after == b.retry_after && a.channel == b.channel &&
         a.number == b.number;
}
bool same(const PhoneEnrollRequest& a, const PhoneEnrollRequest& b)
{
  return a.user == b.user && a.number == b.number && a.methods == b.methods && a.code == b.code;
}
bool same(const PhoneEnrollReply& a, const PhoneEnrollReply& b)
{
  return a.result == b.result && a.retry_after == b.retry_after && a.number == b.number &&
         a.expires_at == b.expires_at;
}
bool same(const PhoneRemoveReply& a, const PhoneRemoveReply& b)
{
  return a.result == b.result && a.retry_after == b.retry_after;
}
bool same(const PhoneConfirmReply& a, const PhoneConfirmReply& b)
{
  return a.result == b.result;
}
bool same(const ErrorReply& a, const ErrorReply& b)
{
  return a.code == b.code && a.message == b.message;
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b)
{
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// The messages with entries are decoded in place; a failed decode leaves them with no entries.
template <typename Message>
constexpr bool k_decoded_in_place =
    std::is_same_v<Message, AdminListReply> || std::is_same_v<Message, AdminLogReply> ||
    std::is_same_v<Message, AdminImportRequest> || std::is_same_v<Message, EnrollPromptReply>;

// Decodes `payload` as a Message; when that succeeds, re-encodes and decodes again. A failed
// decode must leave the message as it was (protocol.hpp).
template <typename Message>
void round_trip(std::span<const std::uint8_t> payload, std::uint8_t type)
{
  // Static: some messages hold 64 entries, too big to build on the stack for every call.
  static Message first;
  static Message second;
  first = Message{};
  if (!decode(payload, first)) {
    if constexpr (k_decoded_in_place<Message>) {
      FUZZ_CHECK(first.count == 0, "a failed decode leaves entries");
    } else {
      FUZZ_CHECK(same(first, Message{}), "a failed decode changes the message");
    }
    return;
  }
  static FrameBuffer encoded;
  FUZZ_CHECK(encode(first, encoded), "a decoded message does not encode");
  FUZZ_CHECK(wire::decode_header(encoded) == HeaderStatus::ok, "an encoded frame has a bad header");
  FUZZ_CHECK(encoded.type() == type, "an encoded frame has the wrong type");
  FUZZ_CHECK(same_bytes(encoded.payload(), payload),
             "re-encoding a decoded message gives other bytes");
  second = Message{};
  FUZZ_CHECK(decode(encoded.payload(), second), "a re-encoded message does not decode");
  FUZZ_CHECK(same(first, second), "a message changed in a round trip");
}

std::uint8_t type_byte(MessageType type)
{
  return static_cast<std::uint8_t>(type);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::size_t length = 0;
  if (size >= wire::k_length_size) {
    const std::uint32_t raw = (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
                              (std::uint32_t{data[2]} << 8) | std::uint32_t{data[3]};
    length = wire::decode_length(data);
    const bool in_range = raw >= wire::k_min_body && raw <= wire::k_max_body;
    FUZZ_CHECK(length == (in_range ? raw : 0), "decode_length disagrees with the length prefix");
  }

  FrameBuffer frame;
  const std::size_t frame_size = std::min(size, wire::k_max_frame);
  if (frame_size > 0) {
    std::memcpy(frame.data(), data, frame_size);
  }
  frame.set_size(frame_size);

  const bool well_framed = frame_size >= wire::k_length_size + wire::k_min_body && length != 0 &&
                           length == frame_size - wire::k_length_size;
  const HeaderStatus status = wire::decode_header(frame);
  if (!well_framed) {
    FUZZ_CHECK(status == HeaderStatus::bad_length, "decode_header accepts a badly framed frame");
    if (frame_size < wire::k_length_size + wire::k_min_body) {
      return 0;
    }
  } else if (frame.data()[wire::k_length_size] != wire::k_version) {
    FUZZ_CHECK(status == HeaderStatus::bad_version, "decode_header accepts another version");
  } else {
    FUZZ_CHECK(status == HeaderStatus::ok, "decode_header refuses a well-formed frame");
  }

  // Whatever the header says, every decoder gets the bytes after it: the codec must hold its
  // invariants on any payload, and the fuzzer need not find a valid header first.
  const std::span<const std::uint8_t> payload(frame.data() + wire::k_length_size + wire::k_min_body,
                                              frame_size - wire::k_length_size - wire::k_min_body);
  if (status == HeaderStatus::ok) {
    FUZZ_CHECK(frame.payload().data() == payload.data() && frame.payload().size() == payload.size(),
               "FrameBuffer::payload is not the bytes after the header");
  }

  round_trip<PingRequest>(payload, type_byte(MessageType::ping));
  round_trip<PongReply>(payload, reply_type(MessageType::ping));
  round_trip<StatusRequest>(payload, type_byte(MessageType::status));
  round_trip<StatusReply>(payload, reply_type(MessageType::status));
  round_trip<AuthenticateRequest>(payload, type_byte(MessageType::authenticate));
  round_trip<AuthenticateReply>(payload, reply_type(MessageType::authenticate));
  round_trip<EnrollBeginRequest>(payload, type_byte(MessageType::enroll_begin));
  round_trip<EnrollBeginReply>(payload, reply_type(MessageType::enroll_begin));
  round_trip<EnrollConfirmRequest>(payload, type_byte(MessageType::enroll_confirm));
  round_trip<EnrollConfirmReply>(payload, reply_type(MessageType::enroll_confirm));
  round_trip<BackupCodesRequest>(payload, type_byte(MessageType::backup_codes));
  round_trip<BackupCodesReply>(payload, reply_type(MessageType::backup_codes));
  round_trip<DisableRequest>(payload, type_byte(MessageType::disable));
  round_trip<DisableReply>(payload, reply_type(MessageType::disable));
  round_trip<EnrollReplaceRequest>(payload, type_byte(MessageType::enroll_replace));
  round_trip<EnrollReplaceReply>(payload, reply_type(MessageType::enroll_replace));
  round_trip<AdminListRequest>(payload, type_byte(MessageType::admin_list));
  round_trip<AdminListReply>(payload, reply_type(MessageType::admin_list));
  round_trip<AdminDisableRequest>(payload, type_byte(MessageType::admin_disable));
  round_trip<AdminDisableReply>(payload, reply_type(MessageType::admin_disable));
  round_trip<AdminUnlockRequest>(payload, type_byte(MessageType::admin_unlock));
  round_trip<AdminUnlockReply>(payload, reply_type(MessageType::admin_unlock));
  round_trip<AdminPassRequest>(payload, type_byte(MessageType::admin_pass));
  round_trip<AdminPassReply>(payload, reply_type(MessageType::admin_pass));
  round_trip<AdminLogRequest>(payload, type_byte(MessageType::admin_log));
  round_trip<AdminLogReply>(payload, reply_type(MessageType::admin_log));
  round_trip<AdminImportRequest>(payload, type_byte(MessageType::admin_import));
  round_trip<AdminImportReply>(payload, reply_type(MessageType::admin_import));
  round_trip<EnrollPromptRequest>(payload, type_byte(MessageType::enroll_prompt));
  round_trip<EnrollPromptReply>(payload, reply_type(MessageType::enroll_prompt));
  round_trip<AdminPolicyRequest>(payload, type_byte(MessageType::admin_policy));
  round_trip<AdminPolicyReply>(payload, reply_type(MessageType::admin_policy));
  round_trip<AdminEnforceRequest>(payload, type_byte(MessageType::admin_enforce));
  round_trip<AdminEnforceReply>(payload, reply_type(MessageType::admin_enforce));
  round_trip<AdminRekeyRequest>(payload, type_byte(MessageType::admin_rekey));
  round_trip<AdminRekeyReply>(payload, reply_type(MessageType::admin_rekey));
  round_trip<AdminMigrateRequest>(payload, type_byte(MessageType::admin_migrate));
  round_trip<AdminMigrateReply>(payload, reply_type(MessageType::admin_migrate));
  round_trip<AdminHealthRequest>(payload, type_byte(MessageType::admin_health));
  round_trip<AdminHealthReply>(payload, reply_type(MessageType::admin_health));
  round_trip<PhoneStatusRequest>(payload, type_byte(MessageType::phone_status));
  round_trip<PhoneStatusReply>(payload, reply_type(MessageType::phone_status));
  round_trip<SendCodeRequest>(payload, type_byte(MessageType::send_code));
  round_trip<SendCodeReply>(payload, reply_type(MessageType::send_code));
  round_trip<PhoneEnrollRequest>(payload, type_byte(MessageType::phone_enroll));
  round_trip<PhoneEnrollReply>(payload, reply_type(MessageType::phone_enroll));
  round_trip<PhoneConfirmRequest>(payload, type_byte(MessageType::phone_confirm));
  round_trip<PhoneConfirmReply>(payload, reply_type(MessageType::phone_confirm));
  round_trip<PhoneRemoveRequest>(payload, type_byte(MessageType::phone_remove));
  round_trip<PhoneRemoveReply>(payload, reply_type(MessageType::phone_remove));
  round_trip<ErrorReply>(payload, type_byte(MessageType::error));
  return 0;
}
