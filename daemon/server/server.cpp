#include "server.hpp"

#include "log.hpp"
#include "monotonic.hpp"
#include "protocol.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace studio2fa {

namespace {

// When the process is out of descriptors, accepting stops this long, and a line says so at most
// once per interval: retrying at once would spin on the listener and flood the log.
constexpr long long k_accept_pause_ms = 200;
constexpr long long k_warning_interval_ms = 10000;
// Connections taken per listener event before the listener goes to the next free thread.
constexpr int k_accepts_per_event = 64;
constexpr long long k_never = std::numeric_limits<long long>::max();
// Requests of one uid but 0 are paced: k_pace_burst at once, then one every k_pace_interval_ms.
// A connection past its uid's pace is not read until its turn (it costs nothing meanwhile).
constexpr long long k_pace_interval_ms = 10;
constexpr long long k_pace_burst = 200;

// Closed connections kept for reuse (Server::Impl::spare).
constexpr std::size_t k_spare_connections = 64;

constexpr const char* k_busy_message = "studio2fad is busy; try again in a moment";

struct Connection {
  Fd fd;
  PeerCredentials peer;
  long long closes_at_ms = 0; // the end of its lifetime
  // Written by the thread that owns the connection, read by the deadline sweep.
  std::atomic<long long> deadline_ms{0};
  // Not 0: the connection waits, unarmed, for its uid's turn; the sweep re-arms it then. While
  // it waits, no thread owns it.
  std::atomic<long long> resume_at_ms{0};
  // In the epoll set. A new connection that must wait for its turn is not: a registered
  // descriptor reports a hang-up even with no events asked for, and a thread would then close
  // it while the sweep arms it. The sweep adds it when its turn comes.
  std::atomic<bool> registered{false};
  std::size_t received = 0; // bytes of the current request frame so far
  std::size_t sent = 0;     // bytes of the reply sent so far
  bool writing = false;     // a reply is waiting for the socket to drain
  RequestHandler::After after = RequestHandler::After::keep_open;
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
};

// What one uid other than 0 holds.
struct PeerUsage {
  unsigned connections = 0;
  unsigned requests = 0;
  long long next_turn_ms = 0; // the pace (k_pace_*): the uid's next request may be read then
};

// Why a new connection or a request is refused.
enum class CapacityRefusal { none, all_connections, shared_connections, uid_connections, shared_requests,
                     uid_requests };

// epoll's data.ptr is a Connection*, or one of these markers for the server's own descriptors.
char g_listen_marker;
char g_wake_marker;
char g_timer_marker;

} // namespace

struct Server::Impl {
  Impl(const ServerSettings& settings_in, RequestHandler& handler_in, int listen_in, int wake_in,
       const std::atomic<bool>& stop_in)
    : settings(settings_in), handler(handler_in), listen_fd(listen_in), wake_fd(wake_in),
      stop(stop_in),
      shared_connection_cap(settings.max_connections -
                            std::min(settings.root_reserved_connections,
                                     settings.max_connections / 2)),
      shared_request_cap(std::max(1u, settings.worker_threads - settings.worker_threads / 4))
  {
  }

  const ServerSettings& settings;
  RequestHandler& handler;
  int listen_fd;
  int wake_fd;
  const std::atomic<bool>& stop;
  // What all uids but 0 together may hold: the rest is root's.
  const unsigned shared_connection_cap;
  const unsigned shared_request_cap;
  Fd epoll;
  Fd timer;
  wire::FrameBuffer busy_frame; // the ERROR busy reply, sent to refused connections

  // Every open connection (for the caps and the deadline sweep) and what each uid but 0 holds.
  // Only the thread that owns a connection (holds its one-shot event) erases it. Taken before
  // timer_mutex when both are held.
  std::mutex connections_mutex;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections;
  // Closed connections kept for the next ones (at most k_spare_connections), wiped: a login's
  // two connections then cost no allocation, zeroing and page faults of their 16 KiB of buffers.
  // A lock of their own: taking and returning one does not wait for connections_mutex.
  std::mutex spare_mutex;
  std::vector<std::unique_ptr<Connection>> spare;
  std::unordered_map<uid_t, PeerUsage> usage;
  unsigned open_connections = 0;   // in `connections`, or admitted and about to be
  unsigned shared_connections = 0; // of uids but 0
  unsigned shared_requests = 0;
  long long last_cap_warning = -k_warning_interval_ms;
  std::atomic<bool> accepting{true};

