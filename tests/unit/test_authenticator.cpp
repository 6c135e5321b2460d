// Authenticator (daemon/authenticator): enrollment life cycle, login decisions, replay guard and
// throttling, over a real SqliteStore and Sealer, with a set clock and a fake password checker.
//
// Expected codes come from a small RFC 6238 implementation in this file (OpenSSL HMAC()
// directly), not from lib/totp, so that a bug there cannot hide here.
#include "account_admin.hpp"
#include "authenticator.hpp"
#include "base32.hpp"
#include "sealer.hpp"
#include "sqlite_store.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>
#include <string>
#include <vector>

using namespace studio2fa;
using protocol::AuthMode;
using protocol::AuthResult;
using protocol::EnrollmentState;
using protocol::CodeResult;
using protocol::EnrollResult;
using protocol::LockState;

namespace {

using Bytes = std::vector<std::uint8_t>;

// The peer of every request in these tests: root, as the PAM module runs in sshd.
const Requester k_who{0, "root", "test", "", ""};

// 30 * 56'666'667 + 5: five seconds into a time step.
constexpr std::int64_t k_start_time = 1'700'000'015;

// Only alice, with the password "right"; nothing at all while `unreachable` (a directory that
// holds the password and does not answer).
class TestPasswords final : public PasswordChecker {
public:
  PasswordVerdict check(std::string_view user, std::string_view password) override
  {
    ++calls;
    if (unreachable) {
      return PasswordVerdict::unavailable;
    }
    return user == "alice" && password == "right" ? PasswordVerdict::match
                                                  : PasswordVerdict::mismatch;
  }
  unsigned calls = 0;
  bool unreachable = false;
};

// --- reference TOTP (RFC 6238 with T0 = 0) --------------------------------------------------

std::string reference_code(const Bytes& key, std::uint64_t step, const totp::Parameters& params)
{
  const EVP_MD* md = params.algorithm == totp::Algorithm::sha1     ? EVP_sha1()
                     : params.algorithm == totp::Algorithm::sha256 ? EVP_sha256()
                                                                   : EVP_sha512();
  unsigned char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(step & 0xff);
    step >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), message, sizeof(message), mac,
           &mac_length) == nullptr) {
    fail_msg("HMAC failed");
  }
  const unsigned offset = mac[mac_length - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (unsigned i = 0; i < params.digits; ++i) {
    modulus *= 10;
  }
  char text[16];
  std::snprintf(text, sizeof(text), "%0*u", static_cast<int>(params.digits), binary % modulus);
  return text;
}

// --- fixture ----------------------------------------------------------------------------------

AuthenticatorSettings test_settings()
{
  AuthenticatorSettings settings;
  settings.new_enrollment = {totp::Algorithm::sha1, 6, 30};
  settings.window = 1;
  settings.enroll_timeout = 600;
  settings.throttle_after = 3;
  settings.throttle_base = 2;
  settings.throttle_max = 900;
  return settings;
}

struct Fixture {
  std::string dir;
  std::string db_path;
  std::unique_ptr<SqliteStore> store;
  std::optional<Sealer> sealer;
  std::optional<BackupCodeHasher> hasher;
  ManualClock clock{k_start_time};
  TestPasswords passwords;
  AuthenticatorSettings settings = test_settings();
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<AccountAdmin> admin;

  void open_store()
  {
    auto opened = SqliteStore::open(db_path);
    if (!opened) {
      fail_msg("cannot open %s: %s", db_path.c_str(), opened.error().message.c_str());
    }
    store = std::move(*opened);
  }

  // A new Authenticator with `settings`, over the same store.
  void reconfigure(const AuthenticatorSettings& new_settings)
  {
    settings = new_settings;
    admin.reset();
    auth = std::make_unique<Authenticator>(*store, *sealer, *hasher, passwords, clock, settings);
    admin = std::make_unique<AccountAdmin>(*auth);
  }

  // As after a daemon restart: everything in memory is gone, the database is reopened.
  void restart()
  {
    admin.reset();
    auth.reset();
    store.reset();
    open_store();
    reconfigure(settings);
  }

  std::uint64_t step_now() const
  {
    return static_cast<std::uint64_t>(clock.now()) / settings.new_enrollment.period;
  }
};

int setup(void** state)
{
  char templ[] = "/tmp/studio2fa-auth-test.XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  auto created = std::make_unique<Fixture>();
  created->dir = templ;
  created->db_path = created->dir + "/studio2fa.db";
  auto store = SqliteStore::open(created->db_path);
  if (!store) {
    return -1;
  }
  created->store = std::move(*store);
  SecretBytes key(32);
  if (!random_bytes({key.data(), key.size()})) {
    return -1;
  }
  auto hasher = BackupCodeHasher::create(key.span());
  if (!hasher) {
    return -1;
  }
  created->hasher.emplace(std::move(*hasher));
  auto sealer = Sealer::create(std::move(key));
  if (!sealer) {
    return -1;
  }
  created->sealer.emplace(std::move(*sealer));
  created->reconfigure(test_settings());
  *state = created.release();
  return 0;
}

int teardown(void** state)
{
  auto* done = static_cast<Fixture*>(*state);
  const std::string dir = done->dir;
  delete done;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}

Fixture& fixture(void** state)
{
  return *static_cast<Fixture*>(*state);
}

// --- helpers ----------------------------------------------------------------------------------

const char* result_name(EnrollResult result)
{
  switch (result) {
  case EnrollResult::confirmed:
    return "confirmed";
  case EnrollResult::bad_code:
    return "bad_code";
  case EnrollResult::expired:
    return "expired";
  case EnrollResult::no_pending:
    return "no_pending";
  case EnrollResult::throttled:
    return "throttled";
  case EnrollResult::locked:
    return "locked";
  }
  return "?";
}

#define assert_auth(outcome, expected)                                                             \
  do {                                                                                             \
    const AuthOutcome assert_auth_outcome_ = (outcome);                                            \
    if (assert_auth_outcome_.result != (expected)) {                                               \
      fail_msg("got %s (%s), expected %s", protocol::name(assert_auth_outcome_.result),            \
               assert_auth_outcome_.reason, protocol::name(expected));                             \
    }                                                                                              \
  } while (0)

EnrollOutcome confirm(Fixture& f, std::string_view user, const std::string& code)
{
  auto outcome = f.auth->confirm_enrollment(user, code, k_who);
  if (!outcome) {
    fail_msg("confirm_enrollment: %s", outcome.error().message.c_str());
  }
  return *outcome;
}

#define assert_confirm(f, user, code, expected)                                                    \
  do {                                                                                             \
    const EnrollOutcome assert_confirm_outcome_ = confirm((f), (user), (code));                    \
    if (assert_confirm_outcome_.result != (expected)) {                                            \
      fail_msg("confirm got %s, expected %s", result_name(assert_confirm_outcome_.result),         \
               result_name(expected));                                                             \
    }                                                                                              \
  } while (0)

UserStatus status_of(Fixture& f, std::string_view user)
{
  auto status = f.auth->status(user);
  if (!status) {
    fail_msg("status: %s", status.error().message.c_str());
  }
  return *status;
}

Bytes begin(Fixture& f, std::string_view user)
{
  auto offer = f.auth->begin_enrollment(user, k_who);
  if (!offer) {
    fail_msg("begin_enrollment: %s", offer.error().message.c_str());
  }
  return Bytes(offer->secret.data(), offer->secret.data() + offer->secret.size());
}

