// Sealer: AES-256-GCM sealing of TOTP secrets, bound to key id, user and purpose; the keyring
// of current and previous studio keys; format 1 blobs (before key ids).
#include "sealer.hpp"

#include <openssl/evp.h>

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using studio2fa::Errc;
using studio2fa::key_id_of;
using studio2fa::key_id_text;
using studio2fa::KeyId;
using studio2fa::Keyring;
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

// A sealer whose current key is key_of(current) and which also opens under key_of(previous).
Sealer make_rotated_sealer(std::uint8_t current, std::uint8_t previous)
{
  std::vector<SecretBytes> older;
  older.push_back(key_of(previous));
  auto keyring = Keyring::create(key_of(current), std::move(older));
  assert_true(keyring.has_value());
  auto sealer = Sealer::create(std::move(keyring).value());
  assert_true(sealer.has_value());
  return std::move(sealer).value();
}

KeyId id_of(std::uint8_t fill)
{
  const SecretBytes key = key_of(fill);
  auto id = key_id_of(key.span());
  assert_true(id.has_value());
  return *id;
}

// A format 1 blob, made here from the format's description (sealer.hpp) rather than by the code
// under test: 0x01 | nonce | ciphertext | tag, AAD "studio2fa-seal-v1" NUL purpose NUL user.
std::vector<std::uint8_t> seal_v1(std::uint8_t key_fill, std::string_view plaintext,
                                  std::string_view user, std::string_view purpose)
{
  const SecretBytes key = key_of(key_fill);
  std::string aad = "studio2fa-seal-v1";
  aad.push_back('\0');
  aad.append(purpose);
  aad.push_back('\0');
  aad.append(user);
  std::vector<std::uint8_t> blob(1 + 12 + plaintext.size() + 16);
  blob[0] = 0x01;
  for (std::size_t i = 0; i < 12; ++i) {
    blob[1 + i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                       &EVP_CIPHER_CTX_free);
  int len = 0;
  assert_int_equal(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                                      blob.data() + 1),
                   1);
  assert_int_equal(EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                                     reinterpret_cast<const unsigned char*>(aad.data()),
                                     static_cast<int>(aad.size())),
                   1);
  assert_int_equal(EVP_EncryptUpdate(ctx.get(), blob.data() + 13, &len,
                                     reinterpret_cast<const unsigned char*>(plaintext.data()),
                                     static_cast<int>(plaintext.size())),
                   1);
  assert_int_equal(EVP_EncryptFinal_ex(ctx.get(), blob.data() + 13 + plaintext.size(), &len), 1);
  assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16,
                                       blob.data() + 13 + plaintext.size()),
                   1);
  return blob;
}

void assert_opens_to_secret(const Sealer& sealer, const std::vector<std::uint8_t>& sealed,
                            std::string_view user, std::string_view purpose)
{
  auto opened = sealer.open(sealed, user, purpose);
  if (!opened.has_value()) {
    fail_msg("does not open: %s", opened.error().message.c_str());
  }
  assert_int_equal(opened->size(), k_secret_text.size());
  assert_memory_equal(opened->data(), k_secret_text.data(), k_secret_text.size());
}

void assert_unknown_key(const Sealer& sealer, const std::vector<std::uint8_t>& sealed,
                        const KeyId& named)
{
  auto opened = sealer.open(sealed, "alice", "active");
  assert_false(opened.has_value());
  assert_int_equal(static_cast<int>(opened.error().code), static_cast<int>(Errc::unknown_key));
  const std::string expected = "sealed under key " + key_id_text(named) +
                               ", which this host does not have: copy the studio key to "
                               "key_path or list the old one in previous_key_paths";
  assert_string_equal(opened.error().message.c_str(), expected.c_str());
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
  // version | key id | nonce | ciphertext | tag
  assert_int_equal(sealed.size(), 1 + 8 + 12 + k_secret_text.size() + 16);
  assert_int_equal(sealed[0], 0x02);
  const KeyId id = id_of(1);
  assert_memory_equal(sealed.data() + 1, id.data(), 8);
  assert_true(Sealer::key_id(sealed) == id);
  assert_true(sealer.sealed_under_current_key(sealed));

  auto opened = sealer.open(sealed, "alice", "active");
  assert_true(opened.has_value());
  assert_int_equal(opened->size(), k_secret_text.size());
  assert_memory_equal(opened->data(), k_secret_text.data(), k_secret_text.size());
}

