// canonical_account_name: one record per person, however the name was typed.
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
    cmocka_unit_test(test_real_nss),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
