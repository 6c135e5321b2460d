// The benchmark's user population: "name BASE32SECRET" lines, and the codes a phone would show.
#pragma once

#include "base32.hpp"
#include "totp.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace studio2fa::bench {

struct BenchUser {
  std::string name;
  SecretBytes secret;
};

inline std::vector<BenchUser> read_users(const std::string& path, std::size_t first,
                                         std::size_t count)
{
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::vector<BenchUser> users;
  std::string name, encoded;
  for (std::size_t index = 0; in >> name >> encoded; ++index) {
    if (index < first) {
      continue;
    }
    if (users.size() == count) {
      break;
    }
    auto secret = base32::decode(encoded);
    if (!secret) {
      throw std::runtime_error("bad secret for " + name);
    }
    users.push_back({name, std::move(*secret)});
  }
  if (users.size() < count) {
    throw std::runtime_error(path + " has too few users for this run");
  }
  return users;
}

// The SHA1/6/30 code for now: what the user's app shows.
inline std::string current_code(const BenchUser& user)
{
  auto value = totp::hotp(user.secret.span(), totp::time_step(std::time(nullptr), 30),
                          totp::Algorithm::sha1, 6);
  char text[16];
  totp::format_code(value.value_or(0), 6, text);
  return text;
}

} // namespace studio2fa::bench