// The code of `secret` for the time step `offset` steps from now.
std::string code_for(Fixture& f, const Bytes& secret, std::int64_t offset = 0)
{
  return reference_code(secret, f.step_now() + static_cast<std::uint64_t>(offset),
                        f.settings.new_enrollment);
}

// A well-formed code that is wrong for every step the window accepts now.
std::string wrong_code(Fixture& f, const Bytes& secret)
{
  const std::string right[] = {code_for(f, secret, -1), code_for(f, secret, 0),
                               code_for(f, secret, 1)};
  std::uint32_t value = static_cast<std::uint32_t>(std::stoul(right[1]));
  for (;;) {
    value = (value + 1) % 1'000'000;
    char text[8];
    std::snprintf(text, sizeof(text), "%06u", value);
    if (std::find(std::begin(right), std::end(right), text) == std::end(right)) {
      return text;
    }
  }
}

// Enrolls `user` now (the confirming code uses up the current step) and returns the secret.
Bytes enroll(Fixture& f, std::string_view user)
{
  const Bytes secret = begin(f, user);
  assert_confirm(f, user, code_for(f, secret), EnrollResult::confirmed);
  return secret;
}

// Enrolls alice, then moves the clock to the next step so that its code is fresh.
Bytes enroll_alice(Fixture& f)
{
  const Bytes secret = enroll(f, "alice");
  f.clock.advance(30);
  return secret;
}

AuthOutcome login(Fixture& f, const std::string& code, std::string_view password = "right")
{
  return f.auth->authenticate("alice", AuthMode::password_and_code, password, code, k_who);
}

UserRecord stored(Fixture& f, std::string_view user)
{
  auto loaded = f.store->load(user);
  assert_true(loaded.has_value());
  assert_true(loaded->has_value());
  return std::move(**loaded);
}

// --- status and enrollment --------------------------------------------------------------------

void test_status_unknown_user(void** state)
{
  Fixture& f = fixture(state);
  const UserStatus status = status_of(f, "nobody");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_int_equal(status.enrolled_at, 0);
  assert_int_equal(status.failures, 0);
  assert_int_equal(status.retry_after, 0);
  // Asking does not create a record.
  auto loaded = f.store->load("nobody");
  assert_true(loaded.has_value());
  assert_false(loaded->has_value());
}

void test_begin_enrollment(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.new_enrollment = {totp::Algorithm::sha256, 8, 60};
  f.reconfigure(settings);

  auto offer = f.auth->begin_enrollment("alice", k_who);
  assert_true(offer.has_value());
  assert_int_equal(offer->secret.size(), 20);
  assert_int_equal(static_cast<int>(offer->params.algorithm),
                   static_cast<int>(totp::Algorithm::sha256));
  assert_int_equal(offer->params.digits, 8);
  assert_int_equal(offer->params.period, 60);
  assert_int_equal(offer->expires_at, k_start_time + 600);

  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::pending));
  assert_int_equal(status.enrolled_at, 0);

  // Stored sealed, never in the clear.
  const UserRecord record = stored(f, "alice");
  assert_true(record.has_pending());
  assert_false(record.enrolled());
  assert_int_equal(record.pending_created_at, k_start_time);
  const Bytes secret(offer->secret.data(), offer->secret.data() + offer->secret.size());
  assert_true(std::search(record.pending_secret.begin(), record.pending_secret.end(),
                          secret.begin(), secret.end()) == record.pending_secret.end());

  // Two offers never share a secret.
  auto other = f.auth->begin_enrollment("bob", k_who);
  assert_true(other.has_value());
  assert_false(constant_time_equal(offer->secret.span(), other->secret.span()));

  // The enrollment's parameters are the ones codes are checked with.
  const std::string code = reference_code(secret, static_cast<std::uint64_t>(k_start_time) / 60,
                                          settings.new_enrollment);
  assert_int_equal(code.size(), 8);
  assert_confirm(f, "alice", code, EnrollResult::confirmed);
  const UserRecord active = stored(f, "alice");
  assert_int_equal(static_cast<int>(active.params.algorithm),
                   static_cast<int>(totp::Algorithm::sha256));
  assert_int_equal(active.params.digits, 8);
  assert_int_equal(active.params.period, 60);
}

void test_pending_never_authenticates(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  const std::string code = code_for(f, secret);

  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code, k_who),
              AuthResult::not_enrolled);
  assert_auth(login(f, code), AuthResult::denied);

  // Nothing was consumed or counted: the same code still confirms.
  assert_int_equal(status_of(f, "alice").failures, 0);
  assert_confirm(f, "alice", code, EnrollResult::confirmed);
}

void test_confirm_wrong_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");

  assert_confirm(f, "alice", wrong_code(f, secret), EnrollResult::bad_code);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 1);
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::pending));

  assert_confirm(f, "alice", "abcdef", EnrollResult::bad_code);
  assert_int_equal(status_of(f, "alice").failures, 2);

  // A right code confirms and resets the count.
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::confirmed);
  status = status_of(f, "alice");
  assert_int_equal(status.failures, 0);
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::active));
}

void test_confirm_right_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  f.clock.advance(100);
  const std::int64_t confirmed_at = f.clock.now();
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::confirmed);

  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::active));
  assert_int_equal(status.enrolled_at, confirmed_at);
  assert_int_equal(status.failures, 0);

  const UserRecord record = stored(f, "alice");
  assert_true(record.enrolled());
  assert_false(record.has_pending());
  assert_int_equal(record.enrolled_at, confirmed_at);
  assert_int_equal(record.last_step, f.step_now());

  assert_confirm(f, "alice", code_for(f, secret, 1), EnrollResult::no_pending);
}

void test_confirm_codes_of_neighbour_steps(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  assert_confirm(f, "alice", code_for(f, secret, 2), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, secret, -2), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, secret, 1), EnrollResult::confirmed);
  // The step of the confirming code counts as used.
  assert_int_equal(stored(f, "alice").last_step, f.step_now() + 1);
}

void test_confirming_code_not_reusable_for_login(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  const std::string code = code_for(f, secret);
  assert_confirm(f, "alice", code, EnrollResult::confirmed);
  assert_auth(login(f, code), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code, k_who), AuthResult::denied);
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_confirm_expired(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  const Bytes carol_secret = begin(f, "carol");

  // One second before the timeout it is still pending and confirmable.
  f.clock.advance(599);
  assert_int_equal(static_cast<int>(status_of(f, "alice").state),
                   static_cast<int>(EnrollmentState::pending));
  assert_confirm(f, "carol", code_for(f, carol_secret), EnrollResult::confirmed);

  f.clock.advance(1);
  assert_int_equal(static_cast<int>(status_of(f, "alice").state),
                   static_cast<int>(EnrollmentState::none));
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::expired);
  const UserRecord record = stored(f, "alice");
  assert_false(record.has_pending());
  assert_false(record.enrolled());
  assert_int_equal(record.pending_created_at, 0);
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::no_pending);

  // A new enrollment can start.
  const Bytes fresh = begin(f, "alice");
  assert_confirm(f, "alice", code_for(f, fresh), EnrollResult::confirmed);
}

void test_confirm_without_pending(void** state)
{
  Fixture& f = fixture(state);
  assert_confirm(f, "nobody", "123456", EnrollResult::no_pending);
}

