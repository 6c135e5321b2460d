// canonical_account_name: one record per person, however the name was typed; AccountNameCache:
// how long an answer is remembered.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

#include "account_names.hpp"

#include <algorithm>
#include <cctype>

using namespace studio2fa;

namespace {

// A directory that matches names case-insensitively, as SSSD can be set to.
std::optional<std::string> case_insensitive_directory(const std::string& name)
{
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "alice" || lower == "render.admin") {
    return lower;
  }
  return std::nullopt;
}

void test_case_variants_map_to_one_account(void**)
{
  assert_string_equal(canonical_account_name("ALICE", case_insensitive_directory).c_str(), "alice");
  assert_string_equal(canonical_account_name("Alice", case_insensitive_directory).c_str(), "alice");
  assert_string_equal(canonical_account_name("alice", case_insensitive_directory).c_str(), "alice");
  assert_string_equal(
    canonical_account_name("Render.Admin", case_insensitive_directory).c_str(), "render.admin");
}

void test_unknown_names_are_kept(void**)
{
  assert_string_equal(canonical_account_name("Bob", case_insensitive_directory).c_str(), "Bob");
  auto empty_answer = [](const std::string&) -> std::optional<std::string> {
    return std::string();
  };
  assert_string_equal(canonical_account_name("carol", empty_answer).c_str(), "carol");
}

class SetClock final : public Clock {
public:
  std::int64_t now() const override { return time; }
  std::int64_t time = 1000000;
};

// Answers from a table, counting the lookups.
struct ScriptedNss {
  AccountAnswer operator()(const std::string& name)
  {
    ++(*lookups);
    if (name == "ALICE" || name == "alice") {
      return {AccountAnswer::Kind::found, "alice"};
    }
    if (name == "flaky") {
      return {};
    }
    return {AccountAnswer::Kind::no_such_account, {}};
  }
  int* lookups;
};

void test_cache_remembers_found_names_for_their_ttl(void**)
{
  SetClock clock;
  int lookups = 0;
  AccountNameCache cache(ScriptedNss{&lookups}, clock, {60, 5, 100});
  assert_string_equal(cache.canonical("ALICE").c_str(), "alice");
  clock.time += 59;
  assert_string_equal(cache.canonical("ALICE").c_str(), "alice");
  assert_int_equal(lookups, 1);
  clock.time += 1;
  assert_string_equal(cache.canonical("ALICE").c_str(), "alice");
  assert_int_equal(lookups, 2);
}

void test_cache_keeps_no_such_account_briefly(void**)
{
  SetClock clock;
  int lookups = 0;
  AccountNameCache cache(ScriptedNss{&lookups}, clock, {60, 5, 100});
  assert_string_equal(cache.canonical("Bob").c_str(), "Bob");
  clock.time += 4;
  assert_string_equal(cache.canonical("Bob").c_str(), "Bob");
  assert_int_equal(lookups, 1);
  clock.time += 1;
  assert_string_equal(cache.canonical("Bob").c_str(), "Bob");
  assert_int_equal(lookups, 2);
}

void test_cache_never_keeps_a_failed_lookup(void**)
{
  SetClock clock;
  int lookups = 0;
  AccountNameCache cache(ScriptedNss{&lookups}, clock, {60, 5, 100});
  assert_string_equal(cache.canonical("flaky").c_str(), "flaky");
  assert_string_equal(cache.canonical("flaky").c_str(), "flaky");
  assert_int_equal(lookups, 2);
}

void test_cache_forgets_when_the_clock_steps_back(void**)
{
  SetClock clock;
  int lookups = 0;
  AccountNameCache cache(ScriptedNss{&lookups}, clock, {60, 5, 100});
  cache.canonical("alice");
  clock.time -= 3600;
  cache.canonical("alice");
  assert_int_equal(lookups, 2);
}

void test_cache_stays_within_its_capacity(void**)
{
  SetClock clock;
  int lookups = 0;
  AccountNameCache cache(ScriptedNss{&lookups}, clock, {60, 5, 3});
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    assert_string_equal(cache.canonical(name).c_str(), name);
  }
  assert_int_equal(lookups, 5);
  // "d" and "e" came after the cache was emptied at "d": still known; "a" was dropped.
  cache.canonical("e");
  assert_int_equal(lookups, 5);
  cache.canonical("a");
  assert_int_equal(lookups, 6);
  assert_string_equal(cache.canonical("ALICE").c_str(), "alice");
}

void test_real_nss(void**)
{
  assert_string_equal(canonical_account_name("root").c_str(), "root");
  assert_string_equal(canonical_account_name("no-such-account-s2fa").c_str(),
                      "no-such-account-s2fa");
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_case_variants_map_to_one_account),
    cmocka_unit_test(test_unknown_names_are_kept),
    cmocka_unit_test(test_cache_remembers_found_names_for_their_ttl),
    cmocka_unit_test(test_cache_keeps_no_such_account_briefly),
    cmocka_unit_test(test_cache_never_keeps_a_failed_lookup),
    cmocka_unit_test(test_cache_forgets_when_the_clock_steps_back),
    cmocka_unit_test(test_cache_stays_within_its_capacity),
    cmocka_unit_test(test_real_nss),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
