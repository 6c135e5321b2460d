#include "store_factory.hpp"

#include "sqlite_store.hpp"

namespace studio2fa {

Expected<std::unique_ptr<Store>> open_store(const Config& config)
{
  return open_store(config, StoreKind::local);
}

Expected<std::unique_ptr<Store>> open_store(const Config& config, StoreKind kind)
{
  switch (kind) {
  case StoreKind::local: {
    auto store = SqliteStore::open(config.db_path);
    if (!store) {
      return Unexpected<Error>{store.error()};
    }
    return std::unique_ptr<Store>(std::move(*store));
  }
  case StoreKind::directory:
    break;
  }
  return make_error(Errc::unavailable, "this studio2fad has no directory store");
}

} // namespace studio2fa
