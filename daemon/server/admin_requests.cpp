// ADMIN_*: account administration, for root and the members of admin_group.
#include "requests.hpp"

#include "account_names.hpp"
#include "log.hpp"

#include <algorithm>

namespace studio2fa::requests {

using namespace protocol;

namespace {

std::int64_t to_time(std::uint64_t value)
{
  return static_cast<std::int64_t>(std::min<std::uint64_t>(value, INT64_MAX));
}

// Answers a request whose reply is its one result (ADMIN_DISABLE, ADMIN_UNLOCK), and logs it.
template <typename Reply, typename Result>
AfterReply answer_result(RequestExchange& exchange, const Expected<Result>& result,
                         const char* action, std::string_view user)
{
  if (!result) {
    return exchange.internal(result.error());
  }
  encode(Reply{*result}, exchange.reply());
  exchange.log_admin(action, user, name(*result));
  return AfterReply::keep_open;
}

} // namespace

AfterReply admin_list(RequestExchange& exchange, const AdminListRequest& msg)
{
  auto page = exchange.admin().list(msg.after, k_max_list_entries, exchange.administrator());
  if (!page) {
    return exchange.internal(page.error());
  }
  AdminListReply out;
  std::size_t used = 0;
  bool full = false;
  for (const AccountAdmin::Account& account : page->accounts) {
    AccountEntry entry{account.user, to_wire(account.status)};
    if (account.user.empty() || account.user.size() > limits::user) {
      continue; // cannot be named on the wire (a name of 256 characters but more bytes)
    }
    if (used + encoded_size(entry) > k_entries_budget) {
      full = true;
      break;
    }
    used += encoded_size(entry);
    out.entries[out.count++] = entry;
  }
  out.more = page->more || full;
  if (!encode(out, exchange.reply())) {
    return exchange.internal(
      Error{Errc::internal, "an account entry does not fit the protocol's limits"});
  }
  if (msg.after.empty()) {
    exchange.log_admin("list", "-", "success");
  }
  return AfterReply::keep_open;
}

AfterReply admin_disable(RequestExchange& exchange, const AdminDisableRequest& msg)
{
  return answer_result<AdminDisableReply>(
    exchange, exchange.admin().disable(msg.user, exchange.administrator()), "disable", msg.user);
}

AfterReply admin_unlock(RequestExchange& exchange, const AdminUnlockRequest& msg)
{
  return answer_result<AdminUnlockReply>(
    exchange, exchange.admin().unlock(msg.user, exchange.administrator()), "unlock", msg.user);
}

AfterReply admin_pass(RequestExchange& exchange, const AdminPassRequest& msg)
{
  auto outcome = exchange.admin().pass(msg.user, msg.duration, exchange.administrator());
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  encode(AdminPassReply{outcome->result, wire_time(outcome->pass_until)}, exchange.reply());
  exchange.log_admin(msg.duration == 0 ? "pass-revoke" : "pass", msg.user, name(outcome->result));
  return AfterReply::keep_open;
}

AfterReply admin_log(RequestExchange& exchange, const AdminLogRequest& msg)
{
  AuditQuery query;
  query.subject = msg.user;
  query.since = to_time(msg.since);
  query.after_id = to_time(msg.after_id);
  query.limit = k_max_log_entries;
  auto page = exchange.admin().log(query, exchange.administrator());
  if (!page) {
    return exchange.internal(page.error());
  }
  AdminLogReply out;
  std::size_t used = 0;
  for (const AuditRecord& record : page->records) {
    const AuditEvent& event = record.event;
    AuditEntry entry{static_cast<std::uint64_t>(record.id),
                     wire_time(event.at),
                     event.actor_uid,
                     event.actor,
                     event.action,
                     event.subject,
                     event.service,
                     event.rhost,
                     event.tty,
                     event.outcome,
                     event.detail};
    if (used + encoded_size(entry) > k_entries_budget) {
      break;
    }
    used += encoded_size(entry);
    out.entries[out.count++] = entry;
  }
  out.more = page->more || out.count < page->records.size();
  if (!encode(out, exchange.reply())) {
    return exchange.internal(
      Error{Errc::internal, "an audit entry does not fit the protocol's limits"});
  }
  if (msg.after_id == 0) {
    exchange.log_admin("log", msg.user, "success");
  }
  return AfterReply::keep_open;
}

AfterReply admin_import(RequestExchange& exchange, const AdminImportRequest& msg)
{
  const std::span<const ImportEntry> entries(msg.entries.data(), msg.count);
  auto outcome = exchange.admin().import(entries, msg.replace, exchange.administrator());
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  encode(AdminImportReply{outcome->result, static_cast<std::uint8_t>(outcome->index)},
         exchange.reply());
  const std::string who = log::sanitize(exchange.rights().name());
  const auto uid = static_cast<unsigned>(exchange.peer().uid);
  if (outcome->result == ImportResult::imported) {
    log::notice("admin import by %s (uid %u): %u users, first user=%s", who.c_str(), uid,
                static_cast<unsigned>(entries.size()), log::sanitize(entries[0].user).c_str());
  } else {
    log::warning("admin import by %s (uid %u) refused: user=%s: %s", who.c_str(), uid,
                 log::sanitize(entries[outcome->index].user).c_str(), outcome->why.c_str());
  }
  return AfterReply::keep_open;
}

AfterReply admin_policy(RequestExchange& exchange, const AdminPolicyRequest& msg)
{
  const AccountAdmin::PolicyReport report =
    exchange.admin().policy(msg.user, exchange.administrator());
  AdminPolicyReply out;
  out.decision = report.answer.decision;
  out.source = report.answer.source;
  out.reason = std::string_view(report.answer.reason).substr(0, limits::text);
  out.dn = std::string_view(report.answer.dn).substr(0, limits::dn);
  out.fetched_at = wire_time(report.answer.fetched_at);
  out.grace_until = wire_time(report.grace_until);
  encode(out, exchange.reply());
  exchange.log_admin("policy", msg.user, name(report.answer.decision));
  return AfterReply::keep_open;
}

AfterReply admin_enforce(RequestExchange& exchange, const AdminEnforceRequest& msg)
{
  const Requester who = exchange.administrator();
  // The person behind the request: a non-root admin is who the kernel says; root may name
  // the admin who ran sudo (root could act as anyone anyway).
  std::string acting = who.name;
  if (exchange.peer().uid == 0 && !msg.invoker.empty()) {
    acting = canonical_account_name(msg.invoker);
  }
  auto outcome = exchange.admin().enforce(msg.action, msg.grace, msg.force, acting, who);
  if (!outcome) {
    return exchange.internal(outcome.error());
  }
  AdminEnforceReply out;
  out.result = outcome->result;
  out.enforced = outcome->state.on;
  out.grace = outcome->state.grace;
  out.since = wire_time(outcome->state.since);
  out.by = std::string_view(outcome->state.by).substr(0, limits::user);
  encode(out, exchange.reply());
  if (msg.action != EnforceAction::query) {
    exchange.log_admin(msg.action == EnforceAction::on ? "enforce on" : "enforce off", acting,
                       outcome->result == EnforceResult::done
                         ? (msg.force ? "done (forced)" : "done")
                         : "refused: no second factor");
  }
  return AfterReply::keep_open;
}

AfterReply admin_rekey(RequestExchange& exchange, const AdminRekeyRequest& msg)
{
  auto page = exchange.admin().rekey(msg.after, k_max_rekey_records, exchange.administrator());
  if (!page) {
    return exchange.internal(page.error());
  }
  encode(AdminRekeyReply{page->resealed, page->current, page->failed, page->old_backup_codes,
                         page->last, page->more, page->key_id},
         exchange.reply());
  if (msg.after.empty()) {
    exchange.log_admin("rekey", "-", "started");
  }
  if (!page->more) {
    exchange.log_admin("rekey", "-", "finished");
  }
  return AfterReply::keep_open;
}

AfterReply admin_migrate(RequestExchange& exchange, const AdminMigrateRequest& msg)
{
  const bool to_directory = msg.direction == MigrateDirection::to_directory;
  const char* action = to_directory ? "migrate to-directory" : "migrate to-local";
  const StoreMigration* migration = exchange.settings().migration;
  if (migration == nullptr) {
    return exchange.internal(Error{Errc::internal, "ADMIN_MIGRATE: no store migration here"});
  }
  auto page = to_directory ? migration->copy_page(StoreKind::local, StoreKind::directory,
                                                  msg.after, k_max_migrate_records)
                           : migration->copy_page(StoreKind::directory, StoreKind::local,
                                                  msg.after, k_max_migrate_records);
  if (!page) {
    const Errc kind = page.error().code;
    if (kind == Errc::unavailable || kind == Errc::invalid) {
      // Not a fault of the daemon: say why, so that the administrator need not read the log.
      exchange.log_admin(action, "-", kind == Errc::invalid ? "refused" : "unavailable");
      return exchange.error(ErrorCode::internal, page.error().message, AfterReply::keep_open);
    }
    return exchange.internal(page.error());
  }
  auto count = [](std::uint64_t n) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, UINT32_MAX));
  };
  encode(AdminMigrateReply{count(page->copied), count(page->already_there), count(page->failed),
                           page->last, page->more},
         exchange.reply());
  if (msg.after.empty()) {
    exchange.log_admin(action, "-", "started");
  }
  if (!page->more) {
    exchange.log_admin(action, "-", "finished");
  }
  return AfterReply::keep_open;
}

