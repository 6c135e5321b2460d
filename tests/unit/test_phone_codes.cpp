// Codes sent by text message or voice call (daemon/auth/phone_codes, phone_code_factor,
// send_budget, phone_message): the NIST SP 800-63B rules for out-of-band codes, under a
// ManualClock, and the code as a factor beside TOTP and backup codes (factors.cpp).
#include "account_ledger.hpp"
#include "backup_codes.hpp"
#include "clock.hpp"
#include "factors.hpp"
#include "phone_codes.hpp"
#include "phone_dispatch.hpp"
#include "phone_message.hpp"
#include "recording_sender.hpp"
#include "sealer.hpp"
#include "send_budget.hpp"
#include "sqlite_store.hpp"
#include "totp.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

constexpr std::int64_t k_start = 1'700'000'000;

struct Keys {
  std::optional<PhoneCodeHasher> phone;
  std::optional<BackupCodeHasher> backup;
  std::optional<Sealer> sealer;
};

Keys make_keys()
{
  SecretBytes key(32);
  assert_true(random_bytes({key.data(), key.size()}));
  Keys keys;
  auto phone = PhoneCodeHasher::create(key.span());
  auto backup = BackupCodeHasher::create(key.span());
  assert_true(phone.has_value() && backup.has_value());
  keys.phone.emplace(std::move(*phone));
  keys.backup.emplace(std::move(*backup));
  auto sealer = Sealer::create(std::move(key));
  assert_true(sealer.has_value());
  keys.sealer.emplace(std::move(*sealer));
  return keys;
}

UserRecord phone_user()
{
  UserRecord record;
  record.user = "alice";
  record.phone = "+447946004567";
  record.phone_methods = k_phone_sms;
  return record;
}

// Issues a code that the rules must allow, and returns it.
std::string issue_code(const PhoneCodes& codes, UserRecord& record, std::int64_t now,
                       PhoneCodePurpose purpose = PhoneCodePurpose::login)
{
  auto issued = codes.issue(record, purpose, now);
  assert_true(issued.has_value());
  if (issued->refused()) {
    fail_msg("refused at %lld: %s", static_cast<long long>(now), issued->refusal);
  }
  return std::string(issued->code.view());
}

void assert_check(const PhoneCodes& codes, const UserRecord& record, PhoneCodePurpose purpose,
                  const std::string& code, std::int64_t now, PhoneCodeCheck expected)
{
  assert_int_equal(static_cast<int>(codes.check(record, purpose, code, now)),
                   static_cast<int>(expected));
}

// A six-digit code that is not `code`.
std::string other_code(const std::string& code)
{
  std::string other = code;
  other[5] = other[5] == '9' ? '0' : static_cast<char>(other[5] + 1);
  return other;
}

void test_code_shape_and_storage(void**)
{
  Keys keys = make_keys();
  PhoneCodes codes(*keys.phone, {});
  std::set<std::string> seen;
  ManualClock clock(k_start);
  for (int i = 0; i < 40; ++i) {
    UserRecord record = phone_user();
    const std::string code = issue_code(codes, record, clock.now());
    assert_int_equal(code.size(), 6);
    assert_true(std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }));
    seen.insert(code);
    // Only the keyed hash is kept: neither the code nor its digits' bytes are in the record.
    assert_true(std::search(record.phone_code.begin(), record.phone_code.end(), code.begin(),
                            code.end()) == record.phone_code.end());
    assert_true(record.phone_code == keys.phone->hash("alice", PhoneCodePurpose::login,
                                                      record.phone, code,
                                                      record.phone_code_sent_at));
    assert_int_equal(record.phone_code_expires_at, clock.now() + 300);
  }
  // From the CSPRNG: forty draws of a million values do not repeat much.
  assert_true(seen.size() >= 38);
}

