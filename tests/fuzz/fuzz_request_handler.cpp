// libFuzzer target: the daemon's RequestHandler::handle end to end, over a real Authenticator,
// Sealer and SqliteStore (in a temporary directory), with a stand-in password check and a
// fixed clock.
//
// Input: one byte choosing the peer (low bit: uid 0 or uid 1000), then the request frame.
//
// Beyond "no crash", for every input:
// - the reply is a whole frame with a valid header, of the request's reply type or ERROR;
//   an ERROR decodes as ErrorReply and any other reply as its message type;
// - a peer other than root gets nothing but ERROR about an account whose passwd entry does not
//   carry its uid (PROTOCOL.md, "Authorisation"; checked here with getpwnam_r on its own);
// - a peer other than root (there is no admin_group) gets only ERROR to ADMIN_* requests;
// - an AUTHENTICATE success or a confirmed enrollment obeys PROTOCOL.md's rules, as far as
//   they show in the subject's record before and after (check_authentication_success).
//
// The database holds fixtures (k_fixtures) so that inputs reach the deep paths: a right code
// or backup code for an enrolled user, confirming a pending enrollment, a throttled, a locked
// and an expired one. The
// seed corpus (make_corpus.py) carries requests with the codes of these secrets at k_now. After
// each input its subjects' records are put back as they were, so every input meets the same
// accounts and a crash reproduces from its input alone.
#include "account_admin.hpp"
#include "authenticator.hpp"
#include "backup_codes.hpp"
#include "check.hpp"
#include "clock.hpp"
#include "log.hpp"
#include "password_checker.hpp"
#include "policy.hpp"
#include "protocol.hpp"
#include "request_handler.hpp"
#include "sealer.hpp"
#include "secret_bytes.hpp"
#include "sqlite_store.hpp"
#include "wire.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <pwd.h>
#include <span>
#include <stdlib.h>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace studio2fa;
using namespace studio2fa::protocol;
using wire::FrameBuffer;

// 2023-11-14T22:13:20Z: time step 56666666 of 30 s. make_corpus.py uses the same.
constexpr std::int64_t k_now = 1700000000;
constexpr uid_t k_user_peer = 1000;
constexpr std::string_view k_password = "fuzz-password";

// Every account has the same password, so the fuzzer can find it in the seeds; the password
// "unreachable" stands for a directory that does not answer.
class FixedPasswordChecker final : public PasswordChecker {
public:
  PasswordVerdict check(std::string_view, std::string_view password) override
  {
    if (password == "unreachable") {
      return PasswordVerdict::unavailable;
    }
    return password == k_password ? PasswordVerdict::match : PasswordVerdict::mismatch;
  }
};

// The purposes the TOTP factor seals under (daemon/auth/totp_factor.cpp). If they change, the
// fixtures no longer open and those paths answer "unavailable": coverage drops, nothing breaks.
constexpr std::string_view k_purpose_active = "totp";
constexpr std::string_view k_purpose_pending = "pending";

struct Fixture {
  const char* user;
  const char* secret; // raw key bytes (20), as in make_corpus.py
  bool active;        // else pending
  std::int64_t created_at;
  std::uint32_t failures;
  std::int64_t last_failure_at;
  LockState lock;
  bool backup_codes; // k_backup_codes, else none
};

// alice: enrolled with backup codes, right code accepted; bob: pending, confirmable; carol:
// enrolled and throttled (9 failures, the last one a second ago); erin: pending but expired;
// heidi: enrolled, account locked. None of them has a passwd entry; "daemon" has one on every
// Debian system, so ENROLL_BEGIN reaches "already enrolled".
constexpr Fixture k_fixtures[] = {
    {"alice", "12345678901234567890", true, k_now - 86400, 0, 0, LockState::none, true},
    {"bob", "bob-secret-012345678", false, k_now - 60, 0, 0, LockState::none, false},
    {"carol", "carol-secret-0123456", true, k_now - 86400, 9, k_now - 1, LockState::none, false},
    {"erin", "erin-secret-01234567", false, k_now - 3600, 0, 0, LockState::none, false},
    {"heidi", "heidi-secret-0123456", true, k_now - 86400, 20, k_now - 60, LockState::account,
     true},
    {"daemon", "daemon-secret-012345", true, k_now - 86400, 0, 0, LockState::none, false},
};
constexpr const char* k_backup_codes[] = {"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ01", "2345-6789-ABCD"};