  // The deadline timer is armed for the earliest deadline (k_never: disarmed).
  std::mutex timer_mutex;
  long long armed_ms = k_never;

  // Out of descriptors: the listener is left unarmed until this time (0: not paused). Only the
  // thread holding the listener's event, or the sweep that ends the pause, touches these.
  std::atomic<long long> accept_paused_until{0};
  long long last_descriptor_warning = -k_warning_interval_ms;
  unsigned long pauses_unreported = 0;

  Expected<void> start()
  {
    epoll.reset(epoll_create1(EPOLL_CLOEXEC));
    timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!epoll.valid() || !timer.valid()) {
      return make_error(std::string("cannot create the event loop: ") + strerror(errno));
    }
    protocol::encode(protocol::ErrorReply{protocol::ErrorCode::busy, k_busy_message}, busy_frame);
    control(EPOLL_CTL_ADD, listen_fd, EPOLLIN | EPOLLONESHOT, &g_listen_marker);
    control(EPOLL_CTL_ADD, timer.get(), EPOLLIN | EPOLLONESHOT, &g_timer_marker);
    // Level-triggered and not one-shot: a stop request wakes every thread.
    control(EPOLL_CTL_ADD, wake_fd, EPOLLIN, &g_wake_marker);
    return {};
  }

  void control(int op, int fd, std::uint32_t events, void* data)
  {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = data;
    epoll_ctl(epoll.get(), op, fd, &ev);
  }

  // Makes the timer fire at `at_ms` (monotonic) unless it fires earlier already.
  void schedule(long long at_ms)
  {
    std::lock_guard lock(timer_mutex);
    if (at_ms >= armed_ms) {
      return;
    }
    armed_ms = at_ms;
    // Relative, not TFD_TIMER_ABSTIME: a clock shifted under the process (libfaketime in the
    // tests shifts absolute timer values) must not make the timer fire at once, again and again.
    const long long in_ms = std::max(1LL, at_ms - monotonic_ms());
    itimerspec when{};
    when.it_value.tv_sec = static_cast<time_t>(in_ms / 1000);
    when.it_value.tv_nsec = static_cast<long>(in_ms % 1000) * 1000000;
    timerfd_settime(timer.get(), 0, &when, nullptr);
  }

  // Unless accepting is paused: the timer then ends the pause. The check is under timer_mutex,
  // where pause_accepting sets the pause, so a pause set by another thread is never disarmed
  // (which would leave the listener unarmed for good).
  void disarm_timer_unless_paused()
  {
    std::lock_guard lock(timer_mutex);
    if (accept_paused_until.load() != 0) {
      return;
    }
    armed_ms = k_never;
    itimerspec never{};
    timerfd_settime(timer.get(), 0, &never, nullptr);
  }

  // A connection's next deadline, never past the end of its lifetime.
  void set_deadline(Connection& conn, long long at_ms)
  {
    at_ms = std::min(at_ms, conn.closes_at_ms);
    conn.deadline_ms.store(at_ms, std::memory_order_relaxed);
    schedule(at_ms);
  }

  // Called under connections_mutex.
  CapacityRefusal room_for_connection(uid_t uid)
  {
    if (open_connections >= settings.max_connections) {
      return CapacityRefusal::all_connections;
    }
    if (uid == 0) {
      return CapacityRefusal::none;
    }
    if (shared_connections >= shared_connection_cap) {
      return CapacityRefusal::shared_connections;
    }
    auto found = usage.find(uid);
    if (found != usage.end() && found->second.connections >= settings.max_connections_per_uid) {
      return CapacityRefusal::uid_connections;
    }
    return CapacityRefusal::none;
  }

  // Whether the peer may have one more request worked on now; if so, it is counted until
  // end_request().
  CapacityRefusal begin_request(uid_t uid)
  {
    if (uid == 0) {
      return CapacityRefusal::none;
    }
    std::lock_guard lock(connections_mutex);
    PeerUsage& peer = usage[uid]; // present: the peer has this connection open
    if (peer.requests >= settings.max_requests_per_uid) {
      return CapacityRefusal::uid_requests;
    }
    if (shared_requests >= shared_request_cap) {
      return CapacityRefusal::shared_requests;
    }
    ++peer.requests;
    ++shared_requests;
    return CapacityRefusal::none;
  }

  void end_request(uid_t uid)
  {
    if (uid == 0) {
      return;
    }
    std::lock_guard lock(connections_mutex);
    --usage[uid].requests;
    --shared_requests;
  }

  // One line per refusal from a uid but 0 (the log budget limits them per uid); the caps all
  // users reach together are logged at most once per interval. Called in the peer's PeerScope.
  void log_refusal(CapacityRefusal why, const PeerCredentials& peer)
  {
    const unsigned uid = static_cast<unsigned>(peer.uid);
    switch (why) {
    case CapacityRefusal::none:
      return;
    case CapacityRefusal::uid_connections:
      log::warning("uid %u has max_connections_per_uid (%u) open; answering busy", uid,
                   settings.max_connections_per_uid);
      return;
    case CapacityRefusal::uid_requests:
      log::warning("uid %u has max_requests_per_uid (%u) in progress; answering busy", uid,
                   settings.max_requests_per_uid);
      return;
    case CapacityRefusal::all_connections:
    case CapacityRefusal::shared_connections:
    case CapacityRefusal::shared_requests:
      break;
    }
    {
      std::lock_guard lock(connections_mutex);
      const long long now = monotonic_ms();
      if (now - last_cap_warning < k_warning_interval_ms) {
        return;
      }
      last_cap_warning = now;
    }
    if (why == CapacityRefusal::all_connections) {
      log::warning("connection limit (%u) reached; closing new connections",
                   settings.max_connections);
    } else if (why == CapacityRefusal::shared_connections) {
      log::warning("users other than root hold all the connections left to them (%u); answering "
                   "busy (the rest are kept for root)", shared_connection_cap);
    } else {
      log::warning("users other than root have all the threads left to them (%u) busy; answering "
                   "busy (the rest are kept for root)", shared_request_cap);
    }
  }

  // Called by the owner only: no other thread can hold an event for `conn`.
  void close_connection(Connection* conn)
  {
    std::unique_ptr<Connection> owned;
    {
      std::lock_guard lock(connections_mutex);
      auto it = connections.find(conn);
      if (it == connections.end()) {
        return;
      }
      owned = std::move(it->second);
      connections.erase(it);
      --open_connections;
      const uid_t uid = owned->peer.uid;
      if (uid != 0) {
        --shared_connections;
        auto found = usage.find(uid);
        // Kept while its pace is in use, so that reconnecting does not start a new burst.
        if (found != usage.end() && --found->second.connections == 0 &&
            found->second.requests == 0 &&
            found->second.next_turn_ms <= monotonic_ms() - k_pace_interval_ms * k_pace_burst) {
          usage.erase(found);
        }
      }
      if (connections.empty()) {
        disarm_timer_unless_paused(); // nothing left to time: sleep until a client comes
      }
    }
    // Closing the descriptor takes it out of the epoll set (it is never duplicated).
    owned->fd.reset();
    owned->request.wipe();
    owned->reply.wipe();
    std::lock_guard lock(spare_mutex);
    if (spare.size() < k_spare_connections) {
      spare.push_back(std::move(owned));
    }
    // Otherwise `owned` frees it here (its buffers wipe themselves again).
  }

  // A connection object for a new client: a spare one, reset, or a new one.
  std::unique_ptr<Connection> take_spare()
  {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard lock(spare_mutex);
      if (!spare.empty()) {
        conn = std::move(spare.back());
        spare.pop_back();
      }
    }
    if (!conn) {
      return std::make_unique<Connection>();
    }
    conn->deadline_ms = 0;
    conn->resume_at_ms = 0;
    conn->registered = false;
    conn->received = 0;
    conn->sent = 0;
    conn->writing = false;
    conn->after = RequestHandler::After::keep_open;
    return conn;
  }

  void rearm(Connection* conn)
  {
    control(conn->registered.exchange(true) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, conn->fd.get(),
            (conn->writing ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP | EPOLLONESHOT, conn);
  }

  // Books one turn of `uid`'s pace and returns when it is (at or before `now`: at once). A
  // virtual clock per uid that runs k_pace_interval_ms ahead per request and may lag now by the
  // burst; root is never paced.
  long long book_turn(uid_t uid, long long now)
  {
    if (uid == 0) {
      return 0;
    }
    std::lock_guard lock(connections_mutex);
    return book_turn_locked(uid, now);
  }

  // book_turn, called under connections_mutex for a uid but 0.
  long long book_turn_locked(uid_t uid, long long now)
  {
    PeerUsage& peer = usage[uid];
    const long long turn = std::max(peer.next_turn_ms, now - k_pace_interval_ms * k_pace_burst);
    peer.next_turn_ms = turn + k_pace_interval_ms;
    return turn;
  }

  // Arms `conn` (registered, and disabled by its one-shot event) to read its next request now,
  // or, when its uid is past its pace, leaves it waiting for its turn (the sweep arms it then).
  void arm_in_turn(Connection* conn, long long now)
  {
    const long long turn = book_turn(conn->peer.uid, now);
    if (turn <= now) {
      rearm(conn);
      return;
    }
    // From this store on the sweep owns the connection: nothing here touches it again.
    conn->resume_at_ms.store(turn);
    schedule(turn);
  }

  // Takes one accepted connection, or answers it busy and closes it (without allocating: a
  // refused connection must cost as little as possible). With `keep`, a connection that may be
  // read at once is not armed but returned: the caller then owns it, as if it had its event.
  Connection* admit(Fd fd, bool keep)
  {
    ucred cred{};
    socklen_t length = sizeof(cred);
    if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
      return nullptr;
    }
    const PeerCredentials peer{cred.pid, cred.uid, cred.gid};
    const long long now = monotonic_ms();
    CapacityRefusal refusal;
    long long turn = 0; // root's: at once
    {
      std::lock_guard lock(connections_mutex);
      refusal = room_for_connection(peer.uid);
      if (refusal == CapacityRefusal::none) {
        ++open_connections;
        if (peer.uid != 0) {
          ++shared_connections;
          ++usage[peer.uid].connections;
          turn = book_turn_locked(peer.uid, now);
        }
      }
    }
    if (refusal != CapacityRefusal::none) {
      log::PeerScope scope(peer.uid);
      log_refusal(refusal, peer);
      // Best effort: a client that has not sent its request yet still reads the reply.
      ssize_t ignored =
        send(fd.get(), busy_frame.data(), busy_frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      (void)ignored;
      return nullptr; // `fd` closes it
    }
    auto conn = take_spare();
    conn->fd = std::move(fd);
    conn->peer = peer;
    conn->closes_at_ms = now + settings.connection_lifetime * 1000LL;
    const long long deadline = std::min(now + settings.idle_timeout * 1000LL, conn->closes_at_ms);
    conn->deadline_ms = deadline;
    Connection* raw = conn.get();
    Connection* kept = nullptr;
    {
      std::lock_guard lock(connections_mutex);
      connections.emplace(raw, std::move(conn));
      // Under the mutex, and the last use of `raw` here unless kept: a thread that gets an
      // event for it at once (a hang-up) can close it only after the unlock, and the sweep sees
      // it whole.
      if (turn <= now && keep) {
        kept = raw; // not in the epoll set: no other thread can get an event for it
      } else if (turn <= now) {
        rearm(raw);
      } else {
        raw->resume_at_ms.store(turn); // not registered: the sweep adds it in its turn
      }
      // Armed under the mutex too: a thread that closes the connection at once, the last one,
      // disarms the timer after this, not before (a timer left for a closed connection would
      // wake an idle daemon).
      schedule(std::min(deadline, turn > now ? turn : deadline));
    }
    return kept;
  }

  // Out of descriptors (or kernel memory): stop accepting for a moment; the sweep resumes.
  void pause_accepting(int error)
  {
    const long long now = monotonic_ms();
    ++pauses_unreported;
    if (now - last_descriptor_warning >= k_warning_interval_ms) {
      log::warning("cannot accept connections (%s): not accepting for %lld ms at a time "
                   "(%lu times since the last such line)",
                   strerror(error), k_accept_pause_ms, pauses_unreported);
      last_descriptor_warning = now;
      pauses_unreported = 0;
    }
    {
      std::lock_guard lock(timer_mutex); // see disarm_timer_unless_paused
      accept_paused_until.store(now + k_accept_pause_ms);
    }
    schedule(now + k_accept_pause_ms);
  }

  // Accepts what is waiting, and re-arms the listener for the next free thread. Returns the
  // first connection admitted to be read at once, which this thread then owns (nullptr: none):
  // a client sends its request right after connecting, so it is usually there already, and
  // reading it here spares waking another thread for it.
  Connection* accept_some()
  {
    Connection* mine = nullptr;
    for (int taken = 0; taken < k_accepts_per_event;) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        if (Connection* kept = admit(Fd(fd), mine == nullptr)) {
          mine = kept;
        }
        ++taken;
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        pause_accepting(errno); // EMFILE, ENFILE, ENOBUFS, ENOMEM: the listener stays unarmed
        return mine;
      }
      break;
    }
    if (accepting) {
      control(EPOLL_CTL_MOD, listen_fd, EPOLLIN | EPOLLONESHOT, &g_listen_marker);
    }
    return mine;
  }

  // Deadlines: a connection past its deadline is shut down, not freed; its owner (whichever
  // thread gets the hang-up event, or the one working on it) frees it. So the sweep never frees
  // memory another thread may be using. The timer is then armed for the next deadline, if any.
  void sweep()
  {
    std::uint64_t expirations;
    ssize_t ignored = read(timer.get(), &expirations, sizeof(expirations));
    (void)ignored;
    {
      // From here on, a deadline set by another thread either is seen below or arms the timer.
      std::lock_guard lock(timer_mutex);
      armed_ms = k_never;
    }
    const long long now = monotonic_ms();
    long long next = k_never;
    {
      std::lock_guard lock(connections_mutex);
      for (auto& [raw, conn] : connections) {
        const long long deadline = conn->deadline_ms.load(std::memory_order_relaxed);
        const long long resume_at = conn->resume_at_ms.load();
        const bool expired = now >= deadline;
        if (expired) {
          shutdown(conn->fd.get(), SHUT_RDWR);
        } else {
          next = std::min(next, deadline);
        }
        if (resume_at != 0 && (expired || now >= resume_at)) {
          // Its turn (or its end): armed, a thread takes it over (and frees it if shut down).
          conn->resume_at_ms.store(0);
          rearm(raw);
        } else if (resume_at != 0) {
          next = std::min(next, resume_at);
        }
      }
      // Under the mutex, as in admit: the last connection's close disarms after this.
      if (next != k_never) {
        schedule(next);
      }
    }
    const long long paused_until = accept_paused_until.load();
    if (paused_until != 0) {
      if (now >= paused_until) {
        accept_paused_until.store(0);
        if (accepting) {
          control(EPOLL_CTL_MOD, listen_fd, EPOLLIN | EPOLLONESHOT, &g_listen_marker);
        }
      } else {
        schedule(paused_until);
      }
    }
    control(EPOLL_CTL_MOD, timer.get(), EPOLLIN | EPOLLONESHOT, &g_timer_marker);
  }

  // Reads what is available. Returns true when a whole frame has arrived.
  enum class ReadResult { incomplete, complete, closed };
  ReadResult read_request(Connection& conn)
  {
    for (;;) {
      std::size_t want;
      if (conn.received < wire::k_length_size) {
        // Usually the whole frame is there: take it in one call. Bytes beyond the frame would
        // be a second request sent before the first was answered, which the protocol forbids.
        want = wire::k_max_frame - conn.received;
      } else {
        std::size_t body = wire::decode_length(conn.request.data());
        if (body == 0) {
          // Framing is lost: no reply is possible (PROTOCOL.md, "Framing").
          log::warning("bad frame length from pid %d uid %u; closing",
                       static_cast<int>(conn.peer.pid), static_cast<unsigned>(conn.peer.uid));
          return ReadResult::closed;
        }
        std::size_t total = wire::k_length_size + body;
        if (conn.received > total) {
          log::warning("request sent before the last was answered, from pid %d uid %u; closing",
                       static_cast<int>(conn.peer.pid), static_cast<unsigned>(conn.peer.uid));
          return ReadResult::closed;
        }
        if (conn.received == total) {
          conn.request.set_size(total);
          return ReadResult::complete;
        }
        want = total - conn.received;
      }
      ssize_t n = recv(conn.fd.get(), conn.request.data() + conn.received, want, 0);
      if (n > 0) {
        if (conn.received == 0) {
          set_deadline(conn, monotonic_ms() + settings.request_timeout * 1000LL);
        }
        conn.received += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return ReadResult::incomplete;
      }
      return ReadResult::closed; // EOF, a shutdown by the sweep, or an error
    }
  }

  // Sends what is left of the reply. Returns false when the connection must be closed.
  bool send_reply(Connection& conn)
  {
    while (conn.sent < conn.reply.size()) {
      ssize_t n = send(conn.fd.get(), conn.reply.data() + conn.sent,
                       conn.reply.size() - conn.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        conn.sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!conn.writing) {
          conn.writing = true;
          set_deadline(conn, monotonic_ms() + settings.request_timeout * 1000LL);
        }
        return true;
      }
      return false;
    }
    conn.writing = false;
    return true;
  }

  // Runs a whole request, or answers busy when the peer is over its share.
  void answer(Connection& conn)
  {
    const CapacityRefusal refusal = begin_request(conn.peer.uid);
    if (refusal != CapacityRefusal::none) {
      log_refusal(refusal, conn.peer);
      protocol::encode(protocol::ErrorReply{protocol::ErrorCode::busy, k_busy_message},
                       conn.reply);
      conn.after = RequestHandler::After::keep_open;
      return;
    }
    conn.after = handler.handle(conn.request, conn.peer, conn.reply);
    end_request(conn.peer.uid);
  }

  // Whether the client has shut down its sending side (the PAM module does after its one
  // request): its connection is then closed once answered, rather than armed to wait for the
  // hang-up. Seen in the event that brought the request, or else looked for without reading.
  static bool peer_finished(Connection& conn, std::uint32_t events)
  {
    if ((events & EPOLLRDHUP) != 0) {
      return true;
    }
    char byte;
    return recv(conn.fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  // The whole life of one event for a connection this thread now owns.
  void on_connection_event(Connection* conn, std::uint32_t events)
  {
    if (conn->writing) {
      if ((events & (EPOLLERR | EPOLLHUP)) != 0 || !send_reply(*conn)) {
        close_connection(conn);
        return;
      }
    } else {
      switch (read_request(*conn)) {
      case ReadResult::closed:
        close_connection(conn);
        return;
      case ReadResult::incomplete:
        if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
          close_connection(conn);
          return;
        }
        rearm(conn);
        return;
      case ReadResult::complete:
        // The daemon's own time (a slow password hash) never counts against the client.
        conn->deadline_ms = k_never;
        answer(*conn);
        conn->request.wipe();
        conn->sent = 0;
        if (!send_reply(*conn)) {
          close_connection(conn);
          return;
        }
        break;
      }
    }
    if (conn->writing) {
      rearm(conn); // wait for the socket to drain
      return;
    }
    if (conn->after == RequestHandler::After::close || peer_finished(*conn, events)) {
      close_connection(conn);
      return;
    }
    conn->reply.wipe();
    conn->received = 0;
    conn->sent = 0;
    const long long now = monotonic_ms();
    set_deadline(*conn, now + settings.idle_timeout * 1000LL);
    arm_in_turn(conn, now);
  }

  void stop_accepting()
  {
    bool expected = true;
    if (accepting.compare_exchange_strong(expected, false)) {
      epoll_ctl(epoll.get(), EPOLL_CTL_DEL, listen_fd, nullptr);
      log::info("stopping: finishing requests in flight");
    }
  }

  // One thread's loop. Returns when a stop was requested; a request this thread was running
  // is always finished first (it is only ever checked between events). Without events it
  // sleeps: nothing wakes it but a client, the deadline timer or wake().
  void serve()
  {
    epoll_event event{};
    for (;;) {
      if (stop.load()) {
        stop_accepting();
        return;
      }
      int n = epoll_wait(epoll.get(), &event, 1, -1);
      if (n <= 0) {
        continue; // EINTR: look at `stop` again
      }
      void* data = event.data.ptr;
      if (data == &g_wake_marker) {
        continue;
      }
      if (data == &g_listen_marker) {
        if (Connection* conn = accept_some()) {
          // As if its event had come: the request, or else the connection armed to wait for it.
          log::PeerScope scope(conn->peer.uid);
          on_connection_event(conn, 0);
        }
      } else if (data == &g_timer_marker) {
        sweep();
      } else {
        auto* conn = static_cast<Connection*>(data);
        log::PeerScope scope(conn->peer.uid);
        on_connection_event(conn, event.events);
      }
    }
  }
};

