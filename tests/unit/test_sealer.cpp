// Sealer: AES-256-GCM sealing of TOTP secrets, bound to user and purpose.
#include "sealer.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <string_view>
#include <vector>

using studio2fa::Sealer;
using studio2fa::SecretBytes;

namespace {

constexpr std::string_view k_secret_text = "12345678901234567890";

std::span<const std::uint8_t> as_bytes(std::string_view text)
{
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

SecretBytes key_of(std::uint8_t fill, std::size_t size = 32)
{
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(fill + i);
  }
  return SecretBytes(std::span<const std::uint8_t>(bytes));
}

Sealer make_sealer(std::uint8_t fill)
{
  auto sealer = Sealer::create(key_of(fill));
  assert_true(sealer.has_value());
  return std::move(sealer).value();
}

std::vector<std::uint8_t> seal_or_fail(const Sealer& sealer, std::string_view plaintext,
                                       std::string_view user, std::string_view purpose)
{
  auto sealed = sealer.seal(as_bytes(plaintext), user, purpose);
  assert_true(sealed.has_value());
  return std::move(sealed).value();
}

void test_round_trip(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  // version | nonce | ciphertext | tag
  assert_int_equal(sealed.size(), 1 + 12 + k_secret_text.size() + 16);
  assert_int_equal(sealed[0], 0x01);

  auto opened = sealer.open(sealed, "alice", "active");
  assert_true(opened.has_value());
  assert_int_equal(opened->size(), k_secret_text.size());
  assert_memory_equal(opened->data(), k_secret_text.data(), k_secret_text.size());
}

void test_ciphertext_is_not_plaintext(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  const std::string_view body(reinterpret_cast<const char*>(sealed.data()) + 13,
                              k_secret_text.size());
  assert_true(body != k_secret_text);
}

void test_empty_plaintext_round_trip(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, "", "alice", "active");
  assert_int_equal(sealed.size(), 1 + 12 + 16);
  auto opened = sealer.open(sealed, "alice", "active");
  assert_true(opened.has_value());
  assert_int_equal(opened->size(), 0);
  auto tampered = sealed;
  tampered.back() ^= 0x01;
  assert_false(sealer.open(tampered, "alice", "active").has_value());
}

void test_every_tampered_byte_fails(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (std::uint8_t flip : {0x01, 0x80}) {
      auto tampered = sealed;
      tampered[i] ^= flip;
      auto opened = sealer.open(tampered, "alice", "active");
      if (opened.has_value()) {
        fail_msg("byte %zu flipped with 0x%02x still opens", i, flip);
      }
      assert_string_equal(opened.error().message.c_str(), "sealed secret cannot be opened");
    }
  }
}

void test_wrong_user_fails(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  assert_false(sealer.open(sealed, "bob", "active").has_value());
  assert_false(sealer.open(sealed, "alic", "active").has_value());
  assert_false(sealer.open(sealed, "", "active").has_value());
}

void test_wrong_purpose_fails(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  assert_false(sealer.open(sealed, "alice", "pending").has_value());
  assert_false(sealer.open(sealed, "alice", "").has_value());
}

void test_user_purpose_boundary_is_unambiguous(void**)
{
  // Without a separator, ("ab", "c") and ("a", "bc") would authenticate the same bytes.
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "ab", "c");
  assert_true(sealer.open(sealed, "ab", "c").has_value());
  assert_false(sealer.open(sealed, "b", "ca").has_value());
  assert_false(sealer.open(sealed, "abc", "").has_value());
}

void test_nul_in_user_or_purpose_rejected(void**)
{
  const Sealer sealer = make_sealer(1);
  using namespace std::string_view_literals;
  assert_false(sealer.seal(as_bytes(k_secret_text), "ali\0ce"sv, "active").has_value());
  assert_false(sealer.seal(as_bytes(k_secret_text), "alice", "act\0ive"sv).has_value());
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  assert_false(sealer.open(sealed, "alice\0"sv, "active").has_value());
}

void test_wrong_key_fails(void**)
{
  const Sealer sealer = make_sealer(1);
  const Sealer other = make_sealer(2);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  auto opened = other.open(sealed, "alice", "active");
  assert_false(opened.has_value());
  assert_string_equal(opened.error().message.c_str(), "sealed secret cannot be opened");
}

void test_truncated_blob_fails(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  for (std::size_t size = 0; size < sealed.size(); ++size) {
    const std::span<const std::uint8_t> prefix(sealed.data(), size);
    if (sealer.open(prefix, "alice", "active").has_value()) {
      fail_msg("a %zu-byte prefix of a %zu-byte blob opens", size, sealed.size());
    }
  }
  auto extended = sealed;
  extended.push_back(0);
  assert_false(sealer.open(extended, "alice", "active").has_value());
}

void test_unknown_version_fails(void**)
{
  const Sealer sealer = make_sealer(1);
  auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  sealed[0] = 0x02;
  assert_false(sealer.open(sealed, "alice", "active").has_value());
}

void test_seals_differ(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto first = seal_or_fail(sealer, k_secret_text, "alice", "active");
  const auto second = seal_or_fail(sealer, k_secret_text, "alice", "active");
  assert_int_equal(first.size(), second.size());
  // Different nonces, hence different ciphertexts and tags.
  assert_memory_not_equal(first.data() + 1, second.data() + 1, 12);
  assert_true(first != second);
  assert_true(sealer.open(second, "alice", "active").has_value());
}

void test_create_rejects_wrong_key_size(void**)
{
  for (std::size_t size : {0, 1, 16, 24, 31, 33, 64}) {
    auto sealer = Sealer::create(key_of(1, size));
    if (sealer.has_value()) {
      fail_msg("a %zu-byte key was accepted", size);
    }
  }
  assert_true(Sealer::create(key_of(1, 32)).has_value());
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_ciphertext_is_not_plaintext),
      cmocka_unit_test(test_empty_plaintext_round_trip),
      cmocka_unit_test(test_every_tampered_byte_fails),
      cmocka_unit_test(test_wrong_user_fails),
      cmocka_unit_test(test_wrong_purpose_fails),
      cmocka_unit_test(test_user_purpose_boundary_is_unambiguous),
      cmocka_unit_test(test_nul_in_user_or_purpose_rejected),
      cmocka_unit_test(test_wrong_key_fails),
      cmocka_unit_test(test_truncated_blob_fails),
      cmocka_unit_test(test_unknown_version_fails),
      cmocka_unit_test(test_seals_differ),
      cmocka_unit_test(test_create_rejects_wrong_key_size),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
