#include "server.hpp"

#include "log.hpp"
#include "protocol.hpp"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace studio2fa {

namespace {

long long monotonic_ms()
{
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

enum class ConnState { reading, working, writing };

struct Connection {
  Fd fd;
  PeerCredentials peer;
  // Who owns the connection: `working` means a worker, anything else the event loop. A worker
  // hands it back by storing `reading` last, after every other field it wrote.
  std::atomic<ConnState> state{ConnState::reading};
  long long deadline_ms = 0;
  std::size_t received = 0; // bytes of the current request frame so far
  std::size_t sent = 0;     // bytes of the reply sent so far
  RequestHandler::After after = RequestHandler::After::keep_open;
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
};

constexpr std::uint64_t k_listen_tag = 0;
constexpr std::uint64_t k_wake_tag = 1;
constexpr std::uint64_t k_done_tag = 2;
constexpr std::uint64_t k_first_connection_tag = 16;

} // namespace

struct Server::Impl {
  Impl(const ServerSettings& settings_in, RequestHandler& handler_in, int listen_in, int wake_in)
    : settings(settings_in), handler(handler_in), listen_fd(listen_in), wake_fd(wake_in)
  {
  }

  const ServerSettings& settings;
  RequestHandler& handler;
  int listen_fd;
  int wake_fd;
  Fd epoll;
  Fd done_event;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;
  std::uint64_t next_tag = k_first_connection_tag;
  bool accepting = true;

  // Work queue (event loop → workers) and done queue (workers → event loop).
  std::mutex mutex;
  std::condition_variable work_ready;
  std::deque<std::pair<std::uint64_t, Connection*>> work;
  std::deque<std::uint64_t> done;
  bool stopping_workers = false;
  std::vector<std::thread> workers;

  Expected<void> start()
  {
    epoll.reset(epoll_create1(EPOLL_CLOEXEC));
    done_event.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!epoll.valid() || !done_event.valid()) {
      return make_error(std::string("cannot create the event loop: ") + strerror(errno));
    }
    add(listen_fd, EPOLLIN, k_listen_tag);
    add(wake_fd, EPOLLIN, k_wake_tag);
    add(done_event.get(), EPOLLIN, k_done_tag);
    for (unsigned i = 0; i < settings.worker_threads; ++i) {
      workers.emplace_back([this] { worker_loop(); });
    }
    return {};
  }

  void stop_workers()
  {
    {
      std::lock_guard lock(mutex);
      stopping_workers = true;
    }
    work_ready.notify_all();
    for (auto& worker : workers) {
      worker.join();
    }
    workers.clear();
  }

