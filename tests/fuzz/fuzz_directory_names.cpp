// libFuzzer target: names that come from the directory (daemon/directory/directory.cpp's ancestor_dns,
// which parses a user entry's DN with libldap to find the containers above it).
//
// Input: a base DN and an entry DN, separated by the first NUL byte (or the whole input as the
// entry DN with an empty base).
//
// Beyond "no crash":
// - every DN returned parses again, and has exactly one RDN fewer than the one before it (the
//   first: one fewer than the entry), so the walk goes strictly upwards and ends;
// - with a base, the last DN returned is the base (compared without regard to ASCII case) or
//   nothing is returned; none is above the base.
#include "check.hpp"
#include "directory.hpp"

#include <ldap.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

using namespace studio2fa;

// RDNs in `dn`, or -1 when libldap cannot parse it.
int rdn_count(const std::string& dn)
{
  LDAPDN parsed = nullptr;
  if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
    return -1;
  }
  int count = 0;
  while (parsed != nullptr && parsed[count] != nullptr) {
    ++count;
  }
  ldap_dnfree(parsed);
  return count;
}

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  std::string base = nul == std::string::npos ? std::string() : input.substr(0, nul);
  std::string entry = nul == std::string::npos ? input : input.substr(nul + 1);
  entry = entry.substr(0, entry.find('\0')); // the daemon gets C strings from libldap

  const auto ancestors = ancestor_dns(entry, base);
  if (ancestors.empty()) {
    return 0;
  }
  int previous = rdn_count(entry);
  FUZZ_CHECK(previous > 0, "ancestors of a DN that does not parse");
  for (const std::string& dn : ancestors) {
    const int count = rdn_count(dn);
    FUZZ_CHECK(count == previous - 1, "an ancestor is not one RDN above the one before it");
    previous = count;
  }
  if (!base.empty()) {
    LDAPDN parsed = nullptr;
    FUZZ_CHECK(ldap_str2dn(base.c_str(), &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS,
               "ancestors under a base that does not parse");
    char* normal = nullptr;
    const int rc = ldap_dn2str(parsed, &normal, LDAP_DN_FORMAT_LDAPV3);
    ldap_dnfree(parsed);
    FUZZ_CHECK(rc == LDAP_SUCCESS, "a base that parses does not print");
    const std::string base_text = normal != nullptr ? normal : "";
    ldap_memfree(normal);
    FUZZ_CHECK(lower(ancestors.back()) == lower(base_text), "the walk does not end at the base");
  }
  return 0;
}
