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

  // Sends `request` (wiping it after) and reads the reply into reply(), connecting again first
  // if the connection was closed; succeeds only when the reply has the type answering `type`.
  // An ERROR reply becomes an Error with the daemon's message. Most callers want call() below.
  Expected<void> exchange(wire::FrameBuffer& request, protocol::MessageType type);

  // The last reply frame; the views of a decoded reply point into it.
  const wire::FrameBuffer& reply() const { return m_reply; }
  // Wipes the last reply, e.g. once the secret it held has been shown.
  void wipe_reply() { m_reply.wipe(); }

  // Closes the connection, e.g. before waiting for a person: the daemon closes idle ones.
  void close() { m_client.close(); m_connected = false; }

  // The ErrorCode of the last ERROR reply, when a call failed because of one.
  protocol::ErrorCode last_error_code() const { return m_last_error; }

private:
  Client m_client;
  std::string m_socket_path;
  bool m_connected = false;
  protocol::ErrorCode m_last_error = protocol::ErrorCode::internal;
  wire::FrameBuffer m_reply;
};

// Sends `request` and decodes its reply. The reply's strings point into daemon.reply(): they are
// valid until the next call or wipe_reply(). Errors: Errc::invalid when the request breaks the
// protocol's limits (a name or a code too long: nothing is sent), else what exchange() says, or
// that the reply does not decode.
template <typename Request>
Expected<typename Request::Reply> call(DaemonConnection& daemon, const Request& request)
{
  wire::FrameBuffer frame;
  if (!protocol::encode(request, frame)) {
    frame.wipe();
    return make_error(Errc::invalid, std::string("the ") + protocol::name(Request::k_type) +
                                       " request does not fit the protocol's limits");
  }
  if (auto sent = daemon.exchange(frame, Request::k_type); !sent) {
    return Unexpected<Error>{sent.error()};
  }
  typename Request::Reply reply;
  if (!protocol::decode(daemon.reply().payload(), reply)) {
    return make_error(std::string("the daemon sent a reply to ") +
                      protocol::name(Request::k_type) + " that does not decode");
  }
  return reply;
}

// The name of the account running this process (from the real uid).
Expected<std::string> invoking_user_name();

} // namespace studio2fa
