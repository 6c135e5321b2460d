#!/bin/bash
# Logins through a real OpenSSH sshd on 127.0.0.1 (a free high port, its own host key and
# sshd_config), with the example stacks conf/pam.d/sshd-password-and-code and
# sshd-publickey-then-code, and the real ssh client driven by expect. sshd runs in the private
# mount namespace of system_lib.sh: the machine's sshd, its config and /etc/pam.d are untouched.
# Users the policy requires to use 2FA (require_groups): past the grace period they enroll inside
# the keyboard-interactive session, from the QR code, key and URI that sshd relays; within it
# they are reminded; a locked user is told so.
. "$top_srcdir/tests/integration/system_lib.sh"
skip_if_sanitized "sshd is not built with ASan"
. "$top_srcdir/tests/integration/phone_lib.sh"

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
# "LOGGED-IN uid=<uid>". An answer may be @code or @wrong-code: worked out from the otpauth://
# URI the login itself showed (answer_with_codes.exp). Sets CONV_OUT and CONV_RC.
#
# The ssh client runs in SSH_LOCALE, C.UTF-8 unless set: ssh prints the server's prompts and
# messages through its own filter (utf8.c), which passes UTF-8 only when the locale's character
# set is UTF-8 and otherwise writes each byte of the QR code's half blocks as \342\226\200.
ANSWER_WITH_CODES=$top_srcdir/tests/integration/answer_with_codes.exp
ssh_login() {
  local user=$1 methods=$2 key=/dev/null
  shift 2
  if [ "$1" != -- ]; then key=$1; shift; fi
  shift
  CONV_RC=0
  CONV_OUT=$(env LC_ALL="${SSH_LOCALE:-C.UTF-8}" expect -f "$ANSWER_WITH_CODES" "$S2FA_OFFSET" \
    $# "$@" ssh -F /dev/null -p "$PORT" -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
    -o NumberOfPasswordPrompts=1 -o PreferredAuthentications="$methods" \
    -o IdentitiesOnly=yes -o IdentityFile="$key" -o IdentityAgent=none \
    "$user@127.0.0.1" 'echo LOGGED-IN uid=$(id -u)' 2>&1) || CONV_RC=$?
  CONV_OUT=${CONV_OUT//$'\r'/}
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

# erin, frank, gina and hank must use 2FA (require_groups); none of them is enrolled.
add_user erin 5005 'erin-Pa55word'
add_user frank 5006 'frank-Pa55word'
add_user gina 5007 'gina-Pa55word'
add_user hank 5008 'hank-Pa55word'
echo "enrollers:x:7100:erin,frank,gina,hank" >> "$T/group"
check "the private copies of /etc are in place" enter_system_world
# The throttle outlasts the test; with grace_period = 0 a required user must enroll at once.
write_config "throttle_base = 5m" "require_groups = enrollers" "grace_period = 0"
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
cp "$T/id_user.pub" "$T/authorized_keys/hank"
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

# --- enrollment inside the login --------------------------------------------------------------
# sshd's keyboard-interactive puts the PAM_TEXT_INFO and PAM_ERROR_MSG messages that come before a
# prompt in front of that prompt's text, one line each: the client shows the enrollment text, QR
# code included, as one long prompt that ends in "Verification code: ". Messages that come after
# the last prompt of a successful login are sent as a banner once it succeeds (printed at
# LogLevel INFO, ssh's default; ssh -q hides them).
next_step
ssh_login erin keyboard-interactive -- 'erin-Pa55word' @wrong-code @code
check "past grace: erin enrolls inside the login and runs the command (rc $CONV_RC)" \
  logged_in_as erin
check "... asked for the password, then a code, then a code again" \
  test "$(conv_prompts)" = "Password: |Verification code: |Verification code: |"
check "... was told the first code was wrong" \
  conv_saw "That code is not right. Check the app and try again."
check "... and that 2FA is now on (a banner after the login)" \
  conv_saw "Two-factor authentication is now on for this account."
uri=$(sed -n 's/^   (\(otpauth:[^)]*\))$/\1/p' <<< "$CONV_OUT")
E=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<< "$uri")
key=$(sed -n 's/^   Or type this key into the app: //p' <<< "$CONV_OUT")
check "the URI and the key line show the same secret" \
  bash -c '[ -n "$0" ] && [ "$0" = "$1" ]' "$E" "${key// /}"
# The QR code: the rows between the "Scan" line and the key line, all half blocks and spaces.
awk '/^1\. Scan this QR code/ { s = 1; next } /Or type this key/ { exit } s' <<< "$CONV_OUT" \
  > "$T/ssh-qr.txt"
check "the QR code reached the client as rows of Unicode half blocks" \
  bash -c '[ "$(wc -l < "$0")" -ge 15 ] && grep -q "[▀▄█]" "$0" && ! grep -qv "^[ ▀▄█]*$" "$0"' \
  "$T/ssh-qr.txt"
if command -v zbarimg > /dev/null 2>&1; then
  # qr_to_pbm.py reads the rows from the third line after one that starts "Scan this QR code".
  printf 'Scan this QR code\n\n\n' | cat - "$T/ssh-qr.txt" > "$T/ssh-qr.in"
  python3 "$top_srcdir/tests/integration/qr_to_pbm.py" "$T/ssh-qr.in" "$T/ssh-qr.pbm"
  decoded=$(zbarimg --quiet --raw "$T/ssh-qr.pbm" 2>/dev/null | head -n1)
  check "the QR code as ssh printed it decodes (zbarimg) to the URI" test "$decoded" = "$uri"
else
  diag "zbarimg is not installed: the QR code is not decoded"
fi

next_step
ssh_login erin keyboard-interactive -- 'erin-Pa55word' "$(code_for "$E")"
check "enrolled inside the login: the next login takes the password and a code" logged_in_as erin
check "... asked for the password, then the code, and showed no new key" \
  bash -c 'test "$0" = "Password: |Verification code: |" && ! grep -q otpauth <<< "$1"' \
  "$(conv_prompts)" "$CONV_OUT"

# A client whose locale is not UTF-8 shows the QR code escaped, but the key and the URI are
# ASCII: enrollment still works from them.
next_step
SSH_LOCALE=C ssh_login gina keyboard-interactive -- 'gina-Pa55word' @code
check "C locale: ssh escapes the QR code's half blocks (\\342\\226...)" conv_saw '\342\226'
check "C locale: ... but the key line arrives intact" \
  grep -q "^   Or type this key into the app: [A-Z2-7 ]*$" <<< "$CONV_OUT"
check "C locale: gina enrolls from the URI and logs in" logged_in_as gina
G=$(grep -o 'secret=[A-Z2-7]*' <<< "$CONV_OUT" | head -n1 | cut -d= -f2)
check "the new secrets are in neither sshd's log nor the daemon's" \
  not grep -qE "${E:-none}|${G:-none}" "$SSHD_LOG" "$DAEMON_LOG"

# --- a locked user; a user within the grace period --------------------------------------------
# Three wrong codes lock erin (lockout_after = 3; through libpam directly, it is quicker). frank
# is first seen with grace_period = 1h.
stop_daemon
write_config "throttle_base = 5m" "require_groups = enrollers" "grace_period = 1h" \
  "lockout_after = 3"
check "daemon restarts with grace_period = 1h and lockout_after = 3" start_daemon
for i in 1 2 3; do
  pam_login s2fa erin 'erin-Pa55word' "$(wrong_code_for "$E")"
done
check "three wrong codes lock erin" saw "Login is locked"
next_step
ssh_login erin keyboard-interactive -- 'erin-Pa55word' "$(code_for "$E")"
check "locked: the right password and code are refused" refused
# The module returns PAM_MAXTRIES after its PAM_ERROR_MSG: sshd sends the message as the
# instruction of a last request with no prompts, which ssh prints.
check "locked: ssh shows 'Login is locked for this account. Contact your administrator.'" \
  conv_saw "Login is locked for this account. Contact your administrator."

ssh_login frank keyboard-interactive -- 'frank-Pa55word'
check "within grace: frank logs in with the password alone" logged_in_as frank
check "within grace: only the password was asked" test "$(conv_prompts)" = "Password: |"
# The module works out what is left from its own clock (sshd's: real time), the daemon from its
# faked one: a few minutes more than 60 here.
check "within grace: ssh shows how long is left (a banner after the login)" \
  grep -Eq "You have [0-9]+ minutes left to set it up: run 'studio2fa enroll'" <<< "$CONV_OUT"
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

# hank must use 2FA; his grace period (1h, from the last config) starts when he is first seen.
ssh_login hank publickey,keyboard-interactive "$T/id_user" --
check "required, within grace: the key alone logs in" logged_in_as hank
check "required, within grace: nothing asked, the reminder shown" \
  bash -c 'test -z "$0" && grep -q "minutes left to set it up" <<< "$1"' \
  "$(conv_prompts)" "$CONV_OUT"
advance_time 3600
next_step
ssh_login hank publickey,keyboard-interactive "$T/id_user" -- @code
check "required, grace over: hank enrolls inside the login, after his key (rc $CONV_RC)" \
  logged_in_as hank
check "required, grace over: the new key was shown, then the code asked once" \
  bash -c 'test "$0" = "Verification code: |" && grep -q "^   (otpauth://" <<< "$1"' \
  "$(conv_prompts)" "$CONV_OUT"
stop_sshd

# A code by text message, read off the "phone" (the test sender's record) and typed into ssh.
stop_daemon
write_config "${PHONE_LINES[@]}"
check "the daemon restarts with a command sender" start_daemon
cli dave @code -- enroll --sms '+44 7946 005555'
check "dave registers a number for codes by text" \
  bash -c '[ "$0" -eq 0 ] && grep -q "Codes now come by text message" <<< "$1"' "$CLI_RC" "$CLI_OUT"
check "sshd starts with sshd-password-and-code again" \
  start_sshd sshd-password-and-code "AuthenticationMethods keyboard-interactive"
advance_time 61
ssh_login dave keyboard-interactive -- 'dave-Pa55word' "@sent:$OUTBOX/sent"
check "phone only: ssh logs in with the code the text brought (rc $CONV_RC)" logged_in_as dave
check "phone only: ssh showed where the code went" \
  conv_saw "A code was sent by text message to ••••••5555."
check "phone only: password, then the code" \
  test "$(conv_prompts)" = "Password: |Verification code: |"
stop_sshd

check "the daemon logged sshd's requests with the remote host" \
  grep -q 'authentication success: user=alice service=sshd rhost=127.0.0.1' "$DAEMON_LOG"
check "no password in the sshd log" not grep -q "Pa55word" "$SSHD_LOG"

finish
