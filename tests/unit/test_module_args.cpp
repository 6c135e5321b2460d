// Arguments of pam_studio2fa.so (pam_module/module_args).
#include "module_args.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <iterator>

using namespace studio2fa;

namespace {

template <std::size_t N> bool parse(const char* (&argv)[N], ModuleArgs& out, const char** bad)
{
  return parse_module_args(static_cast<int>(N), argv, out, bad);
}

void assert_defaults(const ModuleArgs& args)
{
  assert_ptr_equal(args.socket_path, k_default_socket_path);
  assert_string_equal(args.socket_path, "/run/studio2fa/studio2fad.sock");
  assert_int_equal(args.timeout_ms, k_default_client_timeout_ms);
  assert_false(args.debug);
  assert_false(args.otp_only);
  assert_false(args.use_first_pass);
  assert_false(args.try_first_pass);
  assert_false(args.single_prompt);
  assert_int_equal(args.code_digits, 6);
  assert_int_equal(args.code_digits, k_default_code_digits);
}

// Parses a single argument that must be refused, and checks `bad` names it.
void assert_refused(const char* arg)
{
  const char* argv[] = {arg};
  ModuleArgs args;
  const char* bad = nullptr;
  if (parse(argv, args, &bad)) {
    fail_msg("argument \"%s\" accepted", arg);
  }
  assert_ptr_equal(bad, arg);
}

void test_defaults(void**)
{
  assert_defaults(ModuleArgs{});
  ModuleArgs args;
  const char* bad = nullptr;
  assert_true(parse_module_args(0, nullptr, args, &bad));
  assert_null(bad);
  assert_defaults(args);
}

void test_each_flag(void**)
{
  {
    const char* argv[] = {"debug"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_true(args.debug);
    args.debug = false;
    assert_defaults(args);
  }
  {
    const char* argv[] = {"otp_only"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_true(args.otp_only);
    args.otp_only = false;
    assert_defaults(args);
  }
  {
    const char* argv[] = {"use_first_pass"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_true(args.use_first_pass);
    args.use_first_pass = false;
    assert_defaults(args);
  }
  {
    const char* argv[] = {"try_first_pass"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_true(args.try_first_pass);
    args.try_first_pass = false;
    assert_defaults(args);
  }
  {
    const char* argv[] = {"single_prompt"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_true(args.single_prompt);
    args.single_prompt = false;
    assert_defaults(args);
  }
}

void test_socket(void**)
{
  const char* argv[] = {"socket=/srv/2fa/other.sock"};
  ModuleArgs args;
  const char* bad = nullptr;
  assert_true(parse(argv, args, &bad));
  assert_string_equal(args.socket_path, "/srv/2fa/other.sock");
  // It points into argv (PAM keeps argv alive while the module runs).
  assert_ptr_equal(args.socket_path, argv[0] + 7);
  assert_int_equal(args.timeout_ms, k_default_client_timeout_ms);

  assert_refused("socket=relative/path.sock");
  assert_refused("socket=./x.sock");
  assert_refused("socket=");
  assert_refused("socket");
  assert_refused("socket =/x");
}

void test_timeout(void**)
{
  {
    const char* argv[] = {"timeout=1"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_int_equal(args.timeout_ms, 1000);
  }
  {
    const char* argv[] = {"timeout=300"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_int_equal(args.timeout_ms, 300000);
  }
  {
    const char* argv[] = {"timeout=42"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_int_equal(args.timeout_ms, 42000);
  }
  for (const char* arg :
       {"timeout=0", "timeout=301", "timeout=999", "timeout=abc", "timeout=", "timeout=-5",
        "timeout=+5", "timeout= 5", "timeout=5s", "timeout=1.5", "timeout=4294967297", "timeout"}) {
    assert_refused(arg);
  }
}

void test_code_digits(void**)
{
  for (int digits = 6; digits <= 8; ++digits) {
    char arg[] = "code_digits=N";
    arg[sizeof(arg) - 2] = static_cast<char>('0' + digits);
    const char* argv[] = {"single_prompt", arg};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_true(args.single_prompt);
    assert_int_equal(args.code_digits, digits);
  }
  {
    // Accepted on its own too (it then changes nothing), and a later value wins.
    const char* argv[] = {"code_digits=8", "code_digits=7"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_true(parse(argv, args, &bad));
    assert_false(args.single_prompt);
    assert_int_equal(args.code_digits, 7);
  }
  for (const char* arg : {"code_digits=5", "code_digits=9", "code_digits=0", "code_digits=06",
                          "code_digits=10", "code_digits=", "code_digits", "code_digits=6 ",
                          "code_digits= 6", "code_digits=+6", "code_digits=-6", "code_digits=six",
                          "code_digits=6.0", "code_digits=66", "code-digits=6", "digits=6"}) {
    assert_refused(arg);
  }
}

void test_single_prompt_with_otp_only_refused(void**)
{
  {
    const char* argv[] = {"otp_only", "single_prompt"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_false(parse(argv, args, &bad));
    assert_ptr_equal(bad, argv[1]);
  }
  {
    const char* argv[] = {"single_prompt", "debug", "otp_only"};
    ModuleArgs args;
    const char* bad = nullptr;
    assert_false(parse(argv, args, &bad));
    assert_ptr_equal(bad, argv[0]);
  }
  for (const char* arg : {"single-prompt", "singleprompt", "SINGLE_PROMPT", "single_prompt=1"}) {
    assert_refused(arg);
  }
}

void test_unknown_argument(void**)
{
  for (const char* arg : {"bogus", "", "DEBUG", "debug=1", "debug ", "otp-only", "nullok"}) {
    assert_refused(arg);
  }
  // The bad one is reported even after good ones.
  const char* argv[] = {"debug", "socket=/x.sock", "no_such_option", "otp_only"};
  ModuleArgs args;
  const char* bad = nullptr;
  assert_false(parse(argv, args, &bad));
  assert_ptr_equal(bad, argv[2]);
}

void test_several_arguments(void**)
{
  const char* argv[] = {"debug",          "socket=/run/alt/s.sock", "timeout=7",
                        "use_first_pass", "try_first_pass",         "single_prompt",
                        "code_digits=8"};
  ModuleArgs args;
  const char* bad = nullptr;
  assert_true(parse(argv, args, &bad));
  assert_true(args.debug);
  assert_false(args.otp_only);
  assert_true(args.use_first_pass);
  assert_true(args.try_first_pass);
  assert_true(args.single_prompt);
  assert_int_equal(args.code_digits, 8);
  assert_string_equal(args.socket_path, "/run/alt/s.sock");
  assert_int_equal(args.timeout_ms, 7000);

  const char* with_otp_only[] = {"debug", "otp_only", "timeout=7", "use_first_pass"};
  ModuleArgs otp;
  assert_true(parse(with_otp_only, otp, &bad));
  assert_true(otp.otp_only);
  assert_false(otp.single_prompt);

  // A later value replaces an earlier one.
  const char* twice[] = {"timeout=3", "timeout=9", "socket=/a", "socket=/b"};
  ModuleArgs again;
  assert_true(parse(twice, again, &bad));
  assert_int_equal(again.timeout_ms, 9000);
  assert_string_equal(again.socket_path, "/b");
}

void test_null_entries_skipped(void**)
{
  const char* argv[] = {nullptr, "debug", nullptr, "timeout=12", nullptr};
  ModuleArgs args;
  const char* bad = nullptr;
  assert_true(parse(argv, args, &bad));
  assert_true(args.debug);
  assert_int_equal(args.timeout_ms, 12000);
  assert_false(args.otp_only);

  const char* only_null[] = {nullptr, nullptr};
  ModuleArgs defaults;
  assert_true(parse(only_null, defaults, &bad));
  assert_defaults(defaults);
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_each_flag),
      cmocka_unit_test(test_socket),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_code_digits),
      cmocka_unit_test(test_single_prompt_with_otp_only_refused),
      cmocka_unit_test(test_unknown_argument),
      cmocka_unit_test(test_several_arguments),
      cmocka_unit_test(test_null_entries_skipped),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