// The fixed master key; which key it is does not matter, only that it stays the same.
constexpr std::uint8_t k_master_key[32] = {
    0x5f, 0x1e, 0x3a, 0x92, 0xc4, 0x07, 0x6b, 0xd8, 0x21, 0x99, 0xae, 0x40, 0x73, 0x0c, 0xe5, 0x1b,
    0x84, 0x2f, 0xd6, 0x58, 0x3d, 0xb0, 0x6a, 0x17, 0xf2, 0x49, 0x0e, 0xc1, 0x95, 0x7a, 0x23, 0xee,
};

struct World {
  std::string directory;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Sealer> sealer;
  ManualClock clock{k_now};
  FixedPasswordChecker passwords;
  std::unique_ptr<BackupCodeHasher> backup_codes;
  // No directory: the local rules and the global switch, which ADMIN_ENFORCE may turn on.
  std::unique_ptr<PolicyResolver> policy;
  std::unique_ptr<AccountLedger> ledger;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<AccountAdmin> admin;
  std::unique_ptr<RequestHandler> handler;
};

World* g_world = nullptr;

void remove_directory()
{
  if (g_world != nullptr && !g_world->directory.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(g_world->directory, ignored);
  }
}

[[noreturn]] void setup_failed(const std::string& what)
{
  std::fprintf(stdout, "fuzz_request_handler: set-up failed: %s\n", what.c_str());
  std::fflush(stdout);
  std::abort();
}

UserRecord fixture_record(const Fixture& fixture, const Sealer& sealer,
                          const BackupCodeHasher& hasher)
{
  const auto* key = reinterpret_cast<const std::uint8_t*>(fixture.secret);
  const std::span<const std::uint8_t> secret(key, std::strlen(fixture.secret));
  auto sealed =
      sealer.seal(secret, fixture.user, fixture.active ? k_purpose_active : k_purpose_pending);
  if (!sealed) {
    setup_failed(sealed.error().message);
  }
  UserRecord record;
  record.user = fixture.user;
  if (fixture.active) {
    record.sealed_secret = std::move(*sealed);
    record.enrolled_at = fixture.created_at;
  } else {
    record.pending_secret = std::move(*sealed);
    record.pending_created_at = fixture.created_at;
  }
  record.failures = fixture.failures;
  record.last_failure_at = fixture.last_failure_at;
  record.lock = fixture.lock;
  record.locked_at = fixture.lock != LockState::none ? fixture.last_failure_at : 0;
  if (fixture.backup_codes) {
    for (const char* code : k_backup_codes) {
      auto hash = hasher.hash(fixture.user, code);
      if (!hash) {
        setup_failed(std::string("not a backup code: ") + code);
      }
      record.backup_codes.push_back(*hash);
    }
  }
  return record;
}

bool is_admin_request(MessageType type)
{
  switch (type) {
  case MessageType::admin_list:
  case MessageType::admin_disable:
  case MessageType::admin_unlock:
  case MessageType::admin_pass:
  case MessageType::admin_log:
  case MessageType::admin_import:
  case MessageType::admin_policy:
  case MessageType::admin_enforce:
  case MessageType::admin_rekey:
  case MessageType::admin_migrate:
  case MessageType::admin_health:
    return true;
  default:
    return false;
  }
}

// The accounts a request is about (its subjects: the `user` field, or each entry's of
// ADMIN_IMPORT), read the way the handler reads them. None for PING, ADMIN_LIST, and frames the
// handler refuses before looking at them.
std::vector<std::string> subjects_of(const FrameBuffer& request)
{
  if (wire::decode_header(request) != wire::HeaderStatus::ok) {
    return {};
  }
  const auto type = static_cast<MessageType>(request.type());
  if (type == MessageType::admin_import) {
    static AdminImportRequest import;
    std::vector<std::string> users;
    if (decode(request.payload(), import)) {
      for (std::size_t i = 0; i < import.count; ++i) {
        users.emplace_back(import.entries[i].user);
      }
    }
    return users;
  }
  if (type == MessageType::ping || type == MessageType::admin_list ||
      type == MessageType::admin_enforce || type == MessageType::admin_rekey ||
      type == MessageType::admin_migrate || type == MessageType::admin_health) {
    return {};
  }
  // Every other request starts with its subject.
  wire::Reader reader(request.payload());
  std::string_view user;
  if (!reader.str(user, limits::user)) {
    return {};
  }
  return {std::string(user)};
}

