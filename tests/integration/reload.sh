#!/bin/bash
# SIGHUP reloads the configuration, as sshd does: the daemon executes itself afresh (same pid)
# with its listening socket kept open, so clients meanwhile wait instead of being refused. A
# configuration it could not use is refused and the running daemon goes on as it was.
. "$top_srcdir/tests/integration/lib.sh"

check "daemon starts" start_daemon
pid=$S2FA_DAEMON_PID

# A client asking all the time, to see whether any request fails across the reloads.
python3 - "$SOCK" "$T/hammer.out" <<'PY' &
import socket, struct, sys, time
path, out = sys.argv[1], sys.argv[2]
ok = failed = 0
end = time.time() + 8
def ping():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(struct.pack(">I", 2) + bytes([1, 1]))
    reply = s.recv(16)
    s.close()
    return len(reply) >= 6 and reply[5] == 0x81
while time.time() < end:
    try:
        ok += 1 if ping() else 0
    except OSError:
        failed += 1
    time.sleep(0.002)
open(out, "w").write("%d %d\n" % (ok, failed))
PY
hammer=$!
sleep 0.5

reloads_seen() { grep -c 'reloaded, serving' "$DAEMON_LOG"; }
wait_reloads() {
  local want=$1 i
  for i in $(seq 1 100); do [ "$(reloads_seen)" -ge "$want" ] && return 0; sleep 0.05; done
  return 1
}

sed -i "s/^issuer = .*/issuer = Studio Reloaded/" "$CONF"
kill -HUP "$pid"
check "SIGHUP: the daemon reloads" wait_reloads 1
check "... in the same process (pid $pid)" kill -0 "$pid"
as_user bob "$S2FA_CLI" --socket "$SOCK" enroll --no-qr < /dev/null > "$T/enroll.out" 2>&1
check "the new issuer is in use" grep -q '^otpauth://totp/Studio%20Reloaded:bob' "$T/enroll.out"

cp "$CONF" "$T/good.conf"
echo "no_such_key = 1" >> "$CONF"
kill -HUP "$pid"
sleep 0.5
check "a bad configuration is refused, naming file and line" \
  grep -q "reload refused, keeping the running configuration: $CONF:[0-9]*: unknown key" "$DAEMON_LOG"
check "... and the daemon goes on serving" bash -c '[ "$(python3 "$0" "$1" ping)" = "REPLY 0x81 01" ]' "$RAW_CLIENT" "$SOCK"
cp "$T/good.conf" "$CONF"; chmod 0644 "$CONF"

chmod 0644 "$KEY"
kill -HUP "$pid"
sleep 0.5
check "an unsafe key file is refused at reload, naming it" grep -q "reload refused.*$KEY" "$DAEMON_LOG"
chmod 0600 "$KEY"
check "still exactly one reload done" test "$(reloads_seen)" -eq 1

kill -HUP "$pid"
check "a second good reload" wait_reloads 2
check "alice enrolls after the reloads" enroll alice
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$SECRET")"
check "and logs in" login_succeeded

wait "$hammer"
read -r pings failures < "$T/hammer.out"
check "no request failed across the reloads ($pings answered, $failures failed)" \
  test "$failures" -eq 0 -a "$pings" -gt 100
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; S2FA_DAEMON_PID=
check "SIGTERM after reloads: exit status 0" test "$rc" -eq 0
finish
