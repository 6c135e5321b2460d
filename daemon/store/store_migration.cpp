#include "store_migration.hpp"

#include <memory>

namespace studio2fa {

Expected<MigrationReport> StoreMigration::copy_page(StoreKind from, StoreKind to,
                                                    std::string_view after, std::size_t limit) const
{
  if (from == to) {
    return make_error(Errc::invalid, "a store cannot be migrated to itself");
  }
  // The kind the daemon does not serve is opened for this page only.
  auto other = open_store(m_config, from == m_served_kind ? to : from);
  if (!other) {
    return Unexpected<Error>{other.error()};
  }
  EnrollmentStore& source = from == m_served_kind ? m_served : **other;
  EnrollmentStore& destination = to == m_served_kind ? m_served : **other;
  MigrationRange range;
  range.after = std::string(after);
  range.limit = limit;
  return migrate_records(source, destination, range);
}

} // namespace studio2fa
