// Group commit: commits that arrive while one is under way wait for it, then go to disk together
// in the next batch, so that under load many callers share one fsync. Every caller still returns
// only once its own changes are durable (or have failed).
//
// Whoever finds no batch under way becomes the writer: it takes the whole queue, has the Writer
// write it, hands every other caller its result, and then hands the turn to the first caller that
// queued meanwhile. No thread of its own.
#pragma once

#include "expected.hpp"
#include "store.hpp"

#include <condition_variable>
#include <mutex>
#include <span>
#include <vector>

namespace studio2fa {

class GroupCommit {
public:
  // One caller's changes waiting for a batch. It lives on the caller's stack; the writer hands it
  // back by setting `turn` under `handoff`, after which it never touches it again. (A mutex and
  // condition variable of its own rather than a std::promise: the promise's shared state pulls in
  // glibc 2.32's __libc_single_threaded, above the EL 8 floor of 2.28.)
  struct Ticket {
    enum class Turn { wait, write, done };

    explicit Ticket(const StoreChanges& changes_in) : changes(changes_in) {}

    const StoreChanges& changes;
    Expected<void> result;  // set by Writer::write_batch
    Turn turn = Turn::wait; // set by the writer, under `handoff`
    std::mutex handoff;
    std::condition_variable woken;
  };

  class Writer {
  public:
    virtual ~Writer() = default;
    // Writes the changes of every ticket in `batch` and sets each ticket's result.
    virtual void write_batch(std::span<Ticket* const> batch) = 0;
    // Runs after a batch's callers have their results, before the next batch.
    virtual void after_batch() = 0;
  };

  explicit GroupCommit(Writer& writer) : m_writer(writer) {}

  // Queues `changes`, and returns the result of the batch that wrote them.
  Expected<void> commit(const StoreChanges& changes);

private:
  Writer& m_writer;
  std::mutex m_queue_mutex;
  std::vector<Ticket*> m_queue;
  bool m_writing = false;
};

} // namespace studio2fa
