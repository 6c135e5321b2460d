// The client end of the studio2fad socket, shared by the PAM module and the CLIs.
//
// Allocation-free and exception-free (it runs inside sshd, login, screen lockers). It refuses a
// socket that is not owned by root and a peer that is not uid 0, so that a socket planted by
// another user can never collect passwords or codes.
#pragma once

#include "protocol.hpp"
#include "wire.hpp"

namespace studio2fa {

inline constexpr const char* k_default_socket_path = "/run/studio2fa/studio2fad.sock";
inline constexpr int k_default_client_timeout_ms = 10000;

enum class ClientError {
  none,
  path_too_long,
  no_socket,        // nothing at the path, or connect() refused: daemon not running
  permission_denied, // EACCES: the socket or a directory above it is closed to this user
  unsafe_socket,    // not a socket, or not owned by root
  peer_not_root,    // SO_PEERCRED of the daemon is not uid 0
  timeout,
  io,               // read/write failed or the daemon closed the connection
  protocol,         // a reply frame that does not decode, or of the wrong type
};

// A short human-readable description, for logs and CLI errors.
const char* describe(ClientError error);

class Client {
public:
  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  ClientError connect(const char* socket_path, int timeout_ms);

  // Sends the frame in `request`, then reads one reply frame into `reply`. The reply's header
  // (length, version) is checked; the caller checks its type. `last`: the connection's last
  // request; the sending side is shut down after it, so that the daemon closes the connection
  // once it has answered rather than wait for the hang-up (PROTOCOL.md, "Connections").
  ClientError call(const wire::FrameBuffer& request, wire::FrameBuffer& reply, bool last = false);

  void close();

private:
  int m_fd = -1;
  int m_timeout_ms = k_default_client_timeout_ms;
};

} // namespace studio2fa
