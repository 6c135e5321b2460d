#include "module_args.hpp"

#include <cstring>

namespace studio2fa {

namespace {

bool starts_with(const char* text, const char* prefix, const char** rest)
{
  std::size_t length = strlen(prefix);
  if (strncmp(text, prefix, length) != 0) {
    return false;
  }
  *rest = text + length;
  return true;
}

// A whole number of seconds from 1 to 300.
bool parse_seconds(const char* text, int& out_ms)
{
  if (*text == '\0' || strlen(text) > 3) {
    return false;
  }
  int value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') {
      return false;
    }
    value = value * 10 + (*p - '0');
  }
  if (value < 1 || value > 300) {
    return false;
  }
  out_ms = value * 1000;
  return true;
}

// The length of a code: one digit, 6 to 8 (as totp_digits in studio2fad.conf).
bool parse_code_digits(const char* text, int& out)
{
  if (text[0] < '6' || text[0] > '8' || text[1] != '\0') {
    return false;
  }
  out = text[0] - '0';
  return true;
}

} // namespace

bool parse_module_args(int argc, const char** argv, ModuleArgs& out, const char** bad)
{
  const char* single_prompt = nullptr;
  for (int i = 0; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = nullptr;
    if (arg == nullptr) {
      continue;
    }
    if (strcmp(arg, "debug") == 0) {
      out.debug = true;
    } else if (strcmp(arg, "otp_only") == 0) {
      out.otp_only = true;
    } else if (strcmp(arg, "use_first_pass") == 0) {
      out.use_first_pass = true;
    } else if (strcmp(arg, "try_first_pass") == 0) {
      out.try_first_pass = true;
    } else if (strcmp(arg, "single_prompt") == 0) {
      out.single_prompt = true;
      single_prompt = arg;
    } else if (starts_with(arg, "code_digits=", &value) &&
               parse_code_digits(value, out.code_digits)) {
    } else if (starts_with(arg, "socket=", &value) && value[0] == '/') {
      out.socket_path = value;
    } else if (starts_with(arg, "timeout=", &value) && parse_seconds(value, out.timeout_ms)) {
    } else {
      *bad = arg;
      return false;
    }
  }
  if (out.single_prompt && out.otp_only) {
    *bad = single_prompt;
    return false;
  }
  return true;
}

} // namespace studio2fa
