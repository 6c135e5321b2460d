#include "group_commit.hpp"

namespace studio2fa {

namespace {

// Wakes the caller waiting on `ticket`. Notified with the mutex held: the caller cannot see the
// new turn, return and free the ticket before this has let go of it.
void hand_back(GroupCommit::Ticket* ticket, GroupCommit::Ticket::Turn turn)
{
  std::lock_guard lock(ticket->handoff);
  ticket->turn = turn;
  ticket->woken.notify_one();
}

} // namespace

Expected<void> GroupCommit::commit(const StoreChanges& changes)
{
  using Turn = Ticket::Turn;
  Ticket ticket(changes);
  bool first = false;
  {
    std::lock_guard lock(m_queue_mutex);
    m_queue.push_back(&ticket);
    first = !m_writing;
    m_writing = true;
  }
  if (!first) {
    // `turn` and `result` are the writer's until it hands the ticket back; the ticket must
    // outlive hand_back(), so a caller that was not first always waits here.
    {
      std::unique_lock lock(ticket.handoff);
      ticket.woken.wait(lock, [&] { return ticket.turn != Turn::wait; });
    }
    if (ticket.turn == Turn::done) {
      return std::move(ticket.result);
    }
  }

  // This caller writes the queue, its own ticket included.
  std::vector<Ticket*> batch;
  {
    std::lock_guard lock(m_queue_mutex);
    batch.swap(m_queue);
  }
  m_writer.write_batch(batch);
  Expected<void> result;
  for (Ticket* done : batch) {
    if (done == &ticket) {
      result = std::move(ticket.result);
    } else {
      hand_back(done, Turn::done);
    }
  }
  // After the replies are free to go, before the next batch.
  m_writer.after_batch();
  Ticket* next = nullptr;
  {
    std::lock_guard lock(m_queue_mutex);
    if (m_queue.empty()) {
      m_writing = false;
    } else {
      next = m_queue.front();
    }
  }
  if (next != nullptr) {
    hand_back(next, Turn::write);
  }
  return result;
}

} // namespace studio2fa
