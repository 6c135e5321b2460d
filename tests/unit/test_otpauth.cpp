// otpauth:// URIs (lib/otpauth).
#include "otpauth.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <string>
#include <string_view>

using namespace studio2fa;

namespace {

void assert_uri(std::string_view issuer, std::string_view account, std::string_view secret,
                const totp::Parameters& params, std::string_view expected)
{
  const SecretBytes uri = otpauth::build_uri(issuer, account, secret, params);
  if (uri.view() != expected) {
    fail_msg("got      %.*s\nexpected %.*s", static_cast<int>(uri.size()), uri.view().data(),
             static_cast<int>(expected.size()), expected.data());
  }
}

void test_default_parameters(void**)
{
  assert_uri("Example", "alice", "JBSWY3DPEHPK3PXP", totp::Parameters{},
             "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example");
}

void test_non_default_parameters(void**)
{
  assert_uri("Example", "alice", "JBSWY3DPEHPK3PXP", {totp::Algorithm::sha256, 8, 60},
             "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"
             "&algorithm=SHA256&digits=8&period=60");
  assert_uri("Example", "alice", "JBSWY3DPEHPK3PXP", {totp::Algorithm::sha512, 6, 30},
             "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"
             "&algorithm=SHA512");
  assert_uri("Example", "alice", "JBSWY3DPEHPK3PXP", {totp::Algorithm::sha1, 7, 30},
             "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&digits=7");
  assert_uri("Example", "alice", "JBSWY3DPEHPK3PXP", {totp::Algorithm::sha1, 6, 45},
             "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&period=45");
}

void test_percent_encoding_in_uri(void**)
{
  assert_uri("ACME Co", "john.doe@example.com", "ABCD", totp::Parameters{},
             "otpauth://totp/ACME%20Co:john.doe%40example.com?secret=ABCD&issuer=ACME%20Co");
  assert_uri("a:b/c&d", "e?f=g#h", "ABCD", totp::Parameters{},
             "otpauth://totp/a%3Ab%2Fc%26d:e%3Ff%3Dg%23h?secret=ABCD&issuer=a%3Ab%2Fc%26d");
  assert_uri("Zürich", "José", "ABCD", totp::Parameters{},
             "otpauth://totp/Z%C3%BCrich:Jos%C3%A9?secret=ABCD&issuer=Z%C3%BCrich");
}

void test_empty_issuer(void**)
{
  // No "Issuer:" prefix and no issuer parameter rather than a label that starts with ':'.
  assert_uri("", "alice", "ABCD", totp::Parameters{}, "otpauth://totp/alice?secret=ABCD");
}

void test_percent_encode(void**)
{
  assert_string_equal(otpauth::percent_encode("").c_str(), "");
  assert_string_equal(otpauth::percent_encode("AZaz09-._~").c_str(), "AZaz09-._~");
  assert_string_equal(otpauth::percent_encode(" ").c_str(), "%20");
  assert_string_equal(otpauth::percent_encode(":@/&").c_str(), "%3A%40%2F%26");
  assert_string_equal(otpauth::percent_encode("+%=?#").c_str(), "%2B%25%3D%3F%23");
  assert_string_equal(otpauth::percent_encode("\xc3\xa9\xe2\x82\xac").c_str(), "%C3%A9%E2%82%AC");
  assert_string_equal(otpauth::percent_encode(std::string_view("\x00\x7f\xff", 3)).c_str(),
                      "%00%7F%FF");
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_parameters),      cmocka_unit_test(test_non_default_parameters),
      cmocka_unit_test(test_percent_encoding_in_uri), cmocka_unit_test(test_empty_issuer),
      cmocka_unit_test(test_percent_encode),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
