#!/bin/bash
# A screen locker: the module loaded by a process running as the user, not as root, with the
# example stack conf/pam.d/screensaver (under pam_wrapper). The daemon lets that uid verify
# its own account and nobody else's.
. "$top_srcdir/tests/integration/lib.sh"

sed -e "/^[[:space:]]*#/!s|pam_studio2fa\\.so|$S2FA_MODULE socket=$SOCK|" \
  "$top_srcdir/conf/pam.d/screensaver" > "$T/pam.d/xscreensaver"

# unlock AS USER ANSWER...: pam_authenticate for USER in a process running as AS, the way a
# locker started in AS's session does. Sets LOGIN_OUT and LOGIN_RC, like pam_login.
unlock() {
  local as=$1 user=$2; shift 2
  LOGIN_RC=0
  LOGIN_OUT=$(printf '%s\n' "$@" | pam_wrapped as_user "$as" env \
    LD_PRELOAD="$NSS_WRAPPER_LIB $PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
    "$PAM_LOGIN" xscreensaver "$user" 2>> "$T/unlock.err") || LOGIN_RC=$?
}
# The prompts shown, in order, each followed by "|".
prompts() { sed -n 's/^PROMPT-HIDDEN //p' <<< "$LOGIN_OUT" | tr '\n' '|'; }
no_failure_counted() {
  python3 "$RAW_CLIENT" "$SOCK" status "$1" | grep -q '^REPLY 0x82 02.\{16\}00000000'
}

check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET
check "bob enrolls" enroll bob
B=$SECRET

next_step
unlock alice alice 'alice-Pa55word' "$(code_for "$A")"
check "alice's locker unlocks with her password and code" login_succeeded
check "the password, then the code, were asked" \
  test "$(prompts)" = "Password: |Verification code: |"
check "the daemon logged the unlock with alice's uid" \
  grep -q "success: user=alice service=xscreensaver .* uid=$(uid_of alice) " "$DAEMON_LOG"

next_step
unlock alice alice 'alice-Pa55word' '000000'
check "a wrong code does not unlock" login_failed_with 7
unlock alice alice 'bob-Pa55word' "$(code_for "$A")"
check "another user's password does not unlock" login_failed_with 7

# The locker cannot be used to try another account's password or code.
unlock alice bob 'bob-Pa55word' "$(code_for "$B")"
check "alice's process cannot verify bob (PAM_AUTH_ERR)" login_failed_with 7
check "... and is refused before anything is asked" test -z "$(prompts)"
check "the daemon logged the refusal with alice's uid" \
  grep -q "permission denied: uid $(uid_of alice)" "$DAEMON_LOG"
unlock alice dave 'dave-Pa55word'
check "alice's process cannot verify dave (not enrolled) either" login_failed_with 7
check "bob's account is untouched: no failure counted" no_failure_counted bob

# A user who is not enrolled unlocks with the password alone.
unlock dave dave 'dave-Pa55word'
check "dave's locker (not enrolled) unlocks with his password" login_succeeded
check "... after one prompt" test "$(prompts)" = "Password: |"
check "the daemon logged it with dave's uid" \
  grep -q "success: user=dave service=xscreensaver .* uid=$(uid_of dave) " "$DAEMON_LOG"

finish
