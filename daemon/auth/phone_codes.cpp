#include "phone_codes.hpp"

#include "keyed_hash.hpp"

#include <algorithm>
#include <cstdint>
#include <openssl/crypto.h>
#include <string>

namespace studio2fa {

namespace {

constexpr std::string_view k_key_label = "studio2fa phone-code key v1";
static_assert(sizeof(PhoneCodeHash) == k_keyed_hash_size);
constexpr std::int64_t k_hour = 3600;
// The largest multiple of 10^6 that a 32-bit value can be below: values at or past it are drawn
// again, so that every code is equally likely.
constexpr std::uint32_t k_uniform_limit = 4'294'000'000U;

std::span<const std::uint8_t> bytes_of(std::string_view text)
{
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::uint32_t seconds_until(std::int64_t then, std::int64_t now)
{
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(then - now, 1, UINT32_MAX));
}

} // namespace

Expected<PhoneCodeHasher> PhoneCodeHasher::create(std::span<const std::uint8_t> master_key)
{
  if (master_key.empty()) {
    return make_error("no master key to derive the phone-code key from");
  }
  SecretBytes key(sizeof(PhoneCodeHash));
  if (!hmac_sha256(master_key, bytes_of(k_key_label), key.data())) {
    return make_error("cannot derive the phone-code key");
  }
  return PhoneCodeHasher(std::move(key));
}

PhoneCodeHash PhoneCodeHasher::hash(std::string_view user, PhoneCodePurpose purpose,
                                    std::string_view number, std::string_view code,
                                    std::int64_t sent_at) const
{
  // NUL-separated: no user name, number or code holds a NUL, so the fields cannot run together.
  const std::string when = std::to_string(sent_at);
  SecretBytes message(user.size() + 1 + 1 + number.size() + 1 + code.size() + 1 + when.size());
  std::uint8_t* at = message.data();
  at = std::copy(user.begin(), user.end(), at);
  *at++ = 0;
  *at++ = static_cast<std::uint8_t>(purpose);
  at = std::copy(number.begin(), number.end(), at);
  *at++ = 0;
  at = std::copy(code.begin(), code.end(), at);
  *at++ = 0;
  std::copy(when.begin(), when.end(), at);
  PhoneCodeHash out{};
  if (!hmac_sha256(m_key.span(), message.span(), out.data())) {
    // Nothing matches a hash that could not be made: an all-ones value no HMAC is expected to
    // give, and check() never accepts a failed computation either.
    out.fill(0xFF);
  }
  return out;
}

PhoneCodes::PhoneCodes(const PhoneCodeHasher& hasher, PhoneCodeRules rules)
    : m_hasher(hasher), m_rules(rules)
{
  m_rules.lifetime = std::clamp(m_rules.lifetime, 1U, k_phone_code_max_lifetime);
  m_rules.max_tries = std::max(m_rules.max_tries, 1U);
}

std::string_view PhoneCodes::number_for(const UserRecord& record, PhoneCodePurpose purpose)
{
  switch (purpose) {
  case PhoneCodePurpose::login:
    return record.has_phone() ? std::string_view(record.phone) : std::string_view();
  case PhoneCodePurpose::confirm:
    return record.pending_phone;
  case PhoneCodePurpose::none:
    break;
  }
  return {};
}

Expected<PhoneCodeIssue> PhoneCodes::issue(UserRecord& record, PhoneCodePurpose purpose,
                                           std::int64_t now) const
{
  const std::string_view number = number_for(record, purpose);
  if (number.empty()) {
    return make_error(Errc::invalid, "no phone number to send a code to");
  }
  PhoneCodeIssue answer;
  // A clock stepped backwards must not hold the rations for longer than they last.
  if (record.phone_code_sent_at != 0 && record.phone_code_sent_at <= now &&
      now < record.phone_code_sent_at + m_rules.resend_after) {
    answer.retry_after = seconds_until(record.phone_code_sent_at + m_rules.resend_after, now);
    answer.refusal = "a code was sent less than a minute ago";
    return answer;
  }
  const bool window_running =
      record.phone_sends_since <= now && now < record.phone_sends_since + k_hour;
  if (m_rules.sends_per_user_hour != 0 && window_running &&
      record.phone_sends >= m_rules.sends_per_user_hour) {
    answer.retry_after = seconds_until(record.phone_sends_since + k_hour, now);
    answer.refusal = "too many codes sent to this user in the last hour";
    return answer;
  }

  std::uint32_t value = 0;
  do {
    if (!random_bytes({reinterpret_cast<std::uint8_t*>(&value), sizeof(value)})) {
      return make_error("the random number generator failed");
    }
  } while (value >= k_uniform_limit);
  SecretBytes code(k_phone_code_digits);
  value %= 1'000'000U;
  for (std::size_t i = k_phone_code_digits; i-- > 0;) {
    code.data()[i] = static_cast<std::uint8_t>('0' + value % 10);
    value /= 10;
  }

  if (!window_running) {
    record.phone_sends_since = now;
    record.phone_sends = 0;
  }
  if (record.phone_sends != UINT32_MAX) {
    ++record.phone_sends;
  }
  record.phone_code = m_hasher.hash(record.user, purpose, number, code.view(), now);
  record.phone_code_purpose = purpose;
  record.phone_code_sent_at = now;
  record.phone_code_expires_at = now + m_rules.lifetime;
  record.phone_code_tries = 0;
  answer.code = std::move(code);
  answer.expires_at = record.phone_code_expires_at;
  return answer;
}

bool PhoneCodes::has_shape(std::string_view code)
{
  std::size_t digits = 0;
  for (const char c : code) {
    if (c == ' ') {
      continue;
    }
    if (c < '0' || c > '9') {
      return false;
    }
    ++digits;
  }
  return digits == k_phone_code_digits;
}

PhoneCodeCheck PhoneCodes::check(const UserRecord& record, PhoneCodePurpose purpose,
                                 std::string_view code, std::int64_t now) const
{
  // The digits alone (a code read out may be typed "123 456"); a malformed code is still hashed
  // and compared, so that its timing matches a wrong code's.
  std::string digits;
  for (const char c : code.substr(0, 4 * k_phone_code_digits)) {
    if (c != ' ') {
      digits.push_back(c);
    }
  }
  const PhoneCodeHash candidate = m_hasher.hash(record.user, purpose, number_for(record, purpose),
                                                digits, record.phone_code_sent_at);
  const bool same =
      CRYPTO_memcmp(candidate.data(), record.phone_code.data(), candidate.size()) == 0;
  OPENSSL_cleanse(digits.data(), digits.size());
  const bool live = record.phone_code_purpose == purpose && purpose != PhoneCodePurpose::none &&
                    record.phone_code_sent_at <= now && now < record.phone_code_expires_at &&
                    record.phone_code_tries < m_rules.max_tries;
  if (!live) {
    return PhoneCodeCheck::no_code;
  }
  return same && has_shape(code) ? PhoneCodeCheck::match : PhoneCodeCheck::wrong;
}

void PhoneCodes::use(UserRecord& record)
{
  record.phone_code = {};
  record.phone_code_purpose = PhoneCodePurpose::none;
  record.phone_code_expires_at = 0;
  record.phone_code_tries = 0;
  // phone_code_sent_at stays: the resend interval counts from the last sending, used or not.
}

bool PhoneCodes::count_wrong(UserRecord& record) const
{
  if (!record.has_phone_code()) {
    return false;
  }
  ++record.phone_code_tries;
  if (record.phone_code_tries < m_rules.max_tries) {
    return false;
  }
  use(record);
  return true;
}

} // namespace studio2fa
