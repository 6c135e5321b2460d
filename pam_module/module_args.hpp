// Arguments of pam_studio2fa.so, as written in /etc/pam.d (see pam_studio2fa(8)).
#pragma once

#include "client.hpp"

namespace studio2fa {

struct ModuleArgs {
  const char* socket_path = k_default_socket_path; // points into argv when given
  int timeout_ms = k_default_client_timeout_ms;
  bool debug = false;
  bool otp_only = false;
  bool use_first_pass = false;
  bool try_first_pass = false;
};

// Parses the module's arguments. On an unknown or malformed argument returns false and sets
// `bad` to it: the module then fails closed rather than run with a configuration the admin did
// not mean.
bool parse_module_args(int argc, const char** argv, ModuleArgs& out, const char** bad);

} // namespace studio2fa
