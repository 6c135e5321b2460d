// Turns one request frame into one reply frame: checks the frame's header, looks its type up in
// the request table (request_table.hpp), which decodes it, authorises the peer for the request
// and its subject (PROTOCOL.md, "Message types"), calls the Authenticator or the AccountAdmin
// and logs the outcome to syslog (the audit trail in the database is theirs to write).
#pragma once

#include "account_admin.hpp"
#include "authenticator.hpp"
#include "peer_rights.hpp"
#include "request_exchange.hpp"
#include "wire.hpp"

namespace studio2fa {

class RequestHandler {
public:
  RequestHandler(Authenticator& authenticator, AccountAdmin& admin, HandlerSettings settings);

  using After = AfterReply;

  // `request` holds one complete frame whose length prefix has been checked. Always writes a
  // reply frame into `reply` (possibly an ERROR) and says whether to close the connection after
  // sending it.
  After handle(const wire::FrameBuffer& request, const PeerCredentials& peer,
               wire::FrameBuffer& reply);

private:
  Authenticator& m_authenticator;
  AccountAdmin& m_admin;
  HandlerSettings m_settings;
};

} // namespace studio2fa
