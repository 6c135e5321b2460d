// Turns one request frame into one reply frame: decodes, authorises the peer for the request and
// its subject (PROTOCOL.md, "Message types"), calls the Authenticator or the AccountAdmin and
// logs the outcome to syslog (the audit trail in the database is theirs to write).
#pragma once

#include "account_admin.hpp"
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
  std::string admin_group; // empty: only root may send ADMIN_* requests
};

class RequestHandler {
public:
  RequestHandler(Authenticator& authenticator, AccountAdmin& admin, HandlerSettings settings);

  enum class After { keep_open, close };

  // `request` holds one complete frame whose length prefix has been checked. Always writes a
  // reply frame into `reply` (possibly an ERROR) and says whether to close the connection after
  // sending it.
  After handle(const wire::FrameBuffer& request, const PeerCredentials& peer,
               wire::FrameBuffer& reply);

private:
  // Makes a pending secret for ENROLL_BEGIN and ENROLL_PROMPT; when refused, the ERROR reply is
  // written and the error says what to do with the connection.
  Expected<EnrollmentOffer, After> begin_enrollment(std::string_view user,
                                                    const PeerCredentials& peer,
                                                    wire::FrameBuffer& reply);
  // Root, or a member of admin_group (NSS: the peer's primary and supplementary groups).
  bool is_admin(const PeerCredentials& peer) const;
  After handle_admin(const wire::FrameBuffer& request, const PeerCredentials& peer,
                     wire::FrameBuffer& reply);

  Authenticator& m_authenticator;
  AccountAdmin& m_admin;
  HandlerSettings m_settings;
};

} // namespace studio2fa