void test_begin_keeps_pending_in_its_window(void** state)
{
  Fixture& f = fixture(state);
  const Bytes first = begin(f, "alice");
  // A later attempt within enroll_timeout (a login that timed out, then another, or the CLI)
  // gets the same secret and the same expiry: a key already scanned still confirms.
  f.clock.advance(590);
  auto again = f.auth->begin_enrollment("alice", k_who);
  assert_true(again.has_value());
  assert_true(Bytes(again->secret.data(), again->secret.data() + again->secret.size()) == first);
  assert_int_equal(again->expires_at, k_start_time + 600);
  assert_int_equal(stored(f, "alice").pending_created_at, k_start_time);
  assert_confirm(f, "alice", code_for(f, first), EnrollResult::confirmed);
}

void test_begin_after_the_window_makes_a_new_secret(void** state)
{
  Fixture& f = fixture(state);
  const Bytes first = begin(f, "alice");
  f.clock.advance(600);
  const Bytes second = begin(f, "alice");
  assert_false(first == second);
  assert_int_equal(stored(f, "alice").pending_created_at, k_start_time + 600);

  assert_confirm(f, "alice", code_for(f, first), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, second), EnrollResult::confirmed);
}

void test_begin_when_active(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);

  auto again = f.auth->begin_enrollment("alice", k_who);
  assert_false(again.has_value());
  assert_int_equal(static_cast<int>(again.error().code), static_cast<int>(Errc::already_enrolled));

  // The active secret is untouched and no pending one was added.
  assert_false(stored(f, "alice").has_pending());
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

// --- login ------------------------------------------------------------------------------------

void test_login_success_then_replay(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  assert_auth(login(f, code), AuthResult::success);
  assert_int_equal(stored(f, "alice").last_step, f.step_now());

  // The same code again, in any mode, even a few seconds later in the same step.
  assert_auth(login(f, code), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code, k_who), AuthResult::denied);
  f.clock.advance(20);
  assert_auth(login(f, code), AuthResult::denied);

  // The next step's code works when its time comes.
  f.clock.advance(10);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_code_only_mode(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const unsigned calls = f.passwords.calls;
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", wrong_code(f, secret), k_who),
              AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::success);
  assert_int_equal(f.passwords.calls, calls); // no password in this mode
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_window(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll(f, "alice");
  f.clock.advance(60); // two steps after the confirming one

  assert_auth(login(f, code_for(f, secret, 2)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, 1)), AuthResult::success);
  assert_int_equal(stored(f, "alice").last_step, f.step_now() + 1);

  // Earlier steps than the last accepted one are refused, though inside the window and never
  // used themselves.
  assert_auth(login(f, code_for(f, secret, 0)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, -1)), AuthResult::denied);

  // Once the clock catches up, step+2 is inside the window.
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, secret, 1)), AuthResult::success);
}

void test_window_zero(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.window = 0;
  f.reconfigure(settings);
  const Bytes secret = enroll(f, "alice");
  f.clock.advance(90);

  assert_auth(login(f, code_for(f, secret, 1)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, -1)), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret, 0)), AuthResult::success);
}

void test_wrong_password_right_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  // One counted failure first, so that "unchanged" is not just "still zero".
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);

  const unsigned calls = f.passwords.calls;
  for (int i = 0; i < 5; ++i) {
    assert_auth(login(f, code, "wrong"), AuthResult::denied);
  }
  assert_int_equal(f.passwords.calls, calls + 5);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 1);
  assert_int_equal(status.retry_after, 0); // more than throttle_after tries, yet no throttle
  assert_int_equal(stored(f, "alice").last_step, f.step_now() - 1);

  // Wrong password and wrong code: still not counted.
  assert_auth(login(f, wrong_code(f, secret), "wrong"), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);

  // The step was not consumed.
  assert_auth(login(f, code), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_right_password_wrong_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  const UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 2);
  assert_int_equal(status.retry_after, 0);
  assert_int_equal(stored(f, "alice").last_failure_at, f.clock.now());
}

void test_password_source_unreachable(void** state)
{
  Fixture& f = fixture(state);
  // Not enrolled, password only: "unavailable", not "wrong password".
  f.passwords.unreachable = true;
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::unavailable);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::unavailable);
  f.passwords.unreachable = false;
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);

  // Enrolled, password and code: right and wrong codes get the same answer, and neither counts.
  f.passwords.unreachable = true;
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::unavailable);
  assert_auth(login(f, code), AuthResult::unavailable);
  assert_int_equal(status_of(f, "alice").failures, 0);
  f.passwords.unreachable = false;
  assert_auth(login(f, code), AuthResult::success); // the code was not used up
  // Code only: no password involved, so the directory does not matter.
  f.clock.advance(f.settings.new_enrollment.period);
  f.passwords.unreachable = true;
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::success);
}

void test_empty_password(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const unsigned calls = f.passwords.calls;

  assert_auth(login(f, code_for(f, secret), ""), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "", "", k_who), AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_only, "", "", k_who), AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_and_code, "", "123456", k_who),
              AuthResult::denied);
  assert_int_equal(f.passwords.calls, calls);
  assert_int_equal(status_of(f, "alice").failures, 0);
  // The code was not consumed.
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_password_only(void** state)
{
  Fixture& f = fixture(state);
  // Not enrolled: the password decides.
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_only, "right", "", k_who),
              AuthResult::denied);

  // Enrolled: never, whatever the password.
  const Bytes secret = enroll_alice(f);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", code_for(f, secret), k_who),
              AuthResult::denied);
}

