// HOTP/TOTP (lib/totp) against RFC 4226 Appendix D and RFC 6238 Appendix B.
#include "totp.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <string_view>

using namespace studio2fa;
using totp::Algorithm;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text)
{
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

constexpr std::string_view k_sha1_key = "12345678901234567890";
constexpr std::string_view k_sha256_key = "12345678901234567890123456789012";
constexpr std::string_view k_sha512_key =
    "1234567890123456789012345678901234567890123456789012345678901234";

void test_rfc4226_hotp(void**)
{
  const std::uint32_t expected[] = {755224, 287082, 359152, 969429, 338314,
                                    254676, 287922, 162583, 399871, 520489};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    const auto value = totp::hotp(bytes_of(k_sha1_key), counter, Algorithm::sha1, 6);
    assert_true(value.has_value());
    assert_int_equal(*value, expected[counter]);
  }
  // The same truncated values (Appendix D, "Decimal"), taken mod 10^7 and 10^8.
  assert_int_equal(*totp::hotp(bytes_of(k_sha1_key), 0, Algorithm::sha1, 8), 84755224);
  assert_int_equal(*totp::hotp(bytes_of(k_sha1_key), 2, Algorithm::sha1, 7), 7359152);
  assert_int_equal(*totp::hotp(bytes_of(k_sha1_key), 7, Algorithm::sha1, 8), 82162583);
}

struct TotpVector {
  std::int64_t time;
  std::uint32_t sha1;
  std::uint32_t sha256;
  std::uint32_t sha512;
};

// RFC 6238 Appendix B.
const TotpVector k_rfc6238_vectors[] = {
    {59, 94287082, 46119246, 90693936},         {1111111109, 7081804, 68084774, 25091201},
    {1111111111, 14050471, 67062674, 99943326}, {1234567890, 89005924, 91819424, 93441116},
    {2000000000, 69279037, 90698825, 38618901}, {20000000000, 65353130, 77737706, 47863826},
};

void test_rfc6238_totp(void**)
{
  for (const TotpVector& vector : k_rfc6238_vectors) {
    const std::uint64_t step = totp::time_step(vector.time, 30);
    const auto sha1 = totp::hotp(bytes_of(k_sha1_key), step, Algorithm::sha1, 8);
    const auto sha256 = totp::hotp(bytes_of(k_sha256_key), step, Algorithm::sha256, 8);
    const auto sha512 = totp::hotp(bytes_of(k_sha512_key), step, Algorithm::sha512, 8);
    assert_true(sha1 && sha256 && sha512);
    assert_int_equal(*sha1, vector.sha1);
    assert_int_equal(*sha256, vector.sha256);
    assert_int_equal(*sha512, vector.sha512);
  }
}

void test_rfc6238_formatted(void**)
{
  // Appendix B prints 0708 1804 with its leading zero.
  char code[9];
  const std::uint64_t step = totp::time_step(1111111109, 30);
  totp::format_code(*totp::hotp(bytes_of(k_sha1_key), step, Algorithm::sha1, 8), 8, code);
  assert_string_equal(code, "07081804");
  assert_int_equal(step, 0x23523EC);
}

void test_time_step(void**)
{
  assert_int_equal(totp::time_step(0, 30), 0);
  assert_int_equal(totp::time_step(29, 30), 0);
  assert_int_equal(totp::time_step(30, 30), 1);
  assert_int_equal(totp::time_step(59, 30), 1);
  assert_int_equal(totp::time_step(1111111109, 30), 37037036);
  assert_int_equal(totp::time_step(1234567890, 60), 20576131);
  assert_true(totp::time_step(20000000000, 30) == 666666666ULL);
  assert_int_equal(totp::time_step(100, 1), 100);
  assert_int_equal(totp::time_step(-1, 30), 0);
  assert_int_equal(totp::time_step(1000, 0), 0);
}

void test_format_code(void**)
{
  char code[10];
  totp::format_code(0, 6, code);
  assert_string_equal(code, "000000");
  totp::format_code(42, 6, code);
  assert_string_equal(code, "000042");
  totp::format_code(123456, 6, code);
  assert_string_equal(code, "123456");
  totp::format_code(42, 8, code);
  assert_string_equal(code, "00000042");
  totp::format_code(1234567, 7, code);
  assert_string_equal(code, "1234567");
}

