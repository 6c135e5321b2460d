// PasswordQueue (daemon/auth/password_queue.hpp): root's checks first, the other uids in turns,
// bounded lines, and a deadline. Places are taken and given up in one thread and the order of
// the turns read off them, so no outcome depends on timing. Last, the Authenticator's use of it:
// a login whose password check gets no turn is answered busy, its password unchecked.
#include "password_queue.hpp"

#include "auth_fixture.hpp"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <optional>
#include <thread>
#include <vector>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

using Place = PasswordQueue::Place;
using std::chrono::steady_clock;

PasswordQueueLimits limits(unsigned slots, unsigned max_waiting = 8, unsigned per_uid = 2)
{
  PasswordQueueLimits out;
  out.slots = slots;
  out.max_waiting = max_waiting;
  out.max_waiting_per_uid = per_uid;
  out.max_wait = std::chrono::milliseconds(0);
  return out;
}

Place enter(PasswordQueue& queue, std::uint32_t uid)
{
  auto place = queue.enter(uid);
  assert_true(place.has_value());
  return std::move(*place);
}

// Lets the running place go, and returns the index of the one place in `waiting` that runs
// after it (which then becomes `running`).
std::size_t next_after(std::optional<Place>& running, std::vector<std::optional<Place>>& waiting)
{
  running.reset();
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (waiting[i] && waiting[i]->running()) {
      assert_false(found.has_value());
      found = i;
    }
  }
  assert_true(found.has_value());
  running = std::move(waiting[*found]);
  waiting[*found].reset();
  return *found;
}

void test_free_slots_run_at_once(void**)
{
  PasswordQueue queue(limits(2));
  Place a = enter(queue, 1000);
  Place b = enter(queue, 1001);
  Place c = enter(queue, 1002);
  assert_true(a.running());
  assert_true(b.running());
  assert_false(c.running());
  assert_int_equal(queue.waiting(), 1);
  { Place gone = std::move(a); }
  assert_true(c.running());
  assert_int_equal(queue.waiting(), 0);
}

void test_root_before_everyone(void**)
{
  PasswordQueue queue(limits(1));
  std::optional<Place> running = enter(queue, 1000);
  std::vector<std::optional<Place>> waiting;
  waiting.emplace_back(enter(queue, 1000)); // 0
  waiting.emplace_back(enter(queue, 1001)); // 1
  waiting.emplace_back(enter(queue, 0));    // 2: root, last to come
  waiting.emplace_back(enter(queue, 0));    // 3
  assert_int_equal(next_after(running, waiting), 2);
  assert_int_equal(next_after(running, waiting), 3);
  assert_int_equal(next_after(running, waiting), 0);
  // Root comes again while others wait: it still goes first.
  waiting.emplace_back(enter(queue, 0)); // 4
  assert_int_equal(next_after(running, waiting), 4);
  assert_int_equal(next_after(running, waiting), 1);
}

void test_other_uids_take_turns(void**)
{
  PasswordQueue queue(limits(1, 16, 4));
  std::optional<Place> running = enter(queue, 1000);
  std::vector<std::optional<Place>> waiting;
  for (int i = 0; i < 4; ++i) {
    waiting.emplace_back(enter(queue, 1000)); // 0 1 2 3: the flood
  }
  waiting.emplace_back(enter(queue, 1001)); // 4
  waiting.emplace_back(enter(queue, 1002)); // 5
  waiting.emplace_back(enter(queue, 1002)); // 6
  // One check per uid per round, in the order the uids first came.
  std::vector<std::size_t> order;
  for (int i = 0; i < 7; ++i) {
    order.push_back(next_after(running, waiting));
  }
  assert_true((order == std::vector<std::size_t>{0, 4, 5, 1, 6, 2, 3}));
}

void test_lines_are_bounded(void**)
{
  PasswordQueue queue(limits(1, 3, 2));
  Place running = enter(queue, 1000);
  Place a = enter(queue, 1000);
  Place b = enter(queue, 1000);
  auto refused = queue.enter(1000); // its own line is full
  assert_false(refused.has_value());
  assert_int_equal(static_cast<int>(refused.error().code), static_cast<int>(Errc::busy));
  Place c = enter(queue, 1001);
  refused = queue.enter(1002); // the shared line is full
  assert_false(refused.has_value());
  assert_int_equal(static_cast<int>(refused.error().code), static_cast<int>(Errc::busy));
  // Root is never refused: its checks are bounded by the daemon's threads.
  std::vector<Place> root;
  for (int i = 0; i < 8; ++i) {
    root.push_back(enter(queue, 0));
  }
  assert_int_equal(queue.waiting(), 11);
  // A place given up leaves room behind it.
  { Place gone = std::move(c); }
  assert_true(queue.enter(1002).has_value());
}