void test_ciphertext_is_not_plaintext(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, k_secret_text, "alice", "active");
  const std::string_view body(reinterpret_cast<const char*>(sealed.data()) + 21,
                              k_secret_text.size());
  assert_true(body != k_secret_text);
}

void test_empty_plaintext_round_trip(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto sealed = seal_or_fail(sealer, "", "alice", "active");
  assert_int_equal(sealed.size(), 1 + 8 + 12 + 16);
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
      // A changed key id names a key this host does not hold: said as such, nothing tried.
      const bool key_id_byte = i >= 1 && i < 9;
      assert_int_equal(static_cast<int>(opened.error().code),
                       static_cast<int>(key_id_byte ? Errc::unknown_key : Errc::internal));
      if (!key_id_byte) {
        assert_string_equal(opened.error().message.c_str(), "sealed secret cannot be opened");
      }
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
  // A format 2 blob names its key: a host without it says which key it lacks.
  assert_unknown_key(other, sealed, id_of(1));
  // A format 1 blob names none: every held key fails its tag.
  const auto v1 = seal_v1(1, k_secret_text, "alice", "active");
  auto opened = other.open(v1, "alice", "active");
  assert_false(opened.has_value());
  assert_int_equal(static_cast<int>(opened.error().code), static_cast<int>(Errc::internal));
  assert_string_equal(opened.error().message.c_str(), "sealed secret cannot be opened");
}

void test_v1_blob_opens(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto v1 = seal_v1(1, k_secret_text, "alice", "active");
  assert_opens_to_secret(sealer, v1, "alice", "active");
  // Still bound to its user and purpose, and no key id to speak of: rekey re-seals it.
  assert_false(sealer.open(v1, "bob", "active").has_value());
  assert_false(sealer.open(v1, "alice", "pending").has_value());
  assert_false(Sealer::key_id(v1).has_value());
  assert_false(sealer.sealed_under_current_key(v1));
  for (std::size_t i = 0; i < v1.size(); ++i) {
    auto tampered = v1;
    tampered[i] ^= 0x01;
    if (sealer.open(tampered, "alice", "active").has_value()) {
      fail_msg("byte %zu of a format 1 blob flipped still opens", i);
    }
  }
  // After a rotation the key that made it is a previous key, and it still opens.
  assert_opens_to_secret(make_rotated_sealer(2, 1), v1, "alice", "active");
}

void test_key_id_moved_between_blobs_fails(void**)
{
  // One host holds both keys; a blob sealed under key 1 whose key id is replaced by key 2's
  // is opened with key 2 and must fail (the key id is in the additional data), and the other
  // way round.
  const Sealer sealer = make_rotated_sealer(2, 1);
  const Sealer old_sealer = make_sealer(1);
  const auto under_1 = seal_or_fail(old_sealer, k_secret_text, "alice", "active");
  const auto under_2 = seal_or_fail(sealer, k_secret_text, "alice", "active");
  assert_opens_to_secret(sealer, under_1, "alice", "active");
  assert_opens_to_secret(sealer, under_2, "alice", "active");

  auto relabelled = under_1;
  std::copy(under_2.begin() + 1, under_2.begin() + 9, relabelled.begin() + 1);
  auto opened = sealer.open(relabelled, "alice", "active");
  assert_false(opened.has_value());
  assert_string_equal(opened.error().message.c_str(), "sealed secret cannot be opened");

  relabelled = under_2;
  std::copy(under_1.begin() + 1, under_1.begin() + 9, relabelled.begin() + 1);
  assert_false(sealer.open(relabelled, "alice", "active").has_value());
}

