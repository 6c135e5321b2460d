// SecretBytes, constant_time_equal and random_bytes (lib/secret_bytes); same_text
// (lib/secure_memory, the PAM module's compare).
#include "secret_bytes.hpp"
#include "secure_memory.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

using namespace studio2fa;

namespace {

using Bytes = std::vector<std::uint8_t>;

bool all_equal_to(const std::uint8_t* data, std::size_t size, std::uint8_t value)
{
  return std::all_of(data, data + size, [value](std::uint8_t byte) { return byte == value; });
}

Bytes pattern(std::size_t size, std::uint8_t first = 1)
{
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(first + i);
  }
  return bytes;
}

void test_default_is_empty(void**)
{
  const SecretBytes empty;
  assert_int_equal(empty.size(), 0);
  assert_true(empty.empty());
  assert_null(empty.data());
  assert_int_equal(empty.span().size(), 0);
  assert_int_equal(empty.view().size(), 0);

  const SecretBytes zero(std::size_t{0});
  assert_true(zero.empty());
}

void test_sized_is_zeroed(void**)
{
  for (std::size_t size :
       {std::size_t{1}, std::size_t{20}, std::size_t{32}, std::size_t{4096}, std::size_t{5000}}) {
    const SecretBytes secret(size);
    assert_int_equal(secret.size(), size);
    assert_false(secret.empty());
    assert_non_null(secret.data());
    assert_true(all_equal_to(secret.data(), size, 0));
    assert_ptr_equal(secret.span().data(), secret.data());
    assert_int_equal(secret.span().size(), size);
    assert_int_equal(secret.view().size(), size);
  }

  // Also when the allocator hands back memory that held something else: leave freed, dirty
  // blocks on the heap first.
  std::array<void*, 64> dirty{};
  for (void*& block : dirty) {
    block = std::malloc(8192);
    assert_non_null(block);
    std::memset(block, 0xa5, 8192);
  }
  for (void* block : dirty) {
    std::free(block);
  }
  for (int round = 0; round < 4; ++round) {
    const SecretBytes secret(8192);
    assert_true(all_equal_to(secret.data(), secret.size(), 0));
  }
}

void test_copy_from_span(void**)
{
  const Bytes source = pattern(37);
  const SecretBytes secret{std::span<const std::uint8_t>(source)};
  assert_int_equal(secret.size(), source.size());
  assert_memory_equal(secret.data(), source.data(), source.size());
  // A copy, not a view of the source.
  assert_ptr_not_equal(secret.data(), source.data());

  const SecretBytes from_empty{std::span<const std::uint8_t>()};
  assert_true(from_empty.empty());

  const std::string_view text = "hello";
  const SecretBytes text_secret{std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(text.data()), text.size())};
  assert_true(text_secret.view() == text);
}

void test_writable(void**)
{
  SecretBytes secret(4);
  secret.data()[0] = 0xde;
  secret.data()[3] = 0xef;
  assert_int_equal(secret.span()[0], 0xde);
  assert_int_equal(secret.span()[1], 0);
  assert_int_equal(secret.span()[3], 0xef);
}

void test_move_construct(void**)
{
  const Bytes bytes = pattern(24);
  SecretBytes source{std::span<const std::uint8_t>(bytes)};
  const std::uint8_t* buffer = source.data();

  SecretBytes moved(std::move(source));
  assert_ptr_equal(moved.data(), buffer);
  assert_int_equal(moved.size(), bytes.size());
  assert_memory_equal(moved.data(), bytes.data(), bytes.size());

  // The moved-from state is part of the contract: empty, owning nothing.
  assert_int_equal(source.size(), 0);
  assert_true(source.empty());
  assert_null(source.data());
}

void test_move_assign(void**)
{
  const Bytes bytes = pattern(16, 0x80);
  SecretBytes source{std::span<const std::uint8_t>(bytes)};
  const std::uint8_t* buffer = source.data();

  SecretBytes target(100);
  target = std::move(source);
  assert_ptr_equal(target.data(), buffer);
  assert_int_equal(target.size(), bytes.size());
  assert_memory_equal(target.data(), bytes.data(), bytes.size());
  assert_true(source.empty());
  assert_null(source.data());

  // Moving an empty one in empties the target.
  target = SecretBytes();
  assert_true(target.empty());
  assert_null(target.data());
}

