#!/bin/bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan) into build-fuzz/, then,
# for each target, replays its saved crash inputs (tests/fuzz/regressions/TARGET/, when there
# are any) and fuzzes it for SECONDS (default 30) from a copy of its seed corpus
# (tests/fuzz/corpus/TARGET/; the copy is the working corpus, so the repository is not
# changed). Output is TAP, one line per target and per regression set:
#
#   ok 1 - fuzz_protocol: 812345 runs in 30 s, no crash (cov: 301 ft: 1204)
#
# A crash is a "not ok" line naming the input that reproduces it (build-fuzz/TARGET FILE),
# and the script exits non-zero. Once the bug is fixed, keep that input in
# tests/fuzz/regressions/TARGET/ so that every run replays it. Targets run FUZZ_JOBS at a time
# (default: the number of CPUs).
#
#   tests/run_fuzz.sh [SECONDS]
set -uo pipefail
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$top_srcdir"
seconds=${1:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
cxx=${FUZZ_CXX:-clang++}
out=build-fuzz
targets=(fuzz_protocol fuzz_request_handler fuzz_config fuzz_base32_otpauth fuzz_directory_names
         fuzz_phone_number fuzz_ldap_record_codec fuzz_body_template)

# What libFuzzer needs per target: the longest input worth trying, and any extra option.
max_len() {
  case $1 in
    fuzz_protocol | fuzz_request_handler) echo 8300 ;; # a whole frame and a little more
    fuzz_config) echo 4096 ;;
    fuzz_body_template) echo 4200 ;; # the longest template accepted, a value, and more
    *) echo 1024 ;;
  esac
}
# The request handler logs every request to stderr; closing it keeps the output readable
# (libFuzzer and the sanitizers keep reporting on a copy of it).
extra_options() {
  case $1 in
    fuzz_request_handler) echo -close_fd_mask=2 ;;
  esac
}

tests=0
failed=0
ok() { tests=$((tests + 1)); echo "ok $tests - $*"; }
not_ok() { tests=$((tests + 1)); failed=$((failed + 1)); echo "not ok $tests - $*"; }
diag_file() { sed 's/^/# /' "$1"; }

# --- build ------------------------------------------------------------------------------------
# The project's warnings (configure.ac), but for -Wformat-nonliteral: clang, unlike g++, also
# flags the vprintf-style helper in daemon/host/log.cpp, which has no format attribute.
common_flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
              -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
              -I lib -I daemon -I daemon/server -I daemon/auth -I daemon/store -I daemon/directory
              -I daemon/keys -I daemon/host -I daemon/sender -DSYSCONFDIR='"/etc"')
libs=(-lcrypto -lsqlite3 -lcrypt -lldap -llber -lqrencode -lcurl -lpthread)
mkdir -p "$out/obj" "$out/logs"

# clang links libFuzzer and the sanitizers from its runtime package, which Debian only
# recommends (libclang-rt-14-dev): say so rather than fail on every target.
probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
if ! echo "$probe" | "$cxx" -x c++ -fsanitize=fuzzer,address,undefined - -o "$out/probe" \
     > "$out/logs/probe.log" 2>&1; then
  diag_file "$out/logs/probe.log"
  not_ok "build: $cxx cannot link -fsanitize=fuzzer (on Debian: apt-get install libclang-rt-14-dev)"
  echo "1..$tests"
  exit 1
fi

# Objects are rebuilt when a source or a header they include (from the .d files) is newer, or
# when the flags change.
flags_now="$cxx ${common_flags[*]}"
if [ "$(cat "$out/obj/flags" 2>/dev/null)" != "$flags_now" ]; then
  rm -f "$out"/obj/*.o "$out"/obj/*.d
  echo "$flags_now" > "$out/obj/flags"
fi
out_of_date() { # OUTPUT DEPFILE
  local dep
  [ -f "$1" ] && [ -f "$2" ] || return 0
  for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$2"); do
    [ "$dep" -nt "$1" ] && return 0
  done
  return 1
}
# compile SOURCE OUTPUT [FLAGS...]: one compiler run, its messages in OUTPUT.log.
compile() {
  local source=$1 output=$2; shift 2
  "$cxx" "${common_flags[@]}" -MMD -MF "$output.d" "$source" "$@" -o "$output" \
    > "$output.log" 2>&1
}
# run_limited COMMAND...: runs COMMAND in the background, at most $jobs at once.
run_limited() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  "$@" &
}

# The library code (all of lib/ and daemon/ but the daemon's main) goes into one archive, so
# that each target links only the objects it uses.
library=$out/libstudio2fa_fuzz.a
objects=()
for source in lib/*.cpp daemon/*.cpp daemon/*/*.cpp; do
  [ "$source" = daemon/main.cpp ] && continue
  object=$out/obj/$(echo "${source%.cpp}" | tr / _).o
  objects+=("$object")
  if out_of_date "$object" "$object.d"; then
    rm -f "$object" "$library"
    run_limited compile "$source" "$object" -c -fsanitize=fuzzer-no-link
  fi
