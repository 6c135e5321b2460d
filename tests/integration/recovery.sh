#!/bin/bash
# Recovery, through the real CLI, module and daemon: backup codes (a set of ten, single use, a new
# set voids the old and needs a code, the file written 0600 and never over another), three wrong
# backup codes lock until an admin unlocks, the account lock after lockout_after wrong codes,
# moving to a new phone (the old secret works until the new one is confirmed) and turning 2FA
# off with a code.
. "$top_srcdir/tests/integration/lib.sh"

CODE_RE='^ *[0-9]*\. [0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}$'

# cli USER ARGS... < input: the real studio2fa as USER; sets OUT and RC.
cli() {
  local user=$1; shift
  RC=0
  OUT=$(as_user "$user" "$S2FA_CLI" --socket "$SOCK" "$@" 2>&1) || RC=$?
}
# codes_in TEXT: the backup codes in TEXT, one a line.
codes_in() { grep "$CODE_RE" <<< "$1" | sed 's/^ *[0-9]*\. //'; }
# locked_out: the last login failed with PAM_MAXTRIES and the "contact your administrator" words.
locked_out() { login_failed_with 11 && saw "ERROR Login is locked for this account. Contact your administrator."; }

check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET

# --- a set of ten ------------------------------------------------------------------------------
next_step
cli alice backup-codes < /dev/null
check "backup-codes without a code fails (rc $RC)" test "$RC" -ne 0
next_step
cli alice backup-codes <<< "000000"
check "backup-codes with a wrong code fails" bash -c '[ "$0" -ne 0 ] && grep -q "not right" <<< "$1"' "$RC" "$OUT"
cli alice status
check "... and makes no set (status: none yet)" grep -q "You have no backup codes" <<< "$OUT"

mkdir -m 0777 "$T/home/alice" 2>/dev/null
FILE=$T/home/alice/codes.txt
next_step
cli alice backup-codes --output "$FILE" <<< "$(code_for "$A")"
check "backup-codes --output writes the set (rc $RC)" test "$RC" -eq 0
check "the file is mode 0600, owned by alice" test "$(stat -c '%a %u' "$FILE")" = "600 5001"
SET1=$(codes_in "$(cat "$FILE")")
check "ten codes, XXXX-XXXX-XXXX from the unambiguous alphabet" test "$(wc -l <<< "$SET1")" -eq 10
check "all different" test "$(sort -u <<< "$SET1" | wc -l)" -eq 10
check "not printed on the terminal" bash -c '! grep -q "$0" <<< "$1"' "$(head -n1 <<< "$SET1")" "$OUT"
check "a first set says nothing of old backup codes" bash -c '! grep -q "old backup codes" <<< "$0"' "$OUT"
cli alice status
check "status: backup codes left: 10" grep -q "Backup codes left: 10\." <<< "$OUT"

# Never over an existing file, and no new set is made then.
before=$(sha256sum < "$FILE")
next_step
cli alice backup-codes --output "$FILE" <<< "$(code_for "$A")"
check "an existing file is refused (rc $RC)" bash -c '[ "$0" -ne 0 ] && grep -q "already exists" <<< "$1"' "$RC" "$OUT"
check "... and left as it was" test "$before" = "$(sha256sum < "$FILE")"
ln -s "$T/elsewhere" "$T/home/alice/link.txt"
cli alice backup-codes --output "$T/home/alice/link.txt" <<< "$(code_for "$A" 30)"
check "a symbolic link is refused too" bash -c '[ "$0" -ne 0 ] && [ ! -e "$1" ]' "$RC" "$T/elsewhere"

# --- single use, at the module's code prompt ---------------------------------------------------
c1=$(sed -n 1p <<< "$SET1")
pam_login s2fa alice 'alice-Pa55word' "$c1"
check "a backup code logs in at the code prompt" login_succeeded
check "... and the user is told how many are left" saw "INFO Backup code accepted. 9 backup codes left."
pam_login s2fa alice 'alice-Pa55word' "$c1"
check "the same backup code a second time is refused" login_failed_with 7
c2=$(sed -n 2p <<< "$SET1" | tr 'A-Z' 'a-z' | tr -d -)
pam_login s2fa alice 'alice-Pa55word' "$c2"
check "typed in lower case without dashes it works too" login_succeeded
pam_service s2fa-otp otp_only
pam_login s2fa-otp alice "$(sed -n 3p <<< "$SET1")"
check "otp_only takes a backup code too" login_succeeded
check "status via the admin tool: 7 left" \
  bash -c '"$0" --socket "$1" status alice | grep -qx "backup_codes: 7"' "$S2FA_ADMIN" "$SOCK"

