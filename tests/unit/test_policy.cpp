// PolicyResolver over a real SQLite store and a scripted directory: the cache and its TTL, the
// last known answer during an outage, fail closed with none, the retry back-off, the global
// switch on top of cached answers, root never looked up, and ancestor_dns (real libldap
// parsing). The precedence rules themselves are tested against a real slapd
// (tests/integration/ldap_policy.sh).
#include "policy.hpp"
#include "scripted_directory.hpp"
#include "sqlite_store.hpp"

#include <map>
#include <string>
#include <vector>

using namespace studio2fa;
using protocol::PolicyDecision;
using protocol::PolicySource;

namespace {

PolicyFlags required() { return {true, {}, {}}; }
PolicyFlags exempt() { return {{}, true, {}}; }

PolicySettings fixture_settings()
{
  PolicySettings settings = studio_policy_settings();
  settings.nesting_depth = 3;
  settings.grace_period = 86400;
  return settings;
}

struct Fixture : PolicyWorld {
  Fixture() : PolicyWorld(fixture_settings())
  {
    directory.users["vfx1"] = {"uid=vfx1,ou=vfx,ou=people,dc=studio,dc=example", {}};
    directory.users["anim1"] = {"uid=anim1,ou=anim,ou=people,dc=studio,dc=example", {}};
    directory.users["root"] = {"uid=root,ou=people,dc=studio,dc=example", required()};
    directory.containers["ou=vfx,ou=people,dc=studio,dc=example"] = {true, {}, 3600};
  }
};

Fixture& fixture(void** state)
{
  return *static_cast<Fixture*>(*state);
}

void assert_answer(const PolicyAnswer& answer, PolicyDecision decision, PolicySource source)
{
  if (answer.decision != decision || answer.source != source) {
    fail_msg("got decision %s source %d (%s), wanted %s source %d", protocol::name(answer.decision),
             static_cast<int>(answer.source), answer.reason.c_str(), protocol::name(decision),
             static_cast<int>(source));
  }
}

void test_cache_and_ttl(void** state)
{
  Fixture& f = fixture(state);
  PolicyAnswer first = f.policy->decide("vfx1");
  assert_answer(first, PolicyDecision::required, PolicySource::directory);
  assert_string_equal(first.reason.c_str(), "container ou=vfx,ou=people,dc=studio,dc=example");
  assert_int_equal(first.grace_period, 3600); // the deciding entry's studio2faGracePeriod
  const unsigned cold = f.directory.calls;
  // The user, two ancestors and the base, and one level of groups that found none.
  assert_int_equal(cold, 1 + 3 + 1);
  // Another user below the same containers: only the one container not read yet.
  assert_answer(f.policy->decide("anim1"), PolicyDecision::optional, PolicySource::directory);
  assert_int_equal(f.directory.calls - cold, 1 + 1 + 1);
  const unsigned both = f.directory.calls;

  f.clock.advance(299);
  assert_answer(f.policy->decide("vfx1"), PolicyDecision::required, PolicySource::cache);
  assert_int_equal(f.directory.calls, both); // warm: no query at all

  // After the TTL the directory is asked again and a change is seen.
  f.directory.containers.erase("ou=vfx,ou=people,dc=studio,dc=example");
  f.clock.advance(2);
  PolicyAnswer later = f.policy->decide("vfx1");
  assert_answer(later, PolicyDecision::optional, PolicySource::directory);
  assert_int_equal(later.grace_period, 86400); // no entry decided: the configured default
}

void test_outage_uses_last_known_and_fails_closed_without(void** state)
{
  Fixture& f = fixture(state);
  assert_answer(f.policy->decide("vfx1"), PolicyDecision::required, PolicySource::directory);
  f.clock.advance(301); // stale
  f.directory.down = true;
  PolicyAnswer stale = f.policy->decide("vfx1");
  assert_answer(stale, PolicyDecision::required, PolicySource::stale_cache);
  // Never seen: no answer at all, so nobody may skip the second factor.
  PolicyAnswer unknown = f.policy->decide("anim1");
  assert_answer(unknown, PolicyDecision::unknown, PolicySource::none);
  assert_false(unknown.known());
  assert_int_equal(f.policy->password_source("anim1").kind == PasswordSource::Kind::unknown, 1);

  // The back-off: within ldap_retry_interval the directory is not asked again.
  const unsigned calls = f.directory.calls;
  f.directory.down = false;
  assert_answer(f.policy->decide("anim1"), PolicyDecision::unknown, PolicySource::none);
  assert_int_equal(f.directory.calls, calls);
  f.clock.advance(31);
  assert_answer(f.policy->decide("anim1"), PolicyDecision::optional, PolicySource::directory);
  assert_true(f.directory.calls > calls);
}

void test_a_failed_password_check_rests_the_directory(void** state)
{
  Fixture& f = fixture(state);
  assert_false(f.policy->directory_resting());
  f.policy->directory_failed("a bind timed out");
  assert_true(f.policy->directory_resting());
  const unsigned calls = f.directory.calls;
  assert_answer(f.policy->decide("vfx1"), PolicyDecision::unknown, PolicySource::none);
  assert_int_equal(f.directory.calls, calls); // not asked while resting
  f.clock.advance(31);
  assert_false(f.policy->directory_resting());
  assert_answer(f.policy->decide("vfx1"), PolicyDecision::required, PolicySource::directory);
}

void test_answers_survive_a_restart(void** state)
{
  Fixture& f = fixture(state);
  assert_answer(f.policy->decide("vfx1"), PolicyDecision::required, PolicySource::directory);
  // A new resolver over the same database: the answer is on disk.
  PolicySettings settings;
  settings.base = "dc=studio,dc=example";
  PolicyResolver again(*f.store, &f.directory, f.clock, settings);
  assert_true(again.load().has_value());
  f.directory.down = true;
  assert_answer(again.decide("vfx1"), PolicyDecision::required, PolicySource::cache);
}

void test_enforcement_applies_on_top_of_cached_answers(void** state)
{
  Fixture& f = fixture(state);
  assert_answer(f.policy->decide("anim1"), PolicyDecision::optional, PolicySource::directory);
  Enforcement on;
  on.on = true;
  on.grace = 7200;
  on.since = f.clock.now();
  on.by = "dave";
  AuditEvent event;
  event.at = f.clock.now();
  event.action = "admin-enforce";
  assert_true(f.policy->set_enforcement(on, event).has_value());
  PolicyAnswer answer = f.policy->decide("anim1");
  assert_answer(answer, PolicyDecision::required, PolicySource::cache);
  assert_int_equal(answer.grace_period, 7200);
  assert_true(answer.reason.find("global enforcement") != std::string::npos);
  // The switch is stored: a new resolver reads it.
  PolicySettings settings;
  PolicyResolver again(*f.store, &f.directory, f.clock, settings);
  assert_true(again.load().has_value());
  assert_true(again.enforcement().on);
  assert_string_equal(again.enforcement().by.c_str(), "dave");
}

void test_root_is_never_looked_up(void** state)
{
  Fixture& f = fixture(state);
  PolicyAnswer answer = f.policy->decide("root");
  assert_answer(answer, PolicyDecision::optional, PolicySource::local);
  assert_int_equal(f.directory.calls, 0);
  assert_true(f.policy->password_source("root").kind == PasswordSource::Kind::local);
  assert_int_equal(f.directory.calls, 0);
}

void test_nesting_depth_and_loops(void** state)
{
  Fixture& f = fixture(state);
  const std::string user_dn = f.directory.users["anim1"].dn;
  // g1 holds anim1; g2 holds g1; g3 holds g2 and is required (depth 3: followed with a limit
  // of 3); a loop g1 ↔ g2 too.
  f.directory.groups["cn=g1"] = {{}, {}, {user_dn, "cn=g2"}};
  f.directory.groups["cn=g2"] = {{}, {}, {"cn=g1"}};
  f.directory.groups["cn=g3"] = {required(), {}, {"cn=g2"}};
  PolicyAnswer answer = f.policy->decide("anim1");
  assert_answer(answer, PolicyDecision::required, PolicySource::directory);
  assert_string_equal(answer.reason.c_str(), "group cn=g3");

  // One level deeper than the limit: not followed.
  f.directory.groups["cn=g3"] = {{}, {}, {"cn=g2"}};
  f.directory.groups["cn=g4"] = {required(), {}, {"cn=g3"}};
  f.clock.advance(301);
  assert_answer(f.policy->decide("anim1"), PolicyDecision::optional, PolicySource::directory);
}

void test_exemption_beats_requirement_but_not_own_entry(void** state)
{
  Fixture& f = fixture(state);
  f.directory.groups["cn=clients"] = {exempt(), {"vfx1"}, {}};
  PolicyAnswer answer = f.policy->decide("vfx1");
  assert_answer(answer, PolicyDecision::exempt, PolicySource::directory);
  assert_string_equal(answer.reason.c_str(), "exempt by group cn=clients");
  f.directory.users["vfx1"].flags = required();
  f.clock.advance(301);
  answer = f.policy->decide("vfx1");
  assert_answer(answer, PolicyDecision::required, PolicySource::directory);
  assert_true(answer.reason.starts_with("own entry uid=vfx1"));
}

void test_ancestor_dns(void**)
{
  auto up = ancestor_dns("uid=a,ou=fx,ou=contractors,ou=people,dc=studio,dc=example",
                         "dc=studio,dc=example");
  assert_int_equal(up.size(), 4);
  assert_string_equal(up[0].c_str(), "ou=fx,ou=contractors,ou=people,dc=studio,dc=example");
  assert_string_equal(up[3].c_str(), "dc=studio,dc=example");
  // The base compares without regard to case; nothing above it counts.
  up = ancestor_dns("uid=a,ou=People,DC=Studio,DC=Example", "dc=studio,dc=example");
  assert_int_equal(up.size(), 2);
  // An escaped comma is part of a value, not a separator.
  up = ancestor_dns("cn=Smith\\, John,ou=people,dc=studio,dc=example", "dc=studio,dc=example");
  assert_int_equal(up.size(), 2);
  assert_string_equal(up[0].c_str(), "ou=people,dc=studio,dc=example");
  // Outside the base: nothing; not a DN: nothing.
  assert_int_equal(ancestor_dns("uid=a,dc=other,dc=example", "dc=studio,dc=example").size(), 0);
  assert_int_equal(ancestor_dns("not a dn", "dc=studio,dc=example").size(), 0);
  assert_true(uri_is_cleartext("ldap://x", false));
  assert_false(uri_is_cleartext("ldap://x", true));
  assert_false(uri_is_cleartext("ldaps://x", false));
  assert_false(uri_is_cleartext("ldapi:///", false));
}

} // namespace

int main()
{
#define TEST(name)                                                                                 \
  cmocka_unit_test_setup_teardown(name, new_fixture<Fixture>, delete_fixture<Fixture>)
  const struct CMUnitTest tests[] = {
      TEST(test_cache_and_ttl),
      TEST(test_outage_uses_last_known_and_fails_closed_without),
      TEST(test_a_failed_password_check_rests_the_directory),
      TEST(test_answers_survive_a_restart),
      TEST(test_enforcement_applies_on_top_of_cached_answers),
      TEST(test_root_is_never_looked_up),
      TEST(test_nesting_depth_and_loops),
      TEST(test_exemption_beats_requirement_but_not_own_entry),
      cmocka_unit_test(test_ancestor_dns),
  };
#undef TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
