// Message types of the studio2fad protocol (PROTOCOL.md is the contract).
//
// Every struct holds string_views into a FrameBuffer: decode() fills them from a frame's
// payload and rejects trailing data; encode() writes one complete frame. Allocation-free, so
// the PAM module can use it.
#pragma once

#include "wire.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace studio2fa::protocol {

enum class MessageType : std::uint8_t {
  ping = 0x01,
  status = 0x02,
  authenticate = 0x03,
  enroll_begin = 0x04,
  enroll_confirm = 0x05,
  backup_codes = 0x06,
  disable = 0x07,
  enroll_replace = 0x08,
  enroll_prompt = 0x09,
  phone_status = 0x0A,
  send_code = 0x0B,
  phone_enroll = 0x0C,
  phone_confirm = 0x0D,
  phone_remove = 0x0E,
  admin_list = 0x10,
  admin_disable = 0x11,
  admin_unlock = 0x12,
  admin_pass = 0x13,
  admin_log = 0x14,
  admin_import = 0x15,
  admin_policy = 0x16,
  admin_enforce = 0x17,
  admin_rekey = 0x18,
  admin_migrate = 0x19,
  admin_health = 0x1A,
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
inline constexpr std::size_t backup_code = 32;
inline constexpr std::size_t reason = 128; // why 2FA is (not) required; an audit detail
inline constexpr std::size_t action = 32;  // audit action and outcome names
inline constexpr std::size_t import_secret = 128;
inline constexpr std::size_t display_line = 512; // one line of ENROLL_PROMPT text
inline constexpr std::size_t dn = 512;           // a directory entry's name
inline constexpr std::size_t phone_input = 40;   // a phone number as typed (phone::k_max_input)
inline constexpr std::size_t masked_phone = 32;  // "••••••4567"
} // namespace limits

inline constexpr std::size_t k_backup_codes_per_set = 10; // also the most a user can have
inline constexpr std::size_t k_max_list_entries = 64;
inline constexpr std::size_t k_max_log_entries = 64;
inline constexpr std::size_t k_max_import_entries = 64;
inline constexpr std::size_t k_max_rekey_records = 64; // records one ADMIN_REKEY goes through
inline constexpr std::size_t k_key_id_text = 16;       // a key id in hex
inline constexpr std::size_t k_max_migrate_records = 512; // records one ADMIN_MIGRATE copies
inline constexpr std::uint32_t k_max_pass_duration = 30 * 24 * 3600;
inline constexpr std::size_t k_max_display_lines = 48;
inline constexpr std::uint32_t k_max_grace_period = 365 * 24 * 3600;