AfterReply admin_health(RequestExchange& exchange, const AdminHealthRequest&)
{
  const StoreHealth health = exchange.admin().store_health();
  auto text = [](const std::string& value) {
    return std::string_view(value).substr(0, limits::text);
  };
  AdminHealthReply reply;
  std::string problem;
  if (health.directory) {
    for (const ServerHealth* server : {&health.write, &health.read}) {
      if (!server->answers) {
        problem += (problem.empty() ? "" : "; ") + server->uri + ": " + server->problem;
      }
    }
    reply.store = StoreKindCode::directory;
    reply.write_uri = text(health.write.uri);
    reply.write_answers = health.write.answers;
    reply.write_condition = health.cas_form == CasForm::assertion    ? WriteCondition::assertion
                            : health.cas_form == CasForm::delete_add ? WriteCondition::delete_add
                                                                     : WriteCondition::unknown;
    reply.read_uri = text(health.read.uri);
    reply.read_answers = health.read.answers;
    reply.problem = text(problem);
    reply.offline_cached = health.offline_cached;
    reply.offline_cache_age = static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(health.offline_cache_age, 0, UINT32_MAX));
    reply.cached_users = health.cached_users;
    reply.newest_at = static_cast<std::uint64_t>(std::max<std::int64_t>(health.newest_at, 0));
    reply.oldest_at = static_cast<std::uint64_t>(std::max<std::int64_t>(health.oldest_at, 0));
  }
  encode(reply, exchange.reply());
  return AfterReply::keep_open;
}

} // namespace studio2fa::requests
