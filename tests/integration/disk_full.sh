#!/bin/bash
# Disk full: with the database on a small tmpfs that fills up, logins fail closed with a clear
# log line, nothing is corrupted, and everything works again once space returns.
. "$top_srcdir/tests/integration/lib.sh"

if ! mount -t tmpfs -o size=1m,mode=0700 tmpfs "$T/lib" 2>/dev/null; then
  echo "1..0 # SKIP cannot mount a tmpfs here (needs root)"
  exit 0
fi
cleanup_mount() { stop_daemon; umount "$T/lib" 2>/dev/null; cleanup; }
trap cleanup_mount EXIT

check "daemon starts on the small file system" start_daemon
check "alice enrolls" enroll alice
A=$SECRET
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "alice logs in while there is space" login_succeeded

dd if=/dev/zero of="$T/lib/filler" bs=4k 2>/dev/null
check "the file system is now full" bash -c '[ "$(df --output=avail "$0" | tail -n1)" -eq 0 ]' "$T/lib"

failed_closed=0
for i in 1 2 3 4 5; do
  next_step
  pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
  if [ "$LOGIN_RC" -eq 9 ]; then failed_closed=$((failed_closed + 1)); fi
  if login_succeeded; then break; fi
done
check "with the disk full, logins fail closed (PAM_AUTHINFO_UNAVAIL; $failed_closed of 5)" \
  test "$failed_closed" -eq 5
check "the user is told the service is unavailable" saw "Two-factor authentication is not available"
check "the log says why" grep -q 'full' "$DAEMON_LOG"
check "the daemon is still running" kill -0 "$S2FA_DAEMON_PID"

rm -f "$T/lib/filler"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "space back: alice logs in again, without a restart" login_succeeded
used=$(code_for "$A")
stop_daemon
check "the database passes integrity_check" test "$(sqlite3 "$T/lib/studio2fa.db" 'PRAGMA integrity_check')" = ok
check "daemon restarts" start_daemon
pam_login s2fa alice 'alice-Pa55word' "$used"
check "the last code used before the restart is still refused (nothing lost)" login_failed_with 7
finish
