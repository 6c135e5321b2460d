// The directory store's codec (daemon/store/ldap_record_codec.cpp): a UserRecord as the
// attributes of its studio2faEnrollment entry and back, what is refused as malformed, and the
// escaping of the user name in the entry's DN.
#include "ldap_record_codec.hpp"
#include "store_contract.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

const LdapAttribute* find(const std::vector<LdapAttribute>& attributes, std::string_view name)
{
  auto found = std::find_if(attributes.begin(), attributes.end(),
                            [&](const LdapAttribute& a) { return a.name == name; });
  return found == attributes.end() ? nullptr : &*found;
}

void test_round_trip_of_every_field(void**)
{
  UserRecord record = store_contract::sample_record("alice");
  record.grace_until = 1'700'100'000;
  const auto attributes = encode_record(record, 7);
  auto decoded = decode_record(attributes);
  assert_true(decoded.has_value());
  store_contract::assert_records_equal(record, *decoded);
  assert_int_equal(decoded->revision, 7);
  // Every attribute the store asks for is written, each once, in the table's order.
  const auto names = record_attribute_names();
  assert_int_equal(attributes.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    assert_string_equal(attributes[i].name.c_str(), names[i]);
  }
  assert_string_equal(find(attributes, "studio2faTotpParameters")->values.at(0).c_str(),
                      "SHA256 8 60");
  assert_string_equal(find(attributes, "studio2faLockState")->values.at(0).c_str(),
                      "second-factor");
  assert_int_equal(find(attributes, k_attr_backup_code)->values.size(), 3);
}

void test_zero_fields_have_no_values(void**)
{
  UserRecord record;
  record.user = "bob";
  const auto attributes = encode_record(record, 1);
  for (const LdapAttribute& attribute : attributes) {
    if (attribute.name != k_attr_user && attribute.name != k_attr_revision) {
      assert_true(attribute.values.empty());
    }
  }
  auto decoded = decode_record(attributes);
  assert_true(decoded.has_value());
  store_contract::assert_records_equal(record, *decoded);
}

void test_names_compare_without_case_and_unknown_ones_are_ignored(void**)
{
  std::vector<LdapAttribute> attributes = {
      {"STUDIO2FAUSER", {"carol"}},   {"studio2farevision", {"3"}},
      {"studio2faLastStep", {"123"}}, {"objectClass", {"studio2faEnrollment"}},
      {"entryCSN", {"whatever"}},
  };
  auto decoded = decode_record(attributes);
  assert_true(decoded.has_value());
  assert_string_equal(decoded->user.c_str(), "carol");
  assert_int_equal(decoded->revision, 3);
  assert_int_equal(decoded->last_step, 123);
}

void test_malformed_entries_are_refused(void**)
{
  const std::vector<std::vector<LdapAttribute>> bad = {
      {{"studio2faRevision", {"1"}}},                                // no user
      {{"studio2faUser", {"a"}}},                                    // no revision
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"0"}}},      // revision 0
      {{"studio2faUser", {"a", "b"}}, {"studio2faRevision", {"1"}}}, // two users
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faLastStep", {"-1"}}},
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faLastStep", {"1x"}}},
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faLastStep", {"01"}}},
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faLastStep", {"1", "2"}}},
      {{"studio2faUser", {"a"}},
       {"studio2faRevision", {"1"}},
       {"studio2faFailures", {"4294967296"}}},
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faLockState", {"open"}}},
      {{"studio2faUser", {"a"}},
       {"studio2faRevision", {"1"}},
       {"studio2faTotpParameters", {"MD5 6 30"}}},
      {{"studio2faUser", {"a"}},
       {"studio2faRevision", {"1"}},
       {"studio2faTotpParameters", {"SHA1 9 30"}}},
      {{"studio2faUser", {"a"}},
       {"studio2faRevision", {"1"}},
       {"studio2faTotpParameters", {"SHA1 6"}}},
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faBackupCode", {"short"}}},
      {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faSecret", {""}}},
  };
  for (const auto& attributes : bad) {
    auto decoded = decode_record(attributes);
    assert_false(decoded.has_value());
    assert_int_equal(static_cast<int>(decoded.error().code), static_cast<int>(Errc::internal));
  }
}

