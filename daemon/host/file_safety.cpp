#include "file_safety.hpp"

#include "fd.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace studio2fa {

namespace {

std::string octal_mode(mode_t mode)
{
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

// What the permission bits grant that they should not, in words.
std::string describe_excess_access(mode_t mode)
{
  if (mode & S_IWOTH) {
    return "writable by others";
  }
  if (mode & S_IROTH) {
    return "readable by others";
  }
  if (mode & S_IXOTH) {
    return "accessible by others";
  }
  return "writable by its group";
}

} // namespace

Expected<void> check_private_path(const std::string& path, PathKind kind)
{
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return make_error(path + " does not exist");
    }
    return make_error("cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return make_error(path + " is a symbolic link; refusing to follow it");
  }
  if (kind == PathKind::file && !S_ISREG(st.st_mode)) {
    return make_error(path + " is not a regular file");
  }
  if (kind == PathKind::directory && !S_ISDIR(st.st_mode)) {
    return make_error(path + " is not a directory");
  }
  if (st.st_uid != 0) {
    return make_error(path + " is owned by uid " + std::to_string(st.st_uid) +
                      ", not root; run: chown root: " + path);
  }
  if ((st.st_mode & (S_IRWXO | S_IWGRP)) != 0) {
    const char* fix = kind == PathKind::file ? "chmod 600 " : "chmod 700 ";
    return make_error(path + " is " + describe_excess_access(st.st_mode) + " (mode " +
                      octal_mode(st.st_mode) + "); run: " + fix + path);
  }
  return {};
}

Expected<SecretBytes> read_private_file(const std::string& path, std::size_t max_size,
                                        const char* what)
{
  const std::string named = path + " (" + what + ")";
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    return make_error("cannot open " + std::string(what) + " " + path + ": " +
                      std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return make_error("cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(named + " is not a regular file");
  }
  if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
    return make_error(named +
                      " must be owned by root with mode 0600 or 0400: it holds a "
                      "secret; run: chown root: " +
                      path + " && chmod 600 " + path);
  }
  if (st.st_size == 0) {
    return make_error(named + " is empty");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return make_error(named + " is larger than " + std::to_string(max_size) + " bytes");
  }
  SecretBytes content(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return make_error("cannot read " + path + ": " + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  return content;
}

std::string parent_directory(const std::string& path)
{
  // dirname(3) semantics, without its habit of modifying the argument.
  std::string::size_type end = path.find_last_not_of('/');
  if (end == std::string::npos) {
    return path.empty() ? "." : "/";
  }
  const std::string::size_type slash = path.rfind('/', end);
  if (slash == std::string::npos) {
    return ".";
  }
  const std::string::size_type last = path.find_last_not_of('/', slash);
  if (last == std::string::npos) {
    return "/";
  }
  return path.substr(0, last + 1);
}

} // namespace studio2fa
