#include "request_handler.hpp"

#include "account_names.hpp"
#include "base32.hpp"
#include "enrollment_prompt.hpp"
#include "qr_text.hpp"
#include "log.hpp"
#include "protocol.hpp"

#include <pwd.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <vector>

namespace studio2fa {

namespace {

using namespace protocol;

constexpr std::size_t k_nss_buffer = 16384;
constexpr const char* k_admin_only =
  "permission denied: only root and members of the admin group may do this";

// The account `user` may be acted on by `peer` as itself: root for anyone, others only for the
// account whose uid they run as.
bool authorised(const PeerCredentials& peer, std::string_view user)
{
  if (peer.uid == 0) {
    return true;
  }
  const Account account = account_named(user);
  return account.found && account.uid == peer.uid;
}

// For the audit trail: "root", the peer's account name, or "uid N" when it has none.
std::string peer_name(const PeerCredentials& peer)
{
  if (peer.uid == 0) {
    return "root";
  }
  const Account account = account_of(peer.uid);
  return account.found ? account.name : "uid " + std::to_string(peer.uid);
}

// A peer acting for `user` after authorised(): root, or that account itself.
Requester requester_for(const PeerCredentials& peer, std::string_view user)
{
  Requester who;
  who.uid = static_cast<std::uint32_t>(peer.uid);
  who.name = peer.uid == 0 ? "root" : std::string(user);
  return who;
}

// A service, remote host or tty as the audit trail keeps it. Root's clients are the PAM module
// inside sshd, login and su, which take them from PAM; any other peer may say what it likes, so
// its word is marked as such.
std::string client_said(const PeerCredentials& peer, std::string_view text)
{
  if (peer.uid == 0 || text.empty()) {
    return std::string(text);
  }
  return "client-said:" + std::string(text);
}

RequestHandler::After reply_error(wire::FrameBuffer& reply, ErrorCode code, std::string_view text,
                                  RequestHandler::After after)
{
  encode(ErrorReply{code, text}, reply);
  return after;
}

// The wire form of an account state; `reason` points into `status`.
StatusReply to_wire(const UserStatus& status)
{
  StatusReply out;
  out.state = status.state;
  out.enrolled_at = static_cast<std::uint64_t>(std::max<std::int64_t>(status.enrolled_at, 0));
  out.failures = status.failures;
  out.retry_after = status.retry_after;
  out.lock = status.lock;
  out.backup_codes = static_cast<std::uint8_t>(
    std::min<unsigned>(status.backup_codes, static_cast<unsigned>(k_backup_codes_per_set)));
  out.pass_until = static_cast<std::uint64_t>(std::max<std::int64_t>(status.pass_until, 0));
  out.last_login = static_cast<std::uint64_t>(std::max<std::int64_t>(status.last_login, 0));
  out.replacing = status.replacing;
  out.required = status.required;
  out.grace_until = static_cast<std::uint64_t>(std::max<std::int64_t>(status.grace_until, 0));
  out.reason = std::string_view(status.reason).substr(0, limits::reason);
  return out;
}

std::int64_t to_time(std::uint64_t value)
{
  return static_cast<std::int64_t>(std::min<std::uint64_t>(value, INT64_MAX));
}

// Decodes a request about one account and puts the account's canonical name (see
// account_names.hpp) in `subject`, which msg.user then points to: every record is keyed by it.
// False for a malformed request or an empty name.
template <typename Request>
bool decode_subject(std::span<const std::uint8_t> payload, Request& msg, std::string& subject)
{
  if (!decode(payload, msg) || msg.user.empty()) {
    return false;
  }
  subject = canonical_account_name(msg.user);
  msg.user = subject;
  return true;
}

// The reply fields that describe a new pending secret (ENROLL_BEGIN, ENROLL_REPLACE).
// `encoded` holds the base32 secret the reply points into.
void describe_offer(const EnrollmentOffer& offer, const SecretBytes& encoded,
                    std::string_view issuer, std::string_view account, EnrollBeginReply& out)
{
  out.secret = encoded.view();
  out.issuer = issuer;
  out.account = account;
  out.algorithm = totp::algorithm_name(offer.params.algorithm);
  out.digits = static_cast<std::uint8_t>(offer.params.digits);
  out.period = offer.params.period;
  out.expires_at = static_cast<std::uint64_t>(offer.expires_at);
}

} // namespace

RequestHandler::RequestHandler(Authenticator& authenticator, AccountAdmin& admin,
                               HandlerSettings settings)
  : m_authenticator(authenticator), m_admin(admin), m_settings(std::move(settings))
{
}

Expected<EnrollmentOffer, RequestHandler::After>
RequestHandler::begin_enrollment(std::string_view user, const PeerCredentials& peer,
                                 wire::FrameBuffer& reply)
{
  constexpr After k_keep = After::keep_open;
  if (!account_named(user).found) {
    return Unexpected<After>{
        reply_error(reply, ErrorCode::permission_denied, "no such account", k_keep)};
  }
  auto offer = m_authenticator.begin_enrollment(user, requester_for(peer, user));
  if (offer) {
    return std::move(*offer);
  }
  if (offer.error().code == Errc::already_enrolled) {
    return Unexpected<After>{reply_error(reply, ErrorCode::already_enrolled,
                                         "two-factor authentication is already on for this account",
                                         k_keep)};
  }
  if (offer.error().code == Errc::locked) {
    return Unexpected<After>{reply_error(
        reply, ErrorCode::permission_denied,
        "login is locked for this account; contact your administrator", k_keep)};
  }
  log::error("%s", offer.error().message.c_str());
  return Unexpected<After>{reply_error(reply, ErrorCode::internal,
                                       "internal error; see the daemon's log", k_keep)};
}

bool RequestHandler::is_admin(const PeerCredentials& peer) const
{
  if (peer.uid == 0) {
    return true;
  }
  if (m_settings.admin_group.empty()) {
    return false;
  }
  const Account account = account_of(peer.uid);
  if (!account.found) {
    return false;
  }
  return account_in_group(account, m_settings.admin_group).value_or(false);
}

RequestHandler::After RequestHandler::handle(const wire::FrameBuffer& request,
                                             const PeerCredentials& peer,
                                             wire::FrameBuffer& reply)
{
  constexpr After k_keep = After::keep_open;
  constexpr After k_close = After::close;

  switch (wire::decode_header(request)) {
  case wire::HeaderStatus::ok:
    break;
  case wire::HeaderStatus::bad_version:
    return reply_error(reply, ErrorCode::unsupported_version, "unsupported protocol version",
                       k_close);
  case wire::HeaderStatus::bad_length:
    return reply_error(reply, ErrorCode::malformed, "bad frame length", k_close);
  }
  auto payload = request.payload();
  auto malformed = [&] {
    log::warning("malformed request (type 0x%02x) from pid %d uid %u; closing", request.type(),
                 static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
    return reply_error(reply, ErrorCode::malformed, "malformed request", k_close);
  };
  auto denied = [&](const char* what, std::string_view user) {
    log::warning("permission denied: uid %u (pid %d) may not %s for user=%s",
                 static_cast<unsigned>(peer.uid), static_cast<int>(peer.pid), what,
                 log::sanitize(user).c_str());
    return reply_error(reply, ErrorCode::permission_denied,
                       "permission denied: you may only act for your own account", k_keep);
  };
  auto internal = [&](const Error& error) {
    log::error("%s", error.message.c_str());
    return reply_error(reply, ErrorCode::internal, "internal error; see the daemon's log", k_keep);
  };

  switch (static_cast<MessageType>(request.type())) {
  case MessageType::ping: {
    PingRequest msg;
    if (!decode(payload, msg)) {
      return malformed();
    }
    encode(PongReply{}, reply);
    return k_keep;
  }

  case MessageType::status: {
    StatusRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user) && !is_admin(peer)) {
      return denied("query status", msg.user);
    }
    auto status = m_authenticator.status(msg.user);
    if (!status) {
      return internal(status.error());
    }
    encode(to_wire(*status), reply);
    return k_keep;
  }

  case MessageType::authenticate: {
    AuthenticateRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("authenticate", msg.user);
    }
    Requester who = requester_for(peer, msg.user);
    who.service = client_said(peer, msg.service);
    who.rhost = client_said(peer, msg.rhost);
    who.tty = client_said(peer, msg.tty);
    AuthOutcome outcome =
      m_authenticator.authenticate(msg.user, msg.mode, msg.password, msg.code, who);
    auto line = outcome.result == AuthResult::success ? log::notice : log::warning;
    line("authentication %s: user=%s service=%s rhost=%s tty=%s uid=%u reason=\"%s\"",
         protocol::name(outcome.result), log::sanitize(msg.user).c_str(),
         log::sanitize(msg.service).c_str(), log::sanitize(msg.rhost).c_str(),
         log::sanitize(msg.tty).c_str(), static_cast<unsigned>(peer.uid), outcome.reason);
    AuthenticateReply out;
    out.result = outcome.result;
    out.retry_after = outcome.retry_after;
    out.factor = outcome.factor;
    out.backup_codes = static_cast<std::uint8_t>(
      std::min<unsigned>(outcome.backup_codes_left, static_cast<unsigned>(k_backup_codes_per_set)));
    out.grace_until = static_cast<std::uint64_t>(std::max<std::int64_t>(outcome.grace_until, 0));
    encode(out, reply);
    return k_keep;
  }