void test_not_enrolled(void** state)
{
  Fixture& f = fixture(state);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", "123456", k_who),
              AuthResult::not_enrolled);
  assert_auth(f.auth->authenticate("nobody", AuthMode::code_only, "", "123456", k_who),
              AuthResult::not_enrolled);
  // Password and code for someone with no second factor: not a way in.
  assert_auth(login(f, "123456"), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_malformed_codes(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);

  std::uint32_t failures = 0;
  for (const char* code : {"", "12345", "1234567", "abcdef", "12345a", "-12345"}) {
    assert_auth(login(f, code), AuthResult::denied);
    ++failures;
    assert_int_equal(status_of(f, "alice").failures, failures);
  }
  // A right code with a character too many is malformed too.
  assert_auth(login(f, code_for(f, secret) + "0"), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, failures + 1);

  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

// --- throttling -------------------------------------------------------------------------------

void fail_codes(Fixture& f, const Bytes& secret, unsigned count)
{
  for (unsigned i = 0; i < count; ++i) {
    assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  }
}

void test_throttle(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);

  UserStatus status = status_of(f, "alice");
  assert_int_equal(status.failures, 3);
  assert_int_equal(status.retry_after, 2);

  // Throttled even with the right password and code; nothing is evaluated.
  const unsigned calls = f.passwords.calls;
  AuthOutcome outcome = login(f, code_for(f, secret));
  assert_auth(outcome, AuthResult::throttled);
  assert_int_equal(outcome.retry_after, 2);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::throttled);
  assert_auth(login(f, code_for(f, secret), "wrong"), AuthResult::throttled);
  assert_int_equal(f.passwords.calls, calls);
  status = status_of(f, "alice");
  assert_int_equal(status.failures, 3); // throttled attempts are not failures
  assert_int_equal(status.retry_after, 2);

  f.clock.advance(1);
  outcome = login(f, code_for(f, secret));
  assert_auth(outcome, AuthResult::throttled);
  assert_int_equal(outcome.retry_after, 1);
  assert_int_equal(f.passwords.calls, calls);

  f.clock.advance(1);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  status = status_of(f, "alice");
  assert_int_equal(status.failures, 0);
  assert_int_equal(status.retry_after, 0);

  // The count starts again from zero.
  f.clock.advance(30);
  fail_codes(f, secret, 2);
  assert_int_equal(status_of(f, "alice").retry_after, 0);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_throttle_doubles_and_caps(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);
  std::uint32_t wait = status_of(f, "alice").retry_after;
  assert_int_equal(wait, 2);

  // 4, 8, ..., 512, then 900 (throttle_max) from there on.
  for (unsigned further = 1; further <= 12; ++further) {
    f.clock.advance(wait);
    fail_codes(f, secret, 1);
    const UserStatus status = status_of(f, "alice");
    assert_int_equal(status.failures, 3 + further);
    const std::uint32_t expected = std::min<std::uint32_t>(2u << further, 900);
    assert_int_equal(status.retry_after, expected);
    const AuthOutcome outcome = login(f, code_for(f, secret));
    assert_auth(outcome, AuthResult::throttled);
    assert_int_equal(outcome.retry_after, expected);
    wait = expected;
  }
  f.clock.advance(wait - 1);
  assert_auth(login(f, code_for(f, secret)), AuthResult::throttled);
  f.clock.advance(1);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_throttle_small_max(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_base = 3;
  settings.throttle_max = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);
  for (std::uint32_t expected : {3u, 6u, 10u, 10u}) {
    const std::uint32_t wait = status_of(f, "alice").retry_after;
    assert_int_equal(wait, expected);
    f.clock.advance(wait);
    fail_codes(f, secret, 1);
  }
}

void test_throttle_applies_to_confirm(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = begin(f, "alice");
  for (int i = 0; i < 3; ++i) {
    assert_confirm(f, "alice", wrong_code(f, secret), EnrollResult::bad_code);
  }
  const EnrollOutcome outcome = confirm(f, "alice", code_for(f, secret));
  assert_int_equal(static_cast<int>(outcome.result), static_cast<int>(EnrollResult::throttled));
  assert_int_equal(outcome.retry_after, 2);
  f.clock.advance(2);
  assert_confirm(f, "alice", code_for(f, secret), EnrollResult::confirmed);
  assert_int_equal(status_of(f, "alice").failures, 0);
}

void test_throttle_is_per_user(void** state)
{
  Fixture& f = fixture(state);
  const Bytes alice = enroll(f, "alice");
  const Bytes bob = enroll(f, "bob");
  f.clock.advance(30);
  fail_codes(f, alice, 3);
  assert_auth(login(f, code_for(f, alice)), AuthResult::throttled);
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, bob), k_who),
              AuthResult::success);
  assert_int_equal(status_of(f, "bob").failures, 0);
}

// --- the store ---------------------------------------------------------------------------------

void test_record_sealed_for_another_user(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  UserRecord copy = stored(f, "alice");
  copy.user = "bob";
  assert_true(f.store->save(copy).has_value());

  assert_int_equal(static_cast<int>(status_of(f, "bob").state),
                   static_cast<int>(EnrollmentState::active));
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::unavailable);
  // Alice's own record still works.
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);

  // The same for a pending secret.
  const Bytes pending = begin(f, "carol");
  UserRecord pending_copy = stored(f, "carol");
  pending_copy.user = "dave";
  assert_true(f.store->save(pending_copy).has_value());
  assert_false(f.auth->confirm_enrollment("dave", code_for(f, pending), k_who).has_value());
}

void test_replay_across_restart(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::string code = code_for(f, secret);
  assert_auth(login(f, code), AuthResult::success);

  f.restart();
  assert_auth(login(f, code), AuthResult::denied);
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
}

void test_throttle_across_restart(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  fail_codes(f, secret, 3);
  f.restart();
  assert_int_equal(status_of(f, "alice").failures, 3);
  const AuthOutcome outcome = login(f, code_for(f, secret));
  assert_auth(outcome, AuthResult::throttled);
  assert_int_equal(outcome.retry_after, 2);
}

void test_enrolled_parameters_kept(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.new_enrollment = {totp::Algorithm::sha512, 7, 45};
  f.reconfigure(settings);
  const Bytes secret = enroll(f, "alice");
  const totp::Parameters enrolled = settings.new_enrollment;

  // New enrollments change to the defaults; alice keeps what her app was given.
  f.reconfigure(test_settings());
  f.clock.advance(45);
  const std::uint64_t step = static_cast<std::uint64_t>(f.clock.now()) / 45;
  assert_auth(login(f, reference_code(secret, static_cast<std::uint64_t>(f.clock.now()) / 30,
                                      test_settings().new_enrollment)),
              AuthResult::denied);
  assert_auth(login(f, reference_code(secret, step, enrolled)), AuthResult::success);
}

// --- backup codes -----------------------------------------------------------------------------

std::vector<std::string> new_codes(Fixture& f, const Bytes& secret)
{
  auto outcome = f.auth->new_backup_codes("alice", code_for(f, secret), k_who);
  if (!outcome) {
    fail_msg("new_backup_codes: %s", outcome.error().message.c_str());
  }
  assert_int_equal(static_cast<int>(outcome->code.result), static_cast<int>(CodeResult::ok));
  std::vector<std::string> codes;
  for (const SecretBytes& code : outcome->codes) {
    codes.emplace_back(code.view());
  }
  f.clock.advance(30); // the step of the code just used is spent
  return codes;
}

CodeOutcome backup_request(Fixture& f, const std::string& code)
{
  auto outcome = f.auth->new_backup_codes("alice", code, k_who);
  if (!outcome) {
    fail_msg("new_backup_codes: %s", outcome.error().message.c_str());
  }
  return outcome->code;
}

#define assert_code_result(outcome, expected)                                                      \
  assert_int_equal(static_cast<int>((outcome).result), static_cast<int>(expected))

// A well-formed backup code that is not one of alice's.
constexpr const char* k_wrong_backup = "ZZZZ-ZZZZ-ZZZ0";

void test_backup_codes_set_of_ten(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);
  assert_int_equal(codes.size(), 10);
  for (const std::string& code : codes) {
    assert_int_equal(code.size(), 14);
    assert_true(code[4] == '-' && code[9] == '-');
    for (std::size_t i = 0; i < code.size(); ++i) {
      if (i != 4 && i != 9) {
        assert_true(k_backup_code_alphabet.find(code[i]) != std::string_view::npos);
      }
    }
    assert_int_equal(std::count(codes.begin(), codes.end(), code), 1);
  }
  assert_int_equal(status_of(f, "alice").backup_codes, 10);
  // Stored only as hashes: no code appears in the record.
  const UserRecord record = stored(f, "alice");
  assert_int_equal(record.backup_codes.size(), 10);
  for (const BackupCodeHash& hash : record.backup_codes) {
    for (const std::string& code : codes) {
      assert_true(std::search(hash.begin(), hash.end(), code.begin(), code.end()) == hash.end());
    }
  }
}

