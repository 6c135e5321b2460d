#include "request_table.hpp"

#include "account_names.hpp"
#include "requests.hpp"

#include <string>
#include <vector>

namespace studio2fa {

namespace {

using namespace protocol;

// The accounts a request is about, each under its canonical name; take_subjects() points the
// request's views at these names.
struct Subjects {
  std::vector<std::string> names;
};

// A request about one account, its `user`, which may not be empty.
template <typename Request> bool take_subjects(Request& msg, Subjects& subjects)
{
  if (msg.user.empty()) {
    return false;
  }
  subjects.names.push_back(canonical_account_name(msg.user));
  msg.user = subjects.names.back();
  return true;
}

// Requests about no account. ADMIN_ENFORCE's invoker is not a subject: only root may name one,
// and its handler reads it.
bool take_subjects(PingRequest&, Subjects&)
{
  return true;
}
bool take_subjects(AdminListRequest&, Subjects&)
{
  return true;
}
bool take_subjects(AdminEnforceRequest&, Subjects&)
{
  return true;
}
bool take_subjects(AdminRekeyRequest&, Subjects&)
{
  return true;
}
bool take_subjects(AdminMigrateRequest&, Subjects&)
{
  return true;
}
bool take_subjects(AdminHealthRequest&, Subjects&)
{
  return true;
}

// ADMIN_LOG: one account, or everyone when `user` is empty.
bool take_subjects(AdminLogRequest& msg, Subjects& subjects)
{
  if (!msg.user.empty()) {
    subjects.names.push_back(canonical_account_name(msg.user));
    msg.user = subjects.names.back();
  }
  return true;
}

// ADMIN_IMPORT: every entry's account.
bool take_subjects(AdminImportRequest& msg, Subjects& subjects)
{
  subjects.names.reserve(msg.count); // no reallocation: the views below point into the names
  for (std::size_t i = 0; i < msg.count; ++i) {
    subjects.names.push_back(canonical_account_name(msg.entries[i].user));
  }
  for (std::size_t i = 0; i < msg.count; ++i) {
    msg.entries[i].user = subjects.names[i];
  }
  return true;
}

template <typename Request, AfterReply (*Handler)(RequestExchange&, const Request&)>
AfterReply serve(const RequestRow& row, RequestExchange& exchange)
{
  PeerRights& rights = exchange.rights();
  if (const Refusal why = rights.may_send(row.senders); why != Refusal::none) {
    return exchange.refused(row, why, {});
  }
  Request msg;
  Subjects subjects;
  if (!decode(exchange.payload(), msg) || !take_subjects(msg, subjects)) {
    return exchange.malformed();
  }
  for (const std::string& subject : subjects.names) {
    if (const Refusal why = rights.may_act_on(row.senders, subject); why != Refusal::none) {
      return exchange.refused(row, why, subject);
    }
  }
  return Handler(exchange, msg);
}

template <typename Request, AfterReply (*Handler)(RequestExchange&, const Request&)>
constexpr RequestRow row(Senders senders, const char* action)
{
  return {Request::k_type, senders, action, &serve<Request, Handler>};
}

// PROTOCOL.md, "Message types"; tests/unit/test_request_table.cpp holds the two to each other.
constexpr RequestRow k_requests[] = {
  row<PingRequest, requests::ping>(Senders::anyone, "ping"),
  row<StatusRequest, requests::status>(Senders::self_or_admin, "query status"),
  row<AuthenticateRequest, requests::authenticate>(Senders::self, "authenticate"),
  row<EnrollBeginRequest, requests::enroll_begin>(Senders::self, "enroll"),
  row<EnrollPromptRequest, requests::enroll_prompt>(Senders::self, "enroll"),
  row<EnrollConfirmRequest, requests::enroll_confirm>(Senders::self, "confirm enrollment"),
  row<EnrollReplaceRequest, requests::enroll_replace>(Senders::self, "replace the enrollment"),
  row<BackupCodesRequest, requests::backup_codes>(Senders::self, "make backup codes"),
  row<DisableRequest, requests::disable>(Senders::self, "turn off two-factor authentication"),
  row<PhoneStatusRequest, requests::phone_status>(Senders::self_or_admin, "query phone status"),
  row<SendCodeRequest, requests::send_code>(Senders::self, "send a code"),
  row<PhoneEnrollRequest, requests::phone_enroll>(Senders::self, "register a phone number"),
  row<PhoneConfirmRequest, requests::phone_confirm>(Senders::self, "confirm a phone number"),
  row<PhoneRemoveRequest, requests::phone_remove>(Senders::self, "remove a phone number"),
  row<AdminListRequest, requests::admin_list>(Senders::admin, "list accounts"),
  row<AdminDisableRequest, requests::admin_disable>(Senders::admin_but_root_only, "disable"),
  row<AdminUnlockRequest, requests::admin_unlock>(Senders::admin_but_root_only, "unlock"),
  row<AdminPassRequest, requests::admin_pass>(Senders::admin_but_root_only, "grant a pass"),
  row<AdminLogRequest, requests::admin_log>(Senders::admin, "read the audit trail"),
  row<AdminImportRequest, requests::admin_import>(Senders::admin_but_root_only, "import"),
  row<AdminPolicyRequest, requests::admin_policy>(Senders::admin, "query the policy"),
  row<AdminEnforceRequest, requests::admin_enforce>(Senders::admin, "switch enforcement"),
  row<AdminRekeyRequest, requests::admin_rekey>(Senders::admin, "re-seal under the studio key"),
  row<AdminMigrateRequest, requests::admin_migrate>(Senders::admin, "migrate records"),
    row<AdminHealthRequest, requests::admin_health>(Senders::admin, "query the store's health"),
};

} // namespace

std::span<const RequestRow> request_table()
{
  return k_requests;
}

const RequestRow* find_request(std::uint8_t type)
{
  for (const RequestRow& candidate : k_requests) {
    if (static_cast<std::uint8_t>(candidate.type) == type) {
      return &candidate;
    }
  }
  return nullptr;
}

} // namespace studio2fa
