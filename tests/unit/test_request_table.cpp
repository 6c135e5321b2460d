// The request table (daemon/server/request_table.hpp) and PeerRights: every request type the
// daemon answers has one row, and each row lets in exactly the peers PROTOCOL.md's permission
// table says, read from PROTOCOL.md itself.
//
// Accounts and groups come from nss_wrapper, linked ahead of libc (Makefile.am): main() writes a
// passwd and a group of its own and points NSS_WRAPPER_PASSWD and NSS_WRAPPER_GROUP at them
// before the first lookup.
#include "peer_rights.hpp"
#include "protocol.hpp"
#include "request_table.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// After the C++ headers: cmocka's fail() macro would break <ios>.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;
using protocol::MessageType;

namespace {

constexpr const char* k_admin_group = "s2fa-admins";

// root and toor have uid 0; alice and bob are ordinary users; dave is in admin_group as a
// supplementary member, erin by her primary group.
constexpr const char* k_passwd = "root:x:0:0:root:/root:/bin/sh\n"
                                 "toor:x:0:0:another uid 0:/root:/bin/sh\n"
                                 "alice:x:5001:5001::/home/alice:/bin/sh\n"
                                 "bob:x:5002:5002::/home/bob:/bin/sh\n"
                                 "dave:x:5004:5004::/home/dave:/bin/sh\n"
                                 "erin:x:5005:6000::/home/erin:/bin/sh\n";
constexpr const char* k_group = "root:x:0:\n"
                                "alice:x:5001:\n"
                                "bob:x:5002:\n"
                                "dave:x:5004:\n"
                                "s2fa-admins:x:6000:dave\n";
constexpr uid_t k_alice = 5001;
constexpr uid_t k_bob = 5002;
constexpr uid_t k_dave = 5004;
constexpr uid_t k_erin = 5005;

// What PROTOCOL.md's permission table says of one request type: its cells for root, for a member
// of admin_group and for any other uid, and whether it is one of the changes a non-root
// administrator may not make to an account whose uid is 0.
struct DocumentedRow {
  std::string root;
  std::string admin;
  std::string other;
  bool root_only_for_uid0 = false;
};

std::string g_protocol_md;

std::string protocol_md_path()
{
  if (const char* env = std::getenv("top_srcdir"); env != nullptr && *env != '\0') {
    return std::string(env) + "/PROTOCOL.md";
  }
  const std::string here = __FILE__;
  const std::string tail = "tests/unit/test_request_table.cpp";
  return here.substr(0, here.size() - tail.size()) + "PROTOCOL.md";
}

std::vector<std::string> cells_of(const std::string& line)
{
  std::vector<std::string> cells;
  std::stringstream in(line);
  std::string cell;
  std::getline(in, cell, '|'); // before the first bar
  while (std::getline(in, cell, '|')) {
    const auto first = cell.find_first_not_of(' ');
    const auto last = cell.find_last_not_of(' ');
    cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  if (!cells.empty() && cells.back().empty()) {
    cells.pop_back(); // after the last bar
  }
  return cells;
}

// The `NAME`s in a cell.
std::vector<std::string> quoted_names(const std::string& cell)
{
  std::vector<std::string> names;
  for (std::size_t open = cell.find('`'); open != std::string::npos;
       open = cell.find('`', open + 1)) {
    const std::size_t close = cell.find('`', open + 1);
    if (close == std::string::npos) {
      break;
    }
    names.push_back(cell.substr(open + 1, close - open - 1));
    open = close;
  }
  return names;
}

// Every request type: the bytes below the reply bit that protocol::name() knows.
std::vector<MessageType> request_types()
{
  std::vector<MessageType> types;
  for (unsigned byte = 0; byte < protocol::k_reply_bit; ++byte) {
    const auto type = static_cast<MessageType>(byte);
    if (std::strcmp(protocol::name(type), "?") != 0) {
      types.push_back(type);
    }
  }
  return types;
}

// PROTOCOL.md's permission table, by request name ("ADMIN_*" stands for every ADMIN_ type).
std::map<std::string, DocumentedRow> documented_rows()
{
  std::stringstream in(g_protocol_md);
  std::string line;
  while (std::getline(in, line) && line.rfind("| request | root (uid 0) |", 0) != 0) {
  }
  std::getline(in, line); // |---|---|
  std::map<std::string, DocumentedRow> rows;
  while (std::getline(in, line) && line.rfind("|", 0) == 0) {
    const std::vector<std::string> cells = cells_of(line);
    assert_int_equal(cells.size(), 4);
    DocumentedRow row{cells[1], cells[2], cells[3], false};
    const std::vector<std::string> excepted = quoted_names(cells[2]);
    for (const std::string& name : quoted_names(cells[0])) {
      std::vector<std::string> expanded;
      for (MessageType type : request_types()) {
        const std::string type_name = protocol::name(type);
        if (type_name == name ||
            (name.back() == '*' && type_name.rfind(name.substr(0, name.size() - 1), 0) == 0)) {
          expanded.push_back(type_name);
        }
      }
      if (expanded.empty()) {
        fail_msg("PROTOCOL.md's permission table names %s, which is no request type",
                 name.c_str());
      }
      for (const std::string& type_name : expanded) {
        row.root_only_for_uid0 =
          std::find(excepted.begin(), excepted.end(), type_name) != excepted.end();
        if (!rows.emplace(type_name, row).second) {
          fail_msg("PROTOCOL.md's permission table has %s twice", type_name.c_str());
        }
      }
    }
  }
  return rows;
}

// What a documented cell says of a peer acting on a subject: allowed, or why not. `is_self`:
// the subject is the peer's own account.
Refusal documented(const std::string& cell, bool is_self, bool subject_is_uid0,
                   bool root_only_for_uid0)
{
  if (cell == "yes" || cell == "any subject") {
    return Refusal::none;
  }
  if (cell == "itself only") {
    return is_self ? Refusal::none : Refusal::not_self;
  }
  if (cell == "no") {
    return Refusal::not_admin;
  }
  if (cell.rfind("yes, except changes to an account whose uid is 0", 0) == 0) {
    return root_only_for_uid0 && subject_is_uid0 ? Refusal::uid0_subject : Refusal::none;
  }
  fail_msg("PROTOCOL.md's permission table has a cell this test cannot read: %s", cell.c_str());
  return Refusal::none;
}

// What the daemon decides: the checks serve() makes, in its order.
Refusal decided(const RequestRow& row, uid_t uid, const char* subject, const char* admin_group)
{
  const PeerCredentials peer{4242, uid, uid};
  PeerRights rights(peer, admin_group);
  if (const Refusal why = rights.may_send(row.senders); why != Refusal::none) {
    return why;
  }
  return rights.may_act_on(row.senders, subject);
}

const char* refusal_name(Refusal why)
{
  switch (why) {
  case Refusal::none:
    return "allowed";
  case Refusal::not_admin:
    return "refused: not an administrator";
  case Refusal::not_self:
    return "refused: not itself";
  case Refusal::uid0_subject:
    return "refused: an account with uid 0";
  }
  return "?";
}

struct Case {
  const char* who;
  uid_t uid;
  const char* subject;
  const char* column; // "root", "admin" or "other"
  bool is_self;
  bool subject_is_uid0;
};

// root; the subject itself; another non-root user; admin_group members about another account,
// themselves and an account with uid 0.
constexpr Case k_cases[] = {
  {"root", 0, "alice", "root", true, false},
  {"root", 0, "toor", "root", true, true},
  {"the subject itself", k_alice, "alice", "other", true, false},
  {"another non-root user", k_bob, "alice", "other", false, false},
  {"another non-root user", k_bob, "toor", "other", false, true},
  {"an admin_group member (supplementary group)", k_dave, "alice", "admin", false, false},
  {"an admin_group member (primary group)", k_erin, "alice", "admin", false, false},
  {"an admin_group member, about itself", k_dave, "dave", "admin", true, false},
  {"a non-root admin, about a uid-0 account", k_dave, "toor", "admin", false, true},
  {"a non-root admin, about root", k_erin, "root", "admin", false, true},
};

void test_table_has_each_request_type_once(void**)
{
  const std::vector<MessageType> types = request_types();
  assert_int_equal(request_table().size(), types.size());
  for (MessageType type : types) {
    int rows = 0;
    for (const RequestRow& row : request_table()) {
      rows += row.type == type ? 1 : 0;
    }
    if (rows != 1) {
      fail_msg("%s has %d rows in the request table", protocol::name(type), rows);
    }
    const RequestRow* found = find_request(static_cast<std::uint8_t>(type));
    assert_non_null(found);
    assert_true(found->type == type);
    assert_non_null(found->serve);
    assert_non_null(found->action);
  }
}

void test_other_bytes_have_no_row(void**)
{
  for (unsigned byte = 0; byte <= 0xff; ++byte) {
    const auto type = static_cast<MessageType>(byte);
    const bool request = byte < protocol::k_reply_bit && std::strcmp(protocol::name(type), "?") != 0;
    if (!request && find_request(static_cast<std::uint8_t>(byte)) != nullptr) {
      fail_msg("type 0x%02x is no request type, but has a row", byte);
    }
  }
}

void test_protocol_md_lists_each_request_type_once(void**)
{
  const std::map<std::string, DocumentedRow> rows = documented_rows();
  for (MessageType type : request_types()) {
    if (rows.find(protocol::name(type)) == rows.end()) {
      fail_msg("%s is missing from PROTOCOL.md's permission table", protocol::name(type));
    }
  }
  assert_int_equal(rows.size(), request_types().size());
}

// Every row, every kind of peer: what the daemon decides is what PROTOCOL.md says.
void test_rows_match_protocol_md(void**)
{
  const std::map<std::string, DocumentedRow> rows = documented_rows();
  int checked = 0;
  for (const RequestRow& row : request_table()) {
    const DocumentedRow& doc = rows.at(protocol::name(row.type));
    for (const Case& c : k_cases) {
      const std::string column = c.column;
      const std::string& cell =
        column == "root" ? doc.root : column == "admin" ? doc.admin : doc.other;
      const Refusal expected =
        documented(cell, c.is_self, c.subject_is_uid0, doc.root_only_for_uid0);
      const Refusal actual = decided(row, c.uid, c.subject, k_admin_group);
      if (actual != expected) {
        fail_msg("%s from %s (uid %u) about %s: %s, but PROTOCOL.md says %s (\"%s\")",
                 protocol::name(row.type), c.who, static_cast<unsigned>(c.uid), c.subject,
                 refusal_name(actual), refusal_name(expected), cell.c_str());
      }
      ++checked;
    }
  }
  assert_int_equal(checked, request_types().size() * (sizeof(k_cases) / sizeof(k_cases[0])));
}

// Spot checks that do not go through PROTOCOL.md, so that a misread table cannot hide a hole.
struct KnownAnswer {
  MessageType type;
  uid_t uid;
  const char* subject;
  Refusal expected;
};
constexpr KnownAnswer k_known_answers[] = {
  // A user acts for itself, never for another, and never as an administrator.
  {MessageType::authenticate, k_alice, "alice", Refusal::none},
  {MessageType::authenticate, k_bob, "alice", Refusal::not_self},
  {MessageType::admin_unlock, k_alice, "alice", Refusal::not_admin},
  // An administrator reads anyone's status, but logs in and enrolls only as itself.
  {MessageType::status, k_dave, "alice", Refusal::none},
  {MessageType::enroll_begin, k_dave, "alice", Refusal::not_self},
  // Only root changes an account with uid 0; an administrator may still look at one.
  {MessageType::admin_pass, k_dave, "toor", Refusal::uid0_subject},
  {MessageType::admin_policy, k_dave, "toor", Refusal::none},
  {MessageType::admin_pass, 0, "toor", Refusal::none},
  // A name no account has is nobody's own.
  {MessageType::status, k_alice, "nobody-s2fa", Refusal::not_self},
};

void test_known_answers(void**)
{
  for (const KnownAnswer& known : k_known_answers) {
    const RequestRow* row = find_request(static_cast<std::uint8_t>(known.type));
    assert_non_null(row);
    const Refusal actual = decided(*row, known.uid, known.subject, k_admin_group);
    if (actual != known.expected) {
      fail_msg("%s from uid %u about %s: %s, expected %s", protocol::name(known.type),
               static_cast<unsigned>(known.uid), known.subject, refusal_name(actual),
               refusal_name(known.expected));
    }
  }
}

// With no admin_group, nobody but root is an administrator.
void test_no_admin_group_means_root_only(void**)
{
  for (const RequestRow& row : request_table()) {
    const bool admin_only =
      row.senders == Senders::admin || row.senders == Senders::admin_but_root_only;
    const Refusal for_dave = decided(row, k_dave, "alice", "");
    if (admin_only) {
      assert_true(for_dave == Refusal::not_admin);
      assert_true(decided(row, 0, "alice", "") == Refusal::none);
    }
  }
  const PeerCredentials dave{1, k_dave, k_dave};
  PeerRights rights(dave, "");
  assert_false(rights.is_admin());
  PeerRights with_group(dave, k_admin_group);
  assert_true(with_group.is_admin());
}

void test_peer_names(void**)
{
  const PeerCredentials root{1, 0, 0};
  const PeerCredentials alice{1, k_alice, k_alice};
  const PeerCredentials unknown{1, 7777, 7777};
  assert_string_equal(PeerRights(root, "").name().c_str(), "root");
  assert_string_equal(PeerRights(alice, "").name().c_str(), "alice");
  assert_string_equal(PeerRights(unknown, "").name().c_str(), "uid 7777");
}

bool write_file(const std::string& path, const char* text)
{
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

} // namespace

int main()
{
  char directory[] = "/tmp/test_request_table.XXXXXX";
  if (mkdtemp(directory) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string passwd = std::string(directory) + "/passwd";
  const std::string group = std::string(directory) + "/group";
  if (!write_file(passwd, k_passwd) || !write_file(group, k_group)) {
    std::fprintf(stderr, "cannot write the test's passwd and group in %s\n", directory);
    return 1;
  }
  setenv("NSS_WRAPPER_PASSWD", passwd.c_str(), 1);
  setenv("NSS_WRAPPER_GROUP", group.c_str(), 1);

  std::ifstream in(protocol_md_path());
  std::stringstream text;
  text << in.rdbuf();
  g_protocol_md = text.str();

  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table_has_each_request_type_once),
    cmocka_unit_test(test_other_bytes_have_no_row),
    cmocka_unit_test(test_protocol_md_lists_each_request_type_once),
    cmocka_unit_test(test_rows_match_protocol_md),
    cmocka_unit_test(test_known_answers),
    cmocka_unit_test(test_no_admin_group_means_root_only),
    cmocka_unit_test(test_peer_names),
  };
  const int failed = cmocka_run_group_tests(tests, nullptr, nullptr);
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
  return failed;
}
