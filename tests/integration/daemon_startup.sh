#!/bin/bash
# Start-up safety: the master key is created root-only, unsafe permissions and bad configs are
# refused with a message naming the file, a database that cannot be read is never replaced,
# and no secret is on disk in plaintext.
. "$top_srcdir/tests/integration/lib.sh"

# expect_refusal DESCRIPTION PATTERN: the daemon must exit non-zero and log PATTERN.
expect_refusal() {
  local description=$1 pattern=$2 out rc=0
  out=$(timeout 10 env $(nss_env) "$S2FAD" -f -c "$CONF" 2>&1) && rc=0 || rc=$?
  if [ "$rc" -ne 0 ] && grep -qF -- "$pattern" <<< "$out"; then
    ok "$description"
  else
    not_ok "$description (rc=$rc, output: $out)"
  fi
}

# Allow cores in the environment the daemon starts from, so that a core limit of 0 below is the
# daemon's own doing.
ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
check "daemon starts on an empty directory" start_daemon
check "master key created" test -f "$KEY"
check "master key is mode 0600" test "$(stat -c %a "$KEY")" = 600
check "master key is root's" test "$(stat -c %u "$KEY")" = 0
check "master key is 32 bytes" test "$(stat -c %s "$KEY")" = 32
check "database created" test -f "$DB"
check "database is mode 0600" test "$(stat -c %a "$DB")" = 600
check "socket is mode 0666 (access is decided per request)" test "$(stat -c %a "$SOCK")" = 666
check "socket is root's" test "$(stat -c %u "$SOCK")" = 0

# Secrets stay out of core dumps: no core at all (RLIMIT_CORE 0, and the daemon makes itself
# non-dumpable), and the secure heap that holds them is locked in RAM and marked don't-dump.
check "the daemon cannot write a core file (limit 0)" \
  grep -Eq '^Max core file size +0 +0 ' "/proc/$S2FA_DAEMON_PID/limits"
check "its secrets' memory is locked (lo) and excluded from dumps (dd)" \
  bash -c 'grep "^VmFlags:" "/proc/$0/smaps" | grep " lo " | grep -q " dd"' "$S2FA_DAEMON_PID"

check "alice enrolls" enroll alice
A=$SECRET
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "alice logs in" login_succeeded

# No plaintext secret in the database, its WAL, or the log: neither the base32 text nor the
# raw bytes.
no_secret_in() {
  python3 - "$A" "$@" <<'PY'
import base64, sys
secret_b32 = sys.argv[1]
raw = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
for path in sys.argv[2:]:
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        continue
    if raw in data or secret_b32.encode() in data or secret_b32.lower().encode() in data:
        print("secret found in", path); sys.exit(1)
PY
}
check "no plaintext secret in the db, WAL or log" no_secret_in "$DB" "$DB-wal" "$DB-shm" "$DAEMON_LOG"
out=$(env $(nss_env) "$S2FAD" --check-config -c "$CONF" 2>&1); rc=$?
check "a second daemon on the same database is refused (rc=$rc)" \
  bash -c '[ "$0" -ne 0 ] && grep -q "$1" <<< "$2"' "$rc" "$DB" "$out"
stop_daemon
check "the db does hold a sealed secret for alice" \
  bash -c '[ "$(sqlite3 "$0" "select length(secret) from users where name = '"'"'alice'"'"'")" -gt 20 ]' "$DB"
check "no plaintext secret after a clean stop (WAL checkpointed)" no_secret_in "$DB" "$DB-wal"

# Swapping rows between users fails: alice's sealed secret copied to bob does not open for bob.
sqlite3 "$DB" "insert or replace into users (name, secret, algorithm, digits, period, enrolled_at, last_step, failures, last_failure_at, pending_secret, pending_algorithm, pending_digits, pending_period, pending_created_at) select 'bob', secret, algorithm, digits, period, enrolled_at, 0, 0, 0, pending_secret, pending_algorithm, pending_digits, pending_period, pending_created_at from users where name = 'alice'"
check "daemon starts" start_daemon
next_step
pam_login s2fa bob 'bob-Pa55word' "$(code_for "$A")"
check "alice's secret copied to bob's row does not log bob in" login_failed_with 9
check "and the daemon says why" grep -q 'secret of bob cannot be opened' "$DAEMON_LOG"
stop_daemon

# --check-config
out=$(env $(nss_env) "$S2FAD" --check-config -c "$CONF" 2>&1); rc=$?
check "--check-config accepts a good setup (rc=$rc: $out)" test "$rc" -eq 0

