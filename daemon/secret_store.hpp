// The store of per-user second-factor state, behind an interface so that a directory-backed
// store can follow the embedded SQLite one.
//
// Secrets are only ever handed to a store sealed (see Sealer); a store never sees plaintext.
#pragma once

#include "expected.hpp"
#include "totp.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

struct UserRecord {
  std::string user;

  // The active second factor; empty when not enrolled.
  std::vector<std::uint8_t> sealed_secret;
  totp::Parameters params;
  std::int64_t enrolled_at = 0;
  std::uint64_t last_step = 0; // last time step accepted (replay guard); 0 = none yet

  // Throttling: consecutive wrong codes and when the last one came.
  std::uint32_t failures = 0;
  std::int64_t last_failure_at = 0;

  // An enrollment waiting for its first code; empty when none.
  std::vector<std::uint8_t> pending_secret;
  totp::Parameters pending_params;
  std::int64_t pending_created_at = 0;

  bool enrolled() const { return !sealed_secret.empty(); }
  bool has_pending() const { return !pending_secret.empty(); }
};

class SecretStore {
public:
  virtual ~SecretStore() = default;

  // nullopt when the store has no record for `user`.
  virtual Expected<std::optional<UserRecord>> load(std::string_view user) = 0;

  // Inserts or replaces the whole record. Returns only once the change is durable (it survives
  // a crash of the daemon and of the machine): callers reply to clients after this.
  virtual Expected<void> save(const UserRecord& record) = 0;

  // Saves every record, all or none, durably (as save()). For bulk changes: one commit.
  virtual Expected<void> save_all(std::span<const UserRecord> records) = 0;

  virtual Expected<void> remove(std::string_view user) = 0;
};

} // namespace studio2fa
