#!/bin/bash
# The whole test suite (run as root): every unit and integration test against a normal build,
# then all of them again under AddressSanitizer + UBSan, then each libFuzzer target of
# tests/fuzz/ for 30 seconds (tests/run_fuzz.sh), then the release tarball, the RPM and the
# Debian package, the latter also installed, used and purged in a fresh Debian chroot
# (tests/packaging/run.sh). Prints one closing line,
# "N passed, N failed", and exits non-zero if anything failed.
set -uo pipefail
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$top_srcdir"
passed=0
failed=0
status=0

# count LOGDIR: adds the results of a make check run (from its .trs files) to the totals.
count() {
  local p f
  p=$(cat $(find "$1" -name '*.trs') 2>/dev/null | grep -c '^:test-result: \(PASS\|SKIP\|XFAIL\)')
  f=$(cat $(find "$1" -name '*.trs') 2>/dev/null | grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)')
  passed=$((passed + p))
  failed=$((failed + f))
}

echo "=== build and test (build/) ==="
if bash tests/build.sh build; then
  make -C build -j2 check || status=1
  count build
else
  echo "build failed"; status=1; failed=$((failed + 1))
fi

echo "=== the whole suite again under AddressSanitizer + UBSan (build-asan/) ==="
# Unit and integration tests alike; the few that load the module into programs not built
# with ASan (sshd, su, sudo, valgrind) skip themselves there.
if bash tests/build.sh build-asan --enable-sanitizers; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    make -C build-asan -j2 check || status=1
  count build-asan
else
  echo "sanitizer build failed"; status=1; failed=$((failed + 1))
fi

echo "=== fuzzing: each libFuzzer target for 30 s (build-fuzz/) ==="
mkdir -p build-fuzz
fuzz_status=0
bash tests/run_fuzz.sh 30 | tee build-fuzz/run_fuzz.log || fuzz_status=1
p=$(grep -c '^ok ' build-fuzz/run_fuzz.log)
f=$(grep -c '^not ok ' build-fuzz/run_fuzz.log)
if [ "$fuzz_status" -ne 0 ]; then
  status=1
  if [ "$f" -eq 0 ]; then f=1; fi
fi
passed=$((passed + p))
failed=$((failed + f))

echo "=== packaging: make dist, the RPM (rpmbuild) and the Debian package (build-packaging/) ==="
mkdir -p build-packaging
packaging_status=0
bash tests/packaging/run.sh | tee build-packaging/packaging.log || packaging_status=1
# "not ok ... # TODO" is a known, expected failure: counted as passed, like automake's XFAIL.
p=$(grep -c '^ok \|^not ok .*# TODO' build-packaging/packaging.log)
f=$(grep '^not ok ' build-packaging/packaging.log | grep -vc '# TODO')
if [ "$packaging_status" -ne 0 ]; then
  status=1
  if [ "$f" -eq 0 ]; then f=1; fi
fi
passed=$((passed + p))
failed=$((failed + f))

for log in build/test-suite.log build-asan/test-suite.log; do
  if [ -f "$log" ] && grep -q '^# \(FAIL\|ERROR\): *[1-9]' "$log"; then
    echo "--- failures in $log ---"
    sed -n '/^\(FAIL\|ERROR\):/,$p' "$log" | head -200
  fi
done
if grep -q '^not ok ' build-fuzz/run_fuzz.log 2>/dev/null; then
  echo "--- failures in build-fuzz/run_fuzz.log ---"
  grep -E '^(not ok |# )' build-fuzz/run_fuzz.log | head -200
fi
if grep '^not ok ' build-packaging/packaging.log 2>/dev/null | grep -vq '# TODO'; then
  echo "--- failures in build-packaging/packaging.log ---"
  grep '^not ok ' build-packaging/packaging.log | grep -v '# TODO' | head -200
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
