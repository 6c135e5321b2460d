// One request being answered, as the request table's functions see it: the request's payload,
// the peer and its rights, the services that carry requests out, and the reply to write. The
// ERROR replies and their syslog lines are written here, the same for every request.
#pragma once

#include "account_admin.hpp"
#include "authenticator.hpp"
#include "peer_rights.hpp"
#include "protocol.hpp"
#include "store_migration.hpp"
#include "wire.hpp"

#include <span>
#include <string>
#include <string_view>

namespace studio2fa {

struct HandlerSettings {
  std::string issuer;
  std::string admin_group; // empty: only root may send ADMIN_* requests
  // What carries out ADMIN_MIGRATE; null: the request fails (no stores to open).
  const StoreMigration* migration = nullptr;
};

// What the server does with the connection once the reply is sent.
enum class AfterReply { keep_open, close };

struct RequestRow;

class RequestExchange {
public:
  RequestExchange(Authenticator& authenticator, AccountAdmin& admin,
                  const HandlerSettings& settings, const wire::FrameBuffer& request,
                  PeerRights& rights, wire::FrameBuffer& reply);

  Authenticator& authenticator() { return m_authenticator; }
  AccountAdmin& admin() { return m_admin; }
  const HandlerSettings& settings() const { return m_settings; }
  PeerRights& rights() { return m_rights; }
  const PeerCredentials& peer() const { return m_rights.peer(); }
  std::span<const std::uint8_t> payload() const { return m_request.payload(); }
  wire::FrameBuffer& reply() { return m_reply; }

  // Who acts, for the audit trail, in a request the peer may make about `user` for itself: root,
  // or that account.
  Requester acting_for(std::string_view user) const;
  // The administrator behind an ADMIN_* request: the peer's uid and name.
  Requester administrator();

  // An ERROR reply of `code`; the connection stays open or is closed as `after` says.
  AfterReply error(protocol::ErrorCode code, std::string_view text, AfterReply after);
  // A request that does not decode: logged, ERROR malformed, and the connection is closed.
  AfterReply malformed();
  // A request the peer may not make (row.senders); `subject` is the account it was about, if any.
  AfterReply refused(const RequestRow& row, Refusal why, std::string_view subject);
  // The daemon failed: the error is logged, the client is told only that it failed.
  AfterReply internal(const Error& failure);

  // The syslog line of a request about the peer's own account that was carried out:
  // "<what> <result>: user=... uid=...", a notice when it succeeded, else a warning.
  void log_outcome(bool success, const char* what, const char* result, std::string_view user);
  // The syslog line of an ADMIN_* request that was carried out.
  void log_admin(const char* action, std::string_view user, const char* result);

private:
  Authenticator& m_authenticator;
  AccountAdmin& m_admin;
  const HandlerSettings& m_settings;
  const wire::FrameBuffer& m_request;
  PeerRights& m_rights;
  wire::FrameBuffer& m_reply;
};

} // namespace studio2fa
