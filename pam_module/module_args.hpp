// Arguments of pam_studio2fa.so, as written in /etc/pam.d (see pam_studio2fa(8)).
#pragma once

#include "client.hpp"

namespace studio2fa {

inline constexpr int k_default_code_digits = 6;

struct ModuleArgs {
  const char* socket_path = k_default_socket_path; // points into argv when given
  int timeout_ms = k_default_client_timeout_ms;
  bool debug = false;
  bool otp_only = false;
  bool use_first_pass = false;
  bool try_first_pass = false;
  // One prompt whose answer is the password with the code appended (greeters, screen lockers,
  // VPN clients that show a single password box). The code is its last `code_digits`
  // characters: the daemon's totp_digits, which the module cannot ask for.
  bool single_prompt = false;
  int code_digits = k_default_code_digits;
};

// Parses the module's arguments. On an unknown or malformed argument returns false and sets
// `bad` to it: the module then fails closed rather than run with a configuration the admin did
// not mean. `single_prompt` with `otp_only`, which asks for no password, is refused the same way
// (`bad` names `single_prompt`).
bool parse_module_args(int argc, const char** argv, ModuleArgs& out, const char** bad);

} // namespace studio2fa