void test_single_use_and_expiry(void** state)
{
  (void)state;
  Keys keys = make_keys();
  PhoneCodeRules rules;
  rules.lifetime = 120;
  PhoneCodes codes(*keys.phone, rules);
  ManualClock clock(k_start);
  UserRecord record = phone_user();
  const std::string code = issue_code(codes, record, clock.now());

  clock.advance(119);
  assert_check(codes, record, PhoneCodePurpose::login, code, clock.now(), PhoneCodeCheck::match);
  // Spaces are allowed; the purpose is part of what it proves.
  assert_check(codes, record, PhoneCodePurpose::login, code.substr(0, 3) + " " + code.substr(3),
               clock.now(), PhoneCodeCheck::match);
  assert_check(codes, record, PhoneCodePurpose::confirm, code, clock.now(),
               PhoneCodeCheck::no_code);
  clock.advance(1);
  assert_check(codes, record, PhoneCodePurpose::login, code, clock.now(), PhoneCodeCheck::no_code);

  // Used once, never again.
  clock.set(k_start + 10);
  UserRecord again = phone_user();
  const std::string second = issue_code(codes, again, clock.now());
  PhoneCodes::use(again);
  assert_check(codes, again, PhoneCodePurpose::login, second, clock.now(), PhoneCodeCheck::no_code);

  // Ten minutes at most, whatever is configured.
  rules.lifetime = 3600;
  PhoneCodes capped(*keys.phone, rules);
  UserRecord third = phone_user();
  issue_code(capped, third, clock.now());
  assert_int_equal(third.phone_code_expires_at, clock.now() + 600);
}

void test_three_tries(void**)
{
  Keys keys = make_keys();
  PhoneCodes codes(*keys.phone, {});
  ManualClock clock(k_start);
  UserRecord record = phone_user();
  const std::string code = issue_code(codes, record, clock.now());
  const std::string wrong = other_code(code);
  for (int i = 0; i < 2; ++i) {
    assert_check(codes, record, PhoneCodePurpose::login, wrong, clock.now(), PhoneCodeCheck::wrong);
    assert_false(codes.count_wrong(record));
  }
  assert_check(codes, record, PhoneCodePurpose::login, "12a456", clock.now(),
               PhoneCodeCheck::wrong);
  assert_true(codes.count_wrong(record)); // the third wrong try voids it
  assert_false(record.has_phone_code());
  assert_check(codes, record, PhoneCodePurpose::login, code, clock.now(), PhoneCodeCheck::no_code);
}

void test_new_code_voids_old(void**)
{
  Keys keys = make_keys();
  PhoneCodes codes(*keys.phone, {});
  ManualClock clock(k_start);
  UserRecord record = phone_user();
  const std::string first = issue_code(codes, record, clock.now());
  clock.advance(60);
  const std::string second = issue_code(codes, record, clock.now());
  if (first != second) {
    assert_check(codes, record, PhoneCodePurpose::login, first, clock.now(), PhoneCodeCheck::wrong);
  }
  assert_check(codes, record, PhoneCodePurpose::login, second, clock.now(), PhoneCodeCheck::match);
  // A code for a number being confirmed goes to that number, and voids the login code.
  record.pending_phone = "+14155550100";
  clock.advance(60);
  const std::string confirm = issue_code(codes, record, clock.now(), PhoneCodePurpose::confirm);
  assert_check(codes, record, PhoneCodePurpose::login, second, clock.now(),
               PhoneCodeCheck::no_code);
  assert_true(record.phone_code == keys.phone->hash("alice", PhoneCodePurpose::confirm,
                                                    "+14155550100", confirm, clock.now()));
  // No number, no code.
  UserRecord none;
  none.user = "bob";
  auto refused = codes.issue(none, PhoneCodePurpose::login, clock.now());
  assert_false(refused.has_value());
  assert_int_equal(static_cast<int>(refused.error().code), static_cast<int>(Errc::invalid));
}

void test_resend_and_hourly_cap(void**)
{
  Keys keys = make_keys();
  PhoneCodeRules rules;
  rules.sends_per_user_hour = 3;
  PhoneCodes codes(*keys.phone, rules);
  ManualClock clock(k_start);
  UserRecord record = phone_user();
  issue_code(codes, record, clock.now());

  // A resend within the minute is refused, saying when one may go.
  clock.advance(45);
  auto early = codes.issue(record, PhoneCodePurpose::login, clock.now());
  assert_true(early.has_value() && early->refused());
  assert_int_equal(early->retry_after, 15);
  assert_true(early->code.empty());
  assert_int_equal(record.phone_sends, 1);

  clock.advance(15);
  issue_code(codes, record, clock.now());
  clock.advance(60);
  issue_code(codes, record, clock.now());
  // Three in the hour that began at k_start: the fourth waits for its end.
  clock.advance(60);
  auto capped = codes.issue(record, PhoneCodePurpose::login, clock.now());
  assert_true(capped.has_value() && capped->refused());
  assert_int_equal(capped->retry_after, k_start + 3600 - clock.now());
  assert_non_null(strstr(capped->refusal, "hour"));
  clock.set(k_start + 3600);
  issue_code(codes, record, clock.now());
  assert_int_equal(record.phone_sends, 1);
  assert_int_equal(record.phone_sends_since, k_start + 3600);

  // A clock stepped back does not hold the rations longer than they last.
  clock.set(k_start);
  issue_code(codes, record, clock.now());
}