void test_parse_code(void**)
{
  assert_int_equal(*totp::parse_code("123456", 6), 123456);
  assert_int_equal(*totp::parse_code("012345", 6), 12345);
  assert_int_equal(*totp::parse_code("000000", 6), 0);
  assert_int_equal(*totp::parse_code("123 456", 6), 123456);
  assert_int_equal(*totp::parse_code("  1 2 3 4 5 6  ", 6), 123456);
  assert_int_equal(*totp::parse_code("07081804", 8), 7081804);
  assert_int_equal(*totp::parse_code("0708 1804", 8), 7081804);
  assert_int_equal(*totp::parse_code("1234567", 7), 1234567);

  for (const std::string_view bad :
       {"", "      ", "12345", "1234567", "12345a", "a12345", "123-456", "123\t456", "+12345",
        "-12345", "12345\n", "１２３４５６", "0x1234"}) {
    assert_false(totp::parse_code(bad, 6).has_value());
  }
  const char with_nul[] = {'1', '2', '3', '\0', '4', '5', '6'};
  assert_false(totp::parse_code(std::string_view(with_nul, sizeof(with_nul)), 6).has_value());
  assert_false(totp::parse_code("123456", 8).has_value());
  assert_false(totp::parse_code("123456789", 8).has_value());
}

void test_parse_algorithm(void**)
{
  assert_true(totp::parse_algorithm("SHA1") == Algorithm::sha1);
  assert_true(totp::parse_algorithm("sha1") == Algorithm::sha1);
  assert_true(totp::parse_algorithm("SHA256") == Algorithm::sha256);
  assert_true(totp::parse_algorithm("Sha256") == Algorithm::sha256);
  assert_true(totp::parse_algorithm("sha512") == Algorithm::sha512);
  for (const std::string_view bad :
       {"", "SHA", "SHA-1", "SHA1 ", " SHA1", "SHA384", "MD5", "SHA2561"}) {
    assert_false(totp::parse_algorithm(bad).has_value());
  }
  for (const Algorithm algorithm : {Algorithm::sha1, Algorithm::sha256, Algorithm::sha512}) {
    assert_true(totp::parse_algorithm(totp::algorithm_name(algorithm)) == algorithm);
  }
  assert_string_equal(totp::algorithm_name(Algorithm::sha256), "SHA256");
}

std::uint32_t code_at(std::uint64_t step, const totp::Parameters& params)
{
  const auto value = totp::hotp(bytes_of(k_sha1_key), step, params.algorithm, params.digits);
  assert_true(value.has_value());
  return *value;
}

void test_match_step_window(void**)
{
  const totp::Parameters params;
  const std::uint64_t now = totp::time_step(1700000000, params.period);
  const auto key = bytes_of(k_sha1_key);

  // The test relies on these codes being distinct (a one-in-a-million coincidence otherwise).
  std::uint32_t codes[7];
  for (int i = 0; i < 7; ++i) {
    codes[i] = code_at(now - 3 + static_cast<std::uint64_t>(i), params);
    for (int j = 0; j < i; ++j) {
      assert_int_not_equal(codes[i], codes[j]);
    }
  }
  const auto code_for = [&](int offset) { return codes[offset + 3]; };

  for (const int offset : {-1, 0, 1}) {
    const auto step = totp::match_step(key, code_for(offset), now, 1, params);
    assert_true(step.has_value());
    assert_true(*step == now + static_cast<std::uint64_t>(static_cast<std::int64_t>(offset)));
  }
  for (const int offset : {-3, -2, 2, 3}) {
    assert_false(totp::match_step(key, code_for(offset), now, 1, params).has_value());
  }

  assert_true(totp::match_step(key, code_for(0), now, 0, params) == now);
  assert_false(totp::match_step(key, code_for(-1), now, 0, params).has_value());
  assert_false(totp::match_step(key, code_for(1), now, 0, params).has_value());

  assert_true(totp::match_step(key, code_for(-3), now, 3, params) == now - 3);
  assert_true(totp::match_step(key, code_for(3), now, 3, params) == now + 3);

  // A code that is no code at all.
  assert_false(totp::match_step(key, 1000000, now, 2, params).has_value());
}

