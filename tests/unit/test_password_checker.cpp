// Password checks (daemon/auth/password_checker.*).
//
// ShadowPasswordChecker against accounts of nss_wrapper: the test runs itself again with
// libnss_wrapper preloaded and a passwd and shadow file of its own (the way
// tests/integration/lib.sh gives the daemon its accounts); without nss_wrapper those tests are
// skipped. DirectoryPasswordChecker over a PolicyResolver (real SQLite cache) and a
// ScriptedDirectory: who is checked where, and what an unreachable directory answers.
#include "password_checker.hpp"

#include <crypt.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <unistd.h>

// After <fstream>: it brings in cmocka.h, whose fail() would clash with std::ios::fail.
#include "scripted_directory.hpp"

using namespace studio2fa;

namespace {

#define assert_verdict(got, expected)                                                              \
  assert_int_equal(static_cast<int>(got), static_cast<int>(PasswordVerdict::expected))

// Set in the run under nss_wrapper: the directory of its passwd and shadow files.
constexpr const char* k_world_env = "S2FA_TEST_PASSWORD_WORLD";

// --- ShadowPasswordChecker --------------------------------------------------------------------

// A SHA-512 crypt hash of `password` (a fixed salt: the tests need no more).
std::string sha512_crypt(const char* password)
{
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password, "$6$s2fa.test$", data.get());
  if (hash == nullptr || hash[0] == '*') {
    fail_msg("crypt_r cannot make a SHA-512 hash");
  }
  return hash;
}

bool under_nss_wrapper()
{
  return getenv(k_world_env) != nullptr;
}

struct ShadowCase {
  const char* user;
  const char* password;
  PasswordVerdict expected;
};

// Checks each case with one ShadowPasswordChecker (skipped without nss_wrapper).
void check_shadow(std::initializer_list<ShadowCase> cases)
{
  if (!under_nss_wrapper()) {
    skip();
  }
  ShadowPasswordChecker checker;
  for (const ShadowCase& c : cases) {
    const PasswordVerdict got = checker.check(c.user, c.password);
    if (got != c.expected) {
      fail_msg("user \"%s\", password \"%s\": verdict %d, expected %d", c.user, c.password,
               static_cast<int>(got), static_cast<int>(c.expected));
    }
  }
}

constexpr PasswordVerdict match = PasswordVerdict::match;
constexpr PasswordVerdict mismatch = PasswordVerdict::mismatch;

void test_shadow_right_password(void**)
{
  check_shadow({{"alice", "alice-Pa55word", match}, {"bob", "bob-Pa55word", match}});
}

void test_shadow_wrong_password(void**)
{
  check_shadow({{"alice", "alice-Pa55wor", mismatch},
                {"alice", "alice-Pa55word ", mismatch},
                {"alice", "ALICE-PA55WORD", mismatch},
                {"alice", "bob-Pa55word", mismatch}, // another account's
                {"bob", "alice-Pa55word", mismatch}});
}

void test_shadow_empty(void**)
{
  // An account whose stored hash is empty has no password: nothing matches it.
  check_shadow({{"alice", "", mismatch},
                {"", "alice-Pa55word", mismatch},
                {"frank", "", mismatch},
                {"frank", "anything", mismatch}});
}

void test_shadow_unknown_user(void**)
{
  // Twice: the stand-in hash is made once and kept.
  check_shadow({{"nobody-here", "alice-Pa55word", mismatch}, {"nobody-here", "x", mismatch}});
}

void test_shadow_locked_and_disabled(void**)
{
  // "!" before a hash (passwd -l) locks the account even for its right password; "!" alone
  // (no password ever set); "*" (disabled).
  check_shadow(
      {{"carol", "carol-Pa55word", mismatch}, {"dave", "!", mismatch}, {"erin", "*", mismatch}});
}

void test_hash_in_passwd(void**)
{
  // The hash in the passwd entry itself (no "x"): shadow is not asked.
  check_shadow({{"grace", "grace-Pa55word", match}, {"grace", "grace-Pa55wor", mismatch}});
}

