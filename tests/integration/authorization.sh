#!/bin/bash
# Every request is authorised by the peer's kernel credentials (SO_PEERCRED): root may act for
# anyone, any other uid only for its own account. Checked for every request type, with a client
# that sends exactly what it is told (raw_client.py), and through the module in a process
# running as the user (a screen locker).
. "$top_srcdir/tests/integration/lib.sh"

check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET

for request in "status alice" "enroll_begin alice" "enroll_confirm alice 123456" \
               "authenticate alice 2 alice-Pa55word 123456" "authenticate alice 3 x 123456" \
               "authenticate alice 1 alice-Pa55word x"; do
  reply=$(raw bob $request)
  check "bob: '$request' is refused (got: $reply)" grep -q '^ERROR 4 ' <<< "$reply"
done
check "the refusals are logged with the peer uid" grep -q 'permission denied: uid 5002' "$DAEMON_LOG"

# Names that are not bob's own: another user, an unknown user, root.
for user in carol nosuchuser root; do
  reply=$(raw bob status "$user")
  check "bob: status of '$user' refused (got: $reply)" grep -q '^ERROR 4 ' <<< "$reply"
done

# For himself, bob may do everything.
reply=$(raw bob status bob)
check "bob: own status is a STATUS_REPLY (got: $reply)" grep -q '^REPLY 0x82' <<< "$reply"
reply=$(raw bob enroll_begin bob)
check "bob: may begin his own enrollment" grep -q '^REPLY 0x84' <<< "$reply"
reply=$(raw bob authenticate bob 1 bob-Pa55word '')
check "bob: may check his own password (a screen locker)" grep -q '^REPLY 0x83 00' <<< "$reply"

# Root may act for anyone.
reply=$(raw root status alice)
check "root: status of alice answered" grep -q '^REPLY 0x82 02' <<< "$reply"

# Bob's attempts left alice's account untouched: her code still works once.
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "alice still logs in after bob's attempts" login_succeeded
reply=$(raw root status alice)
check "no failure was counted for alice" grep -q '^REPLY 0x82 02.\{16\}00000000' <<< "$reply"

# The module inside a process running as the user (a screen locker): alice may unlock her own
# session, and cannot use the daemon to check bob's password.
next_step
LOGIN_RC=0
LOGIN_OUT=$(printf '%s\n' 'alice-Pa55word' "$(code_for "$A")" | pam_wrapped as_user alice env \
  LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
  "$PAM_LOGIN" s2fa alice) || LOGIN_RC=$?
check "screen locker as alice: alice unlocks with password and code" login_succeeded
LOGIN_RC=0
LOGIN_OUT=$(printf '%s\n' 'bob-Pa55word' | pam_wrapped as_user alice env \
  LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
  "$PAM_LOGIN" s2fa bob) || LOGIN_RC=$?
check "screen locker as alice: cannot authenticate bob" bash -c '[ "$0" -ne 0 ]' "$LOGIN_RC"

# The CLI refuses --user for non-root before asking the daemon.
out=$(as_user bob "$S2FA_CLI" --socket "$SOCK" --user alice status 2>&1); rc=$?
check "studio2fa --user as non-root fails" test "$rc" -ne 0
check "... with a message that says why" grep -q 'root only' <<< "$out"
out=$(as_user bob "$S2FA_ADMIN" --socket "$SOCK" status alice 2>&1); rc=$?
check "studio2fa-admin as non-root fails" test "$rc" -ne 0

finish