void test_match_step_coincidence_later_wins(void**)
{
  // With RFC 6238's SHA-1 key, steps 910737 and 910738 share their 6-digit code (found by a
  // search; a one-in-a-million coincidence, as oathtool also shows). The later step is taken,
  // so that the replay check afterwards refuses that same code for the rest of its window.
  const totp::Parameters params;
  const auto key = bytes_of(k_sha1_key);
  const std::uint64_t first = 910737;
  const std::uint32_t code = code_at(first, params);
  assert_int_equal(code, code_at(first + 1, params));
  assert_int_not_equal(code, code_at(first - 1, params));
  assert_int_not_equal(code, code_at(first + 2, params));
  assert_true(totp::match_step(key, code, first, 1, params) == first + 1);
  assert_true(totp::match_step(key, code, first + 1, 1, params) == first + 1);
  assert_true(totp::match_step(key, code, first + 2, 1, params) == first + 1);
  assert_true(totp::match_step(key, code, first - 1, 1, params) == first);
}

void test_match_step_rfc_vector(void**)
{
  // RFC 6238 at T = 59 (step 1), SHA256, 8 digits, found from step 2 with window 1.
  const totp::Parameters params{Algorithm::sha256, 8, 30};
  const auto step = totp::match_step(bytes_of(k_sha256_key), 46119246, 2, 1, params);
  assert_true(step == 1U);
  assert_false(totp::match_step(bytes_of(k_sha256_key), 46119246, 3, 1, params).has_value());
  // Period 60: T = 1234567890 is step 20576131.
  const totp::Parameters minute{Algorithm::sha1, 6, 60};
  const std::uint32_t code = code_at(20576131, minute);
  assert_true(totp::match_step(bytes_of(k_sha1_key), code, totp::time_step(1234567890, 60), 1,
                               minute) == 20576131U);
}

void test_match_step_edges(void**)
{
  const totp::Parameters params;
  const auto key = bytes_of(k_sha1_key);

  // Window larger than the step: negative steps do not exist and are skipped.
  assert_true(totp::match_step(key, code_at(0, params), 0, 2, params) == 0U);
  assert_true(totp::match_step(key, code_at(2, params), 0, 2, params) == 2U);
  assert_false(totp::match_step(key, code_at(3, params), 0, 2, params).has_value());
  assert_true(totp::match_step(key, code_at(0, params), 1, 5, params) == 0U);

  // The top of the counter range does not wrap around to step 0.
  const std::uint64_t top = UINT64_MAX;
  assert_true(totp::match_step(key, code_at(top, params), top, 1, params) == top);
  assert_true(totp::match_step(key, code_at(top - 1, params), top, 1, params) == top - 1);
  if (code_at(0, params) != code_at(top, params) &&
      code_at(0, params) != code_at(top - 1, params)) {
    assert_false(totp::match_step(key, code_at(0, params), top, 1, params).has_value());
  }
}

void test_empty_key(void**)
{
  // HMAC with an empty key is well defined; it must not fail or crash.
  const auto value = totp::hotp(std::span<const std::uint8_t>(), 0, Algorithm::sha1, 6);
  assert_true(value.has_value());
  assert_true(*value < 1000000);
  const auto other = totp::hotp(bytes_of(k_sha1_key), 0, Algorithm::sha1, 6);
  assert_int_not_equal(*value, *other);
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc4226_hotp),
      cmocka_unit_test(test_rfc6238_totp),
      cmocka_unit_test(test_rfc6238_formatted),
      cmocka_unit_test(test_time_step),
      cmocka_unit_test(test_format_code),
      cmocka_unit_test(test_parse_code),
      cmocka_unit_test(test_parse_algorithm),
      cmocka_unit_test(test_match_step_window),
      cmocka_unit_test(test_match_step_coincidence_later_wins),
      cmocka_unit_test(test_match_step_rfc_vector),
      cmocka_unit_test(test_match_step_edges),
      cmocka_unit_test(test_empty_key),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
