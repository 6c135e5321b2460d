// Backup codes (daemon/backup_codes): the shape that tells them from TOTP codes, normalisation,
// generation, and the keyed hash, checked against HMAC-SHA256 computed here with OpenSSL
// directly; hashes under the current and previous studio keys, and format 1 hashes.
#include "backup_codes.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <set>
#include <string>
#include <vector>

// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hmac_sha256(const Bytes& key, const Bytes& message)
{
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           out, &length) == nullptr) {
    fail_msg("HMAC failed");
  }
  return Bytes(out, out + length);
}

Bytes bytes_of(std::string_view text);

// A format 1 hash: HMAC(HMAC(master, label), user NUL normalised code), all 32 bytes.
Bytes v1_hash(const Bytes& master, std::string_view user, std::string_view normalised)
{
  const Bytes key = hmac_sha256(master, bytes_of("studio2fa backup-code key v1"));
  Bytes message = bytes_of(user);
  message.push_back(0);
  const Bytes code = bytes_of(normalised);
  message.insert(message.end(), code.begin(), code.end());
  const Bytes hash = hmac_sha256(key, message);
  assert_int_equal(hash.size(), 32);
  return hash;
}

Bytes bytes_of(std::string_view text)
{
  return Bytes(text.begin(), text.end());
}

std::string normalised(std::string_view code)
{
  const SecretBytes out = normalise_backup_code(code);
  return std::string(out.view());
}

void test_shapes(void**)
{
  assert_int_equal(static_cast<int>(code_shape("123456", 6)), static_cast<int>(CodeShape::totp));
  assert_int_equal(static_cast<int>(code_shape("123 456", 6)), static_cast<int>(CodeShape::totp));
  assert_int_equal(static_cast<int>(code_shape("12345678", 8)), static_cast<int>(CodeShape::totp));
  // Eight digits are a backup code (a Google Authenticator scratch code) for a 6-digit user.
  assert_int_equal(static_cast<int>(code_shape("12345678", 6)),
                   static_cast<int>(CodeShape::backup_code));
  assert_int_equal(static_cast<int>(code_shape("ABCD-EFGH-JKMN", 6)),
                   static_cast<int>(CodeShape::backup_code));
  assert_int_equal(static_cast<int>(code_shape("abcd efgh jkmn", 6)),
                   static_cast<int>(CodeShape::backup_code));
  assert_int_equal(static_cast<int>(code_shape("abcdefghjkmn", 6)),
                   static_cast<int>(CodeShape::backup_code));
  // Typos of a TOTP code are neither: they must not count as wrong backup codes.
  for (const char* code : {"", "12345", "1234567", "12345a", "-12345", "123-456", "abcdef",
                           "ABCD-EFG", "ABCD_EFGH_JKMN", "ABCD-EFGH-JKMN!",
                           "0123456789012345678901234567890123"}) {
    if (code_shape(code, 6) != CodeShape::neither) {
      fail_msg("\"%s\" should be neither a TOTP nor a backup code", code);
    }
  }
}

void test_normalise(void**)
{
  assert_string_equal(normalised("abcd-efgh-jkmn").c_str(), "ABCDEFGHJKMN");
  assert_string_equal(normalised(" ABCD EFGH JKMN ").c_str(), "ABCDEFGHJKMN");
  // Crockford: I and L read as 1, O as 0.
  assert_string_equal(normalised("IlOo-1100-ABCD").c_str(), "11001100ABCD");
  assert_string_equal(normalised("12345678").c_str(), "12345678");
  assert_true(normalised("1234567").empty());
  assert_true(normalised("ABCD-EFGH-JKM*").empty());
  assert_true(normalised(std::string(33, 'A')).empty());
  assert_int_equal(normalised(std::string(32, 'A')).size(), 32);
}

void test_generate(void**)
{
  auto codes = generate_backup_codes(200);
  assert_true(codes.has_value());
  assert_int_equal(codes->size(), 200);
  std::set<std::string> seen;
  std::array<unsigned, 32> counts{};
  for (const SecretBytes& code : *codes) {
    const std::string text(code.view());
    assert_int_equal(text.size(), 14);
    assert_true(text[4] == '-' && text[9] == '-');
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (i == 4 || i == 9) {
        continue;
      }
      const auto at = k_backup_code_alphabet.find(text[i]);
      assert_true(at != std::string_view::npos);
      ++counts[at];
    }
    // What a person types back is what was printed.
    assert_string_equal(normalised(text).c_str(), (text.substr(0, 4) + text.substr(5, 4) +
                                                   text.substr(10)).c_str());
    assert_int_equal(static_cast<int>(code_shape(text, 6)),
                     static_cast<int>(CodeShape::backup_code));
    seen.insert(text);
  }
  assert_int_equal(seen.size(), 200);
  // 2400 symbols over 32: each appears, none dominates (a broken mapping would show).
  for (unsigned count : counts) {
    assert_true(count > 20 && count < 160);
  }
  // No I, L, O or U in the alphabet.
  for (const char c : {'I', 'L', 'O', 'U'}) {
    assert_true(k_backup_code_alphabet.find(c) == std::string_view::npos);
  }
}