std::optional<UserRecord> load(const std::string& user)
{
  auto loaded = g_world->store->load(user);
  FUZZ_CHECK(loaded.has_value(), "the store cannot load a record");
  return std::move(*loaded);
}

bool same(const totp::Parameters& a, const totp::Parameters& b)
{
  return a.algorithm == b.algorithm && a.digits == b.digits && a.period == b.period;
}

// Every field of UserRecord (user_record.hpp) but its revision; keep in step with it. A field left out here only
// costs reproducibility: a change to it alone would not be undone after the input.
bool same(const std::optional<UserRecord>& a, const std::optional<UserRecord>& b)
{
  if (!a || !b) {
    return !a && !b;
  }
  return a->user == b->user && a->sealed_secret == b->sealed_secret && same(a->params, b->params) &&
         a->enrolled_at == b->enrolled_at && a->last_step == b->last_step &&
         a->failures == b->failures && a->last_failure_at == b->last_failure_at &&
         a->pending_secret == b->pending_secret && same(a->pending_params, b->pending_params) &&
         a->pending_created_at == b->pending_created_at && a->backup_codes == b->backup_codes &&
         a->backup_failures == b->backup_failures && a->lock == b->lock &&
         a->locked_at == b->locked_at && a->pass_until == b->pass_until &&
         a->last_login_at == b->last_login_at;
}

// Puts `user`'s record back as it was before the request, if the request changed it.
void restore(const std::string& user, const std::optional<UserRecord>& before,
             const std::optional<UserRecord>& after)
{
  if (same(before, after)) {
    return;
  }
  if (before) {
    // Over whatever the request left: the stored revision, or none.
    UserRecord restored = *before;
    restored.revision = after ? after->revision : 0;
    FUZZ_CHECK(g_world->store->save(restored).has_value(), "the store cannot save a record");
  } else {
    FUZZ_CHECK(g_world->store->remove(user).has_value(), "the store cannot remove a record");
  }
}

bool account_has_uid(const std::string& user, uid_t uid)
{
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* result = nullptr;
  return getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &result) == 0 &&
         result != nullptr && pw.pw_uid == uid;
}

template <typename Message> bool decodes_as(const FrameBuffer& reply)
{
  Message msg;
  return decode(reply.payload(), msg);
}

// Whether `reply` decodes as the reply to a request of `request_type` (false for a type that
// has no reply).
bool reply_decodes(const FrameBuffer& reply, MessageType request_type)
{
  switch (request_type) {
  case MessageType::ping:
    return decodes_as<PongReply>(reply);
  case MessageType::status:
    return decodes_as<StatusReply>(reply);
  case MessageType::authenticate:
    return decodes_as<AuthenticateReply>(reply);
  case MessageType::enroll_begin:
    return decodes_as<EnrollBeginReply>(reply);
  case MessageType::enroll_confirm:
    return decodes_as<EnrollConfirmReply>(reply);
  case MessageType::backup_codes:
    return decodes_as<BackupCodesReply>(reply);
  case MessageType::disable:
    return decodes_as<DisableReply>(reply);
  case MessageType::enroll_replace:
    return decodes_as<EnrollReplaceReply>(reply);
  case MessageType::admin_list:
    return decodes_as<AdminListReply>(reply);
  case MessageType::admin_disable:
    return decodes_as<AdminDisableReply>(reply);
  case MessageType::admin_unlock:
    return decodes_as<AdminUnlockReply>(reply);
  case MessageType::admin_pass:
    return decodes_as<AdminPassReply>(reply);
  case MessageType::admin_log:
    return decodes_as<AdminLogReply>(reply);
  case MessageType::admin_import:
    return decodes_as<AdminImportReply>(reply);
  case MessageType::enroll_prompt:
    return decodes_as<EnrollPromptReply>(reply);
  case MessageType::admin_policy:
    return decodes_as<AdminPolicyReply>(reply);
  case MessageType::admin_enforce:
    return decodes_as<AdminEnforceReply>(reply);
  case MessageType::admin_rekey:
    return decodes_as<AdminRekeyReply>(reply);
  case MessageType::admin_migrate:
    return decodes_as<AdminMigrateReply>(reply);
  case MessageType::admin_health:
    return decodes_as<AdminHealthReply>(reply);
  case MessageType::phone_status:
    return decodes_as<PhoneStatusReply>(reply);
  case MessageType::send_code:
    return decodes_as<SendCodeReply>(reply);
  case MessageType::phone_enroll:
    return decodes_as<PhoneEnrollReply>(reply);
  case MessageType::phone_confirm:
    return decodes_as<PhoneConfirmReply>(reply);
  case MessageType::phone_remove:
    return decodes_as<PhoneRemoveReply>(reply);
  case MessageType::error:
    break;
  }
  return false;
}