enum class EnrollmentState : std::uint8_t { none = 0, pending = 1, active = 2 };
enum class LockState : std::uint8_t { none = 0, second_factor = 1, account = 2 };
enum class SecondFactor : std::uint8_t { none = 0, totp = 1, backup_code = 2, phone_code = 3 };
enum class AuthMode : std::uint8_t { password_only = 1, password_and_code = 2, code_only = 3 };
enum class AuthResult : std::uint8_t {
  success = 0,
  denied = 1,
  not_enrolled = 2,
  throttled = 3,
  unavailable = 4,
  locked = 5,
  enroll_required = 6,
};
enum class EnrollResult : std::uint8_t {
  confirmed = 0,
  bad_code = 1,
  expired = 2,
  no_pending = 3,
  throttled = 4,
  locked = 5,
};
// The result of a code-proven self-service request (ENROLL_REPLACE, BACKUP_CODES, DISABLE).
enum class CodeResult : std::uint8_t {
  ok = 0,
  bad_code = 1,
  throttled = 2,
  locked = 3,
  not_enrolled = 4,
};
enum class AdminDisableResult : std::uint8_t { disabled = 0, not_enrolled = 1 };
enum class UnlockResult : std::uint8_t { unlocked = 0, not_locked = 1 };
enum class PassResult : std::uint8_t { granted = 0, revoked = 1, no_pass = 2 };
enum class ImportResult : std::uint8_t { imported = 0, already_enrolled = 1, bad_entry = 2 };
enum class PolicyDecision : std::uint8_t { optional = 0, required = 1, exempt = 2, unknown = 3 };
// Where ADMIN_POLICY's answer came from.
enum class PolicySource : std::uint8_t {
  local = 0,       // the user is not in the directory (or none is configured): local settings
  directory = 1,   // asked the directory just now
  cache = 2,       // the cached answer, within policy_cache_ttl
  stale_cache = 3, // the directory could not be reached: the last known answer
  none = 4,        // the directory could not be reached and nothing is cached (fail closed)
};
enum class EnforceAction : std::uint8_t { query = 0, on = 1, off = 2 };
enum class EnforceResult : std::uint8_t { done = 0, refused_not_enrolled = 1 };
// How a code reaches a phone, and the methods bits of PHONE_STATUS.
enum class PhoneChannelChoice : std::uint8_t { any = 0, sms = 1, voice = 2 };
inline constexpr std::uint8_t k_method_app = 1;
inline constexpr std::uint8_t k_method_sms = 2;
inline constexpr std::uint8_t k_method_voice = 4;
enum class SendCodeResult : std::uint8_t {
  sent = 0,        // the gateway took the code
  denied = 1,      // the password was wrong (or missing): nothing sent
  refused = 2,     // a ration refused it: wait retry_after
  failed = 3,      // the gateway failed or did not answer in time: fail closed
  no_phone = 4,    // the subject has no number (or no sender for its methods)
  unavailable = 5, // the daemon could not decide (store error, directory unreachable)
  throttled = 6,   // too many wrong codes: wait retry_after
  locked = 7,
};
enum class PhoneEnrollResult : std::uint8_t {
  sent = 0,        // a confirmation code went to the number: PHONE_CONFIRM next
  bad_number = 1,  // not an E.164 number, or no method
  not_allowed = 2, // phone_self_enroll = no, or the directory supplies the subject's number
  refused = 3,     // a ration refused it: wait retry_after
  failed = 4,      // the gateway failed: nothing to confirm
  bad_code = 5,    // the code proving the present second factor was wrong
  throttled = 6,
  locked = 7,
  no_sender = 8, // no sender is configured for the methods asked for
};
// Which way ADMIN_MIGRATE copies users' records.
enum class MigrateDirection : std::uint8_t { to_directory = 0, to_local = 1 };
// ADMIN_HEALTH: the store the daemon serves, and how a directory store's conditional writes go.
enum class StoreKindCode : std::uint8_t { local = 0, directory = 1 };
enum class WriteCondition : std::uint8_t { unknown = 0, assertion = 1, delete_add = 2 };
enum class ErrorCode : std::uint16_t {
  malformed = 1,
  unsupported_version = 2,
  unknown_type = 3,
  permission_denied = 4,
  already_enrolled = 5,
  internal = 6,
  busy = 7,
};

// Every request struct names its type (k_type) and the struct of its reply (Reply), so that a
// caller can send a request and read its answer without naming either again.
struct PongReply;
struct StatusReply;
struct AuthenticateReply;
struct EnrollBeginReply;
struct EnrollPromptReply;
struct EnrollConfirmReply;
struct BackupCodesReply;
struct DisableReply;
struct EnrollReplaceReply;
struct AdminListReply;
struct AdminDisableReply;
struct AdminUnlockReply;
struct AdminPassReply;
struct AdminLogReply;
struct AdminImportReply;
struct AdminPolicyReply;
struct AdminEnforceReply;
struct AdminRekeyReply;
struct AdminMigrateReply;
struct AdminHealthReply;
struct PhoneStatusReply;
struct SendCodeReply;
struct PhoneEnrollReply;
struct PhoneConfirmReply;
struct PhoneRemoveReply;

