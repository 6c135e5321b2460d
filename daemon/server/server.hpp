// The socket side of studio2fad.
//
// Leader/followers: `worker_threads` threads all wait on one epoll set. Every descriptor is
// armed one-shot, so an event goes to exactly one thread, which then owns that connection until
// it re-arms it: it reads the request, runs it through the RequestHandler, sends the reply and
// re-arms, with no hand-off between threads. Deadlines and the connection cap keep a slow or
// hostile client to its own connection.
//
// Availability for root: the PAM module runs as root inside sshd, login, su and sudo, so root's
// clients must get through whatever other local users do. Each uid but 0 has a cap on open
// connections and on requests being worked on; past them it is answered `busy`, never queued.
// Some connections and a quarter of the threads are kept for root. Every connection is closed
// at the end of its lifetime, however busy.
//
// When nothing happens the threads sleep: the deadline timer is armed only for the earliest
// deadline of an open connection (or the end of an accept pause), never periodically.
#pragma once

#include "expected.hpp"
#include "fd.hpp"
#include "request_handler.hpp"

#include <atomic>
#include <string>

namespace studio2fa {

struct ServerSettings {
  std::string socket_path;
  unsigned max_connections = 1024;
  unsigned root_reserved_connections = 64; // at most half of max_connections is kept
  unsigned max_connections_per_uid = 16;   // for each uid but 0
  unsigned max_requests_per_uid = 4;       // being worked on, for each uid but 0
  unsigned request_timeout = 5;            // seconds for one whole frame
  unsigned idle_timeout = 30;              // seconds between requests
  unsigned connection_lifetime = 300;      // seconds from accept to close
  unsigned worker_threads = 4;
};

class Server {
public:
  Server(ServerSettings settings, RequestHandler& handler);
  ~Server();

  // Creates the listening socket (mode 0666; access is decided per request by SO_PEERCRED).
  // A stale socket file is replaced, anything else at the path is refused.
  Expected<void> listen();

  // Takes over a listening socket inherited across a re-exec (a configuration reload): used
  // instead of listen() when it is a listening Unix stream socket bound to socket_path;
  // otherwise it is closed and listen() is done afresh.
  Expected<void> adopt(int fd);

  // Hands the listening socket over for a re-exec: returns its descriptor with close-on-exec
  // cleared; the server no longer owns it.
  int release_listener();

  // Serves until `stop` becomes true (checked when wake() is called), then lets the requests in
  // flight finish and returns.
  Expected<void> run(const std::atomic<bool>& stop);

  // Async-signal-safe: makes run() look at `stop` now. run() may be called again afterwards.
  void wake();

private:
  struct Impl;
  ServerSettings m_settings;
  RequestHandler& m_handler;
  Fd m_listen;
  Fd m_wake;
};

} // namespace studio2fa