done
wait
build_failed=0
for object in "${objects[@]}"; do
  if [ -s "$object.log" ]; then diag_file "$object.log"; fi
  [ -f "$object" ] || build_failed=1
done
if [ "$build_failed" -eq 0 ] && [ ! -f "$library" ]; then
  ar rcs "$library" "${objects[@]}" || build_failed=1
fi
if [ "$build_failed" -eq 0 ]; then
  for target in "${targets[@]}"; do
    if ! out_of_date "$out/$target" "$out/$target.d" && [ ! "$library" -nt "$out/$target" ]; then
      continue
    fi
    rm -f "$out/$target"
    run_limited compile "tests/fuzz/$target.cpp" "$out/$target" -fsanitize=fuzzer \
      "$library" "${libs[@]}"
  done
  wait
  for target in "${targets[@]}"; do
    if [ -s "$out/$target.log" ]; then diag_file "$out/$target.log"; fi
    [ -f "$out/$target" ] || build_failed=1
  done
fi
if [ "$build_failed" -ne 0 ]; then
  not_ok "build: the fuzz targets do not compile (messages above)"
  echo "1..$tests"
  exit 1
fi

# --- run --------------------------------------------------------------------------------------
# fuzz TARGET: replays the regressions, then fuzzes; leaves logs and exit codes in $out/work.
fuzz() {
  local target=$1 work=$out/work/$1 regressions=tests/fuzz/regressions/$1
  rm -rf "$work"
  mkdir -p "$work/corpus" "$out/crashes/$target"
  if compgen -G "$regressions/*" > /dev/null; then
    "$out/$target" $(extra_options "$target") "$regressions"/* > "$work/regressions.log" 2>&1
    echo $? > "$work/regressions.rc"
  fi
  cp tests/fuzz/corpus/"$target"/* "$work/corpus/"
  "$out/$target" $(extra_options "$target") -max_total_time="$seconds" -timeout=10 \
    -max_len="$(max_len "$target")" -print_final_stats=1 -artifact_prefix="$out/crashes/$target/" \
    "$work/corpus" > "$work/fuzz.log" 2>&1
  echo $? > "$work/fuzz.rc"
}

# The lines of a libFuzzer log that say what went wrong.
report() {
  grep -E 'invariant broken|set-up failed|^==[0-9]+== ?ERROR|runtime error|^SUMMARY' "$1" |
    head -n 20 | sed 's/^/# /'
}

export UBSAN_OPTIONS=print_stacktrace=1
for target in "${targets[@]}"; do
  run_limited fuzz "$target"
done
wait

for target in "${targets[@]}"; do
  work=$out/work/$target
  if [ -f "$work/regressions.rc" ]; then
    count=$(find "tests/fuzz/regressions/$target" -type f | wc -l)
    if [ "$(cat "$work/regressions.rc")" -eq 0 ]; then
      ok "$target: replayed $count saved crash input(s), no crash"
    else
      report "$work/regressions.log"
      input=$(sed -n 's/^Running: //p' "$work/regressions.log" | tail -n1)
      not_ok "$target: a saved crash input crashes again: ${input:-see $work/regressions.log}"
    fi
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n1)
  coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/fuzz.log" | tail -n1)
  if [ "$(cat "$work/fuzz.rc")" -eq 0 ]; then
    ok "$target: ${runs:-?} runs in $seconds s, no crash ($coverage)"
  else
    report "$work/fuzz.log"
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/fuzz.log" | tail -n1)
    command=$(echo "$out/$target" $(extra_options "$target"))
    not_ok "$target: crash; reproduce with: $command ${crash:-(no input saved; see $work/fuzz.log)}"
  fi
done
echo "1..$tests"
[ "$failed" -eq 0 ]