void test_backup_codes_need_a_totp_code(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);

  assert_code_result(backup_request(f, wrong_code(f, secret)), CodeResult::bad_code);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_int_equal(status_of(f, "alice").backup_codes, 0);

  const std::vector<std::string> codes = new_codes(f, secret);
  // A backup code does not make a new set: it is refused and counted, not used up.
  assert_code_result(backup_request(f, codes[0]), CodeResult::bad_code);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_int_equal(status_of(f, "alice").backup_codes, 10);

  // The TOTP code that made a set cannot log in.
  const std::string code = code_for(f, secret);
  assert_code_result(backup_request(f, code), CodeResult::ok);
  assert_auth(login(f, code), AuthResult::denied);

  // Not enrolled: nothing to prove.
  auto bob = f.auth->new_backup_codes("bob", "123456", k_who);
  assert_code_result(bob->code, CodeResult::not_enrolled);
}

void test_backup_code_login_single_use(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);

  // Any order; each once; lower case, without dashes or with spaces works too.
  const std::string typed[] = {codes[7],
                               [&] {
                                 std::string lower = codes[2];
                                 std::transform(lower.begin(), lower.end(), lower.begin(),
                                                [](char c) { return static_cast<char>(std::tolower(c)); });
                                 return lower;
                               }(),
                               codes[5].substr(0, 4) + codes[5].substr(5, 4) + codes[5].substr(10),
                               codes[0].substr(0, 4) + " " + codes[0].substr(5)};
  unsigned left = 10;
  for (const std::string& code : typed) {
    const AuthOutcome outcome = login(f, code);
    assert_auth(outcome, AuthResult::success);
    assert_int_equal(static_cast<int>(outcome.factor),
                     static_cast<int>(protocol::SecondFactor::backup_code));
    assert_int_equal(outcome.backup_codes_left, --left);
    assert_int_equal(status_of(f, "alice").backup_codes, left);
  }
  // Used ones never work again, in any spelling.
  assert_auth(login(f, codes[7]), AuthResult::denied);
  assert_auth(login(f, typed[1]), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").backup_codes, left);
  // A TOTP code still works, and says it was one.
  const AuthOutcome totp_login = login(f, code_for(f, secret));
  assert_auth(totp_login, AuthResult::success);
  assert_int_equal(static_cast<int>(totp_login.factor), static_cast<int>(protocol::SecondFactor::totp));
  // The rest, down to none.
  for (const std::size_t i : {1, 3, 4, 6, 8, 9}) {
    assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", codes[i], k_who),
                AuthResult::success);
  }
  assert_int_equal(status_of(f, "alice").backup_codes, 0);
}

void test_new_set_voids_old(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> first = new_codes(f, secret);
  const std::vector<std::string> second = new_codes(f, secret);
  assert_auth(login(f, first[0]), AuthResult::denied);
  assert_int_equal(status_of(f, "alice").backup_codes, 10);
  assert_auth(login(f, second[0]), AuthResult::success);
}

void test_three_wrong_backup_codes_lock(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);

  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, "AAAA-BBBB-CCCC"), AuthResult::denied);
  // The third locks, and says so.
  assert_auth(login(f, "DDDD-EEEE-FFFF"), AuthResult::locked);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.lock), static_cast<int>(LockState::second_factor));
  assert_int_equal(status.retry_after, 0);

  // Nothing is accepted; the same answer whatever the password, in every mode.
  const unsigned calls = f.passwords.calls;
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);
  assert_auth(login(f, codes[0]), AuthResult::locked);
  assert_auth(login(f, code_for(f, secret), "wrong"), AuthResult::locked);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::locked);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::locked);
  assert_int_equal(f.passwords.calls, calls);
  assert_code_result(backup_request(f, code_for(f, secret)), CodeResult::locked);
  assert_code_result(*f.auth->disable("alice", codes[0], k_who), CodeResult::locked);
  auto replace = f.auth->replace_enrollment("alice", code_for(f, secret), k_who);
  assert_code_result(replace->code, CodeResult::locked);
  assert_int_equal(status_of(f, "alice").backup_codes, 10);

  // It survives a restart; an admin unlocks it.
  f.restart();
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);
  auto unlocked = f.admin->unlock("alice", k_who);
  assert_int_equal(static_cast<int>(*unlocked), static_cast<int>(protocol::UnlockResult::unlocked));
  status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.lock), 0);
  assert_int_equal(status.failures, 0);
  assert_auth(login(f, codes[0]), AuthResult::success);
  assert_int_equal(static_cast<int>(*f.admin->unlock("alice", k_who)),
                   static_cast<int>(protocol::UnlockResult::not_locked));
}

void test_backup_lock_rules(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 20;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);

  // Without backup codes there are none to guess: backup-shaped codes are plain wrong codes.
  for (int i = 0; i < 4; ++i) {
    assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  }
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  f.clock.advance(30);

  const std::vector<std::string> codes = new_codes(f, secret);
  // A success resets the count: 2 wrong, a right TOTP code, 2 wrong: not locked.
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_auth(login(f, k_wrong_backup), AuthResult::denied);
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  // Wrong TOTP codes in between neither reset nor add to it.
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  // Wrong passwords never count: nobody locks an account without its password.
  for (int i = 0; i < 5; ++i) {
    assert_auth(login(f, k_wrong_backup, "wrong"), AuthResult::denied);
  }
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
  assert_auth(login(f, k_wrong_backup), AuthResult::locked);
  // Too short or long, or with other characters: not a backup code, a plain wrong code.
  assert_int_equal(status_of(f, "alice").backup_codes, 10);
}

void test_lockout_after(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  settings.lockout_after = 6;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  for (int i = 0; i < 5; ++i) {
    assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  }
  assert_auth(login(f, wrong_code(f, secret)), AuthResult::locked);
  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.lock), static_cast<int>(LockState::account));
  assert_int_equal(status.failures, 6);
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::locked);
  // Wrong enrollment codes count too.
  assert_true(f.admin->unlock("alice", k_who).has_value());
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);

  // 0: never.
  settings.lockout_after = 0;
  settings.throttle_after = 100;
  f.reconfigure(settings);
  for (int i = 0; i < 30; ++i) {
    assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  }
  assert_int_equal(static_cast<int>(status_of(f, "alice").lock), 0);
}

// --- self-service -----------------------------------------------------------------------------

void test_replace_keeps_old_secret_until_confirmed(void** state)
{
  Fixture& f = fixture(state);
  const Bytes old_secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, old_secret);

  auto refused = f.auth->replace_enrollment("alice", wrong_code(f, old_secret), k_who);
  assert_code_result(refused->code, CodeResult::bad_code);
  assert_false(stored(f, "alice").has_pending());

  auto offer = f.auth->replace_enrollment("alice", code_for(f, old_secret), k_who);
  assert_code_result(offer->code, CodeResult::ok);
  const Bytes new_secret(offer->offer.secret.data(),
                         offer->offer.secret.data() + offer->offer.secret.size());
  assert_false(new_secret == old_secret);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::active));
  assert_true(status.replacing);

  // Until confirmed, the old secret works and the new one does not.
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, new_secret)), AuthResult::denied);
  assert_auth(login(f, code_for(f, old_secret)), AuthResult::success);
  // Confirmed: the new one works, the old one is gone; backup codes survive the move.
  f.clock.advance(30);
  assert_confirm(f, "alice", code_for(f, new_secret), EnrollResult::confirmed);
  status = status_of(f, "alice");
  assert_false(status.replacing);
  assert_int_equal(status.backup_codes, 10);
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, old_secret)), AuthResult::denied);
  assert_auth(login(f, code_for(f, new_secret)), AuthResult::success);
  assert_auth(login(f, codes[0]), AuthResult::success);
}

