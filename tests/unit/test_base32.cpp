// RFC 4648 base32 (lib/base32).
#include "base32.hpp"
#include "secret_bytes.hpp"

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

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text)
{
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

void assert_decodes_to(std::string_view text, std::string_view expected)
{
  const Expected<SecretBytes> decoded = base32::decode(text);
  if (!decoded) {
    fail_msg("decode(\"%.*s\") failed: %s", static_cast<int>(text.size()), text.data(),
             decoded.error().message.c_str());
  }
  assert_int_equal(decoded->size(), expected.size());
  assert_true(decoded->view() == expected);
}

void assert_rejected(std::string_view text)
{
  const Expected<SecretBytes> decoded = base32::decode(text);
  if (decoded) {
    fail_msg("decode(\"%.*s\") should have failed", static_cast<int>(text.size()), text.data());
  }
  assert_false(decoded.error().message.empty());
}

struct Vector {
  std::string_view plain;
  std::string_view encoded;
  std::string_view padded;
};

// RFC 4648 §10.
const Vector k_rfc_vectors[] = {
    {"", "", ""},
    {"f", "MY", "MY======"},
    {"fo", "MZXQ", "MZXQ===="},
    {"foo", "MZXW6", "MZXW6==="},
    {"foob", "MZXW6YQ", "MZXW6YQ="},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
};

void test_rfc4648_encode(void**)
{
  for (const Vector& vector : k_rfc_vectors) {
    const SecretBytes encoded = base32::encode(bytes_of(vector.plain));
    assert_int_equal(encoded.size(), vector.encoded.size());
    assert_true(encoded.view() == vector.encoded);
  }
}

void test_rfc4648_decode(void**)
{
  for (const Vector& vector : k_rfc_vectors) {
    assert_decodes_to(vector.encoded, vector.plain);
    assert_decodes_to(vector.padded, vector.plain);
  }
}

void test_full_alphabet(void**)
{
  // Each 5-bit value 0..31 once: 20 bytes = 32 symbols.
  const std::uint8_t data[] = {0x00, 0x44, 0x32, 0x14, 0xC7, 0x42, 0x54, 0xB6, 0x35, 0xCF,
                               0x84, 0x65, 0x3A, 0x56, 0xD7, 0xC6, 0x75, 0xBE, 0x77, 0xDF};
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const SecretBytes encoded = base32::encode(data);
  assert_true(encoded.view() == alphabet);
  const Expected<SecretBytes> decoded = base32::decode(alphabet);
  assert_true(decoded.has_value());
  assert_int_equal(decoded->size(), sizeof(data));
  assert_memory_equal(decoded->data(), data, sizeof(data));
}

void test_lowercase_and_separators(void**)
{
  assert_decodes_to("mzxw6ytboi", "foobar");
  assert_decodes_to("MzXw6YtBoI", "foobar");
  assert_decodes_to("mzxw 6ytb oi", "foobar");
  assert_decodes_to("MZXW-6YTB-OI", "foobar");
  assert_decodes_to("  mzxw6ytboi======  ", "foobar");
  assert_decodes_to("MZXW6YTBOI== ====", "foobar");
  // The usual 16-symbol authenticator key, typed in groups of four.
  const Expected<SecretBytes> grouped = base32::decode("jbsw y3dp ehpk 3pxp");
  const Expected<SecretBytes> plain = base32::decode("JBSWY3DPEHPK3PXP");
  assert_true(grouped.has_value() && plain.has_value());
  assert_int_equal(grouped->size(), 10);
  assert_memory_equal(grouped->data(), plain->data(), 10);
  assert_memory_equal(plain->data(), "Hello!\xde\xad\xbe\xef", 10);
}

void test_invalid_characters(void**)
{
  for (const std::string_view text :
       {"MZXW0YTB", "MZXW1YTB", "MZXW8YTB", "MZXW9YTB", "MZXW6YT!", "MZXW6YT_", "MZXW6YT.",
        "MZXW\tYTB", "MZXW\nYTB", "MZ+W6YTB", "MZXW6YT\xc3\xa9", "\x80MZXW6YT"}) {
    assert_rejected(text);
  }
  assert_rejected(std::string_view("MZXW\0YTB", 8));
}

void test_bad_padding(void**)
{
  assert_rejected("MY=");              // padded, but not to a multiple of 8
  assert_rejected("MY=====");          // 7 symbols
  assert_rejected("MY=======");        // 9 symbols
  assert_rejected("MY======MY======"); // '=' in the middle
  assert_rejected("M=Y");
  assert_rejected("=MY");
  assert_rejected("========");         // padding without data
  assert_rejected("MZXW6YTB========"); // a full group of padding
  assert_rejected("=");
}

void test_impossible_lengths(void**)
{
  assert_rejected("M");
  assert_rejected("MZX");
  assert_rejected("MZXW6Y");
  assert_rejected("MZXW6YTBM");
  assert_rejected("M=======");
  assert_rejected("MZX=====");
  assert_rejected("MZXW6Y==");
}

void test_non_zero_trailing_bits(void**)
{
  // "MY" is canonical for "f"; "MZ" has a bit set in the 2 unused bits.
  assert_decodes_to("MY", "f");
  assert_rejected("MZ");
  assert_rejected("MZXR");
  assert_rejected("MZXW7");
  assert_rejected("MZXW6YR");
  assert_rejected("MZXW6YTBOJ");
}

void test_random_round_trip(void**)
{
  std::uint8_t data[67];
  for (std::size_t length = 0; length <= sizeof(data); ++length) {
    assert_true(random_bytes(std::span<std::uint8_t>(data, length)));
    const SecretBytes encoded = base32::encode(std::span<const std::uint8_t>(data, length));
    assert_int_equal(encoded.size(), (length * 8 + 4) / 5);
    for (const char c : encoded.view()) {
      assert_true((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'));
    }
    const Expected<SecretBytes> decoded = base32::decode(encoded.view());
    assert_true(decoded.has_value());
    assert_int_equal(decoded->size(), length);
    if (length > 0) {
      assert_memory_equal(decoded->data(), data, length);
    }
  }
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc4648_encode),     cmocka_unit_test(test_rfc4648_decode),
      cmocka_unit_test(test_full_alphabet),      cmocka_unit_test(test_lowercase_and_separators),
      cmocka_unit_test(test_invalid_characters), cmocka_unit_test(test_bad_padding),
      cmocka_unit_test(test_impossible_lengths), cmocka_unit_test(test_non_zero_trailing_bits),
      cmocka_unit_test(test_random_round_trip),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
