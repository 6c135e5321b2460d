// Authenticator (daemon/authenticator): enrollment life cycle, login decisions, replay guard and
// throttling, over a real SqliteStore and Sealer, with a set clock and a fake password checker.
//
// Expected codes come from a small RFC 6238 implementation in this file (OpenSSL HMAC()
// directly), not from lib/totp, so that a bug there cannot hide here.
#include "authenticator.hpp"
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
using protocol::EnrollResult;

namespace {

using Bytes = std::vector<std::uint8_t>;

// 30 * 56'666'667 + 5: five seconds into a time step.
constexpr std::int64_t k_start_time = 1'700'000'015;

class FixedClock final : public Clock {
public:
  std::int64_t now() const override { return m_now; }
  void set(std::int64_t now) { m_now = now; }
  void advance(std::int64_t seconds) { m_now += seconds; }

private:
  std::int64_t m_now = k_start_time;
};

// Only alice, with the password "right".
class TestPasswords final : public PasswordChecker {
public:
  bool check(std::string_view user, std::string_view password) override
  {
    ++calls;
    return user == "alice" && password == "right";
  }
  unsigned calls = 0;
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
  FixedClock clock;
  TestPasswords passwords;
  AuthenticatorSettings settings = test_settings();
  std::unique_ptr<Authenticator> auth;

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
    auth = std::make_unique<Authenticator>(*store, *sealer, passwords, clock, settings);
  }

  // As after a daemon restart: everything in memory is gone, the database is reopened.
  void restart()
  {
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

const char* result_name(AuthResult result)
{
  switch (result) {
  case AuthResult::success:
    return "success";
  case AuthResult::denied:
    return "denied";
  case AuthResult::not_enrolled:
    return "not_enrolled";
  case AuthResult::throttled:
    return "throttled";
  case AuthResult::unavailable:
    return "unavailable";
  }
  return "?";
}

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
  }
  return "?";
}

#define assert_auth(outcome, expected)                                                             \
  do {                                                                                             \
    const AuthOutcome assert_auth_outcome_ = (outcome);                                            \
    if (assert_auth_outcome_.result != (expected)) {                                               \
      fail_msg("got %s (%s), expected %s", result_name(assert_auth_outcome_.result),               \
               assert_auth_outcome_.reason, result_name(expected));                                \
    }                                                                                              \
  } while (0)

EnrollOutcome confirm(Fixture& f, std::string_view user, const std::string& code)
{
  auto outcome = f.auth->confirm_enrollment(user, code);
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
  auto offer = f.auth->begin_enrollment(user);
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
  return f.auth->authenticate("alice", AuthMode::password_and_code, password, code);
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

  auto offer = f.auth->begin_enrollment("alice");
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
  auto other = f.auth->begin_enrollment("bob");
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

  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code),
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
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code), AuthResult::denied);
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

void test_begin_replaces_pending(void** state)
{
  Fixture& f = fixture(state);
  const Bytes first = begin(f, "alice");
  f.clock.advance(10);
  const Bytes second = begin(f, "alice");
  assert_false(first == second);
  assert_int_equal(stored(f, "alice").pending_created_at, k_start_time + 10);

  assert_confirm(f, "alice", code_for(f, first), EnrollResult::bad_code);
  assert_confirm(f, "alice", code_for(f, second), EnrollResult::confirmed);
}

void test_begin_when_active(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);

  auto again = f.auth->begin_enrollment("alice");
  assert_false(again.has_value());
  assert_true(Authenticator::is_already_enrolled(again.error()));
  assert_false(Authenticator::is_already_enrolled(Error{"store: disk I/O error"}));

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
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code), AuthResult::denied);
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
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", wrong_code(f, secret)),
              AuthResult::denied);
  assert_int_equal(status_of(f, "alice").failures, 1);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret)),
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

void test_empty_password(void** state)
{
  Fixture& f = fixture(state);
  const Bytes secret = enroll_alice(f);
  const unsigned calls = f.passwords.calls;

  assert_auth(login(f, code_for(f, secret), ""), AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "", ""), AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_only, "", ""), AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_and_code, "", "123456"),
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
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", ""),
              AuthResult::success);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "wrong", ""),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("bob", AuthMode::password_only, "right", ""),
              AuthResult::denied);

  // Enrolled: never, whatever the password.
  const Bytes secret = enroll_alice(f);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", ""),
              AuthResult::denied);
  assert_auth(f.auth->authenticate("alice", AuthMode::password_only, "right", code_for(f, secret)),
              AuthResult::denied);
}

void test_not_enrolled(void** state)
{
  Fixture& f = fixture(state);
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", "123456"),
              AuthResult::not_enrolled);
  assert_auth(f.auth->authenticate("nobody", AuthMode::code_only, "", "123456"),
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
  assert_auth(f.auth->authenticate("alice", AuthMode::code_only, "", code_for(f, secret)),
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
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, bob)),
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
  assert_auth(f.auth->authenticate("bob", AuthMode::code_only, "", code_for(f, secret)),
              AuthResult::unavailable);
  // Alice's own record still works.
  assert_auth(login(f, code_for(f, secret)), AuthResult::success);

  // The same for a pending secret.
  const Bytes pending = begin(f, "carol");
  UserRecord pending_copy = stored(f, "carol");
  pending_copy.user = "dave";
  assert_true(f.store->save(pending_copy).has_value());
  assert_false(f.auth->confirm_enrollment("dave", code_for(f, pending)).has_value());
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
      TEST(test_begin_replaces_pending),
      TEST(test_begin_when_active),
      TEST(test_login_success_then_replay),
      TEST(test_code_only_mode),
      TEST(test_window),
      TEST(test_window_zero),
      TEST(test_wrong_password_right_code),
      TEST(test_right_password_wrong_code),
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
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