void test_replace_interrupted_loses_nothing(void** state)
{
  Fixture& f = fixture(state);
  const Bytes old_secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, old_secret);
  // Proved with a backup code, which is then used up.
  auto offer = f.auth->replace_enrollment("alice", codes[3], k_who);
  assert_code_result(offer->code, CodeResult::ok);
  assert_int_equal(status_of(f, "alice").backup_codes, 9);
  const Bytes new_secret(offer->offer.secret.data(),
                         offer->offer.secret.data() + offer->offer.secret.size());
  f.clock.advance(601);
  assert_false(status_of(f, "alice").replacing);
  assert_confirm(f, "alice", code_for(f, new_secret), EnrollResult::expired);
  assert_auth(login(f, code_for(f, old_secret)), AuthResult::success);
  // Without an active secret there is nothing to replace.
  auto bob = f.auth->replace_enrollment("bob", "123456", k_who);
  assert_code_result(bob->code, CodeResult::not_enrolled);
}

void test_disable_needs_a_code(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);
  assert_code_result(*f.auth->disable("alice", wrong_code(f, secret), k_who), CodeResult::bad_code);
  assert_code_result(*f.auth->disable("alice", "", k_who), CodeResult::bad_code);
  assert_int_equal(static_cast<int>(status_of(f, "alice").state),
                   static_cast<int>(EnrollmentState::active));
  // A backup code does it.
  assert_code_result(*f.auth->disable("alice", codes[1], k_who), CodeResult::ok);
  const UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_int_equal(status.backup_codes, 0);
  assert_true(stored(f, "alice").backup_codes.empty());
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
  assert_code_result(*f.auth->disable("alice", codes[2], k_who), CodeResult::not_enrolled);

  // And a TOTP code, after enrolling again.
  const Bytes again = enroll_alice(f);
  assert_code_result(*f.auth->disable("alice", code_for(f, again), k_who), CodeResult::ok);
}

// --- the audit trail --------------------------------------------------------------------------

std::vector<AuditRecord> audit_of(Fixture& f, const std::string& user)
{
  AuditQuery query;
  query.subject = user;
  query.limit = 1000;
  auto records = f.store->read_audit(query);
  assert_true(records.has_value());
  return std::move(*records);
}

void test_audit_records_outcomes(void** state)
{
  Fixture& f = fixture(state);
  const Requester sshd{0, "root", "sshd", "192.0.2.9", "ssh"};
  const Bytes secret = enroll_alice(f);
  const std::string right = code_for(f, secret);
  const std::string wrong = wrong_code(f, secret);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "right", wrong, sshd),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "wrong", right, sshd),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "right", right, sshd),
              AuthResult::success);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", sshd),
              AuthResult::denied);

  const std::vector<AuditRecord> events = audit_of(f, "alice");
  // enroll-begin, enroll-confirm, then the three logins.
  assert_int_equal(events.size(), 5);
  assert_string_equal(events[0].event.action.c_str(), "enroll-begin");
  assert_string_equal(events[1].event.action.c_str(), "enroll-confirm");
  assert_string_equal(events[1].event.outcome.c_str(), "confirmed");
  const char* const outcomes[] = {"denied", "denied", "success"};
  for (std::size_t i = 0; i < 3; ++i) {
    const AuditEvent& event = events[i + 2].event;
    assert_string_equal(event.action.c_str(), "login");
    assert_string_equal(event.outcome.c_str(), outcomes[i]);
    assert_string_equal(event.service.c_str(), "sshd");
    assert_string_equal(event.rhost.c_str(), "192.0.2.9");
    assert_string_equal(event.tty.c_str(), "ssh");
    assert_string_equal(event.actor.c_str(), "root");
    assert_int_equal(event.at, f.clock.now());
    // Never a code or a password.
    for (const std::string* field : {&event.detail, &event.outcome, &event.subject}) {
      assert_true(field->find(right) == std::string::npos);
      assert_true(field->find(wrong) == std::string::npos);
      assert_true(field->find("right") == std::string::npos);
    }
  }
  assert_string_equal(events[2].event.detail.c_str(), "wrong or reused code");
  assert_string_equal(events[3].event.detail.c_str(), "wrong password");
  assert_int_equal(audit_of(f, "dave").size(), 1);
  // A success updates the last login in the same commit.
  assert_int_equal(status_of(f, "alice").last_login, f.clock.now());
}

void test_audit_pruned(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.audit_retention = 2 * 86400;
  f.reconfigure(settings);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  f.clock.advance(86400);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  assert_int_equal(audit_of(f, "dave").size(), 2);
  // Three days on, the next commit prunes what is older than two days.
  f.clock.advance(2 * 86400);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  const std::vector<AuditRecord> events = audit_of(f, "dave");
  assert_int_equal(events.size(), 2);
  assert_int_equal(events[0].event.at, f.clock.now() - 2 * 86400);
  assert_int_equal(events[1].event.at, f.clock.now());
}

void test_audit_budget_bounds_self_requests(void** state)
{
  // A user looping requests about their own account (a code-only check while not enrolled, say)
  // cannot grow the audit table past the budget: 60 rows at once, then one a second. Root
  // (sshd, login) is never limited.
  Fixture& f = fixture(state);
  const Requester dave_self{5004, "dave", "self", "", ""};
  for (int i = 0; i < 500; ++i) {
    assert_auth(f.auth->authenticate("dave", AuthMode::code_only, "", "123456", dave_self),
                AuthResult::not_enrolled);
  }
  assert_int_equal(audit_of(f, "dave").size(), 60);
  f.clock.advance(10);
  for (int i = 0; i < 500; ++i) {
    f.auth->authenticate("dave", AuthMode::code_only, "", "123456", dave_self);
  }
  assert_int_equal(audit_of(f, "dave").size(), 70);
  for (int i = 0; i < 200; ++i) {
    f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who);
  }
  assert_int_equal(audit_of(f, "dave").size(), 270);
}

void test_audit_budget_unit(void**)
{
  AuditBudget budget(3, 2);
  for (int i = 0; i < 3; ++i) {
    assert_true(budget.allow(1000, 100));
  }
  assert_false(budget.allow(1000, 100));
  assert_true(budget.allow(1001, 100)); // per uid
  assert_false(budget.allow(1000, 101)); // half a token
  assert_true(budget.allow(1000, 102));  // one every 2 s
  assert_false(budget.allow(1000, 102));
  assert_true(budget.allow(1000, 1000)); // refilled, capped at the burst
  assert_true(budget.allow(1000, 1000));
  assert_true(budget.allow(1000, 1000));
  assert_false(budget.allow(1000, 1000));
  for (int i = 0; i < 1000; ++i) {
    assert_true(budget.allow(0, 100)); // root
  }
}

// --- administration ---------------------------------------------------------------------------

const Requester k_admin{5004, "dave", "", "", ""};

