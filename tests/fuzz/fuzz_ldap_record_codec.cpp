// libFuzzer target: the directory store's record codec (daemon/store/ldap_record_codec.cpp),
// which reads whatever a studio2faEnrollment entry holds: a directory others administer.
//
// Input: attributes as the directory store hands them over, written as items separated by a
// NUL byte, each a name, a 0x01 byte, and one value (any bytes but NUL); consecutive items of
// the same name are the values of one attribute. An item without 0x01 is a name with no value.
//
// Beyond "no crash":
// - a decoded record holds what the codec promises: a user, a revision above 0, at most
//   protocol::k_backup_codes_per_set backup codes, TOTP parameters in range, canonical phone
//   numbers;
// - it encodes to one attribute per name of record_attribute_names(), in that order, and
//   decodes again to the same record (every field); encoding that gives the same attributes.
#include "check.hpp"
#include "ldap_record_codec.hpp"
#include "phone_number.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace studio2fa;

std::vector<LdapAttribute> parse_input(std::string_view input)
{
  std::vector<LdapAttribute> attributes;
  while (!input.empty()) {
    const std::size_t end = input.find('\0');
    const std::string_view item = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const std::size_t separator = item.find('\x01');
    const std::string_view name = item.substr(0, separator);
    if (attributes.empty() || attributes.back().name != name) {
      attributes.push_back({std::string(name), {}});
    }
    if (separator != std::string_view::npos) {
      attributes.back().values.emplace_back(item.substr(separator + 1));
    }
  }
  return attributes;
}

bool same_parameters(const totp::Parameters& a, const totp::Parameters& b)
{
  return a.algorithm == b.algorithm && a.digits == b.digits && a.period == b.period;
}

bool same_record(const UserRecord& a, const UserRecord& b)
{
  return a.user == b.user && a.revision == b.revision && a.sealed_secret == b.sealed_secret &&
         same_parameters(a.params, b.params) && a.enrolled_at == b.enrolled_at &&
         a.last_step == b.last_step && a.failures == b.failures &&
         a.last_failure_at == b.last_failure_at && a.pending_secret == b.pending_secret &&
         same_parameters(a.pending_params, b.pending_params) &&
         a.pending_created_at == b.pending_created_at && a.backup_codes == b.backup_codes &&
         a.backup_failures == b.backup_failures && a.lock == b.lock && a.locked_at == b.locked_at &&
         a.pass_until == b.pass_until && a.last_login_at == b.last_login_at &&
         a.grace_until == b.grace_until && a.phone == b.phone &&
         a.phone_methods == b.phone_methods && a.phone_enrolled_at == b.phone_enrolled_at &&
         a.pending_phone == b.pending_phone && a.pending_phone_methods == b.pending_phone_methods &&
         a.phone_code == b.phone_code && a.phone_code_purpose == b.phone_code_purpose &&
         a.phone_code_sent_at == b.phone_code_sent_at &&
         a.phone_code_expires_at == b.phone_code_expires_at &&
         a.phone_code_tries == b.phone_code_tries && a.phone_sends_since == b.phone_sends_since &&
         a.phone_sends == b.phone_sends;
}

bool same_attributes(const std::vector<LdapAttribute>& a, const std::vector<LdapAttribute>& b)
{
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].values != b[i].values) {
      return false;
    }
  }
  return true;
}

bool parameters_in_range(const totp::Parameters& params)
{
  return params.digits >= 6 && params.digits <= 8 && params.period >= 1;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_record(parse_input(input));
  if (!decoded) {
    FUZZ_CHECK(decoded.error().code == Errc::internal, "a refusal is not Errc::internal");
    return 0;
  }
  const UserRecord& record = *decoded;
  FUZZ_CHECK(!record.user.empty(), "a record without a user");
  FUZZ_CHECK(record.revision > 0, "a record at revision 0");
  FUZZ_CHECK(record.backup_codes.size() <= protocol::k_backup_codes_per_set,
             "more backup codes than a set holds");
  FUZZ_CHECK(parameters_in_range(record.params) && parameters_in_range(record.pending_params),
             "TOTP parameters out of range");
  FUZZ_CHECK(record.phone.empty() || phone::is_canonical(record.phone),
             "a phone number not in canonical form");
  FUZZ_CHECK(record.pending_phone.empty() || phone::is_canonical(record.pending_phone),
             "a pending phone number not in canonical form");
  FUZZ_CHECK(record.phone_methods <= k_phone_methods_all &&
                 record.pending_phone_methods <= k_phone_methods_all,
             "phone methods out of range");

  const std::vector<LdapAttribute> encoded = encode_record(record, record.revision);
  const auto names = record_attribute_names();
  FUZZ_CHECK(encoded.size() == names.size(), "encode does not write every attribute once");
  for (std::size_t i = 0; i < names.size(); ++i) {
    FUZZ_CHECK(encoded[i].name == names[i], "encode writes the attributes out of order");
  }
  auto again = decode_record(encoded);
  FUZZ_CHECK(again.has_value(), "an encoded record does not decode");
  FUZZ_CHECK(same_record(record, *again), "a record changed in a round trip");
  FUZZ_CHECK(same_attributes(encoded, encode_record(*again, again->revision)),
             "encoding is not stable");
  return 0;
}