  case MessageType::enroll_prompt: {
    EnrollPromptRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("enroll", msg.user);
    }
    auto offer = begin_enrollment(msg.user, peer, reply);
    if (!offer) {
      return offer.error();
    }
    SecretBytes encoded = base32::encode(offer->secret.span());
    auto lines = enrollment_prompt_lines(m_settings.issuer, msg.user, encoded.view(), offer->params);
    if (!lines) {
      return internal(lines.error());
    }
    EnrollPromptReply out;
    out.expires_at = static_cast<std::uint64_t>(offer->expires_at);
    for (const std::string& line : *lines) {
      out.lines[out.count++] = line;
    }
    const bool fits = encode(out, reply);
    wipe_lines(*lines);
    if (!fits) {
      return internal(Error{Errc::internal, "the enrollment text does not fit in one reply"});
    }
    log::notice("enrollment started inside a login: user=%s uid=%u",
                log::sanitize(msg.user).c_str(), static_cast<unsigned>(peer.uid));
    return k_keep;
  }

  case MessageType::enroll_begin: {
    EnrollBeginRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("enroll", msg.user);
    }
    auto offer = begin_enrollment(msg.user, peer, reply);
    if (!offer) {
      return offer.error();
    }
    SecretBytes encoded = base32::encode(offer->secret.span());
    EnrollBeginReply out;
    describe_offer(*offer, encoded, m_settings.issuer, msg.user, out);
    encode(out, reply);
    log::notice("enrollment started: user=%s uid=%u", log::sanitize(msg.user).c_str(),
                static_cast<unsigned>(peer.uid));
    return k_keep;
  }

  case MessageType::enroll_confirm: {
    EnrollConfirmRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("confirm enrollment", msg.user);
    }
    auto outcome =
      m_authenticator.confirm_enrollment(msg.user, msg.code, requester_for(peer, msg.user));
    if (!outcome) {
      return internal(outcome.error());
    }
    static const char* const k_names[] = {"confirmed", "bad-code",  "expired",
                                          "no-pending", "throttled", "locked"};
    auto line = outcome->result == EnrollResult::confirmed ? log::notice : log::warning;
    line("enrollment %s: user=%s uid=%u", k_names[static_cast<int>(outcome->result)],
         log::sanitize(msg.user).c_str(), static_cast<unsigned>(peer.uid));
    encode(EnrollConfirmReply{outcome->result}, reply);
    return k_keep;
  }

  case MessageType::enroll_replace: {
    EnrollReplaceRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("replace the enrollment", msg.user);
    }
    auto outcome =
      m_authenticator.replace_enrollment(msg.user, msg.code, requester_for(peer, msg.user));
    if (!outcome) {
      return internal(outcome.error());
    }
    EnrollReplaceReply out;
    out.result = outcome->code.result;
    out.retry_after = outcome->code.retry_after;
    SecretBytes encoded;
    if (out.result == CodeResult::ok) {
      encoded = base32::encode(outcome->offer.secret.span());
      describe_offer(outcome->offer, encoded, m_settings.issuer, msg.user, out.offer);
    }
    encode(out, reply);
    auto line = out.result == CodeResult::ok ? log::notice : log::warning;
    line("enrollment replacement %s: user=%s uid=%u", protocol::name(out.result),
         log::sanitize(msg.user).c_str(), static_cast<unsigned>(peer.uid));
    return k_keep;
  }

  case MessageType::backup_codes: {
    BackupCodesRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("make backup codes", msg.user);
    }
    auto outcome =
      m_authenticator.new_backup_codes(msg.user, msg.code, requester_for(peer, msg.user));
    if (!outcome) {
      return internal(outcome.error());
    }
    BackupCodesReply out;
    out.result = outcome->code.result;
    out.retry_after = outcome->code.retry_after;
    out.count = static_cast<std::uint8_t>(std::min(outcome->codes.size(), out.codes.size()));
    for (std::size_t i = 0; i < out.count; ++i) {
      out.codes[i] = outcome->codes[i].view();
    }
    encode(out, reply);
    auto line = out.result == CodeResult::ok ? log::notice : log::warning;
    line("backup codes %s: user=%s uid=%u", protocol::name(out.result),
         log::sanitize(msg.user).c_str(), static_cast<unsigned>(peer.uid));
    return k_keep;
  }

  case MessageType::disable: {
    DisableRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (!authorised(peer, msg.user)) {
      return denied("turn off two-factor authentication", msg.user);
    }
    auto outcome = m_authenticator.disable(msg.user, msg.code, requester_for(peer, msg.user));
    if (!outcome) {
      return internal(outcome.error());
    }
    encode(DisableReply{outcome->result, outcome->retry_after}, reply);
    auto line = outcome->result == CodeResult::ok ? log::notice : log::warning;
    line("two-factor authentication turned off %s: user=%s uid=%u", protocol::name(outcome->result),
         log::sanitize(msg.user).c_str(), static_cast<unsigned>(peer.uid));
    return k_keep;
  }

  case MessageType::admin_list:
  case MessageType::admin_disable:
  case MessageType::admin_unlock:
  case MessageType::admin_pass:
  case MessageType::admin_log:
  case MessageType::admin_import:
  case MessageType::admin_policy:
  case MessageType::admin_enforce:
    return handle_admin(request, peer, reply);

  case MessageType::error:
    break;
  }
  log::warning("unknown request type 0x%02x from pid %d uid %u", request.type(),
               static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
  return reply_error(reply, ErrorCode::unknown_type, "unknown request type", k_close);
}

