// seed: creates the benchmark's users with random TOTP secrets and enrolls them, all at once, in
// a studio2fa database (sealed with its master key), and optionally as Google Authenticator
// secret files and a pam_oath usersfile, so that every implementation verifies the same codes.
//
//   seed --users N --prefix P --out USERS_FILE [--db PATH --key PATH] [--ga-dir DIR]
//        [--oath-file FILE] [--config FILE]
//
// --config: the store is the one studio2fad.conf FILE names (with store = directory, the
// directory), and its db_path stands for --db.
#include "base32.hpp"
#include "config.hpp"
#include "master_key.hpp"
#include "sealer.hpp"
#include "store_factory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

using namespace studio2fa;

namespace {

[[noreturn]] void die(const std::string& message)
{
  fprintf(stderr, "seed: %s\n", message.c_str());
  exit(1);
}

void write_private_file(const std::string& path, const std::string& text, mode_t mode)
{
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    die("cannot write " + path);
  }
  fchmod(fd, mode);
  close(fd);
}

} // namespace

int main(int argc, char** argv)
{
  std::size_t count = 0;
  std::string prefix = "u", out, db, key, ga_dir, oath_file, config_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string option = argv[i], value = argv[i + 1];
    if (option == "--users") {
      count = std::stoul(value);
    } else if (option == "--prefix") {
      prefix = value;
    } else if (option == "--out") {
      out = value;
    } else if (option == "--db") {
      db = value;
    } else if (option == "--key") {
      key = value;
    } else if (option == "--ga-dir") {
      ga_dir = value;
    } else if (option == "--oath-file") {
      oath_file = value;
    } else if (option == "--config") {
      config_file = value;
    } else {
      die("unknown option " + option);
    }
  }
  if (count == 0 || out.empty()) {
    die("usage: seed --users N --prefix P --out FILE [--db PATH --key PATH] [--ga-dir DIR] "
        "[--oath-file FILE]");
  }

  Config config = default_config();
  if (!config_file.empty()) {
    auto loaded = load_config(config_file);
    if (!loaded) {
      die(loaded.error().message);
    }
    config = std::move(*loaded);
    db = config.db_path;
  }
  std::unique_ptr<Store> store;
  std::optional<Sealer> sealer;
  if (!db.empty()) {
    auto master = load_or_create_master_key(key);
    if (!master) {
      die(master.error().message);
    }
    auto created = Sealer::create(std::move(*master));
    if (!created) {
      die(created.error().message);
    }
    sealer.emplace(std::move(*created));
    config.db_path = db;
    auto opened = open_store(config);
    if (!opened) {
      die(opened.error().message);
    }
    store = std::move(*opened);
  }

  std::ofstream users(out);
  std::string oath;
  std::vector<UserRecord> batch;
  const std::int64_t now = std::time(nullptr);
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = prefix + std::to_string(i);
    SecretBytes secret(20);
    if (!random_bytes({secret.data(), secret.size()})) {
      die("random_bytes failed");
    }
    SecretBytes encoded = base32::encode(secret.span());
    users << name << ' ' << encoded.view() << '\n';
    if (store) {
      UserRecord record;
      record.user = name;
      auto sealed = sealer->seal(secret.span(), name, "totp");
      if (!sealed) {
        die(sealed.error().message);
      }
      record.sealed_secret = std::move(*sealed);
      record.enrolled_at = now;
      batch.push_back(std::move(record));
      if (batch.size() == 5000 || i + 1 == count) {
        if (auto saved = store->save_all(batch); !saved) {
          die(saved.error().message);
        }
        batch.clear();
      }
    }
    if (!ga_dir.empty()) {
      write_private_file(ga_dir + "/" + name,
                         std::string(encoded.view()) +
                           "\n\" RATE_LIMIT 3 30\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n",
                         0400);
    }
    if (!oath_file.empty()) {
      char hex[41];
      for (std::size_t b = 0; b < secret.size(); ++b) {
        snprintf(hex + 2 * b, 3, "%02x", secret.data()[b]);
      }
      oath += "HOTP/T30/6\t" + name + "\t-\t" + hex + "\n";
    }
  }
  if (!oath_file.empty()) {
    write_private_file(oath_file, oath, 0600);
  }
  return 0;
}
