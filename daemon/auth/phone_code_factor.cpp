#include "phone_code_factor.hpp"

namespace studio2fa {

CodeClaim PhoneCodeFactor::claim(const UserRecord& record, std::string_view code) const
{
  return record.phone_code_purpose == PhoneCodePurpose::login && PhoneCodes::has_shape(code)
             ? CodeClaim::own
             : CodeClaim::none;
}

Expected<FactorMatch> PhoneCodeFactor::check(const UserRecord& record, std::string_view code,
                                             std::int64_t now) const
{
  const PhoneCodeCheck found = m_codes.check(record, PhoneCodePurpose::login, code, now);
  return FactorMatch{found == PhoneCodeCheck::match, 0};
}

void PhoneCodeFactor::use(UserRecord& record, const FactorMatch&) const
{
  PhoneCodes::use(record);
}

bool PhoneCodeFactor::count_failure(UserRecord& record, std::int64_t) const
{
  if (record.phone_code_purpose == PhoneCodePurpose::login) {
    m_codes.count_wrong(record);
  }
  return false;
}

void PhoneCodeFactor::remove(UserRecord& record) const
{
  record.phone.clear();
  record.phone_methods = 0;
  record.phone_enrolled_at = 0;
  record.pending_phone.clear();
  record.pending_phone_methods = 0;
  PhoneCodes::use(record);
}

} // namespace studio2fa
