// The TOTP secret of an authenticator app (RFC 6238) as a second factor: the active secret a
// login proves, and the pending one an enrollment confirms. Secrets are sealed for their user
// and purpose ("totp" for the active one, "pending"), so that one can never pass for the other.
#pragma once

#include "factor.hpp"
#include "sealer.hpp"
#include "secret_bytes.hpp"
#include "totp.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace studio2fa {

class TotpFactor final : public FactorVerifier {
public:
  // Codes of up to `window` steps before or after the current one are accepted.
  TotpFactor(const Sealer& sealer, unsigned window) : m_sealer(sealer), m_window(window) {}

  protocol::SecondFactor kind() const override { return protocol::SecondFactor::totp; }
  // Exactly as many digits as the record's parameters say: its own.
  CodeClaim claim(const UserRecord& record, std::string_view code) const override;
  // Against the active secret. Only a step later than record.last_step matches (replay).
  Expected<FactorMatch> check(const UserRecord& record, std::string_view code,
                              std::int64_t now) const override;
  void use(UserRecord& record, const FactorMatch& match) const override;
  bool count_failure(UserRecord&, std::int64_t) const override { return false; }
  void clear_failures(UserRecord&) const override {}
  // The active and any pending secret.
  void remove(UserRecord& record) const override;

  // A fresh secret from the CSPRNG, made the record's pending one with `params`, from `now`.
  // The caller shows it once and drops it.
  Expected<SecretBytes> start_pending(UserRecord& record, const totp::Parameters& params,
                                      std::int64_t now) const;
  // Checks `code` against the pending secret: the matched step, or 0 for no match.
  Expected<std::uint64_t> match_pending(const UserRecord& record, std::string_view code,
                                        std::int64_t now) const;
  // The pending secret, opened (to be sealed again as the active one).
  Expected<SecretBytes> open_pending(const UserRecord& record) const;
  static void clear_pending(UserRecord& record);

  // Seals `secret` as the active secret of `user`.
  // Seals the record's secret and pending secret again under the current studio key, each that
  // is not already (studio2fa-admin rekey). True when the record changed. An error, with the
  // record unchanged, when one of them does not open (Errc::unknown_key for a key this host
  // lacks).
  Expected<bool> reseal(UserRecord& record) const;
  // The id of the studio key that seals.
  const KeyId& current_key_id() const { return m_sealer.keyring().current().id; }
  Expected<std::vector<std::uint8_t>> seal_active(std::string_view user,
                                                  std::span<const std::uint8_t> secret) const;

private:
  // Checks `code` against a sealed secret; returns the matched step, or 0 for no match. Steps
  // at or before `last_step` never match. Error when the secret cannot be opened.
  Expected<std::uint64_t> match(std::string_view user, std::string_view purpose,
                                const std::vector<std::uint8_t>& sealed,
                                const totp::Parameters& params, std::uint64_t last_step,
                                std::string_view code, std::int64_t now) const;

  const Sealer& m_sealer;
  unsigned m_window;
};

} // namespace studio2fa
