// How the command-line tools talk to studio2fad: connect, send one request, check the reply.
#pragma once

#include "client.hpp"
#include "expected.hpp"
#include "protocol.hpp"

#include <string>

namespace studio2fa {

class DaemonConnection {
public:
  // Errors say what went wrong and what to do ("is studio2fad running? systemctl status ...").
  Expected<void> connect(const char* socket_path);

  // Sends `request` and reads the reply into `reply`, connecting again first if the connection
  // was closed; succeeds only when the reply has the type answering `type`. An ERROR reply
  // becomes an Error with the daemon's message.
  Expected<void> call(wire::FrameBuffer& request, wire::FrameBuffer& reply,
                      protocol::MessageType type);

  // Closes the connection, e.g. before waiting for a person: the daemon closes idle ones.
  void close() { m_client.close(); m_connected = false; }

  // The ErrorCode of the last ERROR reply, when call() failed because of one.
  protocol::ErrorCode last_error_code() const { return m_last_error; }

private:
  Client m_client;
  std::string m_socket_path;
  bool m_connected = false;
  protocol::ErrorCode m_last_error = protocol::ErrorCode::internal;
};

// The name of the account running this process (from the real uid).
Expected<std::string> invoking_user_name();

} // namespace studio2fa