void test_host_budget(void**)
{
  SendBudget budget(2);
  assert_int_equal(budget.take(k_start), 0);
  assert_int_equal(budget.take(k_start + 100), 0);
  assert_int_equal(budget.take(k_start + 200), 3400);
  budget.give_back(k_start + 100); // that one never reached the gateway
  assert_int_equal(budget.take(k_start + 200), 0);
  assert_int_equal(budget.take(k_start + 3599), 1);
  assert_int_equal(budget.take(k_start + 3600), 0);
  SendBudget unlimited(0);
  for (int i = 0; i < 1000; ++i) {
    assert_int_equal(unlimited.take(k_start), 0);
  }
}

void test_messages(void**)
{
  PhoneMessageTexts texts;
  texts.issuer = "Pinewood VFX";
  const SecretBytes sms = compose_message(texts, PhoneChannel::sms, "042917", 5);
  assert_string_equal(std::string(sms.view()).c_str(),
                      "042917 is your Pinewood VFX login code. It works for 5 minutes. Do not "
                      "give it to anyone.");
  // A voice call reads the digits one by one, twice.
  const SecretBytes voice = compose_message(texts, PhoneChannel::voice, "042917", 5);
  assert_string_equal(std::string(voice.view()).c_str(),
                      "This is Pinewood VFX. Your login code is: 0, 4, 2, 9, 1, 7. Again: 0, 4, "
                      "2, 9, 1, 7. It works for 5 minutes.");
  texts.sms = "{issuer}: {code} {unknown}";
  assert_string_equal(std::string(compose_message(texts, PhoneChannel::sms, "1", 1).view()).c_str(),
                      "Pinewood VFX: 1 {unknown}");

  // The log line: the channel, the masked number, the time; never the code or the number.
  const std::string detail = sent_detail(PhoneChannel::sms, "+447946004567", 412);
  assert_string_equal(detail.c_str(),
                      "code sent (sms, \u2022\u2022\u2022\u2022\u2022\u20224567, gateway accepted "
                      "in 412 ms)");
  assert_null(strstr(detail.c_str(), "7946"));
}

