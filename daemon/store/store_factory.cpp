#include "store_factory.hpp"

#include "sqlite_store.hpp"

namespace studio2fa {

Expected<std::unique_ptr<Store>> open_store(const Config& config)
{
  auto store = SqliteStore::open(config.db_path);
  if (!store) {
    return Unexpected<Error>{store.error()};
  }
  return std::unique_ptr<Store>(std::move(*store));
}

} // namespace studio2fa