Server::Server(ServerSettings settings, RequestHandler& handler)
  : m_settings(std::move(settings)), m_handler(handler)
{
}

Server::~Server() = default;

void Server::wake()
{
  std::uint64_t one = 1;
  ssize_t ignored = write(m_wake.get(), &one, sizeof(one));
  (void)ignored;
}

Expected<void> Server::adopt(int fd)
{
  Fd inherited(fd);
  int listening = 0, type = 0;
  socklen_t length = sizeof(int);
  sockaddr_un addr{};
  socklen_t addr_length = sizeof(addr);
  bool usable =
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening == 1 &&
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == SOCK_STREAM &&
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_length) == 0 &&
    addr.sun_family == AF_UNIX && m_settings.socket_path == addr.sun_path;
  if (!usable) {
    // Not ours, or socket_path changed with the reload: start from a new socket.
    inherited.reset();
    return listen();
  }
  m_wake.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!m_wake.valid()) {
    return make_error(std::string("eventfd: ") + strerror(errno));
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  m_listen = std::move(inherited);
  return {};
}

int Server::release_listener()
{
  int fd = m_listen.release();
  if (fd >= 0) {
    fcntl(fd, F_SETFD, 0);
  }
  return fd;
}

Expected<void> Server::listen()
{
  m_wake.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!m_wake.valid()) {
    return make_error(std::string("eventfd: ") + strerror(errno));
  }
  const std::string& path = m_settings.socket_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return make_error("socket_path " + path + " is too long for a Unix socket");
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(path + " exists and is not a socket; refusing to replace it");
    }
    unlink(path.c_str());
  }
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return make_error(std::string("socket: ") + strerror(errno));
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return make_error("cannot bind " + path + ": " + strerror(errno));
  }
  if (chmod(path.c_str(), 0666) != 0) {
    return make_error("cannot chmod " + path + ": " + strerror(errno));
  }
  if (::listen(fd.get(), 512) != 0) {
    return make_error("cannot listen on " + path + ": " + strerror(errno));
  }
  m_listen = std::move(fd);
  return {};
}

Expected<void> Server::run(const std::atomic<bool>& stop)
{
  // A wake-up from an earlier run (a reload that was refused) must not end this one at once.
  std::uint64_t counter;
  while (read(m_wake.get(), &counter, sizeof(counter)) > 0) {
  }
  Impl impl(m_settings, m_handler, m_listen.get(), m_wake.get(), stop);
  if (auto started = impl.start(); !started) {
    return started;
  }
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < m_settings.worker_threads; ++i) {
    threads.emplace_back([&impl] { impl.serve(); });
  }
  impl.serve();
  for (auto& thread : threads) {
    thread.join();
  }
  return {};
}

} // namespace studio2fa
