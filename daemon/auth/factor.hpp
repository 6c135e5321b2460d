// A second factor: something a user's record holds that a typed code can prove (the TOTP secret
// of an authenticator app, a set of backup codes; next, a code sent by text). Each kind is an
// implementation of FactorVerifier beside this file; Factors (factors.hpp) asks them in turn and
// owns the rules between them, so the login flow never names a kind of code.
#pragma once

#include "expected.hpp"
#include "protocol.hpp"
#include "user_record.hpp"

#include <cstdint>
#include <string_view>

namespace studio2fa {

// What a code's shape says about a factor, before anything is compared.
enum class CodeClaim {
  none, // not this factor's code: a match does not count, a wrong code is not charged to it
  own,  // this factor's code: a match proves it, a wrong code is charged to it
  also, // another factor's shape, that this factor may also hold (imported numeric scratch
        // codes): a match counts only when no owner matched
};

// What one factor's comparison found.
struct FactorMatch {
  bool matched = false;
  std::uint64_t token = 0; // what use() consumes: a time step, the index of a backup code
};

class FactorVerifier {
public:
  virtual ~FactorVerifier() = default;

  virtual protocol::SecondFactor kind() const = 0;

  // How `code` relates to this factor by its shape (and whether `record` holds the factor).
  virtual CodeClaim claim(const UserRecord& record, std::string_view code) const = 0;

  // Compares `code` with what `record` holds, in constant time, whatever its claim: every code
  // costs every factor's comparison. Changes nothing. An error when the factor's secret cannot
  // be opened.
  virtual Expected<FactorMatch> check(const UserRecord& record, std::string_view code,
                                      std::int64_t now) const = 0;

  // Uses up what `match` proved, so that the same code is never accepted again.
  virtual void use(UserRecord& record, const FactorMatch& match) const = 0;

  // Counts a wrong code charged to this factor in its own counters; true when that locked the
  // second factor. The record's common failure count is Factors' business.
  virtual bool count_failure(UserRecord& record, std::int64_t now) const = 0;

  // Forgets this factor's own failure counts (a right code of any factor, an unlock).
  virtual void clear_failures(UserRecord& record) const = 0;

  // Removes the factor from the record (a disable, a temporary pass).
  virtual void remove(UserRecord& record) const = 0;
};

} // namespace studio2fa
