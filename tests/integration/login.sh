#!/bin/bash
# Password-then-code logins through the real module (pam_wrapper + libpamtest) and the real
# daemon, with codes from oathtool.
. "$top_srcdir/tests/integration/lib.sh"

check "daemon starts" start_daemon
check "alice enrolls through the CLI" enroll alice
A=$SECRET

# A user who is not enrolled logs in with the password alone.
pam_login s2fa dave 'dave-Pa55word'
check "not enrolled: password alone logs in" login_succeeded
check "not enrolled: only the password is asked" \
  bash -c '[ "$(grep -c "^PROMPT" <<< "$0")" -eq 1 ]' "$LOGIN_OUT"
pam_login s2fa dave 'wrong'
check "not enrolled: wrong password refused (PAM_AUTH_ERR)" login_failed_with 7
pam_login s2fa dave ''
check "not enrolled: empty password refused" login_failed_with 7

# Enrolled: password, then code.
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "password then code: login succeeds" login_succeeded
check "the password prompt comes first" bash -c 'grep "^PROMPT" <<< "$0" | head -n1 | grep -qx "PROMPT-HIDDEN Password: "' "$LOGIN_OUT"
check "then the verification code prompt" bash -c 'grep "^PROMPT" <<< "$0" | sed -n 2p | grep -qx "PROMPT-HIDDEN Verification code: "' "$LOGIN_OUT"

# Replay: the same code again, in the same step.
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "replayed code refused" login_failed_with 7

# Replay across a restart of the daemon.
next_step
used=$(code_for "$A")
pam_login s2fa alice 'alice-Pa55word' "$used"
check "fresh code accepted before restart" login_succeeded
stop_daemon
check "daemon restarts" start_daemon
pam_login s2fa alice 'alice-Pa55word' "$used"
check "replayed code refused after a restart" login_failed_with 7

# Wrong password with a right code: refused, and the code prompt still came.
next_step
pam_login s2fa alice 'not-her-password' "$(code_for "$A")"
check "wrong password + right code refused" login_failed_with 7
check "code asked even after a wrong password" saw "PROMPT-HIDDEN Verification code:"
wrong_password_out=$(grep -v '^RESULT' <<< "$LOGIN_OUT")
# Right password, wrong code: the same messages as above (no hint which factor failed).
pam_login s2fa alice 'alice-Pa55word' '000000'
check "right password + wrong code refused" login_failed_with 7
check "same conversation for a wrong password and a wrong code" \
  test "$wrong_password_out" = "$(grep -v '^RESULT' <<< "$LOGIN_OUT")"
# The wrong-password attempt did not consume the step: the right pair still works.
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "a code used with a wrong password is still good with the right one" login_succeeded

# Codes within the window (one step each side) work; two steps away do not.
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A" 30)"
check "code of the next step accepted (window 1)" login_succeeded
advance_time 90
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A" -60)"
check "code two steps old refused" login_failed_with 7

# Password-only for an enrolled user is impossible: the module always asks for the code, and
# an empty code answer is a failure.
next_step
pam_login s2fa alice 'alice-Pa55word' ''
check "enrolled user with an empty code refused" login_failed_with 7

# otp_only: the password was checked before; only the code is asked.
pam_service s2fa-otp otp_only
next_step
pam_login s2fa-otp alice "$(code_for "$A")"
check "otp_only: code alone succeeds" login_succeeded
check "otp_only: no password prompt" bash -c '! grep -q "Password" <<< "$0"' "$LOGIN_OUT"
# PAM_IGNORE is seen through the stack: on "ignore" skip pam_deny and reach pam_echo.
cat > "$T/pam.d/s2fa-otp-ignore" <<PAM
auth [ignore=1 default=die] $S2FA_MODULE socket=$SOCK otp_only
auth requisite pam_deny.so
auth required pam_echo.so module-ignored
PAM
pam_login s2fa-otp-ignore dave
check "otp_only: not enrolled gives PAM_IGNORE" saw "INFO module-ignored"
pam_login s2fa-otp-ignore alice "$(code_for "$A")"
check "otp_only: enrolled user's code decides (no fall-through)" bash -c '! grep -q "INFO module-ignored" <<< "$0"' "$LOGIN_OUT"

# use_first_pass: the password comes from an earlier module (pam_wrapper's pam_matrix-like
# stacking is simulated by try_first_pass with no token: it prompts).
pam_service s2fa-try try_first_pass
next_step
pam_login s2fa-try alice 'alice-Pa55word' "$(code_for "$A")"
check "try_first_pass with no earlier token prompts and succeeds" login_succeeded
pam_service s2fa-use use_first_pass
pam_login s2fa-use alice "$(code_for "$A")"
check "use_first_pass with no earlier token fails" bash -c '[ "$0" -ne 0 ]' "$LOGIN_RC"

# Unknown user: same flow as a not-enrolled one, refused.
pam_login s2fa nosuchuser 'whatever'
check "unknown user refused" login_failed_with 7
# Locked account (shadow "!"): refused even with 2FA off.
pam_login s2fa carol 'anything'
check "locked account refused" login_failed_with 7

# A bad module argument fails closed.
pam_service s2fa-bad otp-only
pam_login s2fa-bad alice 'alice-Pa55word'
check "unknown module argument: PAM_SERVICE_ERR (3)" login_failed_with 3

# Daemon unreachable: fail closed with a clear message.
stop_daemon
pam_login s2fa alice 'alice-Pa55word' '123456'
check "daemon down: PAM_AUTHINFO_UNAVAIL (9)" login_failed_with 9
check "daemon down: the user is told" saw "ERROR Two-factor authentication is not available right now"

# The log names outcomes, never passwords or codes.
check "log records a success" grep -q 'authentication success: user=alice service=s2fa' "$DAEMON_LOG"
check "log records a failure" grep -q 'authentication denied: user=alice' "$DAEMON_LOG"
check "no password in the log" bash -c '! grep -q "Pa55word" "$0"' "$DAEMON_LOG"
check "no used code in the log" bash -c '! grep -q "$1" "$0"' "$DAEMON_LOG" "$used"

finish
