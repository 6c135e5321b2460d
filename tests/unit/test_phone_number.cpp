// E.164 phone numbers and their mask (lib/phone_number).
#include "phone_number.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <string>
#include <string_view>

using namespace studio2fa;
using namespace std::string_view_literals;

namespace {

void assert_parses_to(std::string_view text, std::string_view canonical)
{
  const auto parsed = phone::parse_e164(text);
  if (!parsed) {
    fail_msg("parse_e164(\"%.*s\") failed: %s", static_cast<int>(text.size()), text.data(),
             parsed.error().message.c_str());
  }
  assert_string_equal(parsed->c_str(), std::string(canonical).c_str());
  assert_true(phone::is_canonical(*parsed));
}

void assert_refused(std::string_view text)
{
  const auto parsed = phone::parse_e164(text);
  if (parsed) {
    fail_msg("parse_e164(\"%.*s\") accepted it as %s", static_cast<int>(text.size()), text.data(),
             parsed->c_str());
  }
  assert_int_equal(static_cast<int>(parsed.error().code), static_cast<int>(Errc::invalid));
  assert_false(phone::is_canonical(text));
}

void test_written_forms(void**)
{
  assert_parses_to("+447946000958", "+447946000958");
  assert_parses_to("+44 7946 000958", "+447946000958");
  assert_parses_to("+1 (415) 555-0100", "+14155550100");
  assert_parses_to("+1(415)555-0100", "+14155550100");
  assert_parses_to("+33.1.23.45.67.89", "+33123456789");
  assert_parses_to("+6831234", "+6831234");                 // 7 digits: the shortest
  assert_parses_to("+123456789012345", "+123456789012345"); // 15 digits: the longest
}

void test_refused_forms(void**)
{
  assert_refused("");
  assert_refused("+");
  assert_refused("447946000958");        // no +
  assert_refused("00447946000958");      // the international prefix is not the + itself
  assert_refused(" +447946000958");      // nothing before the +
  assert_refused("+0447946000958");      // no country code starts with 0
  assert_refused("+683123");             // 6 digits
  assert_refused("+1234567890123456");   // 16 digits
  assert_refused("+44  7946000958");     // two separators in a row
  assert_refused("+ 447946000958");      // a separator straight after the +
  assert_refused("+447946000958 ");      // a separator at the end
  assert_refused("+44 (0)20 7946 0958"); // a trunk prefix
  assert_refused("+1 (415 555-0100");    // a parenthesis not closed
  assert_refused("+1 415) 555-0100");    // nor opened
  assert_refused("+1 (415) (555) 0100"); // two pairs
  assert_refused("+44 7946 00095x");
  assert_refused("+44\0" "7946000958"sv);
  assert_refused("+447946000958;rm");
  assert_refused(
      "+\xd9\xa4\xd9\xa4\xd9\xa4\xd9\xa4\xd9\xa4\xd9\xa4\xd9\xa4"); // Arabic-Indic digits
}

void test_bounded_input(void**)
{
  // A number with as many separators as fit is read; one byte more is not read at all.
  std::string spaced = "+1";
  while (spaced.size() + 2 <= phone::k_max_input) {
    spaced += " 2";
  }
  assert_true(spaced.size() <= phone::k_max_input);
  // (more than 15 digits by then: refused for that, but only after reading)
  assert_refused(spaced);
  std::string long_text(phone::k_max_input + 1, '1');
  long_text[0] = '+';
  const auto parsed = phone::parse_e164(long_text);
  assert_false(parsed.has_value());
  assert_non_null(strstr(parsed.error().message.c_str(), "too long"));
}

void test_mask(void**)
{
  const std::string bullets = "\u2022\u2022\u2022\u2022\u2022\u2022";
  assert_string_equal(phone::mask("+447946004567").c_str(), (bullets + "4567").c_str());
  // The same mask whatever the length: the length is not shown either.
  assert_string_equal(phone::mask("+6834567").c_str(), (bullets + "4567").c_str());
  assert_string_equal(phone::mask("+1234").c_str(), bullets.c_str());
  assert_string_equal(phone::mask("").c_str(), bullets.c_str());
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_written_forms),
      cmocka_unit_test(test_refused_forms),
      cmocka_unit_test(test_bounded_input),
      cmocka_unit_test(test_mask),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