  void add(int fd, std::uint32_t events, std::uint64_t tag)
  {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev);
  }

  void modify(int fd, std::uint32_t events, std::uint64_t tag)
  {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    epoll_ctl(epoll.get(), EPOLL_CTL_MOD, fd, &ev);
  }

  void close_connection(std::uint64_t tag)
  {
    auto it = connections.find(tag);
    if (it == connections.end()) {
      return;
    }
    epoll_ctl(epoll.get(), EPOLL_CTL_DEL, it->second->fd.get(), nullptr);
    connections.erase(it);
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
        return;
      }
      Fd owned(fd);
      if (connections.size() >= settings.max_connections) {
        static long long last_warning = 0;
        if (monotonic_ms() - last_warning > 10000) {
          log::warning("connection limit (%u) reached; closing new connections",
                       settings.max_connections);
          last_warning = monotonic_ms();
        }
        continue;
      }
      ucred cred{};
      socklen_t length = sizeof(cred);
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
        continue;
      }
      auto conn = std::make_unique<Connection>();
      conn->fd = std::move(owned);
      conn->peer = PeerCredentials{cred.pid, cred.uid, cred.gid};
      conn->deadline_ms = monotonic_ms() + settings.idle_timeout * 1000LL;
      std::uint64_t tag = next_tag++;
      add(fd, EPOLLIN | EPOLLRDHUP, tag);
      connections.emplace(tag, std::move(conn));
    }
  }

  // Read-only requests that touch no password and write nothing are answered by the event loop
  // itself, saving two thread switches on the first round trip of every login.
  static bool answer_inline(const wire::FrameBuffer& request)
  {
    if (wire::decode_header(request) != wire::HeaderStatus::ok) {
      return false;
    }
    auto type = static_cast<protocol::MessageType>(request.type());
    return type == protocol::MessageType::status || type == protocol::MessageType::ping;
  }

  // Reads what is available; answers or hands on a complete frame.
  void on_readable(std::uint64_t tag, Connection& conn)
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
          close_connection(tag);
          return;
        }
        std::size_t total = wire::k_length_size + body;
        if (conn.received > total) {
          log::warning("request sent before the last was answered, from pid %d uid %u; closing",
                       static_cast<int>(conn.peer.pid), static_cast<unsigned>(conn.peer.uid));
          close_connection(tag);
          return;
        }
        if (conn.received == total) {
          conn.request.set_size(total);
          if (answer_inline(conn.request)) {
            conn.after = handler.handle(conn.request, conn.peer, conn.reply);
            conn.request.wipe();
            conn.sent = 0;
            on_writable(tag, conn);
            return;
          }
          conn.state = ConnState::working;
          // One-shot and no events: a hang-up while the worker runs is seen when replying.
          modify(conn.fd.get(), EPOLLONESHOT, tag);
          {
            std::lock_guard lock(mutex);
            work.emplace_back(tag, &conn);
          }
          work_ready.notify_one();
          return;
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
        return;
      }
      close_connection(tag); // EOF or error
      return;
    }
  }

  void on_writable(std::uint64_t tag, Connection& conn)
  {
    while (conn.sent < conn.reply.size()) {
      ssize_t n = send(conn.fd.get(), conn.reply.data() + conn.sent,
                       conn.reply.size() - conn.sent, MSG_NOSIGNAL);
      if (n > 0) {
        conn.sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (conn.state != ConnState::writing) {
          conn.state = ConnState::writing;
          conn.deadline_ms = monotonic_ms() + settings.request_timeout * 1000LL;
          modify(conn.fd.get(), EPOLLOUT | EPOLLRDHUP, tag);
        }
        return;
      }
      close_connection(tag);
      return;
    }
    if (conn.after == RequestHandler::After::close) {
      close_connection(tag);
      return;
    }
    conn.reply.wipe();
    conn.request.wipe();
    conn.received = 0;
    conn.sent = 0;
    conn.state = ConnState::reading;
    conn.deadline_ms = monotonic_ms() + settings.idle_timeout * 1000LL;
    // A next request already waiting is reported by the (level-triggered) event loop.
    modify(conn.fd.get(), EPOLLIN | EPOLLRDHUP, tag);
  }

  void collect_done()
  {
    std::uint64_t counter;
    while (read(done_event.get(), &counter, sizeof(counter)) > 0) {
    }
    std::deque<std::uint64_t> finished;
    {
      std::lock_guard lock(mutex);
      finished.swap(done);
    }
    for (std::uint64_t tag : finished) {
      auto it = connections.find(tag);
      if (it == connections.end()) {
        continue;
      }
      Connection& conn = *it->second;
      conn.request.wipe();
      on_writable(tag, conn);
    }
  }

  void worker_loop()
  {
    for (;;) {
      std::uint64_t tag;
      Connection* conn;
      {
        std::unique_lock lock(mutex);
        work_ready.wait(lock, [this] { return stopping_workers || !work.empty(); });
        if (work.empty()) {
          return;
        }
        std::tie(tag, conn) = work.front();
        work.pop_front();
      }
      // While a connection is `working` the event loop neither reads, writes nor frees it
      // (sweep() and the event handlers skip it), so the worker has it to itself.
      conn->after = handler.handle(conn->request, conn->peer, conn->reply);
      if (reply_directly(tag, *conn)) {
        continue;
      }
      {
        std::lock_guard lock(mutex);
        done.push_back(tag);
      }
      std::uint64_t one = 1;
      ssize_t ignored = write(done_event.get(), &one, sizeof(one));
      (void)ignored;
    }
  }

  // The common case, without a trip through the event loop: the whole reply fits in the socket
  // buffer and the connection stays open. Returns false (nothing sent) when the event loop must
  // finish the job: a close is due, or the reply could not be sent at once.
  bool reply_directly(std::uint64_t tag, Connection& conn)
  {
    if (conn.after != RequestHandler::After::keep_open) {
      return false;
    }
    ssize_t n = send(conn.fd.get(), conn.reply.data(), conn.reply.size(),
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(conn.reply.size())) {
      conn.sent = n > 0 ? static_cast<std::size_t>(n) : 0;
      return false;
    }
    conn.request.wipe();
    conn.reply.wipe();
    conn.received = 0;
    conn.sent = 0;
    conn.deadline_ms = monotonic_ms() + settings.idle_timeout * 1000LL;
    int fd = conn.fd.get();
    // Hand the connection back, then re-arm it: until the re-arm no event for it can reach the
    // event loop, and its deadline is fresh, so nothing frees it while the worker still needs
    // the descriptor.
    conn.state.store(ConnState::reading, std::memory_order_release);
    modify(fd, EPOLLIN | EPOLLRDHUP, tag);
    return true;
  }

  void sweep()
  {
    long long now = monotonic_ms();
    std::vector<std::uint64_t> expired;
    for (auto& [tag, conn] : connections) {
      if (conn->state.load(std::memory_order_acquire) != ConnState::working &&
          now >= conn->deadline_ms) {
        expired.push_back(tag);
      }
    }
    for (std::uint64_t tag : expired) {
      log::debug("closing connection %llu: deadline passed",
                 static_cast<unsigned long long>(tag));
      close_connection(tag);
    }
  }

  bool any_working() const
  {
    for (const auto& [tag, conn] : connections) {
      if (conn->state == ConnState::working) {
        return true;
      }
    }
    return false;
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
  Impl impl(m_settings, m_handler, m_listen.get(), m_wake.get());
  if (auto started = impl.start(); !started) {
    return started;
  }
  long long next_sweep = monotonic_ms() + 200;
  epoll_event events[64];
  for (;;) {
    if (stop.load() && impl.accepting) {
      // Stop taking new connections; finish what is in flight.
      impl.accepting = false;
      epoll_ctl(impl.epoll.get(), EPOLL_CTL_DEL, m_listen.get(), nullptr);
      log::info("stopping: finishing requests in flight");
    }
    if (!impl.accepting && !impl.any_working()) {
      break;
    }
    int n = epoll_wait(impl.epoll.get(), events, 64, 200);
    if (n < 0 && errno != EINTR) {
      impl.stop_workers();
      return make_error(std::string("epoll_wait: ") + strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      std::uint64_t tag = events[i].data.u64;
      if (tag == k_listen_tag) {
        impl.accept_all();
        continue;
      }
      if (tag == k_wake_tag) {
        std::uint64_t counter;
        while (read(m_wake.get(), &counter, sizeof(counter)) > 0) {
        }
        continue;
      }
      if (tag == k_done_tag) {
        impl.collect_done();
        continue;
      }
      auto it = impl.connections.find(tag);
      if (it == impl.connections.end()) {
        continue;
      }
      Connection& conn = *it->second;
      if (conn.state == ConnState::working) {
        continue; // the worker owns it; a hang-up is noticed when the reply is sent
      }
      if ((events[i].events & (EPOLLERR | EPOLLHUP)) != 0) {
        impl.close_connection(tag);
        continue;
      }
      if (conn.state == ConnState::writing) {
        impl.on_writable(tag, conn);
      } else if ((events[i].events & (EPOLLIN | EPOLLRDHUP)) != 0) {
        impl.on_readable(tag, conn);
      }
    }
    if (monotonic_ms() >= next_sweep) {
      impl.sweep();
      next_sweep = monotonic_ms() + 200;
    }
  }
  impl.stop_workers();
  return {};
}

} // namespace studio2fa
