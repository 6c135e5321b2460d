#!/bin/bash
# Enrollment through the real CLI: only a valid code turns 2FA on; an unconfirmed secret never
# works for login and expires; and the wrong-code throttle.
. "$top_srcdir/tests/integration/lib.sh"

check "daemon starts" start_daemon

# start_enrollment USER: runs `studio2fa enroll` as USER in the background, waiting for a code
# on a FIFO; sets PENDING (the base32 secret shown) and ENROLL_PID.
start_enrollment() {
  local user=$1 i
  rm -f "$T/fifo.$user"; mkfifo -m 0666 "$T/fifo.$user"
  as_user "$user" "$S2FA_CLI" --socket "$SOCK" enroll --no-qr < "$T/fifo.$user" > "$T/out.$user" 2>&1 &
  ENROLL_PID=$!
  exec 8> "$T/fifo.$user"
  for i in $(seq 1 100); do grep -q '^otpauth://' "$T/out.$user" 2>/dev/null && break; sleep 0.05; done
  PENDING=$(sed -n 's/^otpauth:.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$T/out.$user")
}
# finish_enrollment CODE: types CODE; sets ENROLL_RC.
finish_enrollment() {
  echo "$1" >&8; exec 8>&-
  ENROLL_RC=0; wait "$ENROLL_PID" || ENROLL_RC=$?
}

start_enrollment alice
out=$(cat "$T/out.alice")
check "the URI is on a line of its own, with issuer and account" \
  grep -qx "otpauth://totp/Studio%20Test:alice?secret=$PENDING&issuer=Studio%20Test" "$T/out.alice"
check "the secret is 160 bits (32 base32 characters)" test "${#PENDING}" -eq 32
grouped=$(sed 's/..../& /g; s/ $//' <<< "$PENDING")
check "the key is shown in groups of four" grep -qF "type the key by hand: $grouped" "$T/out.alice"
check "the parameters are spelled out" grep -q 'SHA1, 6 digits, a new code every 30 seconds' "$T/out.alice"
check "status: pending while waiting for the code" \
  bash -c '"$0" --socket "$1" status alice | grep -q "^2fa: pending"' "$S2FA_ADMIN" "$SOCK"

# The pending secret never works for a login: otp_only treats alice as not enrolled...
pam_service s2fa-otp otp_only
cat > "$T/pam.d/s2fa-otp-ignore" <<PAM
auth [ignore=1 default=die] $S2FA_MODULE socket=$SOCK otp_only
auth requisite pam_deny.so
auth required pam_echo.so module-ignored
PAM
pam_login s2fa-otp-ignore alice "$(code_for "$PENDING")"
check "pending secret: otp_only ignores alice (not enrolled)" saw "INFO module-ignored"
# ... and a raw request with a pending code and her password is not a 2FA success either.
reply=$(raw root authenticate alice 2 alice-Pa55word "$(code_for "$PENDING")")
check "pending secret: password+code refused (got: $reply)" grep -q '^REPLY 0x83 01' <<< "$reply"

finish_enrollment 000000
check "a wrong code does not turn 2FA on (exit $ENROLL_RC)" test "$ENROLL_RC" -ne 0
check "... and says so" grep -q "that code is not right" "$T/out.alice"
check "status: still off/pending after a wrong code" \
  bash -c '! "$0" --socket "$1" status alice | grep -q "^2fa: on"' "$S2FA_ADMIN" "$SOCK"

# A new enrollment within enroll_timeout shows the same pending key (it may have been scanned
# already); the right code confirms it.
shown_before=$(grep -o 'secret=[A-Z2-7]*' "$T/out.alice" | head -n1)
start_enrollment alice
first=$PENDING
check "enrolling again within the window shows the same key" test "secret=$PENDING" = "$shown_before"
check "... and says it stays the same until then" grep -q "shows this same key" "$T/out.alice"
finish_enrollment "$(code_for "$PENDING")"
check "the right code turns 2FA on (exit $ENROLL_RC)" test "$ENROLL_RC" -eq 0
check "with a confirmation message" grep -q "Two-factor authentication is now on for alice" "$T/out.alice"
out=$(as_user alice "$S2FA_CLI" --socket "$SOCK" status)
check "studio2fa status says on (got: $out)" grep -q "is on for alice" <<< "$out"
out=$("$S2FA_ADMIN" --socket "$SOCK" status alice)
check "studio2fa-admin status says on" grep -q "^2fa: on" <<< "$out"

# The confirming code cannot be replayed for a login.
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$first")"
check "the code that confirmed enrollment does not log in" login_failed_with 7
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$first")"
check "the next code does" login_succeeded

# Enrolling again while enrolled is refused with a clear message.
out=$(as_user alice "$S2FA_CLI" --socket "$SOCK" enroll --no-qr < /dev/null 2>&1); rc=$?
check "enroll when already on fails (exit $rc)" test "$rc" -ne 0
check "... and says it is already on" grep -q "already on for alice" <<< "$out"

# Expiry: an enrollment not confirmed within enroll_timeout (10 minutes) is gone.
start_enrollment bob
advance_time 601
finish_enrollment "$(code_for "$PENDING")"
check "a code after 10 minutes does not confirm (exit $ENROLL_RC)" test "$ENROLL_RC" -ne 0
check "... and the user is told it expired" grep -q "expired" "$T/out.bob"
check "status: bob is off" bash -c '"$0" --socket "$1" status bob | grep -q "^2fa: off"' "$S2FA_ADMIN" "$SOCK"

# Non-interactive input: end of input without a code.
out=$(as_user bob "$S2FA_CLI" --socket "$SOCK" enroll --no-qr < /dev/null 2>&1); rc=$?
check "no code given: exit non-zero with a message" bash -c '[ "$0" -ne 0 ] && grep -q "no code given" <<< "$1"' "$rc" "$out"

# Throttle: 5 wrong codes are free; then each attempt must wait, even with the right code.
next_step
for i in 1 2 3 4 5; do pam_login s2fa alice 'alice-Pa55word' '111111'; done
check "5 wrong codes refused" login_failed_with 7
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$first")"
check "6th attempt, right code: refused while throttled" login_failed_with 7
# 2 s after the 5th failure (1 s if a real second has passed since; see the note below).
check "... with a message saying how long to wait" \
  grep -Eq "^ERROR Too many wrong codes. Wait [12] seconds" <<< "$LOGIN_OUT"
advance_time 3
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$first")"
check "after the wait, the right code works" login_succeeded
out=$("$S2FA_ADMIN" --socket "$SOCK" status alice)
check "and the failure count is reset" grep -q "^failures: 0" <<< "$out"

# The throttle survives a restart, and doubles per further failure.
next_step
for i in 1 2 3 4 5 6; do pam_login s2fa alice 'alice-Pa55word' '222222'; advance_time 5; done
stop_daemon; check "daemon restarts" start_daemon
out=$("$S2FA_ADMIN" --socket "$SOCK" status alice)
check "failures survive a restart (got: $(tr '\n' ' ' <<< "$out"))" grep -q "^failures: 6" <<< "$out"
pam_login s2fa alice 'alice-Pa55word' '333333'
out=$("$S2FA_ADMIN" --socket "$SOCK" status alice)
# The daemon's clock is real time plus the test's offset, so a second may pass between the
# wrong code and this question: the wait left is 8 s, or 7 s once that second has gone.
check "after 7 failures the wait is 2*2^2 = 8 s (got: $(grep retry_after <<< "$out"))" \
  grep -Eq "^retry_after: [78]$" <<< "$out"

# Wrong passwords never feed the throttle (nobody can throttle alice without her password).
advance_time 600
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$first")"
check "alice logs in to reset" login_succeeded
for i in 1 2 3 4 5 6 7; do pam_login s2fa alice 'guess' '444444'; done
out=$("$S2FA_ADMIN" --socket "$SOCK" status alice)
check "7 wrong passwords: no code failure counted" grep -q "^failures: 0" <<< "$out"

finish
