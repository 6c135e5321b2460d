#!/bin/bash
# su and sudo through their real (setuid) binaries, run by a non-root user on a terminal driven
# by expect, with the example stacks conf/pam.d/su and conf/pam.d/sudo. They run in the
# private mount namespace of system_lib.sh, with a sudoers file of the test's own: the
# machine's /etc/pam.d, accounts and sudoers are untouched.
. "$top_srcdir/tests/integration/system_lib.sh"
skip_if_sanitized "su and sudo are not built with ASan"

require_programs su sudo setpriv

# "${AS_USER[@]}" COMMAND... runs COMMAND with the uid of USER, without any wrapper: su and
# sudo see the namespace's accounts.
AS_ALICE=(setpriv --reuid="$(uid_of alice)" --regid="$(uid_of alice)" --clear-groups)
AS_BOB=(setpriv --reuid="$(uid_of bob)" --regid="$(uid_of bob)" --clear-groups)
AS_DAVE=(setpriv --reuid="$(uid_of dave)" --regid="$(uid_of dave)" --clear-groups)
# The command run by su or sudo prints the uid it runs as.
WHOAMI='echo RAN-AS uid=$(id -u)'
ran_as() { [ "$CONV_RC" -eq 0 ] && conv_saw "RAN-AS uid=$1"; }
did_not_run() { [ "$CONV_RC" -ne 0 ] && ! conv_saw "RAN-AS"; }
wrong_code_for() {
  local code=123456
  while [ "$code" = "$(code_for "$1" -30)" ] || [ "$code" = "$(code_for "$1")" ] ||
        [ "$code" = "$(code_for "$1" 30)" ]; do
    code=$((code + 1))
  done
  echo "$code"
}

check "the private copies of /etc are in place" enter_system_world
install_example su su
install_example sudo sudo
{
  echo "# written by tests/integration/su_sudo.sh"
  echo "Defaults lecture=never, timestamp_timeout=0, passwd_tries=1, !fqdn"
  echo "root ALL=(ALL:ALL) ALL"
  echo "alice ALL=(ALL:ALL) ALL"
  echo "dave ALL=(ALL:ALL) ALL"
} > "$SYS/sudoers"
chmod 0440 "$SYS/sudoers"
check "the test's sudoers is in place" mount_over "$SYS/sudoers" /etc/sudoers
check "daemon starts" start_daemon
check "alice enrolls" enroll alice
A=$SECRET

# --- su: the target account's password and code ------------------------------------------
next_step
run_conversation 2 'alice-Pa55word' "$(code_for "$A")" "${AS_BOB[@]}" su alice -c "$WHOAMI"
check "su by bob to alice with her password and code (rc $CONV_RC)" ran_as "$(uid_of alice)"
check "su asked for the password, then the code" \
  test "$(conv_prompts)" = "Password: |Verification code: |"

next_step
run_conversation 2 'alice-Pa55word' "$(wrong_code_for "$A")" "${AS_BOB[@]}" su alice -c "$WHOAMI"
check "su with a wrong code fails" did_not_run
check "... with su's own message" conv_saw "Authentication failure"

run_conversation 1 'dave-Pa55word' "${AS_BOB[@]}" su dave -c "$WHOAMI"
check "su to dave (not enrolled) with his password alone" ran_as "$(uid_of dave)"

# --- sudo: the invoking user's password and code ------------------------------------------
next_step
run_conversation 2 'alice-Pa55word' "$(code_for "$A")" "${AS_ALICE[@]}" sudo sh -c "$WHOAMI"
check "sudo by alice with her password and code runs as root (rc $CONV_RC)" ran_as 0
check "sudo asked for the password, then the code" \
  test "$(conv_prompts)" = "[sudo] password for alice: |Verification code: |"

next_step
run_conversation 2 'alice-Pa55word' "$(wrong_code_for "$A")" "${AS_ALICE[@]}" sudo sh -c "$WHOAMI"
check "sudo with a wrong code fails" did_not_run
run_conversation 2 'not-her-password' "$(code_for "$A")" "${AS_ALICE[@]}" sudo sh -c "$WHOAMI"
check "sudo with a wrong password fails" did_not_run

run_conversation 1 'dave-Pa55word' "${AS_DAVE[@]}" sudo sh -c "$WHOAMI"
check "sudo by dave (not enrolled) with his password alone" ran_as 0

check "the daemon logged su's request" \
  grep -q 'authentication success: user=alice service=su ' "$DAEMON_LOG"
check "the daemon logged sudo's request" \
  grep -q 'authentication success: user=alice service=sudo ' "$DAEMON_LOG"

finish
