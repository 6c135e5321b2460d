// Turns one request frame into one reply frame: decodes, authorises the peer for the subject
// (PROTOCOL.md, "Authorisation"), calls the Authenticator and logs the outcome.
#pragma once

#include "authenticator.hpp"
#include "wire.hpp"

#include <sys/types.h>

#include <string>

namespace studio2fa {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

struct HandlerSettings {
  std::string issuer;
};

class RequestHandler {
public:
  RequestHandler(Authenticator& authenticator, HandlerSettings settings);

  enum class After { keep_open, close };

  // `request` holds one complete frame whose length prefix has been checked. Always writes a
  // reply frame into `reply` (possibly an ERROR) and says whether to close the connection after
  // sending it.
  After handle(const wire::FrameBuffer& request, const PeerCredentials& peer,
               wire::FrameBuffer& reply);

private:
  Authenticator& m_authenticator;
  HandlerSettings m_settings;
};

} // namespace studio2fa
