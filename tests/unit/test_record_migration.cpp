// migrate_records (daemon/store/record_migration): a store-to-store copy that never overwrites
// the destination, run here SQLite to SQLite with two temporary databases.
#include "record_migration.hpp"
#include "sqlite_store.hpp"
#include "store_contract.hpp"
#include "store_migration.hpp"

#include <chrono>
#include <csetjmp>
#include <cstring>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;
using namespace studio2fa::store_contract;

namespace {

constexpr std::size_t k_records = 10000;

struct Stores {
  std::string dir;
  std::unique_ptr<SqliteStore> from;
  std::unique_ptr<SqliteStore> to;
};

std::unique_ptr<SqliteStore> open_db(const std::string& path)
{
  auto store = SqliteStore::open(path);
  if (!store) {
    fail_msg("cannot open %s: %s", path.c_str(), store.error().message.c_str());
  }
  return std::move(*store);
}

int open_stores(void** state)
{
  char templ[] = "/tmp/studio2fa-migration-test.XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  auto* stores = new Stores{templ, nullptr, nullptr};
  stores->from = open_db(stores->dir + "/from.db");
  stores->to = open_db(stores->dir + "/to.db");
  *state = stores;
  return 0;
}

int close_stores(void** state)
{
  auto* stores = static_cast<Stores*>(*state);
  stores->from.reset();
  stores->to.reset();
  std::error_code ignored;
  std::filesystem::remove_all(stores->dir, ignored);
  delete stores;
  return 0;
}

Stores& stores_of(void** state)
{
  return *static_cast<Stores*>(*state);
}

std::string user_name(std::size_t n)
{
  char name[32];
  std::snprintf(name, sizeof(name), "user%05zu", n);
  return name;
}

// `count` records in `store`, written in commits of 500.
void fill(EnrollmentStore& store, std::size_t first, std::size_t count)
{
  std::vector<UserRecord> batch;
  for (std::size_t n = first; n < first + count; ++n) {
    batch.push_back(sample_record(user_name(n)));
    if (batch.size() == 500 || n + 1 == first + count) {
      assert_true(store.save_all(batch).has_value());
      batch.clear();
    }
  }
}

std::size_t count_records(EnrollmentStore& store)
{
  std::size_t count = 0;
  std::string after;
  for (;;) {
    auto page = store.list(after, 1000);
    assert_true(page.has_value());
    if (page->empty()) {
      return count;
    }
    count += page->size();
    after = page->back().user;
  }
}

void test_copies_ten_thousand_then_nothing(void** state)
{
  Stores& s = stores_of(state);
  fill(*s.from, 0, k_records);

  // A record the destination already holds, changed there since (a login on another host):
  // the migration must keep it, not the source's older copy.
  UserRecord newer = sample_record(user_name(1234));
  newer.last_step = 99999999;
  newer.failures = 7;
  assert_true(s.to->save(newer).has_value());

  const auto started = std::chrono::steady_clock::now();
  auto report = migrate_records(*s.from, *s.to);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  assert_true(report.has_value());
  std::printf("# migrate_records: %zu records SQLite to SQLite in %lld ms\n", k_records,
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  assert_int_equal(report->copied, k_records - 1);
  assert_int_equal(report->already_there, 1);
  assert_int_equal(report->failed, 0);
  assert_false(report->more);
  assert_string_equal(report->last.c_str(), user_name(k_records - 1).c_str());
  assert_int_equal(count_records(*s.to), k_records);

  // Every copied record is the source's, field for field; the newer one is untouched.
  for (std::size_t n : {std::size_t{0}, std::size_t{4999}, k_records - 1}) {
    assert_records_equal(load_existing(*s.to, user_name(n)), load_existing(*s.from, user_name(n)));
  }
  const UserRecord kept = load_existing(*s.to, user_name(1234));
  assert_int_equal(kept.last_step, 99999999);
  assert_int_equal(kept.failures, 7);

  // Again: nothing to copy.
  auto again = migrate_records(*s.from, *s.to);
  assert_true(again.has_value());
  assert_int_equal(again->copied, 0);
  assert_int_equal(again->already_there, k_records);
  assert_int_equal(again->failed, 0);
  assert_int_equal(load_existing(*s.to, user_name(1234)).last_step, 99999999);
}

void test_resumes_where_it_stopped(void** state)
{
  Stores& s = stores_of(state);
  fill(*s.from, 0, 1000);

  // Stopped after 300 records (a limit stands in for an interruption), then resumed from the last
  // user it reported, then run again from the start.
  MigrationRange first;
  first.limit = 300;
  first.page_size = 64;
  auto part = migrate_records(*s.from, *s.to, first);
  assert_true(part.has_value());
  assert_int_equal(part->copied, 300);
  assert_true(part->more);
  assert_string_equal(part->last.c_str(), user_name(299).c_str());
  assert_int_equal(count_records(*s.to), 300);

  MigrationRange rest;
  rest.after = part->last;
  rest.page_size = 64;
  auto resumed = migrate_records(*s.from, *s.to, rest);
  assert_true(resumed.has_value());
  assert_int_equal(resumed->copied, 700);
  assert_int_equal(resumed->already_there, 0);
  assert_false(resumed->more);

  auto again = migrate_records(*s.from, *s.to);
  assert_true(again.has_value());
  assert_int_equal(again->copied, 0);
  assert_int_equal(again->already_there, 1000);
}

void test_page_with_existing_records(void** state)
{
  // Some users of a page already in the destination: the rest of the page is still copied, and
  // the ones there are not overwritten.
  Stores& s = stores_of(state);
  fill(*s.from, 0, 50);
  for (std::size_t n : {3, 17, 49}) {
    UserRecord there = sample_record(user_name(n));
    there.failures = 42;
    assert_true(s.to->save(there).has_value());
  }
  MigrationRange range;
  range.page_size = 20;
  auto report = migrate_records(*s.from, *s.to, range);
  assert_true(report.has_value());
  assert_int_equal(report->copied, 47);
  assert_int_equal(report->already_there, 3);
  for (std::size_t n : {3, 17, 49}) {
    assert_int_equal(load_existing(*s.to, user_name(n)).failures, 42);
  }
  assert_int_equal(count_records(*s.to), 50);
}

void test_empty_source(void** state)
{
  Stores& s = stores_of(state);
  auto report = migrate_records(*s.from, *s.to);
  assert_true(report.has_value());
  assert_int_equal(report->copied, 0);
  assert_int_equal(report->already_there, 0);
  assert_false(report->more);
}

void test_store_migration_in_the_daemon(void** state)
{
  // The daemon serves the local store: a page to the directory opens the directory's records,
  // which this config does not name; nothing is copied and the error says so. A store to itself
  // is refused, and so is a migration while the daemon serves the directory.
  Stores& s = stores_of(state);
  fill(*s.from, 0, 3);
  Config config = default_config();
  config.db_path = s.dir + "/from.db";
  const StoreMigration migration(config, *s.from, StoreKind::local);
  auto page = migration.copy_page(StoreKind::local, StoreKind::directory, "", 512);
  assert_false(page.has_value());
  assert_int_equal(static_cast<int>(page.error().code), static_cast<int>(Errc::invalid));
  assert_non_null(strstr(page.error().message.c_str(), "enrollment_base"));
  auto itself = migration.copy_page(StoreKind::local, StoreKind::local, "", 512);
  assert_false(itself.has_value());
  assert_int_equal(static_cast<int>(itself.error().code), static_cast<int>(Errc::invalid));
  const StoreMigration served_directory(config, *s.from, StoreKind::directory);
  auto refused = served_directory.copy_page(StoreKind::directory, StoreKind::local, "", 512);
  assert_false(refused.has_value());
  assert_non_null(strstr(refused.error().message.c_str(), "store = local"));
  assert_int_equal(count_records(*s.from), 3);
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_copies_ten_thousand_then_nothing, open_stores,
                                      close_stores),
      cmocka_unit_test_setup_teardown(test_resumes_where_it_stopped, open_stores, close_stores),
      cmocka_unit_test_setup_teardown(test_page_with_existing_records, open_stores, close_stores),
      cmocka_unit_test_setup_teardown(test_empty_source, open_stores, close_stores),
      cmocka_unit_test_setup_teardown(test_store_migration_in_the_daemon, open_stores,
                                      close_stores),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
