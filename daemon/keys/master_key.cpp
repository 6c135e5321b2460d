#include "master_key.hpp"

#include "fd.hpp"
#include "file_safety.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace studio2fa {

namespace {

std::string errno_text(int error)
{
  return std::strerror(error);
}

Expected<void> write_all(int fd, const std::uint8_t* data, std::size_t size)
{
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(errno_text(errno));
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return {};
}

Expected<void> fsync_directory(const std::string& dir)
{
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error("cannot open " + dir + ": " + errno_text(errno));
  }
  if (::fsync(fd.get()) != 0) {
    return make_error("cannot sync " + dir + ": " + errno_text(errno));
  }
  return {};
}

// Creates the key file unless it exists. Losing a race with another creator is fine: the
// caller then loads the winner's key.
Expected<void> create_key_file(const std::string& path)
{
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return {};
    }
    return make_error("cannot create master key " + path + ": " + errno_text(errno));
  }

  SecretBytes key(k_master_key_size);
  Expected<void> written = random_bytes({key.data(), key.size()})
                               ? write_all(fd.get(), key.data(), key.size())
                               : Expected<void>(make_error("the random number generator failed"));
  if (written && ::fsync(fd.get()) != 0) {
    written = make_error(errno_text(errno));
  }
  if (!written) {
    // Leave nothing behind that a later start would mistake for a key.
    ::unlink(path.c_str());
    return make_error("cannot write master key " + path + ": " + written.error().message);
  }
  fd.reset();
  return fsync_directory(parent_directory(path));
}

Expected<SecretBytes> read_key_file(const std::string& path)
{
  // O_NONBLOCK: a FIFO planted at the path must not hang the daemon; fstat refuses it below.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      return make_error(path + " is a symbolic link; refusing to follow it");
    }
    return make_error("cannot open master key " + path + ": " + errno_text(errno));
  }

  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return make_error("cannot inspect master key " + path + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(path + " is not a regular file");
  }
  if (st.st_uid != 0) {
    return make_error(path + " is owned by uid " + std::to_string(st.st_uid) +
                      ", not root; run: chown root: " + path);
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(path + " is accessible by group or others (mode " + mode +
                      "); run: chmod 600 " + path);
  }
  if (st.st_size != static_cast<off_t>(k_master_key_size)) {
    return make_error(path + " is " + std::to_string(st.st_size) + " bytes, not " +
                      std::to_string(k_master_key_size) + "; it is not a studio2fa master key");
  }

  SecretBytes key(k_master_key_size);
  std::size_t filled = 0;
  while (filled < key.size()) {
    const ssize_t got = ::read(fd.get(), key.data() + filled, key.size() - filled);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return make_error("cannot read master key " + path + ": " + errno_text(errno));
    }
    if (got == 0) {
      return make_error("cannot read master key " + path + ": file shrank while reading");
    }
    filled += static_cast<std::size_t>(got);
  }
  return key;
}

} // namespace

Expected<SecretBytes> load_or_create_master_key(const std::string& path)
{
  if (auto dir_ok = check_private_path(parent_directory(path), PathKind::directory); !dir_ok) {
    return make_error(dir_ok.error().message);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return make_error("cannot inspect master key " + path + ": " + errno_text(errno));
    }
    if (auto created = create_key_file(path); !created) {
      return make_error(created.error().message);
    }
  }
  return read_key_file(path);
}

Expected<SecretBytes> load_master_key(const std::string& path)
{
  if (auto dir_ok = check_private_path(parent_directory(path), PathKind::directory); !dir_ok) {
    return make_error(dir_ok.error().message);
  }
  return read_key_file(path);
}

} // namespace studio2fa
