#include "password_checker.hpp"

#include "directory.hpp"
#include "log.hpp"
#include "policy.hpp"

#include "secret_bytes.hpp"
#include "secure_memory.hpp"

#include <crypt.h>
#include <pwd.h>
#include <shadow.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace studio2fa {

namespace {

// Used when the preferred method cannot be had: a SHA-512 crypt hash of a string nobody knows.
constexpr const char* k_fallback_dummy_hash =
  "$6$6mV3Cx1HfM0kGdhF$oI0WrZ0x9yq7kNkVxg6b3T2BqgpXU9m7yK2p5Dq0Yv5m0uPpQ9F1aG3Tn4cBwE7s8d2fL1"
  "rJ6hK0zXyQeW9aV.";

// A vector that is wiped when it goes away (NSS buffers hold password hashes).
struct WipedBuffer {
  explicit WipedBuffer(std::size_t size) : bytes(size) {}
  ~WipedBuffer() { secure_wipe(bytes.data(), bytes.size()); }
  std::vector<char> bytes;
};

// The stored hash for `user` (from shadow when the passwd entry points there), or an empty
// string when the account is unknown.
SecretBytes stored_hash(const std::string& user)
{
  WipedBuffer buffer(16384);
  passwd pw{};
  passwd* pw_result = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buffer.bytes.data(), buffer.bytes.size(), &pw_result) != 0 ||
      pw_result == nullptr) {
    return {};
  }
  std::string_view hash = pw.pw_passwd ? pw.pw_passwd : "";
  if (hash != "x" && hash != "*" && !hash.empty()) {
    return SecretBytes(std::span(reinterpret_cast<const std::uint8_t*>(hash.data()), hash.size()));
  }
  // getspnam() rather than getspnam_r(): nss_wrapper (the test suite's accounts) only wraps
  // the former. Its static buffer is guarded by this lock; nothing else in the daemon reads
  // shadow.
  static std::mutex shadow_mutex;
  std::lock_guard lock(shadow_mutex);
  const spwd* sp = getspnam(user.c_str());
  if (sp == nullptr || sp->sp_pwdp == nullptr) {
    return {};
  }
  // Not wiped after copying: the buffer may be NSS's own cache (nss_wrapper), and it holds a
  // hash, not a password.
  std::string_view shadow_hash = sp->sp_pwdp;
  return SecretBytes(
    std::span(reinterpret_cast<const std::uint8_t*>(shadow_hash.data()), shadow_hash.size()));
}

// A hash of a random phrase with libxcrypt's default method (a NULL prefix asks for it).
std::string make_dummy_hash()
{
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  std::uint8_t random[24];
  if (crypt_gensalt_rn(nullptr, 0, nullptr, 0, setting, sizeof(setting)) == nullptr ||
      !random_bytes(random)) {
    return k_fallback_dummy_hash;
  }
  char phrase[sizeof(random) * 2 + 1];
  for (std::size_t i = 0; i < sizeof(random); ++i) {
    snprintf(phrase + 2 * i, 3, "%02x", random[i]);
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(phrase, setting, data.get());
  std::string result = hash != nullptr && hash[0] != '*' ? hash : k_fallback_dummy_hash;
  secure_wipe(phrase, sizeof(phrase));
  secure_wipe(data.get(), sizeof(crypt_data));
  return result;
}

} // namespace

const std::string& ShadowPasswordChecker::dummy_hash()
{
  std::call_once(m_dummy_once, [this] { m_dummy_hash = make_dummy_hash(); });
  return m_dummy_hash;
}

PasswordVerdict ShadowPasswordChecker::check(std::string_view user, std::string_view password)
{
  if (password.empty() || user.empty()) {
    return PasswordVerdict::mismatch;
  }
  SecretBytes hash = stored_hash(std::string(user));
  // Locked ("!…"), disabled ("*") and empty hashes never match, but still cost one hashing.
  bool usable = !hash.empty() && hash.data()[0] != '!' && hash.data()[0] != '*';

  SecretBytes setting(hash.size() + 1);
  std::copy(hash.data(), hash.data() + hash.size(), setting.data());
  setting.data()[hash.size()] = '\0';

  SecretBytes phrase(password.size() + 1);
  std::copy(password.begin(), password.end(), phrase.data());
  phrase.data()[password.size()] = '\0';

  auto data = std::make_unique<crypt_data>();
  const char* computed =
    crypt_r(reinterpret_cast<const char*>(phrase.data()),
            usable ? reinterpret_cast<const char*>(setting.data()) : dummy_hash().c_str(), data.get());
  bool match = usable && computed != nullptr && computed[0] != '*' &&
               constant_time_equal(std::string_view(computed), hash.view());
  secure_wipe(data.get(), sizeof(crypt_data));
  return match ? PasswordVerdict::match : PasswordVerdict::mismatch;
}

DirectoryPasswordChecker::DirectoryPasswordChecker(PolicyResolver& policy, Directory* directory,
                                                   PasswordChecker& local,
                                                   std::chrono::milliseconds timeout)
  : m_policy(policy), m_directory(directory), m_local(local), m_timeout(timeout)
{
}

PasswordVerdict DirectoryPasswordChecker::check(std::string_view user, std::string_view password)
{
  // An empty simple bind is an anonymous bind, which succeeds: never send one.
  if (password.empty()) {
    return PasswordVerdict::mismatch;
  }
  if (m_directory == nullptr) {
    return m_local.check(user, password);
  }
  const PasswordSource source = m_policy.password_source(user);
  if (source.kind != PasswordSource::Kind::directory) {
    // Local accounts; and when the directory is out of reach with nothing cached, local
    // accounts still work (a directory user has no local hash and is refused).
    return m_local.check(user, password);
  }
  if (m_policy.directory_resting()) {
    // It just failed to answer: a bind now would most likely cost the whole timeout again.
    return PasswordVerdict::unavailable;
  }
  const Deadline deadline = std::chrono::steady_clock::now() + m_timeout;
  switch (m_directory->check_password(source.dn, password, deadline)) {
  case Directory::Bind::ok:
    return PasswordVerdict::match;
  case Directory::Bind::unavailable:
    m_policy.directory_failed("cannot check the password of " + log::sanitize(user));
    return PasswordVerdict::unavailable;
  case Directory::Bind::wrong:
    break;
  }
  return PasswordVerdict::mismatch;
}

} // namespace studio2fa
