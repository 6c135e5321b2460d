#include "server.hpp"

#include "log.hpp"
#include "monotonic.hpp"

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

#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace studio2fa {

namespace {

constexpr long long k_sweep_interval_ms = 200;

struct Connection {
  Fd fd;
  PeerCredentials peer;
  // Written by the thread that owns the connection, read by the deadline sweep.
  std::atomic<long long> deadline_ms{0};
  std::size_t received = 0; // bytes of the current request frame so far
  std::size_t sent = 0;     // bytes of the reply sent so far
  bool writing = false;     // a reply is waiting for the socket to drain
  RequestHandler::After after = RequestHandler::After::keep_open;
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
};

// epoll's data.ptr is a Connection*, or one of these markers for the server's own descriptors.
char g_listen_marker;
char g_wake_marker;
char g_timer_marker;

} // namespace

struct Server::Impl {
  Impl(const ServerSettings& settings_in, RequestHandler& handler_in, int listen_in, int wake_in,
       const std::atomic<bool>& stop_in)
    : settings(settings_in), handler(handler_in), listen_fd(listen_in), wake_fd(wake_in),
      stop(stop_in)
  {
  }

  const ServerSettings& settings;
  RequestHandler& handler;
  int listen_fd;
  int wake_fd;
  const std::atomic<bool>& stop;
  Fd epoll;
  Fd timer;

  // Every open connection, for the cap and the deadline sweep. Only the thread that owns a
  // connection (holds its one-shot event) erases it, under `connections_mutex`.
  std::mutex connections_mutex;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections;
  std::atomic<bool> accepting{true};
  long long last_cap_warning = 0;

  Expected<void> start()
  {
    epoll.reset(epoll_create1(EPOLL_CLOEXEC));
    timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!epoll.valid() || !timer.valid()) {
      return make_error(std::string("cannot create the event loop: ") + strerror(errno));
    }
    itimerspec every{};
    every.it_interval.tv_nsec = k_sweep_interval_ms * 1000000;
    every.it_value.tv_nsec = k_sweep_interval_ms * 1000000;
    timerfd_settime(timer.get(), 0, &every, nullptr);
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
    }
    epoll_ctl(epoll.get(), EPOLL_CTL_DEL, owned->fd.get(), nullptr);
    // `owned` closes the descriptor and frees the buffers (FrameBuffer wipes itself).
  }

  void rearm(Connection* conn)
  {
    control(EPOLL_CTL_MOD, conn->fd.get(),
            (conn->writing ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP | EPOLLONESHOT, conn);
  }

  void accept_all()
  {
    for (;;) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EMFILE || errno == ENFILE) {
          log::warning("out of file descriptors; not accepting for now");
        }
        break;
      }
      Fd owned(fd);
      ucred cred{};
      socklen_t length = sizeof(cred);
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
        continue;
      }
      auto conn = std::make_unique<Connection>();
      conn->fd = std::move(owned);
      conn->peer = PeerCredentials{cred.pid, cred.uid, cred.gid};
      conn->deadline_ms = monotonic_ms() + settings.idle_timeout * 1000LL;
      Connection* raw = conn.get();
      {
        std::lock_guard lock(connections_mutex);
        if (connections.size() >= settings.max_connections) {
          long long now = monotonic_ms();
          if (now - last_cap_warning > 10000) {
            log::warning("connection limit (%u) reached; closing new connections",
                         settings.max_connections);
            last_cap_warning = now;
          }
          continue; // `conn` closes it
        }
        connections.emplace(raw, std::move(conn));
      }
      control(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, raw);
    }
    if (accepting) {
      control(EPOLL_CTL_MOD, listen_fd, EPOLLIN | EPOLLONESHOT, &g_listen_marker);
    }
  }

  // Deadlines: a connection past its deadline is shut down, not freed; its owner (whichever
  // thread gets the hang-up event, or the one working on it) frees it. So the sweep never frees
  // memory another thread may be using.
  void sweep()
  {
    std::uint64_t expirations;
    ssize_t ignored = read(timer.get(), &expirations, sizeof(expirations));
    (void)ignored;
    long long now = monotonic_ms();
    {
      std::lock_guard lock(connections_mutex);
      for (auto& [raw, conn] : connections) {
        if (now >= conn->deadline_ms.load(std::memory_order_relaxed)) {
          shutdown(conn->fd.get(), SHUT_RDWR);
        }
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
          conn.deadline_ms = monotonic_ms() + settings.request_timeout * 1000LL;
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
          conn.deadline_ms = monotonic_ms() + settings.request_timeout * 1000LL;
        }
        return true;
      }
      return false;
    }
    conn.writing = false;
    return true;
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
        conn->deadline_ms = std::numeric_limits<long long>::max();
        conn->after = handler.handle(conn->request, conn->peer, conn->reply);
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
    if (conn->after == RequestHandler::After::close) {
      close_connection(conn);
      return;
    }
    conn->reply.wipe();
    conn->received = 0;
    conn->sent = 0;
    conn->deadline_ms = monotonic_ms() + settings.idle_timeout * 1000LL;
    rearm(conn);
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
  // is always finished first (it is only ever checked between events).
  void serve()
  {
    epoll_event event{};
    for (;;) {
      if (stop.load()) {
        stop_accepting();
        return;
      }
      int n = epoll_wait(epoll.get(), &event, 1, static_cast<int>(k_sweep_interval_ms));
      if (n <= 0) {
        continue; // timeout or EINTR: look at `stop` again
      }
      void* data = event.data.ptr;
      if (data == &g_wake_marker) {
        continue;
      }
      if (data == &g_listen_marker) {
        accept_all();
      } else if (data == &g_timer_marker) {
        sweep();
      } else {
        on_connection_event(static_cast<Connection*>(data), event.events);
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
