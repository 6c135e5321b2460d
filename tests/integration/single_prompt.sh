#!/bin/bash
# single_prompt: one hidden prompt whose answer is the password with the code appended, for
# programs with a single password box. The module splits off the last code_digits characters;
# an answer that cannot be split is refused without asking the daemon.
. "$top_srcdir/tests/integration/lib.sh"

add_user erin 5005 'erin-pw-2024'   # a password that ends in digits
add_user frank 5006 'frank-Pa55word'

# Codes of DIGITS digits (lib.sh's enroll confirms with code_for too).
DIGITS=6
code_for() { oathtool --totp -d "$DIGITS" -b "$1" --now "@$(( $(fake_now) + ${2:-0} ))"; }

pam_service s2fa-single single_prompt
# What the modules after this one see as PAM_AUTHTOK (pam_exec writes it to its program).
cat > "$T/show-authtok" <<SCRIPT
#!/bin/sh
tr -d '\\000' > "$T/authtok"
SCRIPT
chmod 0755 "$T/show-authtok"
cat > "$T/pam.d/s2fa-single-then" <<PAM
auth required $S2FA_MODULE socket=$SOCK single_prompt
auth required pam_exec.so expose_authtok quiet $T/show-authtok
PAM
authtok_is() { [ "$(cat "$T/authtok")" = "$1" ]; }
requests() { grep -c 'authentication ' "$DAEMON_LOG"; }
asked_once() {
  [ "$(grep -c '^PROMPT' <<< "$LOGIN_OUT")" -eq 1 ] &&
    grep -qx 'PROMPT-HIDDEN Password and verification code: ' <<< "$LOGIN_OUT"
}

check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET
check "erin enrolls" enroll erin
E=$SECRET

next_step
used=$(code_for "$A")
pam_login s2fa-single alice "alice-Pa55word$used"
check "password with the code appended logs in" login_succeeded
check "one prompt: 'Password and verification code: '" asked_once
check "the daemon was asked for the password and the code" \
  grep -q 'authentication success: user=alice service=s2fa-single .*reason="password and code"' \
  "$DAEMON_LOG"
pam_login s2fa-single alice "alice-Pa55word$used"
check "replayed code refused" login_failed_with 7

next_step
pam_login s2fa-single alice "alice-Pa55word000000"
check "wrong code refused" login_failed_with 7
pam_login s2fa-single alice "not-her-password$(code_for "$A")"
check "wrong password refused" login_failed_with 7
pam_login s2fa-single alice "alice-Pa55word$(code_for "$A")"
check "the right answer still works after those" login_succeeded

# Answers that are not a password followed by 6 digits fail at once; the daemon hears nothing.
before=$(requests)
next_step
pam_login s2fa-single alice "alice-Pa55word"
check "no code appended: refused" login_failed_with 7
pam_login s2fa-single alice "$(code_for "$A")"
check "the code alone (no password): refused" login_failed_with 7
pam_login s2fa-single alice "alice-Pa55word$(code_for "$A" | cut -c1-5)"
check "a code one digit short: refused" login_failed_with 7
pam_login s2fa-single alice "alice-Pa55word$(code_for "$A" | cut -c1-5)x"
check "a non-digit in the code: refused" login_failed_with 7
pam_login s2fa-single alice ""
check "an empty answer: refused" login_failed_with 7
pam_login s2fa-single alice "$(head -c 600 /dev/zero | tr '\0' p)$(code_for "$A")"
check "a password longer than the protocol allows: refused" login_failed_with 7
check "none of those reached the daemon" test "$(requests)" -eq "$before"
check "... and none was counted as a wrong code" \
  eval 'python3 "$RAW_CLIENT" "$SOCK" status alice | grep -q "^REPLY 0x82 02.\{16\}00000000"'

# A password that ends in digits: only the last 6 are the code.
next_step
pam_login s2fa-single-then erin "erin-pw-2024$(code_for "$E")"
check "a password ending in digits, then the code: logs in" login_succeeded
check "the modules after it get the password alone as PAM_AUTHTOK" authtok_is 'erin-pw-2024'

# Not enrolled: the whole answer is the password.
pam_login s2fa-single-then dave 'dave-Pa55word'
check "not enrolled: the password alone logs in" login_succeeded
check "not enrolled: one prompt" asked_once
check "not enrolled: PAM_AUTHTOK is the whole answer" authtok_is 'dave-Pa55word'
check "not enrolled: the daemon checked the password only" \
  grep -q 'authentication success: user=dave service=s2fa-single-then .*reason="password"' \
  "$DAEMON_LOG"
pam_login s2fa-single dave 'dave-Pa55word123456'
check "not enrolled: nothing is split off" login_failed_with 7

# The answer an earlier module stored (use_first_pass), as a greeter's stack may do.
cat > "$T/pam.d/s2fa-single-first" <<PAM
auth required $(find_lib pam_wrapper/pam_set_items.so)
auth required $S2FA_MODULE socket=$SOCK single_prompt use_first_pass
PAM
next_step
PAM_AUTHTOK="alice-Pa55word$(code_for "$A")" pam_login s2fa-single-first alice
check "use_first_pass: the stored answer is split and logs in" login_succeeded
check "use_first_pass: nothing is asked" eval '! grep -q "^PROMPT" <<< "$LOGIN_OUT"'

# A screen locker with one password box, running as the user.
next_step
LOGIN_RC=0
LOGIN_OUT=$(printf '%s\n' "alice-Pa55word$(code_for "$A")" | pam_wrapped as_user alice env \
  LD_PRELOAD="$NSS_WRAPPER_LIB $PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
  "$PAM_LOGIN" s2fa-single alice) || LOGIN_RC=$?
check "a locker running as alice unlocks with one answer" login_succeeded

pam_service s2fa-single-otp single_prompt otp_only
pam_login s2fa-single-otp alice "alice-Pa55word$(code_for "$A")"
check "single_prompt with otp_only: refused as a bad configuration (PAM_SERVICE_ERR)" \
  login_failed_with 3

# Codes of 8 digits: code_digits must match the daemon's totp_digits.
stop_daemon
write_config "totp_digits = 8"
check "daemon restarts with totp_digits = 8" start_daemon
DIGITS=8
check "frank enrolls with 8-digit codes" enroll frank
F=$SECRET
pam_service s2fa-single8 single_prompt code_digits=8
next_step
pam_login s2fa-single8 frank "frank-Pa55word$(code_for "$F")"
check "code_digits=8: password and 8-digit code log in" login_succeeded
next_step
pam_login s2fa-single frank "frank-Pa55word$(code_for "$F")"
check "code_digits left at 6 for 8-digit codes: refused" login_failed_with 7
pam_login s2fa-single8 frank "frank-Pa55word$(code_for "$F")"
check "... and that attempt did not spend the code" login_succeeded
DIGITS=6

check "no answer in the log" eval '! grep -qE "Pa55word|pw-2024" "$DAEMON_LOG"'

finish
