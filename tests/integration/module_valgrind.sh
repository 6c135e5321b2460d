#!/bin/bash
# The PAM module under valgrind memcheck, through the real pam_login driver (libpam, pam_wrapper):
# no invalid read or write, no use of uninitialised memory, and nothing definitely or indirectly
# lost, on each path a login takes: success, wrong code, not enrolled, daemon unreachable,
# otp_only, and a bad module argument.
#
# The module is dlclose()d by pam_end() before valgrind looks for leaks; --keep-debuginfo keeps
# its symbols, so a leak from it is reported with pam_studio2fa.so in its stack. Nothing is
# suppressed: libpam, pam_wrapper and libpamtest free everything on these paths too (if one of
# them ever does not, a suppression file naming its frames goes next to this script).
. "$top_srcdir/tests/integration/lib.sh"
skip_if_sanitized "valgrind and ASan cannot run together"

if ! command -v valgrind > /dev/null; then
  not_ok "valgrind is installed (.ci/install-deps.sh installs it)"
  finish
fi

S2FA_RUNS=0
# vg_login SERVICE USER ANSWER...: pam_login under memcheck. Sets LOGIN_OUT and LOGIN_RC as
# pam_login does (LOGIN_RC is 99 when memcheck found an error) and VG_LOG, memcheck's report.
# The wrappers are preloaded through valgrind's own environment, which it hands to the program.
vg_login() {
  local service=$1 user=$2; shift 2
  S2FA_RUNS=$((S2FA_RUNS + 1))
  VG_LOG=$T/valgrind.$S2FA_RUNS.log
  LOGIN_RC=0
  LOGIN_OUT=$(printf '%s\n' "$@" | pam_wrapped env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
      --track-fds=no --keep-debuginfo=yes --log-file="$VG_LOG" \
      "$PAM_LOGIN" "$service" "$user") || LOGIN_RC=$?
}

# memcheck_clean: the last vg_login found no error and lost nothing definitely or indirectly;
# otherwise its report goes to the TAP output.
memcheck_clean() {
  if [ "$LOGIN_RC" -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG" &&
     ! grep -Eq '(definitely|indirectly) lost: [1-9]' "$VG_LOG"; then
    return 0
  fi
  sed 's/^/# /' "$VG_LOG"
  return 1
}

check "daemon starts" start_daemon
check "alice enrolls through the CLI" enroll alice
A=$SECRET

next_step
vg_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "password and code: login succeeds under valgrind" login_succeeded
check "password and code: no memory error, nothing lost" memcheck_clean

next_step
vg_login s2fa alice 'alice-Pa55word' '000000'
check "wrong code: PAM_AUTH_ERR (7) under valgrind" login_failed_with 7
check "wrong code: no memory error, nothing lost" memcheck_clean

vg_login s2fa dave 'dave-Pa55word'
check "not enrolled: password alone logs in under valgrind" login_succeeded
check "not enrolled: no memory error, nothing lost" memcheck_clean

pam_service s2fa-otp otp_only
next_step
vg_login s2fa-otp alice "$(code_for "$A")"
check "otp_only: code alone succeeds under valgrind" login_succeeded
check "otp_only: no memory error, nothing lost" memcheck_clean

pam_service s2fa-bad otp-only
vg_login s2fa-bad alice 'alice-Pa55word'
check "unknown module argument: PAM_SERVICE_ERR (3) under valgrind" login_failed_with 3
check "unknown module argument: no memory error, nothing lost" memcheck_clean

stop_daemon
vg_login s2fa alice 'alice-Pa55word' '123456'
check "daemon unreachable: PAM_AUTHINFO_UNAVAIL (9) under valgrind" login_failed_with 9
check "daemon unreachable: the user is told" saw "ERROR Two-factor authentication is not available"
check "daemon unreachable: no memory error, nothing lost" memcheck_clean

finish
