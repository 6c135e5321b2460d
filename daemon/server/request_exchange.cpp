#include "request_exchange.hpp"

#include "log.hpp"
#include "request_table.hpp"

namespace studio2fa {

RequestExchange::RequestExchange(Authenticator& authenticator, AccountAdmin& admin,
                                 const HandlerSettings& settings,
                                 const wire::FrameBuffer& request, PeerRights& rights,
                                 wire::FrameBuffer& reply)
  : m_authenticator(authenticator), m_admin(admin), m_settings(settings), m_request(request),
    m_rights(rights), m_reply(reply)
{
}

Requester RequestExchange::acting_for(std::string_view user) const
{
  Requester who;
  who.uid = static_cast<std::uint32_t>(peer().uid);
  who.name = peer().uid == 0 ? "root" : std::string(user);
  return who;
}

Requester RequestExchange::administrator()
{
  Requester who;
  who.uid = static_cast<std::uint32_t>(peer().uid);
  who.name = m_rights.name();
  return who;
}

AfterReply RequestExchange::error(protocol::ErrorCode code, std::string_view text, AfterReply after)
{
  protocol::encode(protocol::ErrorReply{code, text}, m_reply);
  return after;
}

AfterReply RequestExchange::malformed()
{
  log::warning("malformed request (type 0x%02x) from pid %d uid %u; closing", m_request.type(),
               static_cast<int>(peer().pid), static_cast<unsigned>(peer().uid));
  return error(protocol::ErrorCode::malformed, "malformed request", AfterReply::close);
}

AfterReply RequestExchange::refused(const RequestRow& row, Refusal why, std::string_view subject)
{
  const auto uid = static_cast<unsigned>(peer().uid);
  const auto pid = static_cast<int>(peer().pid);
  const char* text = "permission denied";
  switch (why) {
  case Refusal::not_admin:
    log::warning("permission denied: uid %u (pid %d) is not an administrator (request 0x%02x)",
                 uid, pid, m_request.type());
    text = "permission denied: only root and members of the admin group may do this";
    break;
  case Refusal::not_self:
    log::warning("permission denied: uid %u (pid %d) may not %s for user=%s", uid, pid,
                 row.action, log::sanitize(subject).c_str());
    text = "permission denied: you may only act for your own account";
    break;
  case Refusal::uid0_subject:
    log::warning("permission denied: administrator %s (uid %u) may not act on user=%s",
                 log::sanitize(m_rights.name()).c_str(), uid, log::sanitize(subject).c_str());
    text = "permission denied: only root may administer an account with uid 0";
    break;
  case Refusal::none:
    break;
  }
  return error(protocol::ErrorCode::permission_denied, text, AfterReply::keep_open);
}

AfterReply RequestExchange::internal(const Error& failure)
{
  log::error("%s", failure.message.c_str());
  return error(protocol::ErrorCode::internal, "internal error; see the daemon's log",
               AfterReply::keep_open);
}

void RequestExchange::log_outcome(bool success, const char* what, const char* result,
                                  std::string_view user)
{
  auto line = success ? log::notice : log::warning;
  line("%s %s: user=%s uid=%u", what, result, log::sanitize(user).c_str(),
       static_cast<unsigned>(peer().uid));
}

void RequestExchange::log_admin(const char* action, std::string_view user, const char* result)
{
  log::notice("admin %s by %s (uid %u): user=%s result=%s", action,
              log::sanitize(m_rights.name()).c_str(), static_cast<unsigned>(peer().uid),
              log::sanitize(user).c_str(), result);
}

} // namespace studio2fa
