// fsync_bench: what one durable write costs on a file system: COUNT times, 4 KiB written at the
// same offset of a scratch file in DIR and fdatasync(2)ed, as a commit of the database in DIR
// does at the least. The scratch file is removed afterwards.
//
//   fsync_bench --dir DIR --count N
#include "latency.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace studio2fa::bench;

int main(int argc, char** argv)
{
  std::string dir;
  std::size_t count = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string option = argv[i], value = argv[i + 1];
    if (option == "--dir") dir = value;
    else if (option == "--count") count = std::stoul(value);
    else {
      fprintf(stderr, "fsync_bench: unknown option %s\n", option.c_str());
      return 2;
    }
  }
  std::string path = dir + "/fsync_bench.XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) {
    fprintf(stderr, "fsync_bench: cannot create a file in %s: %s\n", dir.c_str(), strerror(errno));
    return 2;
  }
  unlink(path.c_str());
  char block[4096];
  memset(block, 0x5a, sizeof(block));
  std::vector<double> samples;
  std::size_t ok = 0, failed = 0;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    block[0] = static_cast<char>(i);
    auto begin = std::chrono::steady_clock::now();
    bool good = pwrite(fd, block, sizeof(block), 0) == static_cast<ssize_t>(sizeof(block)) &&
                fdatasync(fd) == 0;
    samples.push_back(ms_since(begin));
    (good ? ok : failed)++;
  }
  close(fd);
  Latencies latencies;
  latencies.add(samples);
  print_result("fdatasync", 1, ok, failed, ms_since(start) / 1000.0, latencies);
  return failed == 0 ? 0 : 1;
}
