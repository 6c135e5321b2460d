#include "command_sender.hpp"

#include "body_template.hpp"
#include "fd.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace studio2fa {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t elapsed_ms(Clock::time_point start)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Runs in the child between fork and exec: only async-signal-safe calls, nothing allocated.
[[noreturn]] void exec_child(int input, int null_fd, int max_fd, uid_t uid, gid_t gid,
                             char* const argv[])
{
  static char path_variable[] = "PATH=/usr/local/bin:/usr/bin:/bin";
  static char* const environment[] = {path_variable, nullptr};
  setpgid(0, 0);
  if (dup2(input, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
      dup2(null_fd, STDERR_FILENO) < 0) {
    _exit(126);
  }
  // One close() each, not close_range(), which glibc has only since 2.34.
  for (int fd = 3; fd < max_fd; ++fd) {
    close(fd);
  }
  // Never run the command with the daemon's privileges: every drop must succeed.
  if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0 || getuid() != uid ||
      geteuid() != uid) {
    _exit(126);
  }
  execve(argv[0], argv, environment);
  _exit(127);
}

// Writes all of `data` to `fd` before `until`; false if it could not (the command closed its
// input or did not read it in time: it will be judged by its exit status all the same).
bool write_all(int fd, std::string_view data, Clock::time_point until)
{
  while (!data.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd ready{fd, POLLOUT, 0};
    if (poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

void put_json_string(std::string_view text, std::uint8_t*& out)
{
  *out++ = '"';
  out = put_json_escaped(text, out);
  *out++ = '"';
}

void put_text(std::string_view text, std::uint8_t*& out)
{
  for (const char c : text) {
    *out++ = static_cast<std::uint8_t>(c);
  }
}

} // namespace

SecretBytes sender_json(const OutgoingCode& code)
{
  // At most 6 bytes for each byte of a string, and the keys and punctuation besides.
  SecretBytes buffer(64 + 6 * (code.number.size() + code.message.size()));
  std::uint8_t* out = buffer.data();
  put_text("{\"number\": ", out);
  put_json_string(code.number, out);
  put_text(", \"message\": ", out);
  put_json_string(code.message.view(), out);
  put_text(", \"kind\": ", out);
  put_json_string(name(code.channel), out);
  put_text("}\n", out);
  SecretBytes json(static_cast<std::size_t>(out - buffer.data()));
  std::copy(buffer.data(), out, json.data());
  return json;
}

Expected<CommandSender> CommandSender::create(std::vector<std::string> argv,
                                              const std::string& user)
{
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return make_error(Errc::invalid, "the sender command must be an absolute path");
  }
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (getpwnam_r(user.c_str(), &entry, buffer, sizeof(buffer), &found) != 0 || found == nullptr) {
    return make_error(Errc::invalid, "sender_user " + user + " does not exist");
  }
  if (entry.pw_uid == 0) {
    return make_error(Errc::invalid, "sender_user must not be root: a sender command runs with "
                                     "no more rights than it needs");
  }
  return CommandSender(std::move(argv), entry.pw_uid, entry.pw_gid);
}

SendOutcome CommandSender::send(const OutgoingCode& code, std::chrono::milliseconds deadline)
{
  const Clock::time_point start = Clock::now();
  const Clock::time_point until = start + deadline;
  SendOutcome outcome;
  auto failed = [&](std::string problem) {
    outcome.elapsed_ms = elapsed_ms(start);
    outcome.problem = std::move(problem);
    return outcome;
  };

  const SecretBytes json = sender_json(code);
  std::vector<char*> argv;
  for (std::string& argument : m_argv) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return failed("cannot make the command's input");
  }
  Fd ours(pair[0]);
  Fd theirs(pair[1]);
  Fd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd.valid()) {
    return failed("cannot open /dev/null");
  }
  const long open_max = sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < 1 << 20 ? static_cast<int>(open_max) : 1 << 16;
  const pid_t pid = fork();
  if (pid < 0) {
    return failed("cannot start the command");
  }
  if (pid == 0) {
    exec_child(theirs.get(), null_fd.get(), max_fd, m_uid, m_gid, argv.data());
  }
  setpgid(pid, pid); // also done in the child: whichever runs first, the group exists for kill()
  theirs.reset();
  null_fd.reset();
  write_all(ours.get(), json.view(), until);
  ours.reset(); // end of input

  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      return failed("cannot wait for the command");
    }
    if (Clock::now() >= until) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return failed("no answer within " + std::to_string(deadline.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whatever it left running in its group goes with it.
  kill(-pid, SIGKILL);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    outcome.accepted = true;
    outcome.elapsed_ms = elapsed_ms(start);
    return outcome;
  }
  if (WIFEXITED(status)) {
    return failed("the command exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return failed("the command was killed by signal " + std::to_string(WTERMSIG(status)));
}

} // namespace studio2fa