// The code as a login factor beside an app and backup codes.
void test_factor_beside_totp(void**)
{
  Keys keys = make_keys();
  PhoneCodes codes(*keys.phone, {});
  Factors factors(*keys.sealer, *keys.backup, FactorRules{1, 20, 3}, &codes);
  ManualClock clock(k_start);
  UserRecord record = phone_user();
  const std::uint8_t bytes[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  const std::span<const std::uint8_t> secret(bytes);
  assert_true(factors.activate(record, secret, totp::Parameters{}, 0, clock.now()).has_value());

  // No code sent: a six-digit code is the app's, and a wrong one is not charged to the phone.
  char totp_code[9];
  totp::format_code(*totp::hotp(secret, totp::time_step(clock.now(), 30), totp::Algorithm::sha1, 6),
                    6, totp_code);
  const std::string sent = issue_code(codes, record, clock.now());
  auto verdict = factors.verify(record, sent, clock.now());
  assert_true(verdict.has_value());
  if (sent != totp_code) {
    assert_true(verdict->right());
    assert_int_equal(static_cast<int>(verdict->kind()),
                     static_cast<int>(protocol::SecondFactor::phone_code));
    assert_false(factors.settle(record, *verdict, clock.now()));
    assert_false(record.has_phone_code()); // used up
    assert_int_equal(record.last_step, 0); // and the app's step is not
  }

  // The app's code still works while a text is on its way, and uses the app's step.
  clock.advance(60);
  const std::string second = issue_code(codes, record, clock.now());
  totp::format_code(*totp::hotp(secret, totp::time_step(clock.now(), 30), totp::Algorithm::sha1, 6),
                    6, totp_code);
  verdict = factors.verify(record, totp_code, clock.now());
  assert_true(verdict.has_value() && verdict->right());
  assert_int_equal(static_cast<int>(verdict->kind()),
                   static_cast<int>(protocol::SecondFactor::totp));

  // A wrong six-digit code is charged to both: the throttle counts it, the text's tries too.
  std::string wrong = other_code(second);
  while (wrong == totp_code) {
    wrong = other_code(wrong);
  }
  for (int i = 0; i < 3; ++i) {
    verdict = factors.verify(record, wrong, clock.now());
    assert_true(verdict.has_value());
    assert_false(verdict->right());
    assert_false(factors.settle(record, *verdict, clock.now()));
  }
  assert_int_equal(record.failures, 3);
  assert_false(record.has_phone_code()); // voided after three
  assert_true(record.lock == protocol::LockState::none);
  verdict = factors.verify(record, second, clock.now());
  assert_true(verdict.has_value());
  assert_true(!verdict->right() || std::string(totp_code) == second);

  // Without PhoneCodes the factor is not there: a sent code proves nothing.
  Factors app_only(*keys.sealer, *keys.backup, FactorRules{1, 20, 3});
  clock.advance(60);
  const std::string third = issue_code(codes, record, clock.now());
  verdict = app_only.verify(record, third, clock.now());
  assert_true(verdict.has_value());
  assert_true(!verdict->right() || verdict->kind() == protocol::SecondFactor::totp);

  // Removing every factor removes the number and any code.
  factors.remove_all(record);
  assert_false(record.has_phone());
  assert_false(record.has_phone_code());
}

// --- sending a login code (PhoneDispatch) ---------------------------------------------------

struct DispatchFixture {
  std::string dir;
  ManualClock clock{k_start};
  Keys keys = make_keys();
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<AccountLedger> ledger;
  PhoneCodes codes{*keys.phone, PhoneCodeRules{}};
  SendBudget budget{3};
  RecordingSender sms;
  SenderPool sms_pool{sms, 2, std::chrono::milliseconds(1000)};
  std::unique_ptr<PhoneDispatch> dispatch;
  Requester who{0, "root", "sshd", "192.0.2.7", "ssh"};

  UserRecord load(const std::string& user)
  {
    auto held = ledger->lock(user);
    auto loaded = ledger->load(user);
    assert_true(loaded && loaded->has_value());
    return **loaded;
  }
  void save(UserRecord record)
  {
    assert_true(
        ledger->commit(record, ledger->event(who, "test", record.user, "ok", "")).has_value());
  }
  // The audit rows of `user`'s code sendings, "outcome: detail".
  std::vector<std::string> audit(const std::string& user)
  {
    AuditQuery query;
    query.subject = user;
    auto rows = ledger->read_audit(query);
    assert_true(rows.has_value());
    std::vector<std::string> lines;
    for (const AuditRecord& row : *rows) {
      if (row.event.action == "phone-code") {
        lines.push_back(row.event.outcome + ": " + row.event.detail);
      }
    }
    return lines;
  }
};

int dispatch_setup(void** state)
{
  auto f = std::make_unique<DispatchFixture>();
  char templ[] = "/tmp/s2fa-phone-XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  f->dir = templ;
  auto store = SqliteStore::open(f->dir + "/studio2fa.db");
  if (!store) {
    return -1;
  }
  f->store = std::move(*store);
  f->ledger = std::make_unique<AccountLedger>(*f->store, f->clock, 86400);
  f->dispatch = std::make_unique<PhoneDispatch>(*f->ledger, f->codes, f->budget, &f->sms_pool,
                                                nullptr, PhoneMessageTexts{});
  UserRecord alice = phone_user();
  f->save(alice);
  *state = f.release();
  return 0;
}

int dispatch_teardown(void** state)
{
  auto* f = static_cast<DispatchFixture*>(*state);
  const std::string command = "rm -rf '" + f->dir + "'";
  delete f;
  return std::system(command.c_str()) == 0 ? 0 : -1;
}

using Result = PhoneSendOutcome::Result;

void assert_result(const PhoneSendOutcome& outcome, Result expected)
{
  if (outcome.result != expected) {
    fail_msg("result %d, not %d (%s)", static_cast<int>(outcome.result), static_cast<int>(expected),
             outcome.notice.c_str());
  }
}

void test_dispatch_sends_and_audits(void** state)
{
  auto& f = *static_cast<DispatchFixture*>(*state);
  const PhoneSendOutcome sent = f.dispatch->send_login_code("alice", f.who);
  assert_result(sent, Result::sent);
  assert_string_equal(
      sent.notice.c_str(),
      "A code was sent by text message to \u2022\u2022\u2022\u2022\u2022\u20224567.");
  assert_int_equal(f.sms.messages.size(), 1);
  assert_string_equal(f.sms.numbers[0].c_str(), "+447946004567");
  const std::string code = f.sms.messages[0].substr(0, 6);
  // The stored record holds the hash of the code that went, nothing else of it.
  const UserRecord record = f.load("alice");
  assert_int_equal(
      static_cast<int>(f.codes.check(record, PhoneCodePurpose::login, code, f.clock.now())),
      static_cast<int>(PhoneCodeCheck::match));
  const std::vector<std::string> audit = f.audit("alice");
  assert_int_equal(audit.size(), 2);
  assert_string_equal(audit[0].c_str(),
                      "issued: code made for sms, \u2022\u2022\u2022\u2022\u2022\u20224567");
  assert_string_equal(audit[1].c_str(),
                      "sent: code sent (sms, \u2022\u2022\u2022\u2022\u2022\u20224567, gateway "
                      "accepted in 412 ms)");
  for (const std::string& line : audit) {
    assert_null(strstr(line.c_str(), code.c_str()));
  }
}

void test_dispatch_rations(void** state)
{
  auto& f = *static_cast<DispatchFixture*>(*state);
  assert_result(f.dispatch->send_login_code("alice", f.who), Result::sent);
  f.clock.advance(20);
  const PhoneSendOutcome early = f.dispatch->send_login_code("alice", f.who);
  assert_result(early, Result::refused);
  assert_int_equal(early.retry_after, 40);
  assert_non_null(strstr(early.notice.c_str(), "Try again in 40 seconds"));
  assert_int_equal(f.sms.messages.size(), 1);

  // The host's cap (3 an hour here) holds across users.
  for (const char* user : {"bob", "carol", "dave"}) {
    UserRecord other = phone_user();
    other.user = user;
    f.save(other);
  }
  assert_result(f.dispatch->send_login_code("bob", f.who), Result::sent);
  assert_result(f.dispatch->send_login_code("carol", f.who), Result::sent);
  const PhoneSendOutcome capped = f.dispatch->send_login_code("dave", f.who);
  assert_result(capped, Result::refused);
  assert_int_equal(capped.retry_after, 3600 - 20);
  assert_non_null(strstr(capped.notice.c_str(), "this hour"));
  assert_int_equal(f.sms.messages.size(), 3);
  // And the refused one left dave's record as it was: no code, nothing counted.
  const UserRecord dave = f.load("dave");
  assert_false(dave.has_phone_code());
  assert_int_equal(dave.phone_sends, 0);
}

void test_dispatch_fails_closed(void** state)
{
  auto& f = *static_cast<DispatchFixture*>(*state);
  f.sms.accept = false;
  const PhoneSendOutcome failed = f.dispatch->send_login_code("alice", f.who);
  assert_result(failed, Result::failed);
  assert_string_equal(failed.notice.c_str(),
                      "could not send a code; use your app or a backup code");
  // The code that may have gone is void.
  const std::string code = f.sms.messages[0].substr(0, 6);
  const UserRecord record = f.load("alice");
  assert_false(record.has_phone_code());
  assert_int_equal(
      static_cast<int>(f.codes.check(record, PhoneCodePurpose::login, code, f.clock.now())),
      static_cast<int>(PhoneCodeCheck::no_code));
  const std::vector<std::string> audit = f.audit("alice");
  assert_string_equal(
      audit.back().c_str(),
      "failed: not sent (sms, \u2022\u2022\u2022\u2022\u2022\u20224567, the command "
      "exited with status 1)");

  // A user without a number, and one whose only method has no sender: nothing is sent.
  UserRecord bob;
  bob.user = "bob";
  f.save(bob);
  assert_result(f.dispatch->send_login_code("bob", f.who), Result::no_phone);
  assert_result(f.dispatch->send_login_code("nobody-at-all", f.who), Result::no_phone);
  UserRecord carol = phone_user();
  carol.user = "carol";
  carol.phone_methods = k_phone_voice;
  f.save(carol);
  assert_result(f.dispatch->send_login_code("carol", f.who), Result::no_phone);
  assert_int_equal(f.sms.messages.size(), 1);
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_code_shape_and_storage),
      cmocka_unit_test(test_single_use_and_expiry),
      cmocka_unit_test(test_three_tries),
      cmocka_unit_test(test_new_code_voids_old),
      cmocka_unit_test(test_resend_and_hourly_cap),
      cmocka_unit_test(test_host_budget),
      cmocka_unit_test(test_messages),
      cmocka_unit_test(test_factor_beside_totp),
      cmocka_unit_test_setup_teardown(test_dispatch_sends_and_audits, dispatch_setup,
                                      dispatch_teardown),
      cmocka_unit_test_setup_teardown(test_dispatch_rations, dispatch_setup, dispatch_teardown),
      cmocka_unit_test_setup_teardown(test_dispatch_fails_closed, dispatch_setup,
                                      dispatch_teardown),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