void test_blob_moved_to_another_user_fails(void**)
{
  // alice's blob copied into bob's record: under the same key, with the same key id, still no.
  const Sealer sealer = make_rotated_sealer(2, 1);
  const auto alices = seal_or_fail(sealer, k_secret_text, "alice", "active");
  const auto bobs = seal_or_fail(sealer, k_secret_text, "bob", "active");
  assert_opens_to_secret(sealer, bobs, "bob", "active");
  auto opened = sealer.open(alices, "bob", "active");
  assert_false(opened.has_value());
  assert_string_equal(opened.error().message.c_str(), "sealed secret cannot be opened");
  const auto old_alices = seal_or_fail(make_sealer(1), k_secret_text, "alice", "active");
  assert_false(sealer.open(old_alices, "bob", "active").has_value());
}

void test_rotation(void**)
{
  const Sealer before = make_sealer(1);
  const auto old_blob = seal_or_fail(before, k_secret_text, "alice", "active");

  // Key 2 is current, key 1 listed as previous: the old blob opens, new blobs are under key 2.
  const Sealer during = make_rotated_sealer(2, 1);
  assert_true(during.keyring().current().id == id_of(2));
  assert_int_equal(during.keyring().keys().size(), 2);
  assert_opens_to_secret(during, old_blob, "alice", "active");
  assert_false(during.sealed_under_current_key(old_blob));
  const auto new_blob = seal_or_fail(during, k_secret_text, "alice", "active");
  assert_true(during.sealed_under_current_key(new_blob));
  assert_true(Sealer::key_id(new_blob) == id_of(2));

  // A host that still has only key 1 cannot open what is now sealed: fails closed, named.
  assert_unknown_key(before, new_blob, id_of(2));

  // The old key removed: what was re-sealed opens, what was not is named.
  const Sealer after = make_sealer(2);
  assert_opens_to_secret(after, new_blob, "alice", "active");
  assert_unknown_key(after, old_blob, id_of(1));
}

void test_key_ids(void**)
{
  // Derived, stable, different per key, and never the key's own bytes.
  assert_true(id_of(1) == id_of(1));
  assert_false(id_of(1) == id_of(2));
  const SecretBytes key = key_of(1);
  assert_memory_not_equal(id_of(1).data(), key.data(), 8);
  assert_int_equal(key_id_text(id_of(1)).size(), 16);
  assert_false(key_id_of({}).has_value());

  // A previous key equal to the current one, or listed twice, is held once.
  std::vector<SecretBytes> older;
  older.push_back(key_of(1));
  older.push_back(key_of(2));
  older.push_back(key_of(2));
  auto keyring = Keyring::create(key_of(1), std::move(older));
  assert_true(keyring.has_value());
  assert_int_equal(keyring->keys().size(), 2);
  assert_true(keyring->find(id_of(2)) != nullptr);
  assert_true(keyring->find(id_of(3)) == nullptr);
  std::vector<SecretBytes> short_key;
  short_key.push_back(key_of(2, 16));
  assert_false(Keyring::create(key_of(1), std::move(short_key)).has_value());
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
  for (std::uint8_t version : {0x00, 0x01, 0x03, 0xff}) {
    sealed[0] = version;
    assert_false(sealer.open(sealed, "alice", "active").has_value());
  }
}

void test_seals_differ(void**)
{
  const Sealer sealer = make_sealer(1);
  const auto first = seal_or_fail(sealer, k_secret_text, "alice", "active");
  const auto second = seal_or_fail(sealer, k_secret_text, "alice", "active");
  assert_int_equal(first.size(), second.size());
  // Different nonces, hence different ciphertexts and tags.
  assert_memory_not_equal(first.data() + 9, second.data() + 9, 12);
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
      cmocka_unit_test(test_v1_blob_opens),
      cmocka_unit_test(test_key_id_moved_between_blobs_fails),
      cmocka_unit_test(test_blob_moved_to_another_user_fails),
      cmocka_unit_test(test_rotation),
      cmocka_unit_test(test_key_ids),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
