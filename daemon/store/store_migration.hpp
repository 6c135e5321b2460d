// studio2fa-admin migrate as the daemon carries it out (ADMIN_MIGRATE): each page uses the
// daemon's own store for the kind it serves, opens the other kind from the daemon's config
// (store_factory), and copies with migrate_records(). It runs in the daemon because the daemon
// alone holds what the stores need (the database, which only one process may have open; the
// directory's bind credentials); the records stay sealed throughout, so the copy needs no key.
#pragma once

#include "config.hpp"
#include "record_migration.hpp"
#include "store_factory.hpp"

#include <cstddef>
#include <string_view>

namespace studio2fa {

class StoreMigration {
public:
  // `config` and `served` (the store the daemon serves, of kind `served_kind`) must outlive
  // this object.
  StoreMigration(const Config& config, EnrollmentStore& served, StoreKind served_kind)
      : m_config(config), m_served(served), m_served_kind(served_kind)
  {
  }

  // Copies up to `limit` records of the `from` store after `after` to the `to` store, as
  // migrate_records() does. Errc::unavailable when a kind is not built in or cannot be reached.
  Expected<MigrationReport> copy_page(StoreKind from, StoreKind to, std::string_view after,
                                      std::size_t limit) const;

private:
  const Config& m_config;
  EnrollmentStore& m_served;
  StoreKind m_served_kind;
};

} // namespace studio2fa
