// The contract every Store implementation must keep, as CMocka tests: records (load, absent
// users, conditional commits with revisions and conflicts, list order and pages, removal), the
// host-local state (the audit trail and its pages, the policy cache, the enforcement switch), and
// commits of both parts at once, all or none. An implementation's test program runs them, in its
// one CMocka group, from store_contract_tests() and a function that opens a new, empty store.
#pragma once

#include "store.hpp"

#include <memory>
#include <string>
#include <vector>

// cmocka.h's; it defines macros (fail, skip) that break standard headers included after it, so
// each test program includes it last.
extern "C" {
struct CMUnitTest;
}

namespace studio2fa::store_contract {

// Opens a new, empty store that may keep its files in `dir` (a fresh, empty directory, removed
// after the test); fails the test (fail_msg) when it cannot.
using StoreOpener = std::unique_ptr<Store> (*)(const std::string& dir);

// Every contract test, each to run on its own store from `open`. One opener per program.
std::vector<CMUnitTest> store_contract_tests(StoreOpener open);

// Helpers shared with the implementations' own tests.
UserRecord sample_record(const std::string& user);                   // every field set, revision 0
void assert_records_equal(const UserRecord& a, const UserRecord& b); // all fields but revision
void set_phone_fields(UserRecord& record); // the phone factor's fields, every one set
void assert_phone_fields_equal(const UserRecord& a, const UserRecord& b);
UserRecord load_existing(EnrollmentStore& store, const std::string& user);

} // namespace studio2fa::store_contract
