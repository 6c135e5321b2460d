#include "import_files.hpp"

#include "base32.hpp"
#include "fd.hpp"
#include "secure_memory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

namespace studio2fa {

namespace {

constexpr std::size_t k_min_secret_bytes = 10; // Google Authenticator's 80 bits
constexpr std::size_t k_max_secret_bytes = 64;
constexpr std::size_t k_max_codes = 10;
constexpr off_t k_max_file_size = 64 * 1024 * 1024;

// The whole file, in memory that is wiped afterwards. A symbolic link is refused: root reading a
// file in a user's home must not be led elsewhere.
Expected<SecretBytes> read_private_file(const std::string& path)
{
  // O_NONBLOCK: a FIFO planted at the path must not hang the command (refused just below).
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    return make_error("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(path + " is not a regular file");
  }
  if (st.st_size > k_max_file_size) {
    return make_error(path + " is larger than 64 MiB");
  }
  SecretBytes data(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return make_error("cannot read " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  return data;
}

std::string_view trim(std::string_view text)
{
  const char* k_space = " \t\r";
  const std::size_t begin = text.find_first_not_of(k_space);
  if (begin == std::string_view::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(k_space) - begin + 1);
}

// Calls `line(number, text)` for each line; stops at the first error it returns.
template <typename Line> Expected<void> each_line(std::string_view text, Line line)
{
  unsigned number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t newline = text.find('\n');
    const std::string_view current = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (auto done = line(number, trim(current)); !done) {
      return done;
    }
  }
  return {};
}

std::vector<std::string_view> fields(std::string_view line)
{
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t begin = line.find_first_not_of(" \t");
    if (begin == std::string_view::npos) {
      return out;
    }
    line.remove_prefix(begin);
    const std::size_t end = line.find_first_of(" \t");
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) {
      return out;
    }
    line.remove_prefix(end);
  }
}

// A decoded secret of the right size, re-encoded as canonical base32.
Expected<SecretBytes> canonical(const SecretBytes& secret, const std::string& where)
{
  if (secret.size() < k_min_secret_bytes || secret.size() > k_max_secret_bytes) {
    return make_error(where + ": the secret is " + std::to_string(secret.size()) +
                      " bytes; 10 to 64 are accepted");
  }
  return base32::encode(secret.span());
}

Expected<SecretBytes> from_base32(std::string_view text, const std::string& where)
{
  auto decoded = base32::decode(text);
  if (!decoded) {
    return make_error(where + ": the secret is not base32 (" + decoded.error().message + ")");
  }
  return canonical(*decoded, where);
}

int hex_value(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

Expected<SecretBytes> from_hex(std::string_view text, const std::string& where)
{
  if (text.size() % 2 != 0) {
    return make_error(where + ": the secret is not hexadecimal (odd length)");
  }
  SecretBytes bytes(text.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) {
      return make_error(where + ": the secret is not hexadecimal");
    }
    bytes.data()[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return canonical(bytes, where);
}

std::optional<unsigned> parse_number(std::string_view text)
{
  if (text.empty() || text.size() > 6) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

} // namespace

Expected<std::vector<ImportAccount>> read_base32_secret(FILE* in, const std::string& user,
                                                        const totp::Parameters& params)
{
  char buffer[512];
  if (fgets(buffer, sizeof(buffer), in) == nullptr) {
    return make_error("no secret on standard input");
  }
  const std::string_view line = trim(std::string_view(buffer, strcspn(buffer, "\r\n")));
  auto secret = from_base32(line, "standard input");
  secure_wipe(buffer, sizeof(buffer));
  if (!secret) {
    return Unexpected<Error>{secret.error()};
  }
  std::vector<ImportAccount> accounts(1);
  accounts[0].user = user;
  accounts[0].secret_base32 = std::move(*secret);
  accounts[0].params = params;
  return accounts;
}

Expected<std::vector<ImportAccount>> read_google_authenticator(const std::string& path,
                                                               const std::string& user)
{
  auto data = read_private_file(path);
  if (!data) {
    return Unexpected<Error>{data.error()};
  }
  ImportAccount account;
  account.user = user;
  bool totp_auth = false;
  bool hotp = false;
  auto parsed = each_line(data->view(), [&](unsigned number, std::string_view line) -> Expected<void> {
    const std::string where = path + ":" + std::to_string(number);
    if (number == 1) {
      auto secret = from_base32(line, where);
      if (!secret) {
        return Unexpected<Error>{secret.error()};
      }
      account.secret_base32 = std::move(*secret);
      return {};
    }
    if (line.empty()) {
      return {};
    }
    if (line.front() == '"') {
      const std::vector<std::string_view> words = fields(line.substr(1));
      if (words.empty()) {
        return {};
      }
      if (words[0] == "TOTP_AUTH") {
        totp_auth = true;
      } else if (words[0] == "HOTP_COUNTER") {
        hotp = true;
      } else if (words[0] == "STEP_SIZE") {
        const auto period = words.size() == 2 ? parse_number(words[1]) : std::nullopt;
        if (!period || *period < 10 || *period > 300) {
          return make_error(where + ": STEP_SIZE must be 10 to 300 seconds");
        }
        account.params.period = *period;
      }
      // RATE_LIMIT, WINDOW_SIZE and DISALLOW_REUSE have studio2fad.conf equivalents.
      return {};
    }
    if (line.size() != 8 || !parse_number(line.substr(0, 4)) || !parse_number(line.substr(4))) {
      return make_error(where + ": expected an option line or an 8-digit scratch code");
    }
    if (account.codes.size() == k_max_codes) {
      return make_error(where + ": more than 10 scratch codes");
    }
    account.codes.emplace_back(
      std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()));
    return {};
  });
  if (!parsed) {
    return Unexpected<Error>{parsed.error()};
  }
  if (account.secret_base32.empty()) {
    return make_error(path + " is empty");
  }
  if (hotp || !totp_auth) {
    return make_error(path + " is for counter-based (HOTP) codes, which studio2fa does not do; "
                             "only time-based (\" TOTP_AUTH) files can be imported");
  }
  std::vector<ImportAccount> accounts;
  accounts.push_back(std::move(account));
  return accounts;
}

Expected<std::vector<ImportAccount>> read_oath_usersfile(const std::string& path,
                                                         std::vector<std::string>& warnings)
{
  auto data = read_private_file(path);
  if (!data) {
    return Unexpected<Error>{data.error()};
  }
  std::vector<ImportAccount> accounts;
  std::set<std::string> seen;
  std::size_t hotp_users = 0;
  auto parsed = each_line(data->view(), [&](unsigned number, std::string_view line) -> Expected<void> {
    if (line.empty() || line.front() == '#') {
      return {};
    }
    const std::string where = path + ":" + std::to_string(number);
    const std::vector<std::string_view> words = fields(line);
    if (words.size() < 4 || words.size() > 6) {
      return make_error(where + ": expected 'TYPE USER PIN SECRET [COUNTER [TIME]]'");
    }
    const std::string_view type = words[0];
    const std::string user(words[1]);
    if (type.substr(0, 4) != "HOTP") {
      return make_error(where + ": unknown token type (expected HOTP, HOTP/E or HOTP/T30...)");
    }
    if (type.substr(0, 6) != "HOTP/T") {
      ++hotp_users;
      warnings.push_back(where + ": " + user + " has a counter-based (HOTP) token; skipped");
      return {};
    }
    // HOTP/T<period>[/<digits>]
    std::string_view rest = type.substr(6);
    const std::size_t slash = rest.find('/');
    const auto period = parse_number(rest.substr(0, slash));
    std::optional<unsigned> digits = 6;
    if (slash != std::string_view::npos) {
      digits = parse_number(rest.substr(slash + 1));
    }
    if (!period || *period < 10 || *period > 300 || !digits || *digits < 6 || *digits > 8) {
      return make_error(where + ": " + std::string(type) +
                        " is not a TOTP type studio2fa takes (period 10 to 300 s, 6 to 8 digits)");
    }
    if (!seen.insert(user).second) {
      warnings.push_back(where + ": " + user + " appears again; only the first token is taken");
      return {};
    }
    if (words[2] != "-" && words[2] != "+") {
      warnings.push_back(where + ": the PIN of " + user +
                         " is dropped (studio2fa asks for the password instead)");
    }
    auto secret = from_hex(words[3], where);
    if (!secret) {
      return Unexpected<Error>{secret.error()};
    }
    ImportAccount account;
    account.user = user;
    account.secret_base32 = std::move(*secret);
    account.params.period = *period;
    account.params.digits = *digits;
    accounts.push_back(std::move(account));
    return {};
  });
  if (!parsed) {
    return Unexpected<Error>{parsed.error()};
  }
  if (hotp_users > 0) {
    warnings.push_back(std::to_string(hotp_users) +
                       " counter-based (HOTP) users were skipped: studio2fa does time-based codes");
  }
  return accounts;
}

} // namespace studio2fa
