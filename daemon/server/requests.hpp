// The functions of the request table (request_table.cpp), by topic. Each is called with a
// request that decoded, whose subjects are canonical and which the peer may make; it carries the
// request out, writes the reply (or an ERROR) and logs the outcome.
#pragma once

#include "authenticator.hpp"
#include "protocol.hpp"
#include "request_exchange.hpp"

#include <algorithm>

namespace studio2fa::requests {

// login_requests.cpp
AfterReply ping(RequestExchange& exchange, const protocol::PingRequest& msg);
AfterReply status(RequestExchange& exchange, const protocol::StatusRequest& msg);
AfterReply authenticate(RequestExchange& exchange, const protocol::AuthenticateRequest& msg);

// A service, remote host or tty as the audit trail keeps it. Root's clients are the PAM module
// inside sshd, login and su, which take them from PAM; any other peer may say what it likes, so
// its word is marked as such.
std::string client_said(const PeerCredentials& peer, std::string_view text);

// phone_requests.cpp
AfterReply phone_status(RequestExchange& exchange, const protocol::PhoneStatusRequest& msg);
AfterReply send_code(RequestExchange& exchange, const protocol::SendCodeRequest& msg);
AfterReply phone_enroll(RequestExchange& exchange, const protocol::PhoneEnrollRequest& msg);
AfterReply phone_confirm(RequestExchange& exchange, const protocol::PhoneConfirmRequest& msg);
AfterReply phone_remove(RequestExchange& exchange, const protocol::PhoneRemoveRequest& msg);

// enrollment_requests.cpp
AfterReply enroll_begin(RequestExchange& exchange, const protocol::EnrollBeginRequest& msg);
AfterReply enroll_prompt(RequestExchange& exchange, const protocol::EnrollPromptRequest& msg);
AfterReply enroll_confirm(RequestExchange& exchange, const protocol::EnrollConfirmRequest& msg);
AfterReply enroll_replace(RequestExchange& exchange, const protocol::EnrollReplaceRequest& msg);

// self_service_requests.cpp
AfterReply backup_codes(RequestExchange& exchange, const protocol::BackupCodesRequest& msg);
AfterReply disable(RequestExchange& exchange, const protocol::DisableRequest& msg);

// admin_requests.cpp
AfterReply admin_list(RequestExchange& exchange, const protocol::AdminListRequest& msg);
AfterReply admin_disable(RequestExchange& exchange, const protocol::AdminDisableRequest& msg);
AfterReply admin_unlock(RequestExchange& exchange, const protocol::AdminUnlockRequest& msg);
AfterReply admin_pass(RequestExchange& exchange, const protocol::AdminPassRequest& msg);
AfterReply admin_log(RequestExchange& exchange, const protocol::AdminLogRequest& msg);
AfterReply admin_import(RequestExchange& exchange, const protocol::AdminImportRequest& msg);
AfterReply admin_policy(RequestExchange& exchange, const protocol::AdminPolicyRequest& msg);
AfterReply admin_enforce(RequestExchange& exchange, const protocol::AdminEnforceRequest& msg);
AfterReply admin_rekey(RequestExchange& exchange, const protocol::AdminRekeyRequest& msg);
AfterReply admin_migrate(RequestExchange& exchange, const protocol::AdminMigrateRequest& msg);
AfterReply admin_health(RequestExchange& exchange, const protocol::AdminHealthRequest& msg);

// The wire form of a time: never negative.
inline std::uint64_t wire_time(std::int64_t time)
{
  return static_cast<std::uint64_t>(time < 0 ? 0 : time);
}
// The wire form of a count of backup codes: at most a set.
inline std::uint8_t wire_backup_codes(unsigned count)
{
  return static_cast<std::uint8_t>(
    std::min<unsigned>(count, static_cast<unsigned>(protocol::k_backup_codes_per_set)));
}
// The start of a code-proven reply (ENROLL_REPLACE, BACKUP_CODES, DISABLE): what became of the
// code.
template <typename Reply> Reply code_reply(const CodeOutcome& code)
{
  Reply out;
  out.result = code.result;
  out.retry_after = code.retry_after;
  return out;
}
// The wire form of an account state (STATUS_REPLY, each ADMIN_LIST entry); `reason` points into
// `status`.
protocol::StatusReply to_wire(const UserStatus& status);

} // namespace studio2fa::requests