bool enrolled(const std::optional<UserRecord>& record)
{
  return record && record->enrolled();
}

// PROTOCOL.md's rules for AUTHENTICATE, checked on the outcome of a request that got
// AUTH_REPLY success: the factors the mode asks for were given; an enrolled subject never
// passes on the password alone; nothing passes while locked or throttled (the shortest wait is
// throttle_base, with the Authenticator's default settings); and what the code used up is gone
// from disk when success is sent: a TOTP code's step (a later one than any used before), or the
// backup code.
void check_authentication_success(const FrameBuffer& request, const AuthenticateReply& outcome,
                                  const std::optional<UserRecord>& before,
                                  const std::optional<UserRecord>& after)
{
  AuthenticateRequest msg;
  FUZZ_CHECK(decode(request.payload(), msg), "success for a request that does not decode");
  const AuthenticatorSettings settings;
  if (msg.mode != AuthMode::code_only) {
    FUZZ_CHECK(msg.password == k_password, "success without the password");
  }
  if (msg.mode == AuthMode::password_only) {
    FUZZ_CHECK(!enrolled(before), "an enrolled subject passed on the password alone");
    FUZZ_CHECK(!before || before->lock != LockState::account, "success on a locked account");
    FUZZ_CHECK(outcome.factor == SecondFactor::none, "a second factor in a password-only login");
    return;
  }
  FUZZ_CHECK(enrolled(before), "success with a code for a subject that is not enrolled");
  FUZZ_CHECK(before->lock == LockState::none, "success while locked");
  FUZZ_CHECK(before->failures < settings.throttle_after ||
                 k_now >= before->last_failure_at + settings.throttle_base,
             "success while throttled");
  FUZZ_CHECK(enrolled(after) && after->failures == 0,
             "success without resetting the failure count");
  if (outcome.factor == SecondFactor::backup_code) {
    FUZZ_CHECK(after->backup_codes.size() + 1 == before->backup_codes.size() &&
                   outcome.backup_codes == after->backup_codes.size(),
               "success with a backup code that was not used up");
  } else {
    FUZZ_CHECK(after->last_step > before->last_step,
               "success without committing a later step (replay guard)");
  }
}