void test_too_many_backup_codes_are_refused(void**)
{
  LdapAttribute codes{"studio2faBackupCode", {}};
  for (std::size_t i = 0; i <= protocol::k_backup_codes_per_set; ++i) {
    codes.values.emplace_back(32, static_cast<char>('a' + i));
  }
  std::vector<LdapAttribute> attributes = {
      {"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, codes};
  assert_false(decode_record(attributes).has_value());
  attributes.back().values.pop_back();
  auto decoded = decode_record(attributes);
  assert_true(decoded.has_value());
  assert_int_equal(decoded->backup_codes.size(), protocol::k_backup_codes_per_set);
}

void test_round_trip_of_the_phone_factor(void**)
{
  UserRecord record = store_contract::sample_record("dave");
  store_contract::set_phone_fields(record);
  const auto attributes = encode_record(record, 4);
  auto decoded = decode_record(attributes);
  assert_true(decoded.has_value());
  store_contract::assert_records_equal(record, *decoded);
  assert_string_equal(find(attributes, "studio2faPhone")->values.at(0).c_str(), "+447946004567");
  assert_string_equal(find(attributes, "studio2faPhoneMethods")->values.at(0).c_str(), "sms voice");
  assert_string_equal(find(attributes, "studio2faPendingPhoneMethods")->values.at(0).c_str(),
                      "voice");
  assert_int_equal(find(attributes, "studio2faPhoneCode")->values.at(0).size(), 32);
  assert_string_equal(find(attributes, "studio2faPhoneCodeState")->values.at(0).c_str(),
                      "confirm 1700000200 1700000500 2");
  assert_string_equal(find(attributes, "studio2faPhoneSends")->values.at(0).c_str(),
                      "1700000000 3");

  // A code's state without a purpose (tries left after it was voided) is kept too.
  record.phone_code_purpose = PhoneCodePurpose::none;
  decoded = decode_record(encode_record(record, 5));
  assert_true(decoded.has_value());
  store_contract::assert_records_equal(record, *decoded);
}

void test_malformed_phone_fields_are_refused(void**)
{
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"studio2faPhone", "+44 7946 004567"}, // not canonical
      {"studio2faPhone", "447946004567"},          {"studio2faPendingPhone", "+0123456789"},
      {"studio2faPhoneMethods", "sms  voice"},     {"studio2faPhoneMethods", "fax"},
      {"studio2faPhoneMethods", "voice sms"},      {"studio2faPhoneCode", "short"},
      {"studio2faPhoneCodeState", "login 1 2"},    {"studio2faPhoneCodeState", "login 1 2 3 4"},
      {"studio2faPhoneCodeState", "later 1 2 3"},  {"studio2faPhoneCodeState", "login 1 2 -3"},
      {"studio2faPhoneCodeState", "login 1 2 3 "}, {"studio2faPhoneSends", "1"},
      {"studio2faPhoneSends", "1 4294967296"},
  };
  for (const auto& [name, value] : bad) {
    std::vector<LdapAttribute> attributes = {
        {"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {name, {value}}};
    auto decoded = decode_record(attributes);
    if (decoded.has_value()) {
      fail_msg("%s: %s was taken", name, value);
    }
  }
}

void test_an_attribute_named_twice_is_refused(void**)
{
  LdapAttribute codes{"studio2faBackupCode", {}};
  for (std::size_t i = 0; i < protocol::k_backup_codes_per_set; ++i) {
    codes.values.emplace_back(32, static_cast<char>('a' + i));
  }
  LdapAttribute more = codes;
  more.name = "STUDIO2FABACKUPCODE";
  // Each within the limit, together over it: refused, not merged.
  std::vector<LdapAttribute> attributes = {
      {"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, codes, more};
  assert_false(decode_record(attributes).has_value());
  attributes = {{"studio2faUser", {"a"}}, {"studio2faRevision", {"1"}}, {"studio2faUser", {"b"}}};
  assert_false(decode_record(attributes).has_value());
}

void test_dn_value_escaping(void**)
{
  assert_string_equal(escape_dn_value("alice").c_str(), "alice");
  assert_string_equal(escape_dn_value("a,b+c=d").c_str(), "a\\,b\\+c\\=d");
  assert_string_equal(escape_dn_value("#x ").c_str(), "\\#x\\ ");
  assert_string_equal(escape_dn_value(" y").c_str(), "\\ y");
  assert_string_equal(escape_dn_value(std::string("n\0l", 3)).c_str(), "n\\00l");
  assert_string_equal(escape_dn_value("q\"<>;\\").c_str(), "q\\\"\\<\\>\\;\\\\");
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_of_every_field),
      cmocka_unit_test(test_zero_fields_have_no_values),
      cmocka_unit_test(test_names_compare_without_case_and_unknown_ones_are_ignored),
      cmocka_unit_test(test_malformed_entries_are_refused),
      cmocka_unit_test(test_too_many_backup_codes_are_refused),
      cmocka_unit_test(test_round_trip_of_the_phone_factor),
      cmocka_unit_test(test_malformed_phone_fields_are_refused),
      cmocka_unit_test(test_an_attribute_named_twice_is_refused),
      cmocka_unit_test(test_dn_value_escaping),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