void test_hash_is_keyed_hmac(void**)
{
  const Bytes master(32, 0x5a);
  auto hasher = BackupCodeHasher::create(master);
  assert_true(hasher.has_value());
  const auto hash = hasher->hash("alice", "abcd-efgh-jkmn");
  assert_true(hash.has_value());

  // K = HMAC(master, label); hash = key id || the first 24 bytes of HMAC(K, user NUL
  // normalised code), the key id being the first 8 bytes of HMAC(master, "studio2fa key id v1").
  const Bytes expected = v1_hash(master, "alice", "ABCDEFGHJKMN");
  const Bytes key_id = hmac_sha256(master, bytes_of("studio2fa key id v1"));
  assert_memory_equal(hash->data(), key_id.data(), 8);
  assert_memory_equal(hash->data() + 8, expected.data(), 24);
  assert_true(hasher->under_current_key(*hash));

  // Spelling does not matter; the user and the master key do.
  assert_true(*hasher->hash("alice", "ABCD EFGH JKMN") == *hash);
  assert_true(*hasher->hash("alice", "ABCDEFGHJKMN") == *hash);
  assert_false(*hasher->hash("bob", "ABCDEFGHJKMN") == *hash);
  auto other = BackupCodeHasher::create(Bytes(32, 0x5b));
  assert_false(*other->hash("alice", "ABCDEFGHJKMN") == *hash);
  assert_false(hasher->hash("alice", "123456").has_value());
  assert_false(BackupCodeHasher::create({}).has_value());
}

BackupCodeHasher rotated_hasher(std::uint8_t current, std::uint8_t previous)
{
  std::vector<SecretBytes> older;
  older.push_back(SecretBytes(Bytes(32, previous)));
  auto keyring = Keyring::create(SecretBytes(Bytes(32, current)), std::move(older));
  assert_true(keyring.has_value());
  auto hasher = BackupCodeHasher::create(*keyring);
  assert_true(hasher.has_value());
  return std::move(hasher).value();
}

BackupCodeHash as_hash(const Bytes& bytes)
{
  BackupCodeHash hash{};
  assert_int_equal(bytes.size(), hash.size());
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

void test_v1_hashes_match(void**)
{
  // Hashes stored before key ids (the whole HMAC) are found, under the key that made them.
  std::vector<BackupCodeHash> stored;
  stored.push_back(as_hash(v1_hash(Bytes(32, 1), "alice", "AAAAAAAAAAAA")));
  stored.push_back(as_hash(v1_hash(Bytes(32, 1), "alice", "BBBBBBBBBBBB")));
  auto hasher = BackupCodeHasher::create(Bytes(32, 1));
  assert_int_equal(*hasher->find("alice", "bbbb-bbbb-bbbb", stored), 1);
  assert_false(hasher->find("bob", "BBBB-BBBB-BBBB", stored).has_value());
  assert_false(hasher->under_current_key(stored[0]));
  // After a rotation, while key 1 is listed as previous, and not once it is gone.
  assert_int_equal(*rotated_hasher(2, 1).find("alice", "AAAA-AAAA-AAAA", stored), 0);
  assert_false(
    BackupCodeHasher::create(Bytes(32, 2))->find("alice", "AAAA-AAAA-AAAA", stored).has_value());
}

void test_rotation(void**)
{
  auto before = BackupCodeHasher::create(Bytes(32, 1));
  std::vector<BackupCodeHash> stored;
  for (const char* code : {"AAAA-AAAA-AAAA", "BBBB-BBBB-BBBB"}) {
    stored.push_back(*before->hash("alice", code));
  }
  const BackupCodeHasher during = rotated_hasher(2, 1);
  stored.push_back(*during.hash("alice", "CCCC-CCCC-CCCC"));
  // Old and new hashes both match while the old key is listed; only the new one is current.
  assert_int_equal(*during.find("alice", "AAAA-AAAA-AAAA", stored), 0);
  assert_int_equal(*during.find("alice", "CCCC-CCCC-CCCC", stored), 2);
  assert_false(during.under_current_key(stored[0]));
  assert_true(during.under_current_key(stored[2]));
  assert_false(during.find("bob", "CCCC-CCCC-CCCC", stored).has_value());

  // A hash relabelled with the other key's id matches nothing.
  std::vector<BackupCodeHash> relabelled = stored;
  std::copy(stored[2].begin(), stored[2].begin() + 8, relabelled[0].begin());
  std::copy(stored[0].begin(), stored[0].begin() + 8, relabelled[2].begin());
  assert_false(during.find("alice", "AAAA-AAAA-AAAA", relabelled).has_value());
  assert_false(during.find("alice", "CCCC-CCCC-CCCC", relabelled).has_value());

  // The old key removed: what it hashed matches nothing (the user needs a new set).
  auto after = BackupCodeHasher::create(Bytes(32, 2));
  assert_false(after->find("alice", "AAAA-AAAA-AAAA", stored).has_value());
  assert_int_equal(*after->find("alice", "CCCC-CCCC-CCCC", stored), 2);
}

void test_find(void**)
{
  auto hasher = BackupCodeHasher::create(Bytes(32, 1));
  std::vector<BackupCodeHash> stored;
  for (const char* code : {"AAAA-AAAA-AAAA", "BBBB-BBBB-BBBB", "12345678"}) {
    stored.push_back(*hasher->hash("alice", code));
  }
  assert_int_equal(*hasher->find("alice", "bbbb-bbbb-bbbb", stored), 1);
  assert_int_equal(*hasher->find("alice", "12345678", stored), 2);
  assert_false(hasher->find("alice", "CCCC-CCCC-CCCC", stored).has_value());
  assert_false(hasher->find("bob", "AAAA-AAAA-AAAA", stored).has_value());
  assert_false(hasher->find("alice", "AAAA", stored).has_value());
  assert_false(hasher->find("alice", "AAAA-AAAA-AAAA", {}).has_value());
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes),        cmocka_unit_test(test_normalise),
      cmocka_unit_test(test_generate),      cmocka_unit_test(test_hash_is_keyed_hmac),
      cmocka_unit_test(test_find),          cmocka_unit_test(test_v1_hashes_match),
      cmocka_unit_test(test_rotation),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