// ENROLL_RESULT confirmed: the pending secret became the active one.
void check_enrollment_confirmed(const std::optional<UserRecord>& before,
                                const std::optional<UserRecord>& after)
{
  FUZZ_CHECK(before && before->has_pending(), "confirmed without a pending enrollment");
  FUZZ_CHECK(enrolled(after) && !after->has_pending() && after->last_step > 0,
             "confirmed, but the secret is not active with its step used");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
  // The handler logs every request; run_fuzz.sh silences it with -close_fd_mask=2.
  log::init(true, false);

  g_world = new World;
  char directory[] = "/tmp/studio2fa-fuzz.XXXXXX";
  if (mkdtemp(directory) == nullptr) {
    setup_failed("mkdtemp failed");
  }
  g_world->directory = directory;
  std::atexit(remove_directory);

  auto store = SqliteStore::open(g_world->directory + "/studio2fa.db");
  if (!store) {
    setup_failed(store.error().message);
  }
  g_world->store = std::move(*store);
  auto sealer = Sealer::create(SecretBytes(std::span<const std::uint8_t>(k_master_key)));
  if (!sealer) {
    setup_failed(sealer.error().message);
  }
  g_world->sealer = std::make_unique<Sealer>(std::move(*sealer));
  auto hasher = BackupCodeHasher::create(k_master_key);
  if (!hasher) {
    setup_failed(hasher.error().message);
  }
  g_world->backup_codes = std::make_unique<BackupCodeHasher>(std::move(*hasher));
  for (const Fixture& fixture : k_fixtures) {
    if (!g_world->store->save(fixture_record(fixture, *g_world->sealer, *g_world->backup_codes))) {
      setup_failed(std::string("cannot save the fixture for ") + fixture.user);
    }
  }
  g_world->policy = std::make_unique<PolicyResolver>(*g_world->store, nullptr, g_world->clock,
                                                     PolicySettings{});
  if (!g_world->policy->load()) {
    setup_failed("cannot load the global enforcement switch");
  }
  g_world->ledger = std::make_unique<AccountLedger>(*g_world->store, g_world->clock,
                                                    365 * 86400 /* audit_retention's default */);
  g_world->authenticator =
      std::make_unique<Authenticator>(*g_world->ledger, *g_world->sealer, *g_world->backup_codes,
                                      g_world->passwords, AuthenticatorSettings{},
                                      g_world->policy.get());
  g_world->admin = std::make_unique<AccountAdmin>(*g_world->ledger, *g_world->authenticator);
  // No admin_group: only root may send ADMIN_* (checked below).
  g_world->handler = std::make_unique<RequestHandler>(*g_world->authenticator, *g_world->admin,
                                                      HandlerSettings{"Fuzz Studio", "", nullptr});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 1) {
    return 0;
  }
  PeerCredentials peer;
  peer.pid = 4242;
  peer.uid = (data[0] & 1) != 0 ? k_user_peer : 0;
  peer.gid = peer.uid;

  FrameBuffer request;
  const std::size_t frame_size = std::min(size - 1, wire::k_max_frame);
  if (frame_size > 0) {
    std::memcpy(request.data(), data + 1, frame_size);
  }
  request.set_size(frame_size);

  const std::vector<std::string> subjects = subjects_of(request);
  std::vector<std::optional<UserRecord>> before;
  for (const std::string& subject : subjects) {
    before.push_back(load(subject));
  }

  FrameBuffer reply;
  g_world->handler->handle(request, peer, reply);

  FUZZ_CHECK(wire::decode_header(reply) == wire::HeaderStatus::ok,
             "the reply is not a well-formed frame");
  const std::uint8_t type = reply.type();
  if (type == static_cast<std::uint8_t>(MessageType::error)) {
    FUZZ_CHECK(decodes_as<ErrorReply>(reply), "an ERROR reply does not decode");
  } else {
    const auto request_type = static_cast<MessageType>(request.type());
    FUZZ_CHECK(wire::decode_header(request) == wire::HeaderStatus::ok &&
                   request.type() < k_reply_bit && type == reply_type(request_type),
               "the reply is neither ERROR nor the request's reply type");
    FUZZ_CHECK(reply_decodes(reply, request_type), "the reply does not decode as its type");
    // Authorisation (PROTOCOL.md): the handler has no admin_group, so uid 1000 may only act for
    // the account with its uid, and never send ADMIN_*.
    if (peer.uid != 0) {
      FUZZ_CHECK(!is_admin_request(request_type), "a peer that is not an admin was answered");
      for (const std::string& subject : subjects) {
        FUZZ_CHECK(account_has_uid(subject, peer.uid),
                   "a non-root peer was answered about another account");
      }
    }
  }

  for (std::size_t i = 0; i < subjects.size(); ++i) {
    const std::optional<UserRecord> after = load(subjects[i]);
    if (type == reply_type(MessageType::authenticate)) {
      AuthenticateReply outcome;
      if (decode(reply.payload(), outcome) && outcome.result == AuthResult::success) {
        check_authentication_success(request, outcome, before[i], after);
      }
    } else if (type == reply_type(MessageType::enroll_confirm)) {
      EnrollConfirmReply outcome;
      if (decode(reply.payload(), outcome) && outcome.result == EnrollResult::confirmed) {
        check_enrollment_confirmed(before[i], after);
      }
    }
    restore(subjects[i], before[i], after);
  }
  return 0;
}
