#include "password_queue.hpp"

#include <algorithm>
#include <thread>

namespace studio2fa {

unsigned PasswordQueueLimits::default_slots()
{
  return std::clamp(std::thread::hardware_concurrency(), 1u, 256u);
}

PasswordQueue::PasswordQueue(PasswordQueueLimits limits) : m_limits(limits)
{
}

Expected<PasswordQueue::Place> PasswordQueue::enter(std::uint32_t uid)
{
  auto ticket = std::make_unique<Ticket>();
  ticket->uid = uid;
  std::lock_guard lock(m_mutex);
  if (m_running < std::max(m_limits.slots, 1u)) {
    // A free slot means nobody waits: grant() fills slots as soon as they free up.
    ++m_running;
    ticket->running = true;
    return Place(*this, std::move(ticket));
  }
  if (uid == 0) {
    m_root.push_back(ticket.get());
    return Place(*this, std::move(ticket));
  }
  auto line = m_lines.find(uid);
  const std::size_t in_line = line == m_lines.end() ? 0 : line->second.size();
  if (in_line >= m_limits.max_waiting_per_uid) {
    return make_error(Errc::busy, "too many password checks of this user waiting");
  }
  if (m_waiting_shared >= m_limits.max_waiting) {
    return make_error(Errc::busy, "too many password checks waiting");
  }
  if (in_line == 0) {
    m_turns.push_back(uid);
  }
  m_lines[uid].push_back(ticket.get());
  ++m_waiting_shared;
  return Place(*this, std::move(ticket));
}

Expected<PasswordQueue::Place> PasswordQueue::wait_turn(std::uint32_t uid)
{
  const auto deadline = std::chrono::steady_clock::now() + m_limits.max_wait;
  auto place = enter(uid);
  if (place && !place->wait_until(deadline)) {
    return make_error(Errc::busy, "a password check waited too long for its turn");
  }
  return place;
}

unsigned PasswordQueue::waiting() const
{
  std::lock_guard lock(m_mutex);
  return m_waiting_shared + static_cast<unsigned>(m_root.size());
}

void PasswordQueue::grant()
{
  while (m_running < std::max(m_limits.slots, 1u)) {
    Ticket* next = nullptr;
    if (!m_root.empty()) {
      next = m_root.front();
      m_root.pop_front();
    } else if (!m_turns.empty()) {
      // The uid whose turn it is runs one check and, with more waiting, goes to the back.
      const std::uint32_t uid = m_turns.front();
      m_turns.pop_front();
      auto line = m_lines.find(uid);
      next = line->second.front();
      line->second.pop_front();
      --m_waiting_shared;
      if (line->second.empty()) {
        m_lines.erase(line);
      } else {
        m_turns.push_back(uid);
      }
    } else {
      return;
    }
    ++m_running;
    next->running = true;
    next->turn.notify_one();
  }
}

void PasswordQueue::withdraw(Ticket& ticket)
{
  if (ticket.uid == 0) {
    std::erase(m_root, &ticket);
    return;
  }
  auto line = m_lines.find(ticket.uid);
  if (line == m_lines.end()) {
    return;
  }
  std::erase(line->second, &ticket);
  --m_waiting_shared;
  if (line->second.empty()) {
    m_lines.erase(line);
    std::erase(m_turns, ticket.uid);
  }
}

void PasswordQueue::release(Ticket& ticket)
{
  std::lock_guard lock(m_mutex);
  if (ticket.running) {
    --m_running;
    grant();
  } else {
    withdraw(ticket);
  }
}

PasswordQueue::Place::Place(PasswordQueue& queue, std::unique_ptr<Ticket> ticket)
  : m_queue(&queue), m_ticket(std::move(ticket))
{
}

PasswordQueue::Place& PasswordQueue::Place::operator=(Place&& other) noexcept
{
  if (this != &other) {
    leave();
    m_queue = other.m_queue;
    m_ticket = std::move(other.m_ticket);
  }
  return *this;
}

PasswordQueue::Place::~Place()
{
  leave();
}

void PasswordQueue::Place::leave()
{
  if (m_ticket) {
    m_queue->release(*m_ticket);
    m_ticket.reset();
  }
}

bool PasswordQueue::Place::running() const
{
  std::lock_guard lock(m_queue->m_mutex);
  return m_ticket && m_ticket->running;
}

bool PasswordQueue::Place::wait_until(std::chrono::steady_clock::time_point deadline)
{
  std::unique_lock lock(m_queue->m_mutex);
  return m_ticket->turn.wait_until(lock, deadline, [this] { return m_ticket->running; });
}

} // namespace studio2fa