void test_given_up_places_are_skipped(void**)
{
  PasswordQueue queue(limits(1));
  std::optional<Place> running = enter(queue, 1000);
  std::vector<std::optional<Place>> waiting;
  waiting.emplace_back(enter(queue, 1001)); // 0: gives up
  waiting.emplace_back(enter(queue, 0));    // 1: gives up
  waiting.emplace_back(enter(queue, 1002)); // 2
  waiting[0].reset();
  waiting[1].reset();
  assert_int_equal(queue.waiting(), 1);
  assert_int_equal(next_after(running, waiting), 2);
  running.reset();
  assert_int_equal(queue.waiting(), 0);
  // Every slot is free again.
  assert_true(enter(queue, 1003).running());
}

void test_a_late_turn_is_busy(void**)
{
  PasswordQueue queue(limits(1)); // max_wait 0
  Place running = enter(queue, 1000);
  Place waiting = enter(queue, 1001);
  assert_false(waiting.wait_until(steady_clock::now() - std::chrono::seconds(1)));
  auto late = queue.wait_turn(1002);
  assert_false(late.has_value());
  assert_int_equal(static_cast<int>(late.error().code), static_cast<int>(Errc::busy));
  assert_int_equal(queue.waiting(), 1); // the late one left the line
  // A free slot is taken at once, whatever max_wait.
  { Place gone = std::move(running); }
  assert_true(waiting.running());
  { Place gone = std::move(waiting); }
  assert_true(queue.wait_turn(1002).has_value());
}

// A check waiting in another thread runs once the slot is given back: the release decides it,
// the deadline is far.
void test_a_waiting_thread_is_woken(void**)
{
  PasswordQueue queue(limits(1));
  std::optional<Place> running = enter(queue, 1000);
  Place waiting = enter(queue, 0);
  bool ran = false;
  std::thread waiter([&ran, place = std::move(waiting)]() mutable {
    ran = place.wait_until(steady_clock::now() + std::chrono::hours(1));
  });
  running.reset();
  waiter.join();
  assert_true(ran);
  assert_int_equal(queue.waiting(), 0);
}

// A login whose check gets no turn (the one slot held, max_wait 0) is busy, root's or the user's
// own, and nothing is checked; a code-only login needs no turn; with the slot free, it is as
// without a queue.
void test_login_without_a_turn_is_busy(void** state)
{
  auto& f = *static_cast<Fixture*>(*state);
  PasswordQueue queue(limits(1));
  Authenticator auth(*f.ledger, *f.sealer, *f.hasher, f.passwords, f.settings, nullptr, &queue);
  const Requester alice_herself{5001, "alice", "test", "", ""};
  {
    Place held = enter(queue, 1000);
    const unsigned calls = f.passwords.calls;
    for (const Requester& who : {k_who, alice_herself}) {
      for (AuthMode mode : {AuthMode::password_only, AuthMode::password_and_code}) {
        AuthOutcome outcome = auth.authenticate("alice", mode, "right", "123456", who);
        assert_true(outcome.busy);
        assert_int_equal(static_cast<int>(outcome.result),
                         static_cast<int>(AuthResult::unavailable));
      }
    }
    assert_int_equal(f.passwords.calls, calls);
    assert_int_equal(queue.waiting(), 0);
    AuthOutcome code_only = auth.authenticate("alice", AuthMode::code_only, "", "", k_who);
    assert_false(code_only.busy);
    assert_int_equal(static_cast<int>(code_only.result),
                     static_cast<int>(AuthResult::not_enrolled));
  }
  AuthOutcome outcome = auth.authenticate("alice", AuthMode::password_only, "right", "", k_who);
  assert_false(outcome.busy);
  assert_int_equal(static_cast<int>(outcome.result), static_cast<int>(AuthResult::success));
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_free_slots_run_at_once),
    cmocka_unit_test(test_root_before_everyone),
    cmocka_unit_test(test_other_uids_take_turns),
    cmocka_unit_test(test_lines_are_bounded),
    cmocka_unit_test(test_given_up_places_are_skipped),
    cmocka_unit_test(test_a_late_turn_is_busy),
    cmocka_unit_test(test_a_waiting_thread_is_woken),
    cmocka_unit_test_setup_teardown(test_login_without_a_turn_is_busy, setup, teardown),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
