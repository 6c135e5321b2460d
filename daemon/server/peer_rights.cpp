#include "peer_rights.hpp"

#include "account_names.hpp"

namespace studio2fa {

PeerRights::PeerRights(const PeerCredentials& peer, std::string_view admin_group)
  : m_peer(peer), m_admin_group(admin_group)
{
}

Refusal PeerRights::may_send(Senders senders)
{
  switch (senders) {
  case Senders::admin:
  case Senders::admin_but_root_only:
    return is_admin() ? Refusal::none : Refusal::not_admin;
  case Senders::anyone:
  case Senders::self_or_admin:
  case Senders::self:
    break;
  }
  return Refusal::none;
}

Refusal PeerRights::may_act_on(Senders senders, std::string_view subject)
{
  switch (senders) {
  case Senders::self_or_admin:
    return is_self(subject) || is_admin() ? Refusal::none : Refusal::not_self;
  case Senders::self:
    return is_self(subject) ? Refusal::none : Refusal::not_self;
  case Senders::admin_but_root_only:
    return is_root_only(subject) ? Refusal::uid0_subject : Refusal::none;
  case Senders::anyone:
  case Senders::admin:
    break;
  }
  return Refusal::none;
}

bool PeerRights::is_admin()
{
  if (m_peer.uid == 0) {
    return true;
  }
  if (!m_is_admin) {
    const Account account = m_admin_group.empty() ? Account{} : account_of(m_peer.uid);
    m_is_admin = account.found && account_in_group(account, m_admin_group).value_or(false);
  }
  return *m_is_admin;
}

bool PeerRights::is_self(std::string_view user) const
{
  if (m_peer.uid == 0) {
    return true;
  }
  const Account account = account_named(user);
  return account.found && account.uid == m_peer.uid;
}

bool PeerRights::is_root_only(std::string_view user) const
{
  if (m_peer.uid == 0) {
    return false;
  }
  const Account account = account_named(user);
  return account.failed || (account.found && account.uid == 0);
}

const std::string& PeerRights::name()
{
  if (!m_name) {
    if (m_peer.uid == 0) {
      m_name = "root";
    } else {
      const Account account = account_of(m_peer.uid);
      m_name = account.found ? account.name : "uid " + std::to_string(m_peer.uid);
    }
  }
  return *m_name;
}

} // namespace studio2fa
