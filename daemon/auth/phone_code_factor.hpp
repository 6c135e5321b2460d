// A code sent by text message or voice call as a second factor at login (PhoneCodes). It is
// only ever the live login code of the record: with none sent, no code is this factor's.
#pragma once

#include "factor.hpp"
#include "phone_codes.hpp"

namespace studio2fa {

class PhoneCodeFactor final : public FactorVerifier {
public:
  explicit PhoneCodeFactor(const PhoneCodes& codes) : m_codes(codes) {}

  protocol::SecondFactor kind() const override { return protocol::SecondFactor::phone_code; }
  // Its own when a login code was sent and `code` has its shape (six digits): a wrong one then
  // counts against that code's tries, whichever other factor also claims it.
  CodeClaim claim(const UserRecord& record, std::string_view code) const override;
  Expected<FactorMatch> check(const UserRecord& record, std::string_view code,
                              std::int64_t now) const override;
  void use(UserRecord& record, const FactorMatch& match) const override;
  // A wrong try at the live code; the last allowed one voids it (a new code must be sent). It
  // never locks: the tries of one code are few, and every try counts toward the throttle.
  bool count_failure(UserRecord& record, std::int64_t now) const override;
  void clear_failures(UserRecord&) const override {}
  // The number, any number being confirmed and any code sent.
  void remove(UserRecord& record) const override;

private:
  const PhoneCodes& m_codes;
};

} // namespace studio2fa
