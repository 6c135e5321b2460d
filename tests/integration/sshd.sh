#!/bin/bash
# Logins through a real OpenSSH sshd on 127.0.0.1 (a free high port, its own host key and
# sshd_config), with the example stacks conf/pam.d/sshd-password-and-code and
# sshd-publickey-then-code, and the real ssh client driven by expect. sshd runs in the private
# mount namespace of system_lib.sh: the machine's sshd, its config and /etc/pam.d are untouched.
. "$top_srcdir/tests/integration/system_lib.sh"
skip_if_sanitized "sshd is not built with ASan"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
require_programs "$SSHD" ssh ssh-keygen

SSHD_PID=
SSHD_LOG=$T/sshd.log
PORT=

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_sshd EXAMPLE SSHD_CONFIG_LINE...: sshd with conf/pam.d/EXAMPLE as its PAM stack.
start_sshd() {
  local example=$1; shift
  install_example "$example" sshd
  PORT=$(free_port)
  {
    echo "# written by tests/integration/sshd.sh"
    echo "Port $PORT"
    echo "ListenAddress 127.0.0.1"
    echo "HostKey $T/ssh_host_ed25519_key"
    echo "PidFile $T/sshd.pid"
    echo "UsePAM yes"
    echo "KbdInteractiveAuthentication yes"
    echo "PasswordAuthentication no"
    echo "StrictModes no"
    echo "AuthorizedKeysFile $T/authorized_keys/%u"
    echo "LogLevel VERBOSE"
    printf '%s\n' "$@"
  } > "$T/sshd_config"
  # OpenSSH 9.8 and later would shut 127.0.0.1 out after the failures this test makes.
  if "$SSHD" -t -f "$T/sshd_config" -o PerSourcePenalties=no 2>/dev/null; then
    echo "PerSourcePenalties no" >> "$T/sshd_config"
  fi
  "$SSHD" -t -f "$T/sshd_config" || return 1
  "$SSHD" -D -e -f "$T/sshd_config" >> "$SSHD_LOG" 2>&1 &
  SSHD_PID=$!
  local i
  for i in $(seq 1 100); do
    if grep -q "Server listening on 127.0.0.1 port $PORT" "$SSHD_LOG"; then return 0; fi
    kill -0 "$SSHD_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

stop_sshd() {
  if [ -n "$SSHD_PID" ]; then
    kill "$SSHD_PID" 2>/dev/null
    wait "$SSHD_PID" 2>/dev/null
    SSHD_PID=
  fi
}
trap 'stop_sshd; system_cleanup; cleanup' EXIT

# ssh_login USER METHODS [KEY] -- ANSWER...: ssh USER@127.0.0.1, authenticating with METHODS
# (ssh's PreferredAuthentications), answering the prompts in turn; the remote command prints
# "LOGGED-IN uid=<uid>". Sets CONV_OUT and CONV_RC.
ssh_login() {
  local user=$1 methods=$2 key=/dev/null
  shift 2
  if [ "$1" != -- ]; then key=$1; shift; fi
  shift
  run_conversation $# "$@" ssh -F /dev/null -p "$PORT" -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
    -o NumberOfPasswordPrompts=1 -o PreferredAuthentications="$methods" \
    -o IdentitiesOnly=yes -o IdentityFile="$key" -o IdentityAgent=none \
    "$user@127.0.0.1" 'echo LOGGED-IN uid=$(id -u)'
}
logged_in_as() { [ "$CONV_RC" -eq 0 ] && conv_saw "LOGGED-IN uid=$(uid_of "$1")"; }
refused() { [ "$CONV_RC" -ne 0 ] && ! conv_saw "LOGGED-IN" && conv_saw "Permission denied"; }
not() { ! "$@"; }
# A code that is none of those the daemon accepts now (window 1).
wrong_code_for() {
  local code=123456
  while [ "$code" = "$(code_for "$1" -30)" ] || [ "$code" = "$(code_for "$1")" ] ||
        [ "$code" = "$(code_for "$1" 30)" ]; do
    code=$((code + 1))
  done
  echo "$code"
}

check "the private copies of /etc are in place" enter_system_world
write_config "throttle_base = 5m" # the throttle outlasts the test
check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET
check "bob enrolls" enroll bob
B=$SECRET
ssh-keygen -q -t ed25519 -N '' -C 's2fa-test host' -f "$T/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C 's2fa-test user' -f "$T/id_user"
mkdir -m 0755 "$T/authorized_keys"
cp "$T/id_user.pub" "$T/authorized_keys/alice"
cp "$T/id_user.pub" "$T/authorized_keys/dave"
chmod 0644 "$T/authorized_keys"/*

# --- password, then code ----------------------------------------------------------------------
check "sshd starts with sshd-password-and-code" \
  start_sshd sshd-password-and-code "AuthenticationMethods keyboard-interactive"

next_step
used=$(code_for "$A")
ssh_login alice keyboard-interactive -- 'alice-Pa55word' "$used"
check "password then code: logged in and ran the command (rc $CONV_RC)" logged_in_as alice
check "the password, then the code, were asked" \
  test "$(conv_prompts)" = "Password: |Verification code: |"

ssh_login alice keyboard-interactive -- 'alice-Pa55word' "$used"
check "replayed code refused" refused

next_step
ssh_login alice keyboard-interactive -- 'alice-Pa55word' "$(wrong_code_for "$A")"
check "wrong code refused" refused
ssh_login alice keyboard-interactive -- 'not-her-password' "$(code_for "$A")"
check "wrong password refused" refused
check "... and the code was still asked" \
  test "$(conv_prompts)" = "Password: |Verification code: |"
ssh_login alice keyboard-interactive -- 'alice-Pa55word' "$(code_for "$A")"
check "the right pair still logs in after those failures" logged_in_as alice

ssh_login dave keyboard-interactive -- 'dave-Pa55word'
check "not enrolled: password alone logs in" logged_in_as dave
check "not enrolled: no code asked" test "$(conv_prompts)" = "Password: |"
ssh_login dave keyboard-interactive -- 'wrong'
check "not enrolled: wrong password refused" refused

# Five wrong codes with bob's right password (through libpam directly, it is quicker), then
# sshd shows the daemon's refusal: keyboard-interactive passes PAM_ERROR_MSG on as the
# "instruction" of a last, empty request, which ssh prints at its LogLevel INFO.
for i in 1 2 3 4 5; do
  pam_login s2fa bob 'bob-Pa55word' "$(wrong_code_for "$B")"
done
ssh_login bob keyboard-interactive -- 'bob-Pa55word' "$(code_for "$B")"
check "throttled: refused even with the right code" refused
check "throttled: sshd shows 'Too many wrong codes'" conv_saw "Too many wrong codes. Wait"
stop_sshd

# --- public key, then code --------------------------------------------------------------------
check "sshd starts with sshd-publickey-then-code" \
  start_sshd sshd-publickey-then-code "PubkeyAuthentication yes" \
  "AuthenticationMethods publickey,keyboard-interactive"

next_step
ssh_login alice publickey,keyboard-interactive "$T/id_user" -- "$(code_for "$A")"
check "key then code: logged in (rc $CONV_RC)" logged_in_as alice
check "key then code: only the code was asked" test "$(conv_prompts)" = "Verification code: |"
next_step
ssh_login alice publickey,keyboard-interactive "$T/id_user" -- "$(wrong_code_for "$A")"
check "key then wrong code refused" refused
ssh_login alice keyboard-interactive -- "$(code_for "$A")" "$(code_for "$A")"
check "code without the key refused" refused
ssh_login dave publickey,keyboard-interactive "$T/id_user" --
check "not enrolled: the key alone logs in" logged_in_as dave
check "not enrolled: nothing asked" test -z "$(conv_prompts)"
stop_sshd

check "the daemon logged sshd's requests with the remote host" \
  grep -q 'authentication success: user=alice service=sshd rhost=127.0.0.1' "$DAEMON_LOG"
check "no password in the sshd log" not grep -q "Pa55word" "$SSHD_LOG"

finish
