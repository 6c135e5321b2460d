#include "store_migration.hpp"

#include <memory>

namespace studio2fa {

Expected<MigrationReport> StoreMigration::copy_page(StoreKind from, StoreKind to,
                                                    std::string_view after, std::size_t limit) const
{
  if (from == to) {
    return make_error(Errc::invalid, "a store cannot be migrated to itself");
  }
  // The host's database is this daemon's alone (one process may have it open), so a migration
  // runs while the daemon serves it: to the directory before switching to store = directory,
  // from it after switching back to store = local.
  if (m_served_kind != StoreKind::local) {
    return make_error(Errc::invalid,
                      "studio2fa-admin migrate runs while studio2fad serves store = local: set "
                      "store = local in studio2fad.conf, restart studio2fad, then migrate");
  }
  auto directory = open_records(m_config, StoreKind::directory);
  if (!directory) {
    return Unexpected<Error>{directory.error()};
  }
  EnrollmentStore& source = from == m_served_kind ? m_served : **directory;
  EnrollmentStore& destination = to == m_served_kind ? m_served : **directory;
  MigrationRange range;
  range.after = std::string(after);
  range.limit = limit;
  // Back to the host: the directory's record is the shared truth, and what the host holds of a
  // user it also has is its cached copy of an older revision of it.
  range.replace_existing = to == StoreKind::local;
  return migrate_records(source, destination, range);
}

} // namespace studio2fa
