#!/bin/bash
# studio2fa-admin migrate through the real daemon, as far as this build goes: the command line
# (a direction is required, one only) and, with no directory in the config, a refusal that says
# so and changes nothing. The copy itself is tests/unit/test_record_migration (10,000 records
# SQLite to SQLite); with the directory store, the two-daemon tests run it against slapd.
. "$top_srcdir/tests/integration/lib.sh"

check "daemon starts" start_daemon
check "alice enrolls" enroll alice

admin root migrate
check "migrate without a direction is a usage error (rc $RC)" \
  bash -c '[ "$0" -eq 2 ] && grep -q "needs --to-directory or --to-local" <<< "$1"' "$RC" "$OUT"
admin root migrate --to-directory --to-local
check "both directions at once is a usage error (rc $RC)" \
  bash -c '[ "$0" -eq 2 ] && grep -q "do not go together" <<< "$1"' "$RC" "$OUT"
admin root migrate --to-local extra
check "an operand is a usage error (rc $RC)" test "$RC" -eq 2
admin alice migrate --to-directory
check "a user who is not an administrator is refused (rc $RC)" test "$RC" -eq 1

admin root migrate --to-directory
check "with no directory in the config the daemon says so (rc $RC)" \
  bash -c '[ "$0" -eq 1 ] && grep -q "needs ldap_uri and enrollment_base" <<< "$1"' "$RC" "$OUT"
check "... and logs the refusal" grep -q "migrate to-directory.*refused" "$DAEMON_LOG"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$(cat "$T/secret.alice")")"
check "alice still logs in" login_succeeded
finish
