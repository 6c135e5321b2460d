// The fixture of the unit tests of daemon/auth/ (test_enrollment, test_login,
// test_backup_code_factor, test_self_service, test_account_ledger, test_account_admin): an
// Authenticator and an AccountAdmin over one AccountLedger, a real SqliteStore and Sealer, with a
// ManualClock and a fake password checker; and the helpers those tests share.
//
// Expected codes come from a small RFC 6238 implementation in this file (OpenSSL HMAC()
// directly), not from lib/totp, so that a bug there cannot hide here.
#pragma once

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

using Bytes = std::vector<std::uint8_t>;

// The peer of every request in these tests: root, as the PAM module runs in sshd.
inline const Requester k_who{0, "root", "test", "", ""};

// 30 * 56'666'667 + 5: five seconds into a time step.
inline constexpr std::int64_t k_start_time = 1'700'000'015;

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

inline std::string reference_code(const Bytes& key, std::uint64_t step, const totp::Parameters& params)
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

inline AuthenticatorSettings test_settings()
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
  unsigned audit_retention = 365 * 86400;
  std::unique_ptr<AccountLedger> ledger;
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

  // A new Authenticator with `settings` (and a new AccountLedger), over the same store.
  void reconfigure(const AuthenticatorSettings& new_settings)
  {
    settings = new_settings;
    admin.reset();
    auth.reset();
    ledger = std::make_unique<AccountLedger>(*store, clock, audit_retention);
    auth = std::make_unique<Authenticator>(*ledger, *sealer, *hasher, passwords, settings);
    admin = std::make_unique<AccountAdmin>(*ledger, *auth);
  }

  // As after a daemon restart: everything in memory is gone, the database is reopened.
  void restart()
  {
    admin.reset();
    auth.reset();
    ledger.reset();
    store.reset();
    open_store();
    reconfigure(settings);
  }

  std::uint64_t step_now() const
  {
    return static_cast<std::uint64_t>(clock.now()) / settings.new_enrollment.period;
  }
};

inline int setup(void** state)
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

inline int teardown(void** state)
{
  auto* done = static_cast<Fixture*>(*state);
  const std::string dir = done->dir;
  delete done;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}

inline Fixture& fixture(void** state)
{
  return *static_cast<Fixture*>(*state);
}

// --- helpers ----------------------------------------------------------------------------------

inline const char* result_name(EnrollResult result)
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

inline EnrollOutcome confirm(Fixture& f, std::string_view user, const std::string& code)
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

inline UserStatus status_of(Fixture& f, std::string_view user)
{
  auto status = f.auth->status(user);
  if (!status) {
    fail_msg("status: %s", status.error().message.c_str());
  }
  return *status;
}

inline Bytes begin(Fixture& f, std::string_view user)
{
  auto offer = f.auth->begin_enrollment(user, k_who);
  if (!offer) {
    fail_msg("begin_enrollment: %s", offer.error().message.c_str());
  }
  return Bytes(offer->secret.data(), offer->secret.data() + offer->secret.size());
}

// The code of `secret` for the time step `offset` steps from now.
inline std::string code_for(Fixture& f, const Bytes& secret, std::int64_t offset = 0)
{
  return reference_code(secret, f.step_now() + static_cast<std::uint64_t>(offset),
                        f.settings.new_enrollment);
}

// A well-formed code that is wrong for every step the window accepts now.
inline std::string wrong_code(Fixture& f, const Bytes& secret)
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
inline Bytes enroll(Fixture& f, std::string_view user)
{
  const Bytes secret = begin(f, user);
  assert_confirm(f, user, code_for(f, secret), EnrollResult::confirmed);
  return secret;
}

// Enrolls alice, then moves the clock to the next step so that its code is fresh.
inline Bytes enroll_alice(Fixture& f)
{
  const Bytes secret = enroll(f, "alice");
  f.clock.advance(30);
  return secret;
}

inline AuthOutcome login(Fixture& f, const std::string& code, std::string_view password = "right",
                         const Requester& who = k_who)
{
  return f.auth->authenticate("alice", AuthMode::password_and_code, password, code, who);
}

inline UserRecord stored(Fixture& f, std::string_view user)
{
  auto loaded = f.store->load(user);
  assert_true(loaded.has_value());
  assert_true(loaded->has_value());
  return std::move(**loaded);
}


inline void fail_codes(Fixture& f, const Bytes& secret, unsigned count)
{
  for (unsigned i = 0; i < count; ++i) {
    assert_auth(login(f, wrong_code(f, secret)), AuthResult::denied);
  }
}


inline std::vector<std::string> new_codes(Fixture& f, const Bytes& secret)
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

inline CodeOutcome backup_request(Fixture& f, const std::string& code)
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
inline constexpr const char* k_wrong_backup = "ZZZZ-ZZZZ-ZZZ0";

inline std::vector<AuditRecord> audit_of(Fixture& f, const std::string& user)
{
  AuditQuery query;
  query.subject = user;
  query.limit = 1000;
  auto records = f.store->read_audit(query);
  assert_true(records.has_value());
  return std::move(*records);
}

inline const Requester k_admin{5004, "dave", "", "", ""};

inline protocol::ImportEntry import_entry(std::string_view user, std::string_view secret)
{
  protocol::ImportEntry entry;
  entry.user = user;
  entry.secret = secret;
  entry.algorithm = "SHA1";
  entry.digits = 6;
  entry.period = 30;
  return entry;
}
