# Shared set-up for the tests that run real login programs (sshd, su, sudo) with the example
# stacks from conf/pam.d (sourced by the test, in place of lib.sh; bash).
#
# These programs cannot be run under the wrappers lib.sh uses: su and sudo are setuid (the
# dynamic linker drops LD_PRELOAD), pam_wrapper reads "@include"d files from the real
# /etc/pam.d, and pam_unix's account check calls getspnam_r, which nss_wrapper does not wrap.
# So the test re-executes itself, as root, in a private mount namespace, and bind-mounts over
# /etc/pam.d, /etc/passwd, /etc/group and /etc/shadow copies of the machine's own files with
# lib.sh's test accounts added, and fresh tmpfs over /run (sshd's privilege separation
# directory, sudo's timestamps; no session reaches the real logind) and /var/log (su's btmp).
# Nothing outside the namespace sees any of it, and it all goes away with the test.
#
# When the test cannot do that (not root, no mount namespaces, a program missing) it is
# skipped: "1..0 # SKIP reason".

# system_skip REASON: reports the whole test as skipped.
system_skip() {
  echo "1..0 # SKIP $*"
  exit 0
}

if [ "${S2FA_IN_NAMESPACE:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || system_skip "needs root (real login programs in a mount namespace)"
  unshare --mount --propagation private true 2>/dev/null ||
    system_skip "cannot create a mount namespace"
  exec unshare --mount --propagation private env S2FA_IN_NAMESPACE=1 bash "$0" "$@"
fi

# require_programs PROGRAM...: skips the test when one is missing.
require_programs() {
  local program
  for program in "$@"; do
    command -v "$program" > /dev/null 2>&1 || system_skip "$program is not installed"
  done
}
require_programs expect oathtool

. "$top_srcdir/tests/integration/lib.sh"

ANSWER_PROMPTS=$top_srcdir/tests/integration/answer_prompts.exp
SYS=$T/system
S2FA_MOUNTS=()

# Runs before lib.sh's cleanup, which removes $T. A test that starts a program of its own
# stops it first: trap 'stop_it; system_cleanup; cleanup' EXIT.
system_cleanup() {
  local i
  for ((i = ${#S2FA_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${S2FA_MOUNTS[i]}" 2>/dev/null || umount -l "${S2FA_MOUNTS[i]}"
  done
  S2FA_MOUNTS=()
}
trap 'system_cleanup; cleanup' EXIT

mount_over() { # mount_over SOURCE TARGET (bind) | mount_over tmpfs TARGET
  if [ "$1" = tmpfs ]; then
    mount -t tmpfs -o mode=0755,nosuid,nodev s2fa-test "$2" || return 1
  else
    mount --bind "$1" "$2" || return 1
  fi
  S2FA_MOUNTS+=("$2")
}

# The machine's accounts, minus any of the test's names, plus the test's (from lib.sh), each
# with a home directory of its own under $T/home.
build_system_accounts() {
  local names
  names=$(awk -F: '$1 != "root" { print $1 }' "$T/passwd" | paste -sd'|')
  grep -Ev "^($names):" /etc/passwd > "$SYS/passwd"
  grep -Ev "^($names):" /etc/group > "$SYS/group"
  grep -Ev "^($names):" /etc/shadow > "$SYS/shadow"
  grep -Ev '^root:' "$T/passwd" >> "$SYS/passwd"
  grep -Ev '^root:' "$T/group" >> "$SYS/group"
  grep -Ev '^root:' "$T/shadow" >> "$SYS/shadow"
  # sshd's privilege separation user, in case openssh-server's postinst did not add one.
  if ! grep -q '^sshd:' "$SYS/passwd"; then
    echo 'sshd:x:64999:65534::/run/sshd:/usr/sbin/nologin' >> "$SYS/passwd"
  fi
  chmod 0644 "$SYS/passwd" "$SYS/group"
  chmod 0640 "$SYS/shadow"
  chgrp shadow "$SYS/shadow" 2>/dev/null
  local name uid
  for name in $(awk -F: '$1 != "root" { print $1 }' "$T/passwd"); do
    uid=$(uid_of "$name")
    mkdir -p -m 0755 "$T/home/$name"
    chown "$uid:$uid" "$T/home/$name"
  done
}

# enter_system_world: puts the copies in place (see the top of this file).
enter_system_world() {
  mkdir -m 0700 "$SYS" "$SYS/log" || return 1
  cp -a /etc/pam.d "$SYS/pam.d" || return 1
  build_system_accounts || return 1
  mount_over "$SYS/pam.d" /etc/pam.d &&
    mount_over "$SYS/passwd" /etc/passwd &&
    mount_over "$SYS/group" /etc/group &&
    mount_over "$SYS/shadow" /etc/shadow &&
    mount_over tmpfs /run &&
    mkdir -m 0755 /run/sshd &&
    mount_over tmpfs /var/log
}

# install_example FILE SERVICE: installs conf/pam.d/FILE as the stack of SERVICE, changed only
# to name the built module and the test's socket.
install_example() {
  sed -e "/^[[:space:]]*#/!s|pam_studio2fa\\.so|$S2FA_MODULE socket=$SOCK|" \
    "$top_srcdir/conf/pam.d/$1" > "/etc/pam.d/$2"
}

# run_conversation ANSWERS_COUNT ANSWER... COMMAND...: runs COMMAND on a terminal under
# expect, answering each prompt (a line ending in ": ") with the next answer. Sets CONV_OUT
# (the whole terminal output) and CONV_RC (COMMAND's exit status).
run_conversation() {
  CONV_RC=0
  CONV_OUT=$(expect -f "$ANSWER_PROMPTS" "$@" 2>&1) || CONV_RC=$?
  CONV_OUT=${CONV_OUT//$'\r'/}
}
conv_saw() { grep -qF -- "$1" <<< "$CONV_OUT"; }
# The prompts shown, in order, each followed by "|" (ssh's "(user@host) " prefix removed).
conv_prompts() { grep -E ': $' <<< "$CONV_OUT" | sed 's/^([^)]*) //' | tr '\n' '|'; }