void test_truncate_wipes_tail(void**)
{
  SecretBytes secret(32);
  std::memset(secret.data(), 0xaa, secret.size());
  // The allocation stays the same; only the visible size shrinks, so this pointer stays valid.
  const std::uint8_t* buffer = secret.data();

  secret.truncate(10);
  assert_int_equal(secret.size(), 10);
  assert_ptr_equal(secret.data(), buffer);
  assert_true(all_equal_to(buffer, 10, 0xaa));
  assert_true(all_equal_to(buffer + 10, 22, 0x00));

  // Never grows.
  secret.truncate(20);
  assert_int_equal(secret.size(), 10);
  assert_true(all_equal_to(buffer + 10, 22, 0x00));
  secret.truncate(10);
  assert_int_equal(secret.size(), 10);
  assert_true(all_equal_to(buffer, 10, 0xaa));

  secret.truncate(0);
  assert_int_equal(secret.size(), 0);
  assert_true(secret.empty());
  assert_true(all_equal_to(buffer, 32, 0x00));

  SecretBytes nothing;
  nothing.truncate(5);
  assert_true(nothing.empty());
}

void test_constant_time_equal(void**)
{
  const Bytes a = pattern(20);
  Bytes b = a;
  assert_true(
      constant_time_equal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>(b)));

  b.back() ^= 0x01;
  assert_false(
      constant_time_equal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>(b)));
  b = a;
  b.front() ^= 0x80;
  assert_false(
      constant_time_equal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>(b)));

  // Different lengths are unequal, even when one is a prefix of the other.
  const Bytes prefix(a.begin(), a.end() - 1);
  assert_false(
      constant_time_equal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>(prefix)));
  assert_false(
      constant_time_equal(std::span<const std::uint8_t>(prefix), std::span<const std::uint8_t>(a)));
  assert_false(
      constant_time_equal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>()));
  assert_true(
      constant_time_equal(std::span<const std::uint8_t>(), std::span<const std::uint8_t>()));

  // The string_view overload.
  assert_true(constant_time_equal(std::string_view("123456"), std::string_view("123456")));
  assert_false(constant_time_equal(std::string_view("123456"), std::string_view("123457")));
  assert_false(constant_time_equal(std::string_view("123456"), std::string_view("12345")));
  assert_false(constant_time_equal(std::string_view(""), std::string_view("1")));
  assert_true(constant_time_equal(std::string_view(""), std::string_view("")));
  // Embedded NUL bytes are compared, not treated as the end.
  assert_false(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));

  // With SecretBytes.
  const SecretBytes secret{std::span<const std::uint8_t>(a)};
  assert_true(constant_time_equal(secret.span(), std::span<const std::uint8_t>(a)));
}

void test_random_bytes(void**)
{
  std::array<std::uint8_t, 32> first{};
  std::array<std::uint8_t, 32> second{};
  assert_true(random_bytes(first));
  assert_true(random_bytes(second));
  assert_memory_not_equal(first.data(), second.data(), first.size());
  // 32 zero bytes from a CSPRNG: probability 2^-256.
  assert_false(all_equal_to(first.data(), first.size(), 0));
  assert_false(all_equal_to(second.data(), second.size(), 0));

  SecretBytes secret(20);
  assert_true(random_bytes({secret.data(), secret.size()}));
  assert_false(all_equal_to(secret.data(), secret.size(), 0));

  assert_true(random_bytes({}));
}

void test_same_text(void**)
{
  assert_true(same_text("hunter2-Pa55", "hunter2-Pa55", 512));
  assert_true(same_text("", "", 512));
  assert_false(same_text("hunter2-Pa55", "hunter2-Pa56", 512));
  assert_false(same_text("hunter2", "hunter2-Pa55", 512)); // a prefix is not the same text
  assert_false(same_text("hunter2-Pa55", "hunter2", 512));
  assert_false(same_text("123456", "", 512));
  // Longer than the limit: unequal even when equal, and nothing past limit + 1 is read.
  assert_true(same_text("abcd", "abcd", 4));
  assert_false(same_text("abcde", "abcde", 4));
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_is_empty),    cmocka_unit_test(test_sized_is_zeroed),
      cmocka_unit_test(test_copy_from_span),      cmocka_unit_test(test_writable),
      cmocka_unit_test(test_move_construct),      cmocka_unit_test(test_move_assign),
      cmocka_unit_test(test_truncate_wipes_tail), cmocka_unit_test(test_constant_time_equal),
      cmocka_unit_test(test_random_bytes),       cmocka_unit_test(test_same_text),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
