// The command sender and the sender pool (daemon/sender/): the JSON on standard input and
// nowhere else, the unprivileged user, exit status 0 as acceptance, the deadline, and the cap on
// sends at once. Needs root (the sender switches to another user): skipped otherwise.
#include "command_sender.hpp"
#include "sender_pool.hpp"

#include <atomic>
#include <chrono>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;
using std::chrono::milliseconds;

namespace {

constexpr const char* k_sender_user = "nobody";

struct TempDir {
  std::string path;
  std::string file(const std::string& name) const { return path + "/" + name; }
};

int make_temp_dir(void** state)
{
  char templ[] = "/tmp/s2fa-sender-XXXXXX";
  if (mkdtemp(templ) == nullptr || chmod(templ, 0777) != 0) {
    return -1;
  }
  *state = new TempDir{templ};
  return 0;
}

int remove_temp_dir(void** state)
{
  auto* dir = static_cast<TempDir*>(*state);
  const std::string command = "rm -rf '" + dir->path + "'";
  const int rc = std::system(command.c_str());
  delete dir;
  return rc == 0 ? 0 : -1;
}

const TempDir& temp_dir(void** state)
{
  return *static_cast<TempDir*>(*state);
}

bool skip_unless_root()
{
  if (geteuid() != 0) {
    skip();
    return true;
  }
  return false;
}

std::string read_file(const std::string& path)
{
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An executable script in the test's folder.
std::string write_script(const TempDir& dir, const std::string& name, const std::string& body)
{
  const std::string path = dir.file(name);
  std::ofstream(path) << "#!/bin/sh\n" << body;
  assert_int_equal(chmod(path.c_str(), 0755), 0);
  return path;
}

// Whether `pid` is alive: not gone, and not a zombie waiting for whoever adopted it.
bool running(pid_t pid)
{
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t end = stat.rfind(')');
  return end != std::string::npos && end + 2 < stat.size() && stat[end + 2] != 'Z';
}

OutgoingCode sample_code()
{
  OutgoingCode code;
  code.channel = PhoneChannel::sms;
  code.number = "+447946004567";
  const std::string message = "042917 is your \"Pinewood\" code.\nDo not share it.";
  code.message = SecretBytes(message.size());
  std::copy(message.begin(), message.end(), code.message.data());
  return code;
}

CommandSender make_sender(const std::string& script)
{
  auto sender = CommandSender::create({script, "--gateway", "modem0"}, k_sender_user);
  if (!sender) {
    fail_msg("%s", sender.error().message.c_str());
  }
  return std::move(*sender);
}

void test_json(void**)
{
  const SecretBytes json = sender_json(sample_code());
  assert_string_equal(
      std::string(json.view()).c_str(),
      "{\"number\": \"+447946004567\", \"message\": \"042917 is your \\\"Pinewood\\\" "
      "code.\\u000aDo not share it.\", \"kind\": \"sms\"}\n");
  OutgoingCode voice = sample_code();
  voice.channel = PhoneChannel::voice;
  assert_non_null(strstr(std::string(sender_json(voice).view()).c_str(), "\"kind\": \"voice\""));
}

void test_refuses_bad_setup(void**)
{
  auto relative = CommandSender::create({"send-sms"}, k_sender_user);
  assert_false(relative.has_value());
  assert_int_equal(static_cast<int>(relative.error().code), static_cast<int>(Errc::invalid));
  auto root = CommandSender::create({"/bin/true"}, "root");
  assert_false(root.has_value());
  assert_non_null(strstr(root.error().message.c_str(), "root"));
  auto unknown = CommandSender::create({"/bin/true"}, "no-such-user-s2fa");
  assert_false(unknown.has_value());
}

void test_accepted_on_stdin_only(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const TempDir& dir = temp_dir(state);
  const std::string script =
      write_script(dir, "send.sh",
                   "cat > " + dir.file("stdin") + "\nid -u > " + dir.file("uid") + "\nid -G > " +
                       dir.file("groups") + "\necho \"$@\" > " + dir.file("argv") + "\nenv > " +
                       dir.file("env") + "\nexit 0\n");
  CommandSender sender = make_sender(script);
  const OutgoingCode code = sample_code();
  const SendOutcome outcome = sender.send(code, milliseconds(5000));
  assert_true(outcome.accepted);
  assert_true(outcome.problem.empty());
  assert_true(outcome.elapsed_ms >= 0 && outcome.elapsed_ms < 5000);

  assert_string_equal(read_file(dir.file("stdin")).c_str(),
                      std::string(sender_json(code).view()).c_str());
  const passwd* nobody = getpwnam(k_sender_user);
  assert_non_null(nobody);
  assert_int_equal(std::stoul(read_file(dir.file("uid"))), nobody->pw_uid);
  assert_int_equal(std::stoul(read_file(dir.file("groups"))), nobody->pw_gid); // no others
  assert_string_equal(read_file(dir.file("argv")).c_str(), "--gateway modem0\n");
  // The code is in neither argv nor the environment.
  assert_null(strstr(read_file(dir.file("argv")).c_str(), "042917"));
  assert_null(strstr(read_file(dir.file("env")).c_str(), "042917"));
  assert_null(strstr(read_file(dir.file("env")).c_str(), "7946"));
}

void test_failures(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const TempDir& dir = temp_dir(state);
  CommandSender refuses = make_sender(write_script(dir, "refuse.sh", "cat >/dev/null\nexit 3\n"));
  SendOutcome outcome = refuses.send(sample_code(), milliseconds(5000));
  assert_false(outcome.accepted);
  assert_string_equal(outcome.problem.c_str(), "the command exited with status 3");

  // One that does not read its input is judged by its exit status all the same.
  CommandSender deaf = make_sender(write_script(dir, "deaf.sh", "exit 0\n"));
  assert_true(deaf.send(sample_code(), milliseconds(5000)).accepted);

  // Past the deadline: killed, with everything it started.
  CommandSender hangs = make_sender(
      write_script(dir, "hang.sh", "sleep 30 &\necho $! > " + dir.file("child") + "\nsleep 30\n"));
  const auto start = std::chrono::steady_clock::now();
  outcome = hangs.send(sample_code(), milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  assert_false(outcome.accepted);
  assert_string_equal(outcome.problem.c_str(), "no answer within 300 ms");
  assert_true(took < milliseconds(2000));
  const pid_t child = static_cast<pid_t>(std::stol(read_file(dir.file("child"))));
  std::this_thread::sleep_for(milliseconds(100));
  assert_false(running(child));

  CommandSender missing = make_sender(dir.file("no-such-script"));
  outcome = missing.send(sample_code(), milliseconds(5000));
  assert_false(outcome.accepted);
  assert_string_equal(outcome.problem.c_str(), "the command exited with status 127");
}

void test_pool_cap(void** state)
{
  if (skip_unless_root()) {
    return;
  }
  const TempDir& dir = temp_dir(state);
  CommandSender hangs = make_sender(write_script(dir, "hang.sh", "exec sleep 30\n"));
  SenderPool pool(hangs, 2, milliseconds(1500));
  std::atomic<int> finished{0};
  std::vector<std::thread> hung;
  for (int i = 0; i < 2; ++i) {
    hung.emplace_back([&] {
      assert_false(pool.send(sample_code()).accepted);
      ++finished;
    });
  }
  std::this_thread::sleep_for(milliseconds(300));
  // Both slots taken by the hung gateway: the next send is refused at once, not queued.
  const auto start = std::chrono::steady_clock::now();
  const SendOutcome busy = pool.send(sample_code());
  const auto took = std::chrono::steady_clock::now() - start;
  assert_false(busy.accepted);
  assert_non_null(strstr(busy.problem.c_str(), "busy"));
  assert_true(took < milliseconds(50));
  assert_int_equal(finished.load(), 0);
  for (std::thread& thread : hung) {
    thread.join();
  }
  // The slots come back when the deadline ends the hung sends.
  CommandSender works = make_sender(write_script(dir, "ok.sh", "exit 0\n"));
  SenderPool fresh(works, 1, milliseconds(5000));
  assert_true(fresh.send(sample_code()).accepted);
  assert_true(fresh.send(sample_code()).accepted);
}

} // namespace

int main()
{
#define TMP_TEST(name) cmocka_unit_test_setup_teardown(name, make_temp_dir, remove_temp_dir)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_refuses_bad_setup),
      TMP_TEST(test_accepted_on_stdin_only),
      TMP_TEST(test_failures),
      TMP_TEST(test_pool_cap),
  };
#undef TMP_TEST
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