void test_admin_list(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  new_codes(f, secret);
  begin(f, "carol");
  begin(f, "bob");
  assert_auth(f.auth->authenticate("alice", AuthMode::password_and_code, "right",
                                   code_for(f, secret), k_who),
              AuthResult::success);
  auto page = f.admin->list("", 2, k_admin);
  assert_true(page.has_value());
  assert_int_equal(page->accounts.size(), 2);
  assert_true(page->more);
  assert_string_equal(page->accounts[0].user.c_str(), "alice");
  const UserStatus& alice = page->accounts[0].status;
  assert_int_equal(static_cast<int>(alice.state), static_cast<int>(EnrollmentState::active));
  assert_int_equal(alice.backup_codes, 10);
  assert_int_equal(alice.last_login, f.clock.now());
  assert_false(alice.required);
  assert_false(alice.reason.empty());
  assert_string_equal(page->accounts[1].user.c_str(), "bob");
  assert_int_equal(static_cast<int>(page->accounts[1].status.state),
                   static_cast<int>(EnrollmentState::pending));
  auto rest = f.admin->list("bob", 2, k_admin);
  assert_int_equal(rest->accounts.size(), 1);
  assert_string_equal(rest->accounts[0].user.c_str(), "carol");
  assert_false(rest->more);
  // The first page is audited, with the admin as the actor; later pages are not.
  AuditQuery query;
  query.limit = 1000;
  auto all = f.store->read_audit(query);
  const auto listed = std::count_if(all->begin(), all->end(), [](const AuditRecord& record) {
    return record.event.action == "admin-list" && record.event.actor == "dave" &&
           record.event.actor_uid == 5004;
  });
  assert_int_equal(listed, 1);
}

void test_admin_disable(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  new_codes(f, secret);
  assert_int_equal(static_cast<int>(*f.admin->disable("alice", k_admin)),
                   static_cast<int>(protocol::AdminDisableResult::disabled));
  const UserRecord record = stored(f, "alice");
  assert_false(record.enrolled());
  assert_true(record.backup_codes.empty());
  assert_auth(login(f, code_for(f, secret)), AuthResult::denied);
  assert_int_equal(static_cast<int>(*f.admin->disable("alice", k_admin)),
                   static_cast<int>(protocol::AdminDisableResult::not_enrolled));
  assert_int_equal(static_cast<int>(*f.admin->disable("nobody", k_admin)),
                   static_cast<int>(protocol::AdminDisableResult::not_enrolled));
  const std::vector<AuditRecord> events = audit_of(f, "alice");
  assert_string_equal(events.back().event.action.c_str(), "admin-disable");
  assert_string_equal(events.back().event.actor.c_str(), "dave");
}

void test_pass_then_enroll_again(void** state)
{
  Fixture& f = fixture(state);
  AuthenticatorSettings settings = test_settings();
  settings.throttle_after = 10;
  f.reconfigure(settings);
  const Bytes secret = enroll_alice(f);
  const std::vector<std::string> codes = new_codes(f, secret);
  // Locked out by wrong backup codes; a pass lets alice in with her password.
  for (int i = 0; i < 3; ++i) {
    login(f, k_wrong_backup);
  }
  assert_auth(login(f, code_for(f, secret)), AuthResult::locked);

  auto granted = f.admin->pass("alice", 3600, k_admin);
  assert_int_equal(static_cast<int>(granted->result), static_cast<int>(protocol::PassResult::granted));
  assert_int_equal(granted->pass_until, f.clock.now() + 3600);
  UserStatus status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_int_equal(static_cast<int>(status.lock), 0);
  assert_int_equal(status.pass_until, f.clock.now() + 3600);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::success);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::denied);
  // The old secret and codes are void already.
  assert_auth(login(f, code_for(f, secret)), AuthResult::denied);
  assert_auth(login(f, codes[0]), AuthResult::denied);

  // The pass ends: still not enrolled (the old secret never comes back), and enrollment is due
  // before any login, with or without a policy that requires 2FA.
  f.clock.advance(3601);
  status = status_of(f, "alice");
  assert_int_equal(static_cast<int>(status.state), static_cast<int>(EnrollmentState::none));
  assert_true(status.pass_until < f.clock.now() && status.pass_until != 0);
  assert_true(status.required);
  assert_true(status.grace_until < f.clock.now());
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret), k_who),
              AuthResult::enroll_required);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", "", k_who),
              AuthResult::enroll_required);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", "", k_who),
              AuthResult::denied);
  const Bytes fresh = begin(f, "alice");
  assert_confirm(f, "alice", code_for(f, fresh), EnrollResult::confirmed);
  assert_int_equal(status_of(f, "alice").pass_until, 0);
}

void test_pass_revoke(void** state)
{
  Fixture& f = fixture(state);
  enroll_alice(f);
  assert_int_equal(static_cast<int>(f.admin->pass("alice", 0, k_admin)->result),
                   static_cast<int>(protocol::PassResult::no_pass));
  f.admin->pass("alice", 86400, k_admin);
  f.clock.advance(60);
  auto revoked = f.admin->pass("alice", 0, k_admin);
  assert_int_equal(static_cast<int>(revoked->result), static_cast<int>(protocol::PassResult::revoked));
  assert_int_equal(status_of(f, "alice").pass_until, f.clock.now());
  // A pass for a user the daemon has not met yet.
  assert_int_equal(static_cast<int>(f.admin->pass("erin", 60, k_admin)->result),
                   static_cast<int>(protocol::PassResult::granted));
  // Confirming an enrollment during a pass ends it.
  const Bytes secret = begin(f, "erin");
  assert_confirm(f, "erin", code_for(f, secret), EnrollResult::confirmed);
  assert_int_equal(status_of(f, "erin").pass_until, 0);
  const std::vector<AuditRecord> events = audit_of(f, "alice");
  assert_string_equal(events.back().event.action.c_str(), "admin-pass-revoke");
}

protocol::ImportEntry import_entry(std::string_view user, std::string_view secret)
{
  protocol::ImportEntry entry;
  entry.user = user;
  entry.secret = secret;
  entry.algorithm = "SHA1";
  entry.digits = 6;
  entry.period = 30;
  return entry;
}

// A user's code of step S that equals their code of S+1 (RFC 6238's key at steps 910737 and
// 910738): accepted once, as S+1, and so refused during S+1 though the app shows it again. The
// benchmark met this when it reused its users one step later; a person types the next code.
void test_code_shared_by_two_steps_is_accepted_once(void** state)
{
  Fixture& f = fixture(state);
  const Bytes key = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
                     '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
  const std::int64_t period = 30;
  f.clock.set(910736 * period + 5);
  const SecretBytes key_base32 = base32::encode(key);
  const std::vector<protocol::ImportEntry> entries = {import_entry("alice", key_base32.view())};
  auto imported = f.admin->import(entries, false, k_admin);
  assert_true(imported.has_value());
  assert_int_equal(static_cast<int>(imported->result), 0);

  f.clock.set(910737 * period + 5);
  const std::string code = code_for(f, key);
  f.clock.set(910738 * period + 5);
  assert_string_equal(code_for(f, key).c_str(), code.c_str());
  f.clock.set(910737 * period + 5);
  assert_auth(login(f, code), AuthResult::success);
  assert_int_equal(stored(f, "alice").last_step, 910738);
  f.clock.set(910738 * period + 5);
  assert_auth(login(f, code_for(f, key)), AuthResult::denied);
  f.clock.set(910739 * period + 5);
  assert_auth(login(f, code_for(f, key)), AuthResult::success);
}