struct PingRequest {
  static constexpr MessageType k_type = MessageType::ping;
  using Reply = PongReply;
};
struct PongReply {
  std::uint8_t highest_version = wire::k_version;
};
struct StatusRequest {
  static constexpr MessageType k_type = MessageType::status;
  using Reply = StatusReply;
  std::string_view user;
};
// The account state of STATUS_REPLY and of each ADMIN_LIST entry.
struct StatusReply {
  EnrollmentState state = EnrollmentState::none;
  std::uint64_t enrolled_at = 0;
  std::uint32_t failures = 0;
  std::uint32_t retry_after = 0;
  LockState lock = LockState::none;
  std::uint8_t backup_codes = 0;
  std::uint64_t pass_until = 0;
  std::uint64_t last_login = 0;
  bool replacing = false;
  bool required = false;
  std::uint64_t grace_until = 0;
  std::string_view reason;
};
struct AuthenticateRequest {
  static constexpr MessageType k_type = MessageType::authenticate;
  using Reply = AuthenticateReply;
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
  SecondFactor factor = SecondFactor::none; // with success: what passed as the second factor
  std::uint8_t backup_codes = 0;            // with factor backup_code: how many are left
  // With success in mode 1 or not_enrolled in mode 3: 2FA is required and the subject has until
  // then to enroll; 0 otherwise.
  std::uint64_t grace_until = 0;
};
struct EnrollBeginRequest {
  static constexpr MessageType k_type = MessageType::enroll_begin;
  using Reply = EnrollBeginReply;
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
// Starts an enrollment inside a login: the daemon makes the pending secret (as ENROLL_BEGIN)
// and renders what the user must see (a QR code as text, the key, the otpauth URI), so that the
// PAM module only relays lines and never handles a secret as such.
struct EnrollPromptRequest {
  static constexpr MessageType k_type = MessageType::enroll_prompt;
  using Reply = EnrollPromptReply;
  std::string_view user;
};
struct EnrollPromptReply {
  std::uint64_t expires_at = 0;
  std::uint8_t count = 0;
  std::array<std::string_view, k_max_display_lines> lines{};
};
struct EnrollConfirmRequest {
  static constexpr MessageType k_type = MessageType::enroll_confirm;
  using Reply = EnrollConfirmReply;
  std::string_view user;
  std::string_view code;
};
struct EnrollConfirmReply {
  EnrollResult result = EnrollResult::bad_code;
};

// Code-proven self-service.
struct BackupCodesRequest {
  static constexpr MessageType k_type = MessageType::backup_codes;
  using Reply = BackupCodesReply;
  std::string_view user;
  std::string_view code;
};
struct BackupCodesReply {
  CodeResult result = CodeResult::bad_code;
  std::uint32_t retry_after = 0;
  std::uint8_t count = 0;
  std::array<std::string_view, k_backup_codes_per_set> codes{};
};
struct DisableRequest {
  static constexpr MessageType k_type = MessageType::disable;
  using Reply = DisableReply;
  std::string_view user;
  std::string_view code;
};
struct DisableReply {
  CodeResult result = CodeResult::bad_code;
  std::uint32_t retry_after = 0;
};
struct EnrollReplaceRequest {
  static constexpr MessageType k_type = MessageType::enroll_replace;
  using Reply = EnrollReplaceReply;
  std::string_view user;
  std::string_view code;
};
// With ok, `offer` is a pending secret as from ENROLL_BEGIN; otherwise its fields are empty/0.
struct EnrollReplaceReply {
  CodeResult result = CodeResult::bad_code;
  std::uint32_t retry_after = 0;
  EnrollBeginReply offer{{}, {}, {}, {}, 0, 0, 0};
};

// Codes by text message and voice call.
struct PhoneStatusRequest {
  static constexpr MessageType k_type = MessageType::phone_status;
  using Reply = PhoneStatusReply;
  std::string_view user;
};
struct PhoneStatusReply {
  std::uint8_t methods = 0;    // k_method_* bits of the active factors
  std::string_view number;     // masked; empty without a number
  bool from_directory = false; // the number is the directory's (phone_attribute)
  bool self_enroll = false;    // the subject may register a number itself
  std::uint8_t pending = 0;    // k_method_sms/voice bits of a number waiting for confirmation
};
// A login code sent to the subject's phone: only with the right password, or from root with
// none (the PAM stack's earlier modules checked it).
struct SendCodeRequest {
  static constexpr MessageType k_type = MessageType::send_code;
  using Reply = SendCodeReply;
  std::string_view user;
  std::string_view service;
  std::string_view rhost;
  std::string_view tty;
  std::string_view password;
  PhoneChannelChoice channel = PhoneChannelChoice::any;
};
struct SendCodeReply {
  SendCodeResult result = SendCodeResult::denied;
  std::uint32_t retry_after = 0;
  PhoneChannelChoice channel = PhoneChannelChoice::any; // with sent: sms or voice
  std::string_view number;                              // with sent: masked
};
struct PhoneEnrollRequest {
  static constexpr MessageType k_type = MessageType::phone_enroll;
  using Reply = PhoneEnrollReply;
  std::string_view user;
  std::string_view number;  // as typed
  std::uint8_t methods = 0; // k_method_sms and/or k_method_voice
  std::string_view code;    // proof of the subject's present second factor; empty: none
};
struct PhoneEnrollReply {
  PhoneEnrollResult result = PhoneEnrollResult::bad_number;
  std::uint32_t retry_after = 0;
  std::string_view number;      // masked
  std::uint64_t expires_at = 0; // with sent: when the confirmation code stops working
};
struct PhoneConfirmRequest {
  static constexpr MessageType k_type = MessageType::phone_confirm;
  using Reply = PhoneConfirmReply;
  std::string_view user;
  std::string_view code;
};
struct PhoneConfirmReply {
  EnrollResult result = EnrollResult::bad_code;
};
// Code-proven: the number goes (the app, if any, stays).
struct PhoneRemoveRequest {
  static constexpr MessageType k_type = MessageType::phone_remove;
  using Reply = PhoneRemoveReply;
  std::string_view user;
  std::string_view code;
};
struct PhoneRemoveReply {
  CodeResult result = CodeResult::bad_code;
  std::uint32_t retry_after = 0;
};
// Administration.
struct AccountEntry {
  std::string_view user;
  StatusReply state;
};
struct AdminListRequest {
  static constexpr MessageType k_type = MessageType::admin_list;
  using Reply = AdminListReply;
  std::string_view after; // empty: from the start
};
struct AdminListReply {
  std::uint8_t count = 0;
  std::array<AccountEntry, k_max_list_entries> entries{};
  bool more = false;
};
struct AdminDisableRequest {
  static constexpr MessageType k_type = MessageType::admin_disable;
  using Reply = AdminDisableReply;
  std::string_view user;
};
struct AdminDisableReply {
  AdminDisableResult result = AdminDisableResult::disabled;
};
struct AdminUnlockRequest {
  static constexpr MessageType k_type = MessageType::admin_unlock;
  using Reply = AdminUnlockReply;
  std::string_view user;
};
struct AdminUnlockReply {
  UnlockResult result = UnlockResult::unlocked;
};
struct AdminPassRequest {
  static constexpr MessageType k_type = MessageType::admin_pass;
  using Reply = AdminPassReply;
  std::string_view user;
  std::uint32_t duration = 0; // seconds; 0 revokes
};
struct AdminPassReply {
  PassResult result = PassResult::granted;
  std::uint64_t pass_until = 0;
};
struct AdminLogRequest {
  static constexpr MessageType k_type = MessageType::admin_log;
  using Reply = AdminLogReply;
  std::string_view user; // empty: everyone
  std::uint64_t since = 0;
  std::uint64_t after_id = 0;
};
struct AuditEntry {
  std::uint64_t id = 0;
  std::uint64_t at = 0;
  std::uint32_t actor_uid = 0;
  std::string_view actor;
  std::string_view action;
  std::string_view subject;
  std::string_view service;
  std::string_view rhost;
  std::string_view tty;
  std::string_view outcome;
  std::string_view detail;
};
struct AdminLogReply {
  std::uint8_t count = 0;
  std::array<AuditEntry, k_max_log_entries> entries{};
  bool more = false;
};
struct ImportEntry {
  std::string_view user;
  std::string_view secret; // base32
  std::string_view algorithm;
  std::uint8_t digits = 6;
  std::uint32_t period = 30;
  std::uint8_t code_count = 0;
  std::array<std::string_view, k_backup_codes_per_set> codes{};
};
struct AdminImportRequest {
  static constexpr MessageType k_type = MessageType::admin_import;
  using Reply = AdminImportReply;
  bool replace = false;
  std::uint8_t count = 0;
  std::array<ImportEntry, k_max_import_entries> entries{};
};
struct AdminImportReply {
  ImportResult result = ImportResult::imported;
  std::uint8_t index = 0;
};

struct AdminPolicyRequest {
  static constexpr MessageType k_type = MessageType::admin_policy;
  using Reply = AdminPolicyReply;
  std::string_view user;
};
struct AdminPolicyReply {
  PolicyDecision decision = PolicyDecision::unknown;
  PolicySource source = PolicySource::none;
  std::string_view reason; // which entry (DN) or setting decided, for people
  std::string_view dn;     // the user's own entry; empty when not in the directory
  std::uint64_t fetched_at = 0;  // when the directory was last asked about the user; 0 never
  std::uint64_t grace_until = 0; // while required and not enrolled; 0 otherwise
};
struct AdminEnforceRequest {
  static constexpr MessageType k_type = MessageType::admin_enforce;
  using Reply = AdminEnforceReply;
  EnforceAction action = EnforceAction::query;
  std::uint32_t grace = 0;  // with on: seconds users have to enroll; 0: the configured default
  bool force = false;       // with on: even though the acting admin has no second factor
  std::string_view invoker; // the admin behind root (sudo's SUDO_USER); empty: the peer itself
};
struct AdminEnforceReply {
  EnforceResult result = EnforceResult::done;
  bool enforced = false; // the state after the request
  std::uint32_t grace = 0;
  std::uint64_t since = 0;  // when it was last switched; 0 never
  std::string_view by;      // who switched it
};

// One page of studio2fa-admin rekey: the records after `after`, at most k_max_rekey_records.
struct AdminRekeyRequest {
  static constexpr MessageType k_type = MessageType::admin_rekey;
  using Reply = AdminRekeyReply;
  std::string_view after; // empty: from the start
};
struct AdminRekeyReply {
  std::uint32_t resealed = 0;         // records re-sealed under the current key
  std::uint32_t current = 0;          // records with nothing to re-seal
  std::uint32_t failed = 0;           // records whose secret did not open (see the daemon's log)
  std::uint32_t old_backup_codes = 0; // records with backup codes under an older key
  std::string_view last;              // the last user gone through: the next page's `after`
  bool more = false;                  // there are records after `last`
  std::string_view key_id;            // the current key's id, in hex
};

// One page of studio2fa-admin migrate: the source's records after `after`, at most
// k_max_migrate_records, copied where the destination has none.
struct AdminMigrateRequest {
  static constexpr MessageType k_type = MessageType::admin_migrate;
  using Reply = AdminMigrateReply;
  MigrateDirection direction = MigrateDirection::to_directory;
  std::string_view after; // empty: from the start
};
struct AdminMigrateReply {
  std::uint32_t copied = 0;        // records written to the destination
  std::uint32_t already_there = 0; // users the destination had already: left as they were
  std::uint32_t failed = 0;        // records that could not be written (see the daemon's log)
  std::string_view last;           // the last user gone through: the next page's `after`
  bool more = false;               // there are records after `last`
};

// studio2fa-admin health: the store in use and, for a directory store, its servers.
struct AdminHealthRequest {
  static constexpr MessageType k_type = MessageType::admin_health;
  using Reply = AdminHealthReply;
};
struct AdminHealthReply {
  StoreKindCode store = StoreKindCode::local;
  // The rest is for store = directory only (empty and 0 for local).
  std::string_view write_uri; // the server that takes writes (that answered, or the first)
  bool write_answers = false; // it answered just now
  WriteCondition write_condition = WriteCondition::unknown;
  std::string_view read_uri; // the server reads go to
  bool read_answers = false;
  std::string_view problem;    // why a server did not answer; empty when both did
  bool offline_cached = false; // offline_logins = cached (else deny)
  std::uint32_t offline_cache_age = 0;
  std::uint32_t cached_users = 0; // users whose record this daemon read or wrote there
  std::uint64_t newest_at = 0;    // the latest such read or write (Unix time); 0: none
  std::uint64_t oldest_at = 0;    // the earliest of the users' latest ones; 0: none
};

struct ErrorReply {
  ErrorCode code = ErrorCode::internal;
  std::string_view message;
};

// Bytes an entry takes in its message, so that senders can fill a frame without overflowing
// it: a reply or request holding entries has 2 bytes besides them (count and more/replace).
std::size_t encoded_size(const AccountEntry& entry);
std::size_t encoded_size(const AuditEntry& entry);
std::size_t encoded_size(const ImportEntry& entry);
inline constexpr std::size_t k_entries_budget = wire::k_max_body - wire::k_min_body - 2;

// The name PROTOCOL.md gives a message type: "PING", "ADMIN_IMPORT", ...; "?" for a byte that is
// none. Every request type has one, so its name also tells whether a byte is a request type.
const char* name(MessageType type);

// Short names of results, for logs and the audit trail: "success", "denied", "bad-code", ...
const char* name(AuthResult result);
const char* name(SendCodeResult result);
const char* name(PhoneEnrollResult result);
const char* name(CodeResult result);
const char* name(EnrollResult result);
const char* name(AdminDisableResult result);
const char* name(UnlockResult result);
const char* name(PassResult result);
const char* name(PolicyDecision decision);
const char* name(PolicySource source);

// encode(): writes one whole frame of the message's type; false if it does not fit or a field
// breaks its limit. decode(): reads the payload of a frame whose type the caller already checked;
// false on truncation, over-long fields, out-of-range enums or trailing data. A failed decode
// leaves the message as it was, except that the messages with entries (ADMIN_LIST_REPLY,
// ADMIN_LOG_REPLY, ADMIN_IMPORT) are decoded in place and are left with a count of 0.
bool encode(const PingRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PingRequest& msg);
bool encode(const PongReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PongReply& msg);

bool encode(const StatusRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, StatusRequest& msg);
bool encode(const StatusReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, StatusReply& msg);

bool encode(const PhoneStatusRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneStatusRequest& msg);
bool encode(const PhoneStatusReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneStatusReply& msg);
bool encode(const SendCodeRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, SendCodeRequest& msg);
bool encode(const SendCodeReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, SendCodeReply& msg);
bool encode(const PhoneEnrollRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneEnrollRequest& msg);
bool encode(const PhoneEnrollReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneEnrollReply& msg);
bool encode(const PhoneConfirmRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneConfirmRequest& msg);
bool encode(const PhoneConfirmReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneConfirmReply& msg);
bool encode(const PhoneRemoveRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneRemoveRequest& msg);
bool encode(const PhoneRemoveReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, PhoneRemoveReply& msg);
bool encode(const AuthenticateRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AuthenticateRequest& msg);
bool encode(const AuthenticateReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AuthenticateReply& msg);

bool encode(const EnrollBeginRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollBeginRequest& msg);
bool encode(const EnrollBeginReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollBeginReply& msg);

bool encode(const EnrollConfirmRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollConfirmRequest& msg);
bool encode(const EnrollConfirmReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollConfirmReply& msg);

bool encode(const BackupCodesRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, BackupCodesRequest& msg);
bool encode(const BackupCodesReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, BackupCodesReply& msg);

bool encode(const DisableRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, DisableRequest& msg);
bool encode(const DisableReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, DisableReply& msg);

bool encode(const EnrollReplaceRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollReplaceRequest& msg);
bool encode(const EnrollReplaceReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollReplaceReply& msg);

bool encode(const EnrollPromptRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollPromptRequest& msg);
bool encode(const EnrollPromptReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, EnrollPromptReply& msg);

bool encode(const AdminListRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminListRequest& msg);
bool encode(const AdminListReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminListReply& msg);

bool encode(const AdminDisableRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminDisableRequest& msg);
bool encode(const AdminDisableReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminDisableReply& msg);

bool encode(const AdminUnlockRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminUnlockRequest& msg);
bool encode(const AdminUnlockReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminUnlockReply& msg);

bool encode(const AdminPassRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminPassRequest& msg);
bool encode(const AdminPassReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminPassReply& msg);

bool encode(const AdminLogRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminLogRequest& msg);
bool encode(const AdminLogReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminLogReply& msg);

bool encode(const AdminImportRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminImportRequest& msg);
bool encode(const AdminImportReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminImportReply& msg);

bool encode(const AdminPolicyRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminPolicyRequest& msg);
bool encode(const AdminPolicyReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminPolicyReply& msg);

bool encode(const AdminEnforceRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminEnforceRequest& msg);
bool encode(const AdminEnforceReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminEnforceReply& msg);

bool encode(const AdminRekeyRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminRekeyRequest& msg);
bool encode(const AdminRekeyReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminRekeyReply& msg);

bool encode(const AdminMigrateRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminMigrateRequest& msg);
bool encode(const AdminMigrateReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminMigrateReply& msg);

bool encode(const AdminHealthRequest& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminHealthRequest& msg);
bool encode(const AdminHealthReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, AdminHealthReply& msg);

bool encode(const ErrorReply& msg, wire::FrameBuffer& out);
bool decode(std::span<const std::uint8_t> payload, ErrorReply& msg);

} // namespace studio2fa::protocol
