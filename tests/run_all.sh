#!/bin/bash
# The whole test suite (run as root): every unit and integration test against a normal build,
# then the unit tests again under AddressSanitizer + UBSan. Prints one closing line,
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

echo "=== unit tests under AddressSanitizer + UBSan (build-asan/) ==="
if bash tests/build.sh build-asan --enable-sanitizers; then
  unit_tests=$(make -s -C build-asan print-unit-tests)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    make -C build-asan -j2 check TESTS="$unit_tests" || status=1
  count build-asan
else
  echo "sanitizer build failed"; status=1; failed=$((failed + 1))
fi

for log in build/test-suite.log build-asan/test-suite.log; do
  if [ -f "$log" ] && grep -q '^# \(FAIL\|ERROR\): *[1-9]' "$log"; then
    echo "--- failures in $log ---"
    sed -n '/^\(FAIL\|ERROR\):/,$p' "$log" | head -200
  fi
done
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
