// A Directory for unit tests (test_policy, test_password_checker): its answers are set by the
// test, nothing is sent anywhere; and a PolicyResolver over it and a fresh SQLite store.
// Brings in cmocka.h: include it after the standard headers whose names its macros take.
#pragma once

#include "clock.hpp"
#include "directory.hpp"
#include "policy.hpp"
#include "sqlite_store.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

namespace studio2fa {

// A directory of users (uid → entry), flagged containers (dn → flags), groups and passwords
// (dn → password); it can be switched off, and counts the calls made to it.
class ScriptedDirectory final : public Directory {
public:
  std::map<std::string, DirectoryEntry> users;
  std::map<std::string, PolicyFlags> containers;
  // group dn → (flags, member uids, member dns)
  struct Group {
    PolicyFlags flags;
    std::vector<std::string> uids;
    std::vector<std::string> dns;
  };
  std::map<std::string, Group> groups;
  std::map<std::string, std::string> passwords; // dn → the password a bind takes
  bool down = false;
  unsigned calls = 0;
  unsigned binds = 0;

  Expected<std::optional<DirectoryEntry>> find_user(std::string_view user, Deadline) override
  {
    ++calls;
    if (down) {
      return make_error("server down");
    }
    auto found = users.find(std::string(user));
    if (found == users.end()) {
      return std::optional<DirectoryEntry>{};
    }
    return std::optional<DirectoryEntry>{found->second};
  }
  Expected<std::optional<PolicyFlags>> read_flags(std::string_view dn, Deadline) override
  {
    ++calls;
    if (down) {
      return make_error("server down");
    }
    auto found = containers.find(std::string(dn));
    if (found == containers.end()) {
      return std::optional<PolicyFlags>{};
    }
    return std::optional<PolicyFlags>{found->second};
  }
  Expected<std::vector<DirectoryEntry>>
  groups_holding(std::string_view user, std::span<const std::string> dns, Deadline) override
  {
    ++calls;
    if (down) {
      return make_error("server down");
    }
    std::vector<DirectoryEntry> out;
    for (const auto& [dn, group] : groups) {
      bool holds = false;
      for (const std::string& uid : group.uids) {
        holds = holds || (!user.empty() && uid == user);
      }
      for (const std::string& member : group.dns) {
        for (const std::string& wanted : dns) {
          holds = holds || member == wanted;
        }
      }
      if (holds) {
        out.push_back({dn, group.flags});
      }
    }
    return out;
  }
  Bind check_password(std::string_view dn, std::string_view password, Deadline) override
  {
    ++calls;
    ++binds;
    if (down) {
      return Bind::unavailable;
    }
    auto found = passwords.find(std::string(dn));
    return found != passwords.end() && found->second == password ? Bind::ok : Bind::wrong;
  }
  std::uint64_t operations() const override { return calls; }
};

// cmocka's setup and teardown of a test whose state is a new `Fixture`.
template <typename Fixture> int new_fixture(void** state)
{
  *state = new Fixture;
  return 0;
}
template <typename Fixture> int delete_fixture(void** state)
{
  delete static_cast<Fixture*>(*state);
  return 0;
}

// The studio of these tests: its base, a five-minute cache, 30 s of rest after a failure.
inline PolicySettings studio_policy_settings()
{
  PolicySettings settings;
  settings.base = "dc=studio,dc=example";
  settings.cache_ttl = 300;
  settings.retry_after = 30;
  return settings;
}

// A PolicyResolver with `settings` over a ScriptedDirectory and a SQLite store in a new
// temporary directory, removed with it.
struct PolicyWorld {
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  ManualClock clock{1'700'000'000};
  ScriptedDirectory directory;
  std::unique_ptr<PolicyResolver> policy;

  explicit PolicyWorld(const PolicySettings& settings)
  {
    char templ[] = "/tmp/studio2fa-policy-test.XXXXXX";
    if (mkdtemp(templ) == nullptr) {
      fail_msg("mkdtemp failed");
    }
    dir = templ;
    auto opened = SqliteStore::open(dir + "/db");
    if (!opened) {
      fail_msg("%s", opened.error().message.c_str());
    }
    store = std::move(*opened);
    policy = std::make_unique<PolicyResolver>(*store, &directory, clock, settings);
    assert_true(policy->load().has_value());
  }
  ~PolicyWorld()
  {
    policy.reset();
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  PolicyWorld(const PolicyWorld&) = delete;
  PolicyWorld& operator=(const PolicyWorld&) = delete;
};

} // namespace studio2fa
