// FUZZ_CHECK for the libFuzzer targets in tests/fuzz/: an invariant that must hold for every
// input. A broken one prints what broke and aborts, which libFuzzer reports as a crash and saves
// the input (crash-<sha1>), exactly as for a memory error found by the sanitizers.
//
// The message goes to stdout: tests/run_fuzz.sh runs fuzz_request_handler with
// -close_fd_mask=2 to silence the daemon's log, and that closes stderr for the target.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                                \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stdout, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, what,         \
                   #condition);                                                                    \
      std::fflush(stdout);                                                                         \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)