# --- a new set voids the old one, and needs a code ----------------------------------------------
next_step
cli alice backup-codes <<< "$(sed -n 4p <<< "$SET1")"
check "a backup code cannot make a new set" bash -c '[ "$0" -ne 0 ] && grep -q "not right" <<< "$1"' "$RC" "$OUT"
cli alice backup-codes <<< "$(code_for "$A")"
check "a current code makes a new set, printed (rc $RC)" test "$RC" -eq 0
SET2=$(codes_in "$OUT")
check "ten new codes" test "$(wc -l <<< "$SET2")" -eq 10
check "the user is told the old set is void" grep -q "old backup codes no longer work" <<< "$OUT"
pam_login s2fa alice 'alice-Pa55word' "$(sed -n 5p <<< "$SET1")"
check "a code of the old set is refused" login_failed_with 7
for i in 1 2 3 4 5 6 7; do pam_login s2fa alice 'alice-Pa55word' "$(sed -n "${i}p" <<< "$SET2")"; done
check "seven codes of the new set log in" login_succeeded
check "at three left, no warning yet" saw "INFO Backup code accepted. 3 backup codes left."
pam_login s2fa alice 'alice-Pa55word' "$(sed -n 8p <<< "$SET2")"
check "at two left, the user is warned to make a new set" \
  saw "INFO Backup code accepted. Only 2 backup codes left: make a new set with 'studio2fa backup-codes'."

# --- three wrong backup codes lock --------------------------------------------------------------
pam_login s2fa alice 'alice-Pa55word' 'AAAA-BBBB-CCCC'
pam_login s2fa alice 'alice-Pa55word' 'DDDD-EEEE-FFFF'
check "two wrong backup codes: refused, not locked" login_failed_with 7
pam_login s2fa alice 'alice-Pa55word' 'GGGG-HHHH-JJJJ'
check "the third locks, and the user is told to contact an administrator" locked_out
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "locked: the right password and code are refused" locked_out
locked_conversation=$(grep -v '^RESULT' <<< "$LOGIN_OUT")
pam_login s2fa alice 'not-her-password' "$(code_for "$A")"
check "locked: a wrong password gets the very same answer" \
  bash -c 'test "$0" = "$(grep -v "^RESULT" <<< "$1")" && [ "$2" -eq 11 ]' "$locked_conversation" "$LOGIN_OUT" "$LOGIN_RC"
pam_login s2fa alice 'alice-Pa55word' "$(sed -n 9p <<< "$SET2")"
check "locked: a good backup code is refused too" locked_out
cli alice status
check "studio2fa status says it is locked" grep -q "locked for this account" <<< "$OUT"
cli alice disable <<< "$(code_for "$A")"
check "locked: studio2fa disable is refused" bash -c '[ "$0" -ne 0 ] && grep -q "contact your administrator" <<< "$1"' "$RC" "$OUT"
stop_daemon; check "daemon restarts" start_daemon
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A" 30)"
check "the lock survives a restart" locked_out
out=$("$S2FA_ADMIN" --socket "$SOCK" unlock alice)
check "root unlocks alice" grep -q "Unlocked alice" <<< "$out"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "after the unlock the right code logs in" login_succeeded
pam_login s2fa alice 'alice-Pa55word' "$(sed -n 9p <<< "$SET2")"
check "and the backup codes work again" login_succeeded

# Wrong passwords never count: nobody can lock alice without her password.
for i in 1 2 3 4; do pam_login s2fa alice 'guess' 'AAAA-BBBB-CCCC'; done
pam_login s2fa alice 'alice-Pa55word' "$(sed -n 10p <<< "$SET2")"
check "four wrong backup codes with a wrong password lock nothing" login_succeeded