# Unsafe permissions, each refused with the file named.
chmod 0644 "$KEY"
expect_refusal "key readable by others is refused" "$KEY"
chmod 0600 "$KEY"
chown 5001 "$KEY"
expect_refusal "key owned by a user is refused" "$KEY"
chown 0 "$KEY"
chmod 0755 "$T/lib"
expect_refusal "database directory open to others is refused" "$T/lib"
chmod 0700 "$T/lib"
chmod 0666 "$CONF"
expect_refusal "config writable by others is refused" "$CONF"
chmod 0644 "$CONF"
chmod 0604 "$DB"
expect_refusal "database readable by others is refused" "$DB"
chmod 0600 "$DB"

# Config errors name file:line.
cp "$CONF" "$T/good.conf"
echo "totp_digits = 9" >> "$CONF"
expect_refusal "bad value names file and line" "$CONF:$(wc -l < "$CONF"): bad value for totp_digits"
cp "$T/good.conf" "$CONF"
echo "no_such_key = 1" >> "$CONF"
expect_refusal "unknown key names file and line" "$CONF:$(wc -l < "$CONF"): unknown key 'no_such_key'"
cp "$T/good.conf" "$CONF"; chmod 0644 "$CONF"

# A database that cannot be read is refused and left as it was.
cp "$DB" "$T/db.backup"
head -c 4096 /dev/urandom > "$DB"
rm -f "$DB-wal" "$DB-shm"
before=$(sha256sum < "$DB")
expect_refusal "garbage database is refused" "$DB"
check "garbage database is left untouched" test "$(sha256sum < "$DB")" = "$before"
cp "$T/db.backup" "$DB"
truncate -s 3000 "$DB"
before=$(sha256sum < "$DB")
expect_refusal "truncated database is refused" "$DB"
check "truncated database is left untouched" test "$(sha256sum < "$DB")" = "$before"
cp "$T/db.backup" "$DB"

# A wrong master key: secrets cannot be opened, logins fail closed.
mv "$KEY" "$T/key.backup"
head -c 32 /dev/urandom > "$KEY"; chmod 0600 "$KEY"
check "daemon starts with another key" start_daemon
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "wrong master key: login fails closed (PAM_AUTHINFO_UNAVAIL)" login_failed_with 9
stop_daemon
mv "$T/key.backup" "$KEY"

# Something that is not a socket at socket_path is not replaced.
echo "not a socket" > "$SOCK"
expect_refusal "a regular file at socket_path is refused" "$SOCK exists and is not a socket"
check "and left in place" grep -q "not a socket" "$SOCK"
rm -f "$SOCK"

check "daemon starts again with everything restored" start_daemon
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "alice logs in after all that" login_succeeded

# A socket directory the daemon makes itself (no systemd RuntimeDirectory: a container, a
# chroot, a manual start) is open to every user whatever the daemon's umask: users reach it.
stop_daemon
SOCK_KEEP=$SOCK
SOCK=$T/run/made-by-daemon/studio2fad.sock
write_config
check "daemon starts with a socket directory that does not exist yet" start_daemon
check "it creates that directory 0755" test "$(stat -c %a "$T/run/made-by-daemon")" = 755
OUT=$(as_user alice "$S2FA_CLI" --socket "$SOCK" status 2>&1)
check "a user reaches the daemon through it" grep -q "on for alice" <<< "$OUT"
# A directory closed to users: the CLI says so, not that the daemon is not running.
chmod 0700 "$T/run/made-by-daemon"
OUT=$(as_user alice "$S2FA_CLI" --socket "$SOCK" status 2>&1)
check "a closed socket directory: 'permission denied on the socket'" \
  grep -q "permission denied on the socket" <<< "$OUT"
check "... and not 'not running'" bash -c '! grep -q "not running" <<< "$0"' "$OUT"
chmod 0755 "$T/run/made-by-daemon"
chmod 0600 "$SOCK"
OUT=$(as_user alice "$S2FA_CLI" --socket "$SOCK" status 2>&1)
check "a socket closed to users: 'permission denied on the socket'" \
  grep -q "permission denied on the socket" <<< "$OUT"
stop_daemon
SOCK=$SOCK_KEEP
write_config
check "daemon starts again on the usual socket" start_daemon

# SIGTERM: clean exit, socket removed.
kill -TERM "$S2FA_DAEMON_PID"; rc=0; wait "$S2FA_DAEMON_PID" || rc=$?; S2FA_DAEMON_PID=
check "SIGTERM: exit status 0" test "$rc" -eq 0
check "SIGTERM: socket removed" test ! -e "$SOCK"

finish
