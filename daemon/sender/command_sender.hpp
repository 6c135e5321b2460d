// A sender that runs a command of the studio's (a script that talks to its SMS modem or its
// provider) as an unprivileged user, in its own process group, and writes it one JSON object
// on standard input:
//
//   {"number": "+447946004567", "message": "042917 is your ... code", "kind": "sms"}
//
// The message (which holds the code) is never in argv or the environment, where other users
// could read it in /proc. Exit status 0 within the deadline means the gateway accepted the
// message; anything else, or no exit in time (the whole process group is then killed), is a
// failure. Its output goes to /dev/null: a sender script must not log the message either.
#pragma once

#include "code_sender.hpp"
#include "expected.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace studio2fa {

class CommandSender final : public CodeSender {
public:
  // `argv[0]` is an absolute path. The command runs as `user` (with that user's group and no
  // supplementary groups); Errc::invalid when the path is relative or the user is unknown or
  // root.
  static Expected<CommandSender> create(std::vector<std::string> argv, const std::string& user);

  SendOutcome send(const OutgoingCode& code, std::chrono::milliseconds deadline) override;

private:
  CommandSender(std::vector<std::string> argv, uid_t uid, gid_t gid)
      : m_argv(std::move(argv)), m_uid(uid), m_gid(gid)
  {
  }

  std::vector<std::string> m_argv;
  uid_t m_uid;
  gid_t m_gid;
};

// The JSON object a command sender is given (RFC 8259 escaping). SecretBytes: it holds the
// message.
SecretBytes sender_json(const OutgoingCode& code);

} // namespace studio2fa
