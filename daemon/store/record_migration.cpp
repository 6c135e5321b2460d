#include "record_migration.hpp"

#include "log.hpp"

#include <algorithm>
#include <vector>

namespace studio2fa {

namespace {

// Writes `record` to `to` alone, at the revision it carries, and counts the outcome.
void copy_one(EnrollmentStore& to, UserRecord record, MigrationReport& report)
{
  auto saved = to.save(record);
  if (saved) {
    ++report.copied;
  } else if (saved.error().code == Errc::conflict) {
    ++report.already_there; // written there meanwhile: theirs is the newer
  } else {
    ++report.failed;
    log::warning("migrate: the record of %s was not copied: %s", log::sanitize(record.user).c_str(),
                 saved.error().message.c_str());
  }
}

} // namespace

Expected<MigrationReport> migrate_records(EnrollmentStore& from, EnrollmentStore& to,
                                          const MigrationRange& range)
{
  MigrationReport report;
  report.last = range.after;
  const std::size_t page_size = std::max<std::size_t>(range.page_size, 1);
  std::uint64_t seen = 0;
  for (;;) {
    std::size_t want = page_size;
    if (range.limit != 0) {
      // One more than the limit allows, to tell whether there are more.
      want = std::min<std::size_t>(page_size, range.limit - seen + 1);
    }
    auto page = from.list(report.last, want);
    if (!page) {
      return Unexpected<Error>{page.error()};
    }
    if (range.limit != 0 && seen + page->size() > range.limit) {
      page->resize(range.limit - seen);
      report.more = true;
    }
    const bool last_page = report.more || page->size() < want;
    if (!page->empty()) {
      report.last = page->back().user;
    }
    seen += page->size();
    std::vector<UserRecord> missing;
    for (UserRecord& record : *page) {
      auto existing = to.load(record.user);
      if (!existing) {
        return Unexpected<Error>{existing.error()};
      }
      if (existing->has_value() && !range.replace_existing) {
        ++report.already_there;
      } else {
        record.revision = existing->has_value() ? (*existing)->revision : 0;
        missing.push_back(std::move(record));
      }
    }
    if (!missing.empty()) {
      if (to.save_all(missing)) {
        report.copied += missing.size();
      } else {
        // All or none: find which conflicted (or failed) one at a time.
        for (UserRecord& record : missing) {
          copy_one(to, std::move(record), report);
        }
      }
    }
    if (last_page || page->empty()) {
      return report;
    }
  }
}

} // namespace studio2fa