// Writes the accounts of the tests above into `dir`.
void write_world(const std::string& dir)
{
  std::ofstream passwd(dir + "/passwd");
  std::ofstream group(dir + "/group");
  std::ofstream shadow(dir + "/shadow");
  passwd << "root:x:0:0:root:/root:/bin/sh\n";
  group << "root:x:0:\n";
  const struct {
    const char* name;
    std::string hash;
  } accounts[] = {
      {"alice", sha512_crypt("alice-Pa55word")},
      {"bob", sha512_crypt("bob-Pa55word")},
      {"carol", "!" + sha512_crypt("carol-Pa55word")},
      {"dave", "!"},
      {"erin", "*"},
      {"frank", ""},
  };
  unsigned uid = 5001;
  for (const auto& account : accounts) {
    passwd << account.name << ":x:" << uid << ':' << uid << "::/home/" << account.name
           << ":/bin/sh\n";
    group << account.name << ":x:" << uid << ":\n";
    shadow << account.name << ':' << account.hash << ":19000:0:99999:7:::\n";
    ++uid;
  }
  passwd << "grace:" << sha512_crypt("grace-Pa55word") << ':' << uid << ':' << uid
         << "::/home/grace:/bin/sh\n";
}

// The path of libnss_wrapper.so, or empty.
std::string nss_wrapper_library()
{
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                          "/usr/lib", "/usr/local/lib"}) {
    const std::string path = std::string(dir) + "/libnss_wrapper.so";
    if (access(path.c_str(), R_OK) == 0) {
      return path;
    }
  }
  return {};
}

// Runs this program again under nss_wrapper with accounts of its own; returns only when that
// cannot be done (the shadow tests are then skipped).
void run_under_nss_wrapper(char** argv)
{
  const std::string library = nss_wrapper_library();
  char templ[] = "/tmp/studio2fa-password-test.XXXXXX";
  if (library.empty() || mkdtemp(templ) == nullptr) {
    return;
  }
  const std::string dir = templ;
  write_world(dir);
  setenv(k_world_env, dir.c_str(), 1);
  setenv("LD_PRELOAD", library.c_str(), 1);
  setenv("NSS_WRAPPER_PASSWD", (dir + "/passwd").c_str(), 1);
  setenv("NSS_WRAPPER_GROUP", (dir + "/group").c_str(), 1);
  setenv("NSS_WRAPPER_SHADOW", (dir + "/shadow").c_str(), 1);
  // A sanitizer build: the preloaded wrapper comes before the ASan runtime, and LeakSanitizer
  // would report the wrapper's own allocations (as in tests/integration/lib.sh).
  const char* asan = getenv("ASAN_OPTIONS");
  const std::string asan_options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "";
  setenv("ASAN_OPTIONS", (asan_options + "verify_asan_link_order=0:detect_leaks=0").c_str(), 1);
  execv("/proc/self/exe", argv);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  unsetenv(k_world_env);
  unsetenv("LD_PRELOAD");
}

// --- DirectoryPasswordChecker -----------------------------------------------------------------

// Local accounts: only "localuser" with "local-pw"; counts the checks it is asked.
class LocalPasswords final : public PasswordChecker {
public:
  PasswordVerdict check(std::string_view user, std::string_view password) override
  {
    ++calls;
    return user == "localuser" && password == "local-pw" ? PasswordVerdict::match
                                                         : PasswordVerdict::mismatch;
  }
  unsigned calls = 0;
};

constexpr const char* k_vfx1_dn = "uid=vfx1,ou=people,dc=studio,dc=example";

struct DirectoryFixture : PolicyWorld {
  LocalPasswords local;
  DirectoryPasswordChecker checker{*policy, &directory, local, std::chrono::milliseconds(1000)};

  DirectoryFixture() : PolicyWorld(studio_policy_settings())
  {
    directory.users["vfx1"] = {k_vfx1_dn, {}};
    directory.passwords[k_vfx1_dn] = "vfx1-pw";
    directory.users["root"] = {"uid=root,ou=people,dc=studio,dc=example", {}};
    directory.passwords["uid=root,ou=people,dc=studio,dc=example"] = "root-in-directory";
  }

  PasswordVerdict check(std::string_view user, std::string_view password)
  {
    return checker.check(user, password);
  }
};

DirectoryFixture& fixture(void** state)
{
  return *static_cast<DirectoryFixture*>(*state);
}

// Checks `password` for `user`, and what was asked to answer: the directory's binds and the
// local checks so far.
#define assert_checked(f, user, password, expected, binds_so_far, local_so_far)                    \
  do {                                                                                             \
    assert_verdict((f).check((user), (password)), expected);                                       \
    assert_int_equal((f).directory.binds, (binds_so_far));                                         \
    assert_int_equal((f).local.calls, (local_so_far));                                             \
  } while (0)

