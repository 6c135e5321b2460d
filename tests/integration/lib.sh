# Shared set-up for the integration tests (sourced; bash).
#
# Each test gets a private world in a temp directory: a passwd/group/shadow for nss_wrapper
# (no change to the machine's accounts), a config, socket, database and master key for a real
# studio2fad started from the build tree, and a PAM service directory for pam_wrapper in which
# the real pam_studio2fa.so is stacked. Time, for the daemon, is real time plus an offset the test
# moves with advance_time (libfaketime); codes come from oathtool at that same time.
#
# Output is TAP: check/ok/not_ok print one line each; finish prints the plan and exits non-zero
# when anything failed.

set -u
: "${top_builddir:?run through make check, or set top_builddir and top_srcdir}"
: "${top_srcdir:?}"

S2FA_MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
find_lib() {
  local name=$1 dir
  for dir in "/usr/lib/$S2FA_MULTIARCH" "/usr/lib/$S2FA_MULTIARCH/faketime" /usr/lib64 \
             /usr/lib64/faketime /usr/lib /usr/lib/faketime; do
    if [ -e "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  echo "lib.sh: cannot find $name" >&2
  return 1
}
NSS_WRAPPER_LIB=$(find_lib libnss_wrapper.so)
PAM_WRAPPER_LIB=$(find_lib libpam_wrapper.so)
FAKETIME_LIB=$(find_lib libfaketimeMT.so.1)

# A sanitizer build (configure --enable-sanitizers): ASan must tolerate the preloaded wrappers
# (nss_wrapper, pam_wrapper, libfaketime) ahead of it. Leaks are checked by the unit tests and
# by module_valgrind.sh; here LeakSanitizer would report the wrappers' own allocations.
S2FA_SANITIZED=no
if grep -q -- '-fsanitize=address' "$top_builddir/Makefile" 2>/dev/null; then
  S2FA_SANITIZED=yes
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
  # pam_wrapper loads libpam with RTLD_DEEPBIND, which ASan refuses; this turns it off (the
  # variable's name in pam_wrapper 1.1 is the one it shares with uid_wrapper).
  export UID_WRAPPER_DISABLE_DEEPBIND=1 PAM_WRAPPER_DISABLE_DEEPBIND=1
  # nss_wrapper does the same when a program resolves host names (libldap does).
  export NSS_WRAPPER_DISABLE_DEEPBIND=1
fi
# skip_if_sanitized WHY: for tests that load the module into programs not built with ASan.
skip_if_sanitized() {
  if [ "$S2FA_SANITIZED" = yes ]; then
    echo "1..0 # SKIP in the sanitizer build: $*"
    exit 0
  fi
}

S2FAD=$top_builddir/studio2fad
S2FA_CLI=$top_builddir/studio2fa
S2FA_ADMIN=$top_builddir/studio2fa-admin
S2FA_MODULE=$top_builddir/.libs/pam_studio2fa.so
PAM_LOGIN=$top_builddir/tests/integration/pam_login

T=$(mktemp -d /tmp/studio2fa-test.XXXXXX)
chmod 0711 "$T"
mkdir -m 0700 "$T/etc" "$T/lib"
mkdir -m 0755 "$T/run" "$T/pam.d" "$T/home"
SOCK=$T/run/studio2fad.sock
CONF=$T/etc/studio2fad.conf
DB=$T/lib/studio2fa.db
KEY=$T/etc/master.key
DAEMON_LOG=$T/daemon.log
echo "+0" > "$T/faketime"
chmod 0644 "$T/faketime"
S2FA_DAEMON_PID=

# --- TAP ------------------------------------------------------------------------------------
S2FA_TESTS=0
S2FA_FAILED=0
ok() { S2FA_TESTS=$((S2FA_TESTS + 1)); echo "ok $S2FA_TESTS - $*"; }
not_ok() {
  S2FA_TESTS=$((S2FA_TESTS + 1)); S2FA_FAILED=$((S2FA_FAILED + 1))
  echo "not ok $S2FA_TESTS - $*"
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local description=$1; shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
diag() { echo "# $*"; }
finish() {
  echo "1..$S2FA_TESTS"
  [ "$S2FA_FAILED" -eq 0 ]
  exit $?
}

cleanup() {
  stop_daemon
  if [ "${S2FA_KEEP:-}" = 1 ]; then
    echo "# kept $T" >&2
  else
    rm -rf "$T"
  fi
}
trap cleanup EXIT

# --- accounts -------------------------------------------------------------------------------
# add_user NAME UID PASSWORD (an empty PASSWORD makes a locked account)
add_user() {
  local name=$1 uid=$2 password=$3 hash
  if [ -n "$password" ]; then hash=$(openssl passwd -6 -salt "s2fa$uid" "$password"); else hash='!'; fi
  echo "$name:x:$uid:$uid:$name:$T/home/$name:/bin/sh" >> "$T/passwd"
  echo "$name:x:$uid:" >> "$T/group"
  echo "$name:$hash:19000:0:99999:7:::" >> "$T/shadow"
}
: > "$T/passwd"; : > "$T/group"; : > "$T/shadow"
echo "root:x:0:0:root:/root:/bin/sh" >> "$T/passwd"
echo "root:x:0:" >> "$T/group"
add_user alice 5001 'alice-Pa55word'
add_user bob 5002 'bob-Pa55word'
add_user carol 5003 ''
add_user dave 5004 'dave-Pa55word'
chmod 0644 "$T/passwd" "$T/group"
chmod 0600 "$T/shadow"
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$T/passwd"; }

nss_env() {
  echo "LD_PRELOAD=$NSS_WRAPPER_LIB" "NSS_WRAPPER_PASSWD=$T/passwd" "NSS_WRAPPER_GROUP=$T/group" \
       "NSS_WRAPPER_SHADOW=$T/shadow"
}

# as_user NAME COMMAND...: runs COMMAND with the uid/gid of NAME, under nss_wrapper.
as_user() {
  local uid; uid=$(uid_of "$1"); shift
  setpriv --reuid="$uid" --regid="$uid" --clear-groups env $(nss_env) "$@"
}

# --- configuration and daemon ---------------------------------------------------------------
write_config() {
  cat > "$CONF" <<CONF
# written by tests/integration/lib.sh
socket_path = $SOCK
db_path = $DB
key_path = $KEY
issuer = Studio Test
CONF
  if [ $# -gt 0 ]; then printf '%s\n' "$@" >> "$CONF"; fi
  chmod 0644 "$CONF"
}
write_config

start_daemon() {
  : >> "$DAEMON_LOG"
  env $(nss_env) LD_PRELOAD="$NSS_WRAPPER_LIB $FAKETIME_LIB" \
    FAKETIME_TIMESTAMP_FILE="$T/faketime" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
    "$S2FAD" -f -c "$CONF" >> "$DAEMON_LOG" 2>&1 &
  S2FA_DAEMON_PID=$!
  local i
  for i in $(seq 1 100); do
    if [ -S "$SOCK" ]; then return 0; fi
    if ! kill -0 "$S2FA_DAEMON_PID" 2>/dev/null; then
      wait "$S2FA_DAEMON_PID" 2>/dev/null
      S2FA_DAEMON_PID=
      return 1
    fi
    sleep 0.05
  done
  return 1
}

stop_daemon() {
  if [ -n "${S2FA_DAEMON_PID:-}" ]; then
    kill "$S2FA_DAEMON_PID" 2>/dev/null
    wait "$S2FA_DAEMON_PID" 2>/dev/null
    S2FA_DAEMON_PID=
  fi
}

kill_daemon_hard() {
  if [ -n "${S2FA_DAEMON_PID:-}" ]; then
    kill -9 "$S2FA_DAEMON_PID" 2>/dev/null
    wait "$S2FA_DAEMON_PID" 2>/dev/null
    S2FA_DAEMON_PID=
  fi
}

# --- time and codes -------------------------------------------------------------------------
S2FA_OFFSET=0
advance_time() {
  S2FA_OFFSET=$((S2FA_OFFSET + $1))
  # libfaketime rereads the file at every clock call: replace it whole (rename is atomic), or
  # the daemon may read it half-written and see its clock jump back.
  echo "+$S2FA_OFFSET" > "$T/faketime.new"
  mv -f "$T/faketime.new" "$T/faketime"
}
fake_now() { echo $(( $(date +%s) + S2FA_OFFSET )); }
# Moves to the start of a fresh time step (past the last one used), so a new code is due.
next_step() {
  local now period=${1:-30}
  now=$(fake_now)
  advance_time $(( period - now % period ))
}
# code_for SECRET [OFFSET_SECONDS]: the code an app shows now (plus an offset), per oathtool.
code_for() { oathtool --totp -b "$1" --now "@$(( $(fake_now) + ${2:-0} ))"; }

# --- PAM ------------------------------------------------------------------------------------
# pam_service NAME ARGS...: a service whose auth stack is just pam_studio2fa with ARGS.
pam_service() {
  local name=$1; shift
  {
    echo "auth required $S2FA_MODULE socket=$SOCK $*"
    echo "account required pam_permit.so"
  } > "$T/pam.d/$name"
}
pam_service s2fa
# libpam reads "other" first; an empty-handed one keeps pam_wrapper from complaining.
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' > "$T/pam.d/other"

# pam_wrapped COMMAND...: runs COMMAND (a program or a function) that runs under pam_wrapper,
# holding a lock that every test script shares. pam_wrapper 1.1.4 picks its runtime directory
# /tmp/pam.X with lstat() then mkdir(), so two processes starting at the same moment (test
# scripts run in parallel) can pick the same one, overwrite each other's service files, and the
# first to exit removes it from under the other: an unrelated login then fails. One
# pam_wrapper process at a time across scripts cannot collide; within a script they never
# overlap. A lock not had within 300 s fails the command (status 75) rather than hanging.
S2FA_PWRAP_LOCK=/tmp/studio2fa-pam_wrapper.lock
pam_wrapped() {
  local fd rc=0
  exec {fd}>> "$S2FA_PWRAP_LOCK"
  if ! flock -w 300 "$fd"; then
    echo "lib.sh: no pam_wrapper lock within 300 s ($S2FA_PWRAP_LOCK)" >&2
    exec {fd}>&-
    return 75
  fi
  "$@" || rc=$?
  exec {fd}>&-
  return "$rc"
}

# pam_login SERVICE USER ANSWER...: logs in through the real module under pam_wrapper. Sets
# LOGIN_OUT (everything the user saw) and LOGIN_RC (the PAM return code).
pam_login() {
  local service=$1 user=$2; shift 2
  LOGIN_RC=0
  LOGIN_OUT=$(printf '%s\n' "$@" | pam_wrapped env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" "$PAM_LOGIN" "$service" "$user") || LOGIN_RC=$?
}
login_succeeded() { [ "$LOGIN_RC" -eq 0 ] && grep -q '^RESULT Success 0$' <<< "$LOGIN_OUT"; }
login_failed_with() { [ "$LOGIN_RC" -eq "$1" ]; }
saw() { grep -qF -- "$1" <<< "$LOGIN_OUT"; }

# --- enrollment -----------------------------------------------------------------------------
# enroll USER: enrolls USER through the real CLI running as USER, confirming with an oathtool
# code; sets SECRET (base32) and leaves the secret in $T/secret.USER.
enroll() {
  local user=$1 out fifo code uri
  fifo=$T/enroll.$user.fifo
  rm -f "$fifo"; mkfifo -m 0666 "$fifo"
  as_user "$user" "$S2FA_CLI" --socket "$SOCK" enroll --no-qr < "$fifo" > "$T/enroll.$user.out" 2>&1 &
  local pid=$! i
  exec 9> "$fifo"
  for i in $(seq 1 100); do
    grep -q '^otpauth://' "$T/enroll.$user.out" 2>/dev/null && break
    sleep 0.05
  done
  uri=$(grep '^otpauth://' "$T/enroll.$user.out" | head -n1)
  SECRET=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<< "$uri")
  code=$(code_for "$SECRET")
  echo "$code" >&9
  exec 9>&-
  wait "$pid"
  local rc=$?
  rm -f "$fifo"
  echo "$SECRET" > "$T/secret.$user"
  return $rc
}

# admin USER|root ARGS...: the real studio2fa-admin; sets OUT (stdout and stderr) and RC.
admin() {
  local who=$1; shift
  RC=0
  if [ "$who" = root ]; then
    OUT=$("$S2FA_ADMIN" --socket "$SOCK" "$@" 2>&1) || RC=$?
  else
    OUT=$(as_user "$who" "$S2FA_ADMIN" --socket "$SOCK" "$@" 2>&1) || RC=$?
  fi
}

# raw USER|root ARGS...: the independent protocol client (raw_client.py), as USER.
RAW_CLIENT=$top_srcdir/tests/integration/raw_client.py
raw() {
  local who=$1; shift
  if [ "$who" = root ]; then
    python3 "$RAW_CLIENT" "$SOCK" "$@"
  else
    as_user "$who" python3 "$RAW_CLIENT" "$SOCK" "$@"
  fi
}