void test_import(void** state)
{
  Fixture& f = fixture(state);
  const Bytes alice_key = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
                           '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
  const SecretBytes alice_base32 = base32::encode(alice_key);
  const std::string bob_base32 = "JBSWY3DPEHPK3PXP"; // 10 bytes, as Google Authenticator makes
  auto bob_key = base32::decode(bob_base32);
  assert_true(bob_key.has_value());
  const Bytes bob_bytes(bob_key->data(), bob_key->data() + bob_key->size());

  std::vector<protocol::ImportEntry> entries = {import_entry("alice", alice_base32.view()),
                                                import_entry("bob", bob_base32)};
  entries[1].code_count = 2;
  entries[1].codes[0] = "12345678";
  entries[1].codes[1] = "87654321";
  auto imported = f.admin->import(entries, false, k_admin);
  assert_true(imported.has_value());
  assert_int_equal(static_cast<int>(imported->result), 0);

  f.clock.advance(30);
  assert_auth(login(f, code_for(f, alice_key)), AuthResult::success);
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, bob_bytes), k_who),
              AuthResult::success);
  // Google Authenticator's scratch codes became backup codes.
  assert_int_equal(status_of(f, "bob").backup_codes, 2);
  const AuthOutcome scratch =
    f.auth->authenticate("bob", AuthMode::code_only, "", "87654321", k_who);
  assert_auth(scratch, AuthResult::success);
  assert_int_equal(static_cast<int>(scratch.factor),
                   static_cast<int>(protocol::SecondFactor::backup_code));
  assert_int_equal(status_of(f, "bob").backup_codes, 1);

  // Already enrolled: the whole set is refused, unless replacing.
  std::vector<protocol::ImportEntry> again = {import_entry("carol", bob_base32),
                                              import_entry("alice", bob_base32)};
  auto refused = f.admin->import(again, false, k_admin);
  assert_int_equal(static_cast<int>(refused->result),
                   static_cast<int>(protocol::ImportResult::already_enrolled));
  assert_int_equal(refused->index, 1);
  assert_false(f.store->load("carol")->has_value());
  assert_true(f.admin->import(again, true, k_admin).has_value());
  f.clock.advance(30);
  assert_auth(login(f, code_for(f, bob_bytes)), AuthResult::success);
  // Replacing with the very same secret keeps the replay guard: the code just used stays used.
  const std::string used = code_for(f, bob_bytes);
  assert_true(f.admin->import(again, true, k_admin).has_value());
  assert_auth(login(f, used), AuthResult::denied);

  // Bad entries, each refused with its index, and nothing written.
  auto bad_entry = [&](protocol::ImportEntry entry) {
    std::vector<protocol::ImportEntry> set = {import_entry("frank", bob_base32), entry};
    auto outcome = f.admin->import(set, true, k_admin);
    assert_true(outcome.has_value());
    assert_int_equal(static_cast<int>(outcome->result),
                     static_cast<int>(protocol::ImportResult::bad_entry));
    assert_int_equal(outcome->index, 1);
    assert_false(f.store->load("frank")->has_value());
  };
  bad_entry(import_entry("gina", "not base32!"));
  bad_entry(import_entry("gina", "JBSWY3DP")); // 5 bytes
  bad_entry(import_entry("frank", bob_base32)); // the same user twice
  bad_entry(import_entry("", bob_base32));
  protocol::ImportEntry bad_period = import_entry("gina", bob_base32);
  bad_period.period = 5;
  bad_entry(bad_period);
  protocol::ImportEntry bad_code = import_entry("gina", bob_base32);
  bad_code.code_count = 1;
  bad_code.codes[0] = "1234";
  bad_entry(bad_code);
  protocol::ImportEntry repeated_code = import_entry("gina", bob_base32);
  repeated_code.code_count = 2;
  repeated_code.codes[0] = "12345678";
  repeated_code.codes[1] = "12345678"; // would work twice
  bad_entry(repeated_code);
  const std::vector<AuditRecord> events = audit_of(f, "bob");
  assert_string_equal(events.front().event.action.c_str(), "admin-import");
}

void test_admin_log(void** state)
{
  Fixture& f = fixture(state);
  enroll_alice(f);
  assert_auth(f.auth->authenticate("dave", AuthMode::password_only, "x", "", k_who),
              AuthResult::denied);
  AuditQuery query;
  query.limit = 2;
  auto page = f.admin->log(query, k_admin);
  assert_int_equal(page->records.size(), 2);
  assert_true(page->more);
  query.after_id = page->records.back().id;
  auto next = f.admin->log(query, k_admin);
  // The login of dave, then the first page's own admin-log event.
  assert_int_equal(next->records.size(), 2);
  assert_string_equal(next->records[0].event.subject.c_str(), "dave");
  assert_string_equal(next->records[1].event.action.c_str(), "admin-log");
  assert_false(next->more);
  // Later pages are not audited themselves.
  query.after_id = next->records.back().id;
  assert_int_equal(f.admin->log(query, k_admin)->records.size(), 0);
}

} // namespace

int main()
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_status_unknown_user),
      TEST(test_begin_enrollment),
      TEST(test_pending_never_authenticates),
      TEST(test_confirm_wrong_code),
      TEST(test_confirm_right_code),
      TEST(test_confirm_codes_of_neighbour_steps),
      TEST(test_confirming_code_not_reusable_for_login),
      TEST(test_confirm_expired),
      TEST(test_confirm_without_pending),
      TEST(test_begin_keeps_pending_in_its_window),
      TEST(test_begin_after_the_window_makes_a_new_secret),
      TEST(test_begin_when_active),
      TEST(test_login_success_then_replay),
      TEST(test_code_only_mode),
      TEST(test_window),
      TEST(test_window_zero),
      TEST(test_wrong_password_right_code),
      TEST(test_right_password_wrong_code),
      TEST(test_password_source_unreachable),
      TEST(test_empty_password),
      TEST(test_password_only),
      TEST(test_not_enrolled),
      TEST(test_malformed_codes),
      TEST(test_throttle),
      TEST(test_throttle_doubles_and_caps),
      TEST(test_throttle_small_max),
      TEST(test_throttle_applies_to_confirm),
      TEST(test_throttle_is_per_user),
      TEST(test_record_sealed_for_another_user),
      TEST(test_replay_across_restart),
      TEST(test_throttle_across_restart),
      TEST(test_enrolled_parameters_kept),
      TEST(test_backup_codes_set_of_ten),
      TEST(test_backup_codes_need_a_totp_code),
      TEST(test_backup_code_login_single_use),
      TEST(test_new_set_voids_old),
      TEST(test_three_wrong_backup_codes_lock),
      TEST(test_backup_lock_rules),
      TEST(test_lockout_after),
      TEST(test_replace_keeps_old_secret_until_confirmed),
      TEST(test_replace_interrupted_loses_nothing),
      TEST(test_disable_needs_a_code),
      TEST(test_audit_records_outcomes),
      TEST(test_audit_pruned),
      TEST(test_audit_budget_bounds_self_requests),
      cmocka_unit_test(test_audit_budget_unit),
      TEST(test_admin_list),
      TEST(test_admin_disable),
      TEST(test_pass_then_enroll_again),
      TEST(test_pass_revoke),
      TEST(test_import),
      TEST(test_code_shared_by_two_steps_is_accepted_once),
      TEST(test_admin_log),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