void test_directory_user_by_bind(void** state)
{
  // Never the local accounts for a directory user, whatever they would say.
  DirectoryFixture& f = fixture(state);
  assert_checked(f, "vfx1", "vfx1-pw", match, 1, 0);
  assert_checked(f, "vfx1", "vfx1-pW", mismatch, 2, 0);
}

void test_local_user_checked_locally(void** state)
{
  DirectoryFixture& f = fixture(state);
  assert_checked(f, "localuser", "local-pw", match, 0, 1);
  assert_checked(f, "localuser", "wrong", mismatch, 0, 2);
}

void test_empty_password_never_sent(void** state)
{
  // An empty simple bind is an anonymous bind, which succeeds.
  DirectoryFixture& f = fixture(state);
  f.directory.passwords[k_vfx1_dn] = "";
  assert_checked(f, "vfx1", "", mismatch, 0, 0);
  assert_checked(f, "localuser", "", mismatch, 0, 0);
}

void test_root_never_in_the_directory(void** state)
{
  DirectoryFixture& f = fixture(state);
  assert_checked(f, "root", "root-in-directory", mismatch, 0, 1);
}

void test_unreachable_directory_rests(void** state)
{
  DirectoryFixture& f = fixture(state);
  assert_checked(f, "vfx1", "vfx1-pw", match, 1, 0); // the entry is now cached
  f.directory.down = true;
  // Nothing is known about the password: unavailable, not wrong, and not checked locally.
  assert_checked(f, "vfx1", "vfx1-pw", unavailable, 2, 0);
  // The directory rests: no bind is tried until retry_after has passed.
  f.clock.advance(10);
  assert_checked(f, "vfx1", "vfx1-pw", unavailable, 2, 0);
  f.directory.down = false;
  f.clock.advance(21);
  assert_checked(f, "vfx1", "vfx1-pw", match, 3, 0);
}

void test_directory_down_nothing_cached(void** state)
{
  // Where the password is held is unknown: the local accounts still work, and a directory user
  // (who has no local hash) is refused.
  DirectoryFixture& f = fixture(state);
  f.directory.down = true;
  assert_checked(f, "localuser", "local-pw", match, 0, 1);
  assert_checked(f, "vfx1", "vfx1-pw", mismatch, 0, 2);
}

void test_no_directory(void**)
{
  LocalPasswords local;
  ManualClock clock{1'700'000'000};
  char templ[] = "/tmp/studio2fa-password-test.XXXXXX";
  assert_non_null(mkdtemp(templ));
  const std::string dir = templ;
  {
    auto store = SqliteStore::open(dir + "/db");
    assert_true(store.has_value());
    PolicyResolver policy(**store, nullptr, clock, PolicySettings{});
    DirectoryPasswordChecker checker(policy, nullptr, local, std::chrono::milliseconds(1000));
    assert_verdict(checker.check("localuser", "local-pw"), match);
    assert_verdict(checker.check("vfx1", "vfx1-pw"), mismatch);
    assert_int_equal(local.calls, 2);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

} // namespace

int main(int, char** argv)
{
  if (!under_nss_wrapper()) {
    run_under_nss_wrapper(argv);
  }
#define DIRECTORY_TEST(name)                                                                       \
  cmocka_unit_test_setup_teardown(name, new_fixture<DirectoryFixture>,                             \
                                  delete_fixture<DirectoryFixture>)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shadow_right_password),
      cmocka_unit_test(test_shadow_wrong_password),
      cmocka_unit_test(test_shadow_empty),
      cmocka_unit_test(test_shadow_unknown_user),
      cmocka_unit_test(test_shadow_locked_and_disabled),
      cmocka_unit_test(test_hash_in_passwd),
      DIRECTORY_TEST(test_directory_user_by_bind),
      DIRECTORY_TEST(test_local_user_checked_locally),
      DIRECTORY_TEST(test_empty_password_never_sent),
      DIRECTORY_TEST(test_root_never_in_the_directory),
      DIRECTORY_TEST(test_unreachable_directory_rests),
      DIRECTORY_TEST(test_directory_down_nothing_cached),
      cmocka_unit_test(test_no_directory),
  };
#undef DIRECTORY_TEST
  const int failed = cmocka_run_group_tests(tests, nullptr, nullptr);
  if (const char* world = getenv(k_world_env); world != nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(world, ignored);
  }
  return failed;
}
