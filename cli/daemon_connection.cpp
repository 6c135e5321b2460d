#include "daemon_connection.hpp"

#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace studio2fa {

Expected<void> DaemonConnection::connect(const char* socket_path)
{
  m_socket_path = socket_path;
  ClientError error = m_client.connect(socket_path, k_default_client_timeout_ms);
  if (error == ClientError::none) {
    m_connected = true;
    return {};
  }
  std::string message = std::string(describe(error)) + " (" + socket_path + ")";
  if (error == ClientError::no_socket) {
    message += "; is studio2fad running? Try: systemctl status studio2fad";
  } else if (error == ClientError::permission_denied) {
    message += "; studio2fad is probably running, but its socket's directory must be open to "
               "every user (mode 0755, the socket 0666): ask your administrator";
  }
  return make_error(message);
}

Expected<void> DaemonConnection::exchange(wire::FrameBuffer& request, protocol::MessageType type)
{
  if (!m_connected) {
    if (auto connected = connect(m_socket_path.c_str()); !connected) {
      request.wipe();
      return connected;
    }
  }
  ClientError error = m_client.call(request, m_reply);
  request.wipe();
  if (error != ClientError::none) {
    m_connected = false;
    return make_error(std::string(describe(error)) + " (" + m_socket_path + ")");
  }
  if (m_reply.type() == protocol::reply_type(type)) {
    return {};
  }
  protocol::ErrorReply failure;
  if (m_reply.type() == static_cast<std::uint8_t>(protocol::MessageType::error) &&
      protocol::decode(m_reply.payload(), failure)) {
    m_last_error = failure.code;
    if (failure.code == protocol::ErrorCode::busy) {
      return make_error("studio2fad is busy (too many requests at once); try again in a moment");
    }
    return make_error(std::string(failure.message));
  }
  return make_error(describe(ClientError::protocol));
}

Expected<std::string> invoking_user_name()
{
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* result = nullptr;
  if (getpwuid_r(getuid(), &pw, buffer.data(), buffer.size(), &result) != 0 || result == nullptr) {
    return make_error("cannot find the account of uid " + std::to_string(getuid()));
  }
  return std::string(pw.pw_name);
}

} // namespace studio2fa