# --- moving to a new phone ------------------------------------------------------------------------
# start_replace USER OLD_CODE: runs `studio2fa enroll --replace` as USER in the background, typing
# OLD_CODE; sets NEW (the new secret shown) and REPLACE_PID; the confirmation code goes to fd 8.
start_replace() {
  local user=$1 code=$2 i
  rm -f "$T/fifo.$user"; mkfifo -m 0666 "$T/fifo.$user"
  as_user "$user" "$S2FA_CLI" --socket "$SOCK" enroll --replace --no-qr < "$T/fifo.$user" > "$T/out.$user" 2>&1 &
  REPLACE_PID=$!
  exec 8> "$T/fifo.$user"
  echo "$code" >&8
  for i in $(seq 1 100); do
    grep -q '^otpauth://' "$T/out.$user" 2>/dev/null && break
    kill -0 "$REPLACE_PID" 2>/dev/null || break
    sleep 0.05
  done
  NEW=$(sed -n 's/^otpauth:.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$T/out.$user")
}
finish_replace() { if [ -n "$1" ]; then echo "$1" >&8; fi; exec 8>&-; REPLACE_RC=0; wait "$REPLACE_PID" || REPLACE_RC=$?; }

next_step
start_replace alice 123456
finish_replace ""
check "enroll --replace with a wrong code changes nothing (rc $REPLACE_RC)" \
  bash -c '[ "$0" -ne 0 ] && grep -q "not right; nothing changed" "$1"' "$REPLACE_RC" "$T/out.alice"

next_step
start_replace alice "$(code_for "$A")"
check "with the old code, a new secret is shown" test -n "$NEW"
check "the user is told the old phone works until then" grep -q "old phone keeps working" "$T/out.alice"
check "status: a new phone is waiting" \
  bash -c '"$0" --socket "$1" status alice | grep -q "^replacing: yes"' "$S2FA_ADMIN" "$SOCK"
finish_replace ""
check "interrupted before the new code (rc $REPLACE_RC): the user is told nothing is lost" \
  bash -c '[ "$0" -ne 0 ] && grep -q "your old phone keeps working" "$1"' "$REPLACE_RC" "$T/out.alice"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$NEW")"
check "the unconfirmed new secret does not log in" login_failed_with 7
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "the old secret still does" login_succeeded

# Proved with a backup code this time, then confirmed.
next_step
cli alice backup-codes <<< "$(code_for "$A")"
SET3=$(codes_in "$OUT")
next_step
start_replace alice "$(sed -n 1p <<< "$SET3")"
check "a backup code proves the old factor too" test -n "$NEW"
finish_replace "$(code_for "$NEW")"
check "the new phone's code confirms it (rc $REPLACE_RC)" test "$REPLACE_RC" -eq 0
check "... with a message saying the old one no longer works" grep -q "codes from the old one no longer work" "$T/out.alice"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "the old secret is gone" login_failed_with 7
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$NEW")"
check "the new one logs in" login_succeeded
pam_login s2fa alice 'alice-Pa55word' "$(sed -n 2p <<< "$SET3")"
check "the backup codes survived the move" login_succeeded
A=$NEW

# --- turning it off needs a code ------------------------------------------------------------------
next_step
cli alice disable <<< "000000"
check "disable with a wrong code fails" bash -c '[ "$0" -ne 0 ] && grep -q "stays on" <<< "$1"' "$RC" "$OUT"
cli alice disable <<< "$(sed -n 3p <<< "$SET3")"
check "disable with a backup code works (rc $RC)" test "$RC" -eq 0
cli alice status
check "status: off" grep -q "is off for alice" <<< "$OUT"
pam_login s2fa alice 'alice-Pa55word'
check "alice logs in with the password alone" login_succeeded

# --- the account lock after lockout_after wrong codes ---------------------------------------------
stop_daemon
write_config "lockout_after = 4" "throttle_after = 10"
check "daemon restarts with lockout_after = 4" start_daemon
check "bob enrolls" enroll bob
B=$SECRET
next_step
for i in 1 2 3; do pam_login s2fa bob 'bob-Pa55word' '000000'; done
check "three wrong codes: refused" login_failed_with 7
pam_login s2fa bob 'bob-Pa55word' '000000'
check "the fourth locks the account" locked_out
check "status: locked: account" \
  bash -c '"$0" --socket "$1" status bob | grep -qx "locked: account"' "$S2FA_ADMIN" "$SOCK"
pam_login s2fa bob 'bob-Pa55word' "$(code_for "$B")"
check "locked: the right code is refused" locked_out
"$S2FA_ADMIN" --socket "$SOCK" unlock bob > /dev/null
pam_login s2fa bob 'bob-Pa55word' "$(code_for "$B")"
check "unlocked: bob logs in" login_succeeded

# --- the audit trail and the log, without a code or password ------------------------------------
out=$("$S2FA_ADMIN" --socket "$SOCK" log alice)
check "the audit trail has the new sets" grep -q 'backup-codes user=alice outcome=success' <<< "$out"
check "... the backup-code logins, with what is left" grep -q 'login user=alice outcome=success .*detail="password and backup code, 9 left"' <<< "$out"
check "... the lock" grep -q 'login user=alice outcome=locked .*wrong backup code; the second factor is now locked' <<< "$out"
check "... the unlock, by root" grep -q 'admin-unlock user=alice outcome=success by=root(uid 0)' <<< "$out"
check "... the move to a new phone" grep -q 'enroll-confirm user=alice outcome=confirmed .*replaced the old one' <<< "$out"
check "... and the disable" grep -q 'disable user=alice outcome=success' <<< "$out"
stop_daemon
leaked=0
for code in $SET1 $SET2 $SET3; do
  if grep -qF "$code" "$DAEMON_LOG" || sqlite3 "$DB" 'select * from audit' | grep -qF "$code"; then leaked=1; fi
done
check "no backup code in the daemon's log or the audit table" test "$leaked" -eq 0
check "no password in the audit table" bash -c '! sqlite3 "$0" "select * from audit" | grep -q "Pa55word"' "$DB"
finish
