#!/bin/bash
# The daemon as in production (daemonized, logging through syslog(3) to /dev/log, facility
# authpriv): every line it sends is captured and checked. Outcomes are there, with user and
# service; passwords, codes and secrets never are. Runs in a private mount namespace whose /dev
# holds only what the daemon needs, plus a /dev/log socket the test listens on.
if [ "${S2FA_IN_NAMESPACE:-}" != 1 ]; then
  if [ "$(id -u)" -ne 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
    echo "1..0 # SKIP needs root and mount namespaces"; exit 0
  fi
  exec unshare --mount --propagation private env S2FA_IN_NAMESPACE=1 bash "$0" "$@"
fi
. "$top_srcdir/tests/integration/lib.sh"

DEV=$T/dev
mkdir -p "$DEV"
mount -t tmpfs -o mode=0755 tmpfs "$DEV"
for node in null zero random urandom; do
  touch "$DEV/$node"; mount --bind "/dev/$node" "$DEV/$node"
done
python3 "$top_srcdir/tests/integration/syslog_listener.py" "$DEV/log" "$T/syslog.txt" &
listener=$!
for i in $(seq 1 100); do [ -S "$DEV/log" ] && break; sleep 0.05; done
mount --bind "$DEV" /dev
end_capture() {
  kill "$listener" 2>/dev/null
  [ -s "$T/run/daemon.pid" ] && kill "$(cat "$T/run/daemon.pid")" 2>/dev/null
  umount -l /dev
  for node in null zero random urandom; do umount -l "$DEV/$node"; done
  umount -l "$DEV"
  cleanup
}
trap end_capture EXIT

# Daemonized: the parent returns once the child serves (or failed).
env $(nss_env) LD_PRELOAD="$NSS_WRAPPER_LIB $FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$T/faketime" \
  FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 "$S2FAD" -c "$CONF"
check "the daemon starts in the background (exit status $?)" test -S "$SOCK"
pgrep -f "$S2FAD -c $CONF" | head -n1 > "$T/run/daemon.pid"

check "alice enrolls" enroll alice
A=$SECRET
next_step
good=$(code_for "$A")
pam_login s2fa alice 'alice-Pa55word' "$good"
check "alice logs in" login_succeeded
pam_login s2fa alice 'alice-Pa55word' "$good"
check "the replay is refused" login_failed_with 7
pam_login s2fa alice 'Wrong-Pa55word-Xyz' "$(code_for "$A" 30)"
check "a wrong password is refused" login_failed_with 7
sleep 0.3

check "syslog lines were captured" test -s "$T/syslog.txt"
check "they come from studio2fad with facility authpriv (priority <8x>)" \
  grep -q '^<8[0-9]>.*studio2fad\[[0-9]*\]:' "$T/syslog.txt"
check "the success is logged with user and service" \
  grep -q 'authentication success: user=alice service=s2fa' "$T/syslog.txt"
check "the enrollment is logged" grep -q 'enrollment confirmed: user=alice' "$T/syslog.txt"
check "the replay is logged as a failure" grep -q 'authentication denied: user=alice.*reused code' "$T/syslog.txt"
for secret in 'alice-Pa55word' 'Wrong-Pa55word-Xyz' "$good" "$(code_for "$A" 30)" "$A" \
              "$(tr 'A-Z' 'a-z' <<< "$A")"; do
  check "no '${secret:0:3}…' (a password, code or secret) in any syslog line" \
    bash -c '! grep -qF -- "$0" "$1"' "$secret" "$T/syslog.txt"
done
finish
