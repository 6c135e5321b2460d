#!/bin/bash
# An application that answers every hidden prompt with the same text (sshd with
# PasswordAuthentication and no keyboard-interactive) gives the password as the code. The module
# does not send that as a code: it is no wrong code and no wrong backup code, so however often
# it happens the account is not throttled or locked; the user is told what the administrator
# must change.
. "$top_srcdir/tests/integration/lib.sh"

# Letters and digits, 16 characters: could pass for a backup code.
add_user erin 5005 'ErinPassw0rd2024'

check "daemon starts" start_daemon
check "erin enrolls" enroll erin
E=$SECRET

authentications() { grep -c 'authentication [a-z]*: user=erin' "$DAEMON_LOG"; }
before=$(authentications)
for attempt in 1 2 3 4; do
  next_step
  pam_login s2fa erin 'ErinPassw0rd2024' 'ErinPassw0rd2024'
  check "attempt $attempt: the password as the code is refused (PAM_AUTH_ERR)" login_failed_with 7
done
check "the user is told the code prompt got the password" \
  saw "The code prompt was answered with the password, so no code was checked."
check "... and what the administrator must turn on" \
  saw "KbdInteractiveAuthentication yes, AuthenticationMethods keyboard-interactive"
check "none of those reached the daemon" test "$(authentications)" -eq "$before"
admin root status erin
check "erin is not locked" grep -qx 'locked: no' <<< "$OUT"
check "and has no wrong code counted" grep -qx 'failures: 0' <<< "$OUT"

next_step
pam_login s2fa erin 'ErinPassw0rd2024' "$(code_for "$E")"
check "then the password and a code log in" login_succeeded

# otp_only after a module that stored the password as PAM_AUTHTOK (pam_unix in the Debian
# profile; here the module itself in single_prompt mode, which leaves the password alone there):
# the code prompt's answer is compared with it as well.
cat > "$T/pam.d/s2fa-after-password" <<PAM
auth requisite $S2FA_MODULE socket=$SOCK single_prompt
auth required $S2FA_MODULE socket=$SOCK otp_only
account required pam_permit.so
PAM
next_step
pam_login s2fa-after-password erin "ErinPassw0rd2024$(code_for "$E")" 'ErinPassw0rd2024'
check "otp_only: the password (PAM_AUTHTOK) as the code is refused" login_failed_with 7
check "otp_only: the user is told" \
  saw "The code prompt was answered with the password, so no code was checked."

finish