RequestHandler::After RequestHandler::handle_admin(const wire::FrameBuffer& request,
                                                   const PeerCredentials& peer,
                                                   wire::FrameBuffer& reply)
{
  constexpr After k_keep = After::keep_open;
  constexpr After k_close = After::close;
  const auto type = static_cast<MessageType>(request.type());
  auto payload = request.payload();
  auto malformed = [&] {
    log::warning("malformed request (type 0x%02x) from pid %d uid %u; closing", request.type(),
                 static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
    return reply_error(reply, ErrorCode::malformed, "malformed request", k_close);
  };
  auto internal = [&](const Error& error) {
    log::error("%s", error.message.c_str());
    return reply_error(reply, ErrorCode::internal, "internal error; see the daemon's log", k_keep);
  };

  if (!is_admin(peer)) {
    log::warning("permission denied: uid %u (pid %d) is not an administrator (request 0x%02x)",
                 static_cast<unsigned>(peer.uid), static_cast<int>(peer.pid), request.type());
    return reply_error(reply, ErrorCode::permission_denied, k_admin_only, k_keep);
  }
  Requester who;
  who.uid = static_cast<std::uint32_t>(peer.uid);
  who.name = peer_name(peer);
  // Only root administers root's own account. A lookup that fails (rather than finding no such
  // account) counts as protected: a directory outage must not open uid-0 accounts to admins.
  auto protected_subject = [&](std::string_view user) {
    if (peer.uid == 0) {
      return false;
    }
    std::string name(user);
    std::vector<char> buffer(k_nss_buffer);
    passwd pw{};
    passwd* result = nullptr;
    const int rc = getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result);
    if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
      return true;
    }
    return result != nullptr && pw.pw_uid == 0;
  };
  auto refuse_root = [&](std::string_view user) {
    log::warning("permission denied: administrator %s (uid %u) may not act on user=%s",
                 log::sanitize(who.name).c_str(), static_cast<unsigned>(peer.uid),
                 log::sanitize(user).c_str());
    return reply_error(reply, ErrorCode::permission_denied,
                       "permission denied: only root may administer an account with uid 0",
                       k_keep);
  };
  auto logged = [&](const char* action, std::string_view user, const char* result) {
    log::notice("admin %s by %s (uid %u): user=%s result=%s", action,
                log::sanitize(who.name).c_str(), static_cast<unsigned>(peer.uid),
                log::sanitize(user).c_str(), result);
  };

  switch (type) {
  case MessageType::admin_list: {
    AdminListRequest msg;
    if (!decode(payload, msg)) {
      return malformed();
    }
    auto page = m_admin.list(msg.after, k_max_list_entries, who);
    if (!page) {
      return internal(page.error());
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
    if (!encode(out, reply)) {
      return internal(Error{Errc::internal, "an account entry does not fit the protocol's limits"});
    }
    if (msg.after.empty()) {
      logged("list", "-", "success");
    }
    return k_keep;
  }

  case MessageType::admin_disable: {
    AdminDisableRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (protected_subject(msg.user)) {
      return refuse_root(msg.user);
    }
    auto result = m_admin.disable(msg.user, who);
    if (!result) {
      return internal(result.error());
    }
    encode(AdminDisableReply{*result}, reply);
    logged("disable", msg.user,
           *result == AdminDisableResult::disabled ? "disabled" : "not-enrolled");
    return k_keep;
  }

  case MessageType::admin_unlock: {
    AdminUnlockRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (protected_subject(msg.user)) {
      return refuse_root(msg.user);
    }
    auto result = m_admin.unlock(msg.user, who);
    if (!result) {
      return internal(result.error());
    }
    encode(AdminUnlockReply{*result}, reply);
    logged("unlock", msg.user, *result == UnlockResult::unlocked ? "unlocked" : "not-locked");
    return k_keep;
  }

  case MessageType::admin_pass: {
    AdminPassRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    if (protected_subject(msg.user)) {
      return refuse_root(msg.user);
    }
    auto outcome = m_admin.pass(msg.user, msg.duration, who);
    if (!outcome) {
      return internal(outcome.error());
    }
    encode(AdminPassReply{outcome->result,
                          static_cast<std::uint64_t>(std::max<std::int64_t>(outcome->pass_until, 0))},
           reply);
    static const char* const k_names[] = {"granted", "revoked", "no-pass"};
    logged(msg.duration == 0 ? "pass-revoke" : "pass", msg.user,
           k_names[static_cast<int>(outcome->result)]);
    return k_keep;
  }

  case MessageType::admin_log: {
    AdminLogRequest msg;
    if (!decode(payload, msg)) {
      return malformed();
    }
    AuditQuery query;
    const std::string subject = msg.user.empty() ? std::string() : canonical_account_name(msg.user);
    msg.user = subject;
    query.subject = msg.user;
    query.since = to_time(msg.since);
    query.after_id = to_time(msg.after_id);
    query.limit = k_max_log_entries;
    auto page = m_admin.log(query, who);
    if (!page) {
      return internal(page.error());
    }
    AdminLogReply out;
    std::size_t used = 0;
    for (const AuditRecord& record : page->records) {
      const AuditEvent& event = record.event;
      AuditEntry entry{static_cast<std::uint64_t>(record.id),
                       static_cast<std::uint64_t>(std::max<std::int64_t>(event.at, 0)),
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
    if (!encode(out, reply)) {
      return internal(Error{Errc::internal, "an audit entry does not fit the protocol's limits"});
    }
    if (msg.after_id == 0) {
      logged("log", msg.user, "success");
    }
    return k_keep;
  }

  case MessageType::admin_import: {
    AdminImportRequest msg;
    if (!decode(payload, msg)) {
      return malformed();
    }
    // Each entry under its account's canonical name (the views point into `subjects`).
    std::array<std::string, protocol::k_max_import_entries> subjects;
    for (std::size_t i = 0; i < msg.count; ++i) {
      subjects[i] = canonical_account_name(msg.entries[i].user);
      msg.entries[i].user = subjects[i];
    }
    const std::span<const ImportEntry> entries(msg.entries.data(), msg.count);
    for (const ImportEntry& entry : entries) {
      if (protected_subject(entry.user)) {
        return refuse_root(entry.user);
      }
    }
    auto outcome = m_admin.import(entries, msg.replace, who);
    if (!outcome) {
      return internal(outcome.error());
    }
    encode(AdminImportReply{outcome->result, static_cast<std::uint8_t>(outcome->index)}, reply);
    if (outcome->result == ImportResult::imported) {
      log::notice("admin import by %s (uid %u): %u users, first user=%s",
                  log::sanitize(who.name).c_str(), static_cast<unsigned>(peer.uid),
                  static_cast<unsigned>(entries.size()), log::sanitize(entries[0].user).c_str());
    } else {
      log::warning("admin import by %s (uid %u) refused: user=%s: %s",
                   log::sanitize(who.name).c_str(), static_cast<unsigned>(peer.uid),
                   log::sanitize(entries[outcome->index].user).c_str(), outcome->why.c_str());
    }
    return k_keep;
  }

  case MessageType::admin_policy: {
    AdminPolicyRequest msg;
    std::string subject;
    if (!decode_subject(payload, msg, subject)) {
      return malformed();
    }
    const AccountAdmin::PolicyReport report = m_admin.policy(msg.user, who);
    AdminPolicyReply out;
    out.decision = report.answer.decision;
    out.source = report.answer.source;
    out.reason = std::string_view(report.answer.reason).substr(0, limits::text);
    out.dn = std::string_view(report.answer.dn).substr(0, limits::dn);
    out.fetched_at = static_cast<std::uint64_t>(std::max<std::int64_t>(report.answer.fetched_at, 0));
    out.grace_until = static_cast<std::uint64_t>(std::max<std::int64_t>(report.grace_until, 0));
    encode(out, reply);
    logged("policy", msg.user, protocol::name(report.answer.decision));
    return k_keep;
  }

  case MessageType::admin_enforce: {
    AdminEnforceRequest msg;
    if (!decode(payload, msg)) {
      return malformed();
    }
    // The person behind the request: a non-root admin is who the kernel says; root may name
    // the admin who ran sudo (root could act as anyone anyway).
    std::string acting = who.name;
    if (peer.uid == 0 && !msg.invoker.empty()) {
      acting = canonical_account_name(msg.invoker);
    }
    auto outcome = m_admin.enforce(msg.action, msg.grace, msg.force, acting, who);
    if (!outcome) {
      return internal(outcome.error());
    }
    AdminEnforceReply out;
    out.result = outcome->result;
    out.enforced = outcome->state.on;
    out.grace = outcome->state.grace;
    out.since = static_cast<std::uint64_t>(std::max<std::int64_t>(outcome->state.since, 0));
    out.by = std::string_view(outcome->state.by).substr(0, limits::user);
    encode(out, reply);
    if (msg.action != EnforceAction::query) {
      logged(msg.action == EnforceAction::on ? "enforce on" : "enforce off", acting,
             outcome->result == EnforceResult::done ? (msg.force ? "done (forced)" : "done")
                                                    : "refused: no second factor");
    }
    return k_keep;
  }

  default:
    break;
  }
  return reply_error(reply, ErrorCode::unknown_type, "unknown request type", k_close);
}

} // namespace studio2fa
