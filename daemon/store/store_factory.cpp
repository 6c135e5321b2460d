#include "store_factory.hpp"

#include "directory_store.hpp"
#include "ldap_config.hpp"
#include "log.hpp"
#include "sqlite_store.hpp"

namespace studio2fa {

namespace {

// The directory's records alone (no host database), as store = directory reads and writes them.
Expected<std::unique_ptr<LdapEnrollmentStore>> open_directory_records(const Config& config)
{
  if (config.ldap_uris.empty() || config.enrollment_base.empty()) {
    return make_error(Errc::invalid,
                      "the directory store needs ldap_uri and enrollment_base in the config");
  }
  std::string password;
  if (!config.ldap_bind_password_file.empty()) {
    auto read = read_bind_password(config.ldap_bind_password_file);
    if (!read) {
      return Unexpected<Error>{read.error()};
    }
    password = std::move(*read);
  }
  const std::string write_uri =
      config.ldap_write_uri.empty() ? config.ldap_uris.front() : config.ldap_write_uri;
  LdapStoreSettings settings;
  settings.read = ldap_connection_settings(config, config.ldap_uris, password);
  settings.write = ldap_connection_settings(config, {write_uri}, std::move(password));
  settings.base = config.enrollment_base;
  settings.timeout = std::chrono::milliseconds(config.ldap_timeout);
  switch (config.ldap_compare_and_swap) {
  case Config::CompareAndSwap::automatic:
    break;
  case Config::CompareAndSwap::assertion:
    settings.forced = CasForm::assertion;
    break;
  case Config::CompareAndSwap::delete_add:
    settings.forced = CasForm::delete_add;
    break;
  }
  auto records = std::make_unique<LdapEnrollmentStore>(std::move(settings));
  // Said at start; a directory that cannot be asked now is asked again at the first write. One
  // that answers without the control ldap_compare_and_swap = assertion requires stops the start.
  if (auto form = records->detect_cas_form(); !form) {
    if (form.error().code == Errc::invalid) {
      return Unexpected<Error>{form.error()};
    }
    log::warning("directory store: cannot ask %s which conditional writes it takes: %s",
                 write_uri.c_str(), form.error().message.c_str());
  }
  return records;
}

Expected<std::unique_ptr<Store>> open_directory_store(const Config& config,
                                                      std::unique_ptr<SqliteStore> local)
{
  auto records = open_directory_records(config);
  if (!records) {
    return Unexpected<Error>{records.error()};
  }
  const std::string& write_uri =
      config.ldap_write_uri.empty() ? config.ldap_uris.front() : config.ldap_write_uri;
  const bool cached = config.offline_logins == Config::OfflineLogins::cached;
  log::notice("store: directory (records under %s, written to %s, conditional writes by %s%s); "
              "offline_logins = %s; this host's state in %s",
              config.enrollment_base.c_str(), write_uri.c_str(),
              cas_form_name((*records)->cas_form()),
              (*records)->cas_form_forced() ? ", forced by ldap_compare_and_swap" : "",
              cached ? "cached" : "deny", config.db_path.c_str());
  OfflineSettings offline{cached, std::chrono::seconds(config.offline_cache_age)};
  CacheSettings cache{config.cache_sync_full ? Durability::synced : Durability::copy};
  return std::unique_ptr<Store>(
      std::make_unique<DirectoryStore>(std::move(*records), std::move(local), offline, cache));
}

} // namespace

Expected<std::unique_ptr<Store>> open_store(const Config& config)
{
  auto store = SqliteStore::open(config.db_path);
  if (!store) {
    return Unexpected<Error>{store.error()};
  }
  if (config.store == StoreKind::directory) {
    return open_directory_store(config, std::move(*store));
  }
  log::notice("store: local (%s)", config.db_path.c_str());
  return std::unique_ptr<Store>(std::move(*store));
}

Expected<std::unique_ptr<EnrollmentStore>> open_records(const Config& config, StoreKind kind)
{
  if (kind == StoreKind::directory) {
    auto records = open_directory_records(config);
    if (!records) {
      return Unexpected<Error>{records.error()};
    }
    return std::unique_ptr<EnrollmentStore>(std::move(*records));
  }
  auto store = SqliteStore::open(config.db_path);
  if (!store) {
    return Unexpected<Error>{store.error()};
  }
  return std::unique_ptr<EnrollmentStore>(std::move(*store));
}

} // namespace studio2fa
