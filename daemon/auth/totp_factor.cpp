#include "totp_factor.hpp"

#include "backup_codes.hpp"
#include "log.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace studio2fa {

namespace {

constexpr std::string_view k_purpose_active = "totp";
constexpr std::string_view k_purpose_pending = "pending";
constexpr std::size_t k_secret_bytes = 20; // 160 bits, RFC 4226's recommendation

// Why `user`'s secret did not open, for the log: a key this host lacks is named (and keeps its
// Errc), anything else is a wrong key or an altered record.
Unexpected<Error> opening_failed(std::string_view user, const Error& why)
{
  if (why.code == Errc::unknown_key) {
    return make_error(Errc::unknown_key, "the secret of " + log::sanitize(user) + " is " +
                                           why.message);
  }
  return make_error("the secret of " + log::sanitize(user) +
                    " cannot be opened (wrong studio key, or the record was altered)");
}

} // namespace

CodeClaim TotpFactor::claim(const UserRecord& record, std::string_view code) const
{
  return code_shape(code, record.params.digits) == CodeShape::totp ? CodeClaim::own
                                                                   : CodeClaim::none;
}

Expected<FactorMatch> TotpFactor::check(const UserRecord& record, std::string_view code,
                                        std::int64_t now) const
{
  if (!record.enrolled()) {
    return FactorMatch{false, 0}; // a phone-only record: no app code to match
  }
  auto step = match(record.user, k_purpose_active, record.sealed_secret, record.params,
                    record.last_step, code, now);
  if (!step) {
    return Unexpected<Error>{step.error()};
  }
  return FactorMatch{*step != 0, *step};
}

void TotpFactor::use(UserRecord& record, const FactorMatch& match) const
{
  record.last_step = match.token;
}

void TotpFactor::remove(UserRecord& record) const
{
  record.sealed_secret.clear();
  record.enrolled_at = 0;
  clear_pending(record);
}

Expected<SecretBytes> TotpFactor::start_pending(UserRecord& record, const totp::Parameters& params,
                                                std::int64_t now) const
{
  SecretBytes secret(k_secret_bytes);
  if (!random_bytes({secret.data(), secret.size()})) {
    return make_error("the random number generator failed");
  }
  auto sealed = m_sealer.seal(secret.span(), record.user, k_purpose_pending);
  if (!sealed) {
    return Unexpected<Error>{sealed.error()};
  }
  record.pending_secret = std::move(*sealed);
  record.pending_params = params;
  record.pending_created_at = now;
  return secret;
}

Expected<std::uint64_t> TotpFactor::match_pending(const UserRecord& record, std::string_view code,
                                                  std::int64_t now) const
{
  return match(record.user, k_purpose_pending, record.pending_secret, record.pending_params, 0,
               code, now);
}

Expected<SecretBytes> TotpFactor::open_pending(const UserRecord& record) const
{
  auto secret = m_sealer.open(record.pending_secret, record.user, k_purpose_pending);
  if (!secret) {
    return opening_failed(record.user, secret.error());
  }
  return secret;
}

void TotpFactor::clear_pending(UserRecord& record)
{
  record.pending_secret.clear();
  record.pending_created_at = 0;
  record.pending_params = {};
}

Expected<bool> TotpFactor::reseal(UserRecord& record) const
{
  std::vector<std::uint8_t> active = record.sealed_secret;
  std::vector<std::uint8_t> pending = record.pending_secret;
  for (auto [sealed, purpose] : {std::pair{&active, k_purpose_active},
                                 std::pair{&pending, k_purpose_pending}}) {
    if (sealed->empty() || m_sealer.sealed_under_current_key(*sealed)) {
      continue;
    }
    auto secret = m_sealer.open(*sealed, record.user, purpose);
    if (!secret) {
      return opening_failed(record.user, secret.error());
    }
    auto resealed = m_sealer.seal(secret->span(), record.user, purpose);
    if (!resealed) {
      return Unexpected<Error>{resealed.error()};
    }
    *sealed = std::move(*resealed);
  }
  const bool changed = active != record.sealed_secret || pending != record.pending_secret;
  record.sealed_secret = std::move(active);
  record.pending_secret = std::move(pending);
  return changed;
}

Expected<std::vector<std::uint8_t>>
TotpFactor::seal_active(std::string_view user, std::span<const std::uint8_t> secret) const
{
  return m_sealer.seal(secret, user, k_purpose_active);
}

Expected<std::uint64_t> TotpFactor::match(std::string_view user, std::string_view purpose,
                                          const std::vector<std::uint8_t>& sealed,
                                          const totp::Parameters& params, std::uint64_t last_step,
                                          std::string_view code, std::int64_t now) const
{
  auto secret = m_sealer.open(sealed, user, purpose);
  if (!secret) {
    return opening_failed(user, secret.error());
  }
  // A malformed code is still run through the comparison (against a value no code has), so
  // that its timing matches a wrong code's.
  auto value = totp::parse_code(code, params.digits);
  std::uint32_t candidate = value ? *value : UINT32_MAX;
  auto step = totp::match_step(secret->span(), candidate, totp::time_step(now, params.period),
                               m_window, params);
  if (!value || !step || *step <= last_step) {
    return std::uint64_t{0};
  }
  return *step;
}

} // namespace studio2fa
