// LogBudget (daemon/host/log_budget.hpp): the per-uid limit on log lines and its count of the
// lines it held back.
#include "log_budget.hpp"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

void test_burst_then_held_back(void**)
{
  LogBudget budget(3, 2);
  for (int i = 0; i < 3; ++i) {
    auto line = budget.charge(1000, 5000);
    assert_true(line.has_value());
    assert_int_equal(*line, 0);
  }
  for (int i = 0; i < 10; ++i) {
    assert_false(budget.charge(1000, 5000).has_value());
  }
  // Half a second later (2 a second): one line, reporting the ten left out.
  auto line = budget.charge(1000, 5500);
  assert_true(line.has_value());
  assert_int_equal(*line, 10);
  assert_false(budget.charge(1000, 5500).has_value());
  line = budget.charge(1000, 6000);
  assert_true(line.has_value());
  assert_int_equal(*line, 1);
}

void test_uids_are_apart_and_root_unlimited(void**)
{
  LogBudget budget(1, 1);
  assert_true(budget.charge(1000, 0).has_value());
  assert_false(budget.charge(1000, 0).has_value());
  auto other = budget.charge(1001, 0);
  assert_true(other.has_value());
  assert_int_equal(*other, 0);
  for (int i = 0; i < 1000; ++i) {
    auto root = budget.charge(0, 0);
    assert_true(root.has_value());
    assert_int_equal(*root, 0);
  }
}

void test_refill_is_capped_at_the_burst(void**)
{
  LogBudget budget(2, 1);
  assert_true(budget.charge(7, 0).has_value());
  // An hour of quiet refills two lines, not 3,600.
  int let_through = 0;
  for (int i = 0; i < 10; ++i) {
    let_through += budget.charge(7, 3600 * 1000).has_value() ? 1 : 0;
  }
  assert_int_equal(let_through, 2);
}

void test_many_uids_stay_bounded(void**)
{
  LogBudget budget(1, 1);
  for (std::uint32_t uid = 1; uid <= 20000; ++uid) {
    assert_true(budget.charge(uid, 0).has_value());
  }
  // A uid forgotten to bound memory starts afresh; one remembered with lines held back keeps
  // its count.
  assert_false(budget.charge(20000, 0).has_value());
  auto line = budget.charge(20000, 1000);
  assert_true(line.has_value());
  assert_int_equal(*line, 1);
}

} // namespace

int main()
{
  const CMUnitTest tests[] = {
    cmocka_unit_test(test_burst_then_held_back),
    cmocka_unit_test(test_uids_are_apart_and_root_unlimited),
    cmocka_unit_test(test_refill_is_capped_at_the_burst),
    cmocka_unit_test(test_many_uids_stay_bounded),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
