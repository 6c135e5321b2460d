#include "client.hpp"

#include "monotonic.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace studio2fa {

namespace {

// Waits until `fd` is ready for `events` or the deadline passes.
ClientError wait_for(int fd, short events, long long deadline_ms)
{
  for (;;) {
    long long left = deadline_ms - monotonic_ms();
    if (left <= 0) {
      return ClientError::timeout;
    }
    pollfd pfd{fd, events, 0};
    int rc = poll(&pfd, 1, static_cast<int>(left));
    if (rc > 0) {
      return ClientError::none;
    }
    if (rc == 0) {
      return ClientError::timeout;
    }
    if (errno != EINTR) {
      return ClientError::io;
    }
  }
}

ClientError write_all(int fd, const std::uint8_t* data, std::size_t size, long long deadline_ms)
{
  std::size_t done = 0;
  while (done < size) {
    // MSG_NOSIGNAL: a daemon that went away must not kill the host process with SIGPIPE.
    ssize_t n = send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ClientError e = wait_for(fd, POLLOUT, deadline_ms);
      if (e != ClientError::none) {
        return e;
      }
      continue;
    }
    return ClientError::io;
  }
  return ClientError::none;
}

// Reads one whole frame into `frame`: usually one poll() and one recv() take all of it (the
// reply is never there the moment the request has gone, so the wait comes first). A reply is
// the only thing the daemon sends after a request, so bytes beyond the frame are a protocol
// error.
ClientError read_frame(int fd, wire::FrameBuffer& frame, long long deadline_ms)
{
  if (ClientError e = wait_for(fd, POLLIN, deadline_ms); e != ClientError::none) {
    return e;
  }
  std::size_t done = 0;
  for (;;) {
    std::size_t want = wire::k_max_frame - done;
    if (done >= wire::k_length_size) {
      const std::size_t body = wire::decode_length(frame.data());
      if (body == 0) {
        return ClientError::protocol;
      }
      const std::size_t total = wire::k_length_size + body;
      if (done > total) {
        return ClientError::protocol;
      }
      if (done == total) {
        frame.set_size(total);
        return wire::decode_header(frame) == wire::HeaderStatus::ok ? ClientError::none
                                                                    : ClientError::protocol;
      }
      want = total - done;
    }
    ssize_t n = recv(fd, frame.data() + done, want, 0);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) {
      return ClientError::io;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ClientError e = wait_for(fd, POLLIN, deadline_ms);
      if (e != ClientError::none) {
        return e;
      }
      continue;
    }
    return ClientError::io;
  }
}

} // namespace

const char* describe(ClientError error)
{
  switch (error) {
  case ClientError::none:
    return "no error";
  case ClientError::path_too_long:
    return "the socket path is too long";
  case ClientError::no_socket:
    return "the studio2fad daemon is not running (cannot connect to its socket)";
  case ClientError::permission_denied:
    return "permission denied on the socket (it, or a directory above it, is closed to this "
           "user)";
  case ClientError::unsafe_socket:
    return "the socket is not a socket owned by root; refusing to use it";
  case ClientError::peer_not_root:
    return "the process behind the socket is not running as root; refusing to use it";
  case ClientError::timeout:
    return "the studio2fad daemon did not answer in time";
  case ClientError::io:
    return "the connection to the studio2fad daemon failed";
  case ClientError::protocol:
    return "the studio2fad daemon sent a reply that does not follow the protocol";
  }
  return "unknown error";
}

Client::~Client()
{
  close();
}

void Client::close()
{
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
}

ClientError Client::connect(const char* socket_path, int timeout_ms)
{
  close();
  m_timeout_ms = timeout_ms > 0 ? timeout_ms : k_default_client_timeout_ms;

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::size_t path_length = strlen(socket_path);
  if (path_length == 0 || path_length >= sizeof(addr.sun_path)) {
    return ClientError::path_too_long;
  }
  memcpy(addr.sun_path, socket_path, path_length);

  struct stat st{};
  if (lstat(socket_path, &st) != 0) {
    return errno == EACCES ? ClientError::permission_denied : ClientError::no_socket;
  }
  if (!S_ISSOCK(st.st_mode) || st.st_uid != 0) {
    return ClientError::unsafe_socket;
  }

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return ClientError::io;
  }
  long long deadline = monotonic_ms() + m_timeout_ms;
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    // A full listen backlog gives EAGAIN on Unix sockets: wait for it, bounded.
    while (rc != 0 && errno == EAGAIN && monotonic_ms() < deadline) {
      timespec pause{0, 5 * 1000 * 1000};
      nanosleep(&pause, nullptr);
      rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    }
    if (rc != 0) {
      ClientError error = errno == EAGAIN   ? ClientError::timeout
                          : errno == EACCES ? ClientError::permission_denied
                                            : ClientError::no_socket;
      ::close(fd);
      return error;
    }
  }

  ucred cred{};
  socklen_t cred_length = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_length) != 0 || cred.uid != 0) {
    ::close(fd);
    return ClientError::peer_not_root;
  }
  m_fd = fd;
  return ClientError::none;
}

ClientError Client::call(const wire::FrameBuffer& request, wire::FrameBuffer& reply, bool last)
{
  if (m_fd < 0) {
    return ClientError::io;
  }
  long long deadline = monotonic_ms() + m_timeout_ms;
  // A daemon that refuses the connection (ERROR busy) may answer and close before reading the
  // request: when sending fails, the reply may still be there to read.
  const ClientError sent = write_all(m_fd, request.data(), request.size(), deadline);
  if (sent == ClientError::none && last) {
    shutdown(m_fd, SHUT_WR);
  }
  ClientError e = sent == ClientError::io ? ClientError::none : sent;
  if (e == ClientError::none) {
    e = read_frame(m_fd, reply, deadline);
    if (e != ClientError::none && sent != ClientError::none) {
      e = sent;
    }
  }
  if (e != ClientError::none) {
    reply.set_size(0);
    close();
  }
  return e;
}

} // namespace studio2fa
