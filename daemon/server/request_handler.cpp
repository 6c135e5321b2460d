#include "request_handler.hpp"

#include "log.hpp"
#include "protocol.hpp"
#include "request_table.hpp"

namespace studio2fa {

RequestHandler::RequestHandler(Authenticator& authenticator, AccountAdmin& admin,
                               HandlerSettings settings)
  : m_authenticator(authenticator), m_admin(admin), m_settings(std::move(settings))
{
}

RequestHandler::After RequestHandler::handle(const wire::FrameBuffer& request,
                                             const PeerCredentials& peer,
                                             wire::FrameBuffer& reply)
{
  PeerRights rights(peer, m_settings.admin_group);
  RequestExchange exchange(m_authenticator, m_admin, m_settings, request, rights, reply);
  switch (wire::decode_header(request)) {
  case wire::HeaderStatus::ok:
    break;
  case wire::HeaderStatus::bad_version:
    return exchange.error(protocol::ErrorCode::unsupported_version,
                          "unsupported protocol version", After::close);
  case wire::HeaderStatus::bad_length:
    return exchange.error(protocol::ErrorCode::malformed, "bad frame length", After::close);
  }
  const RequestRow* row = find_request(request.type());
  if (row == nullptr) {
    log::warning("unknown request type 0x%02x from pid %d uid %u", request.type(),
                 static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
    return exchange.error(protocol::ErrorCode::unknown_type, "unknown request type",
                          After::close);
  }
  return row->serve(*row, exchange);
}

} // namespace studio2fa
