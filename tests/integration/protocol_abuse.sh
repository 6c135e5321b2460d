#!/bin/bash
# Malformed, truncated, oversized, slow and too many clients: the daemon answers with an error
# or closes that connection, never crashes, and keeps serving everyone else promptly.
. "$top_srcdir/tests/integration/lib.sh"

write_config "request_timeout = 2s" "idle_timeout = 3s" "max_connections = 32"
check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET
alive() { [ "$(raw root ping)" = "REPLY 0x81 01" ]; }

hex_string() { printf '%04x' "${#1}"; printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
status_payload=$(hex_string alice)

reply=$(raw root raw "00000000")
check "length 0: closed without reply (got: $reply)" test "$reply" = CLOSED
reply=$(raw root raw "00000001ff")
check "length 1: closed without reply (got: $reply)" test "$reply" = CLOSED
reply=$(raw root raw "7fffffff0102")
check "length 2 GiB: closed without reading it (got: $reply)" test "$reply" = CLOSED
reply=$(raw root raw "000020010102")
check "length just over the 8 KiB cap: closed (got: $reply)" test "$reply" = CLOSED
reply=$(raw root raw "$(printf '%08x' $((2 + ${#status_payload} / 2)))0202$status_payload")
check "version 2: ERROR unsupported_version (got: $reply)" grep -q '^ERROR 2 ' <<< "$reply"
reply=$(raw root raw "00000002017e")
check "unknown type: ERROR unknown_type (got: $reply)" grep -q '^ERROR 3 ' <<< "$reply"
reply=$(raw root raw "$(printf '%08x' $((3 + ${#status_payload} / 2)))0102${status_payload}00")
check "trailing byte: ERROR malformed (got: $reply)" grep -q '^ERROR 1 ' <<< "$reply"
reply=$(raw root raw "000000050102000561")
check "string longer than its frame: ERROR malformed (got: $reply)" grep -q '^ERROR 1 ' <<< "$reply"
reply=$(raw root raw "0000000701020003610062")
check "NUL inside a user name: ERROR malformed (got: $reply)" grep -q '^ERROR 1 ' <<< "$reply"
long_user=$(printf 'u%.0s' $(seq 1 300))
reply=$(raw root status "$long_user")
check "user name over 256 bytes: ERROR malformed (got: $reply)" grep -q '^ERROR 1 ' <<< "$reply"
reply=$(raw root authenticate alice 9 pw 123456)
check "auth mode 9: ERROR malformed (got: $reply)" grep -q '^ERROR 1 ' <<< "$reply"
reply=$(raw root raw "$(head -c 3000 /dev/urandom | od -An -tx1 | tr -d ' \n')")
check "random bytes: an error or a close, no crash (got: ${reply:0:40})" alive
check "daemon alive after malformed frames" alive

# A client that shuts down its sending side after its request (the PAM module does) is answered
# and then closed by the daemon; one that does not may ask again on the same connection, even
# after a pause (the daemon's look for a half-close must not take it for one).
reply=$(raw root ping_last)
check "half-closed client: answered PONG (got: $(head -1 <<< "$reply"))" grep -q '^REPLY 0x81' <<< "$(head -1 <<< "$reply")"
check "half-closed client: then closed by the daemon (got: $(tail -1 <<< "$reply"))" test "$(tail -1 <<< "$reply")" = EOF
for who in root bob; do
  reply=$(raw "$who" ping_twice 0.3)
  check "$who: two PINGs on one connection, 0.3 s apart, both answered (got: $(tr '\n' ' ' <<< "$reply"))" \
    test "$(grep -c '^REPLY 0x81' <<< "$reply")" -eq 2
done

# A truncated frame: the header promises more than comes; the request deadline closes it.
reply=$(raw root slow "0000001001020005616c" 4)
check "truncated frame is closed by the request deadline (got: $reply)" grep -q '^CLOSED' <<< "$reply"

# Slow (one byte a second) and idle clients hold only their own connection: a login meanwhile
# is served at once.
raw root slow "$(printf '%08x' $((2 + ${#status_payload} / 2)))0102$status_payload" 20 > "$T/slow.out" &
slow_pid=$!
raw root hold 10 > "$T/idle.out" &
idle_pid=$!
sleep 0.5
next_step
start=$(date +%s%N)
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "login during a slow client succeeds" login_succeeded
check "login during a slow client takes < 1000 ms (took $elapsed_ms ms)" test "$elapsed_ms" -lt 1000
wait "$slow_pid"; wait "$idle_pid"
check "slow client cut off by request_timeout (got: $(cat "$T/slow.out"))" grep -q '^CLOSED' "$T/slow.out"
idle=$(cat "$T/idle.out")
check "idle client closed after idle_timeout=3s (got: $idle)" \
  bash -c '[[ "$0" =~ ^CLOSED-AFTER\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 2 ] && [ "${BASH_REMATCH[1]}" -le 5 ]' "$idle"

# More connections than max_connections: the extra ones are closed at once, and once the
# flood ends the daemon serves again.
python3 - "$SOCK" > "$T/flood.out" <<'PY' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
socks = []
for i in range(2000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1]); socks.append(s)
time.sleep(2.5)
closed = busy = 0
for s in socks:
    s.settimeout(0.05)
    # A connection past the cap is answered ERROR busy (code 7), then closed.
    data = b""
    try:
        while True:
            chunk = s.recv(64)
            if chunk == b"":
                closed += 1
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    if len(data) >= 8 and data[5] == 0xFF and data[6:8] == b"\x00\x07":
        busy += 1
print(closed, busy)
PY
flood_pid=$!
wait "$flood_pid"
read -r closed busy < "$T/flood.out"
check "of 2,000 connections at once, past max_connections=32, at least 1,968 were closed (closed: $closed)" \
  test "$closed" -ge 1968
check "... each answered ERROR busy before the close (busy: $busy)" test "$busy" -ge 1968
check "connection limit logged" grep -q 'connection limit (32) reached' "$DAEMON_LOG"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "login works after the flood" login_succeeded
check "daemon still the same process" kill -0 "$S2FA_DAEMON_PID"

finish
