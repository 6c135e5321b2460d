#!/bin/bash
# studio2fa-admin migrate against a real slapd: a host with store = local and 10,000 enrolled
# users (bench/seed) plus alice (enrolled through the CLI) copies them all to the directory; a
# second run copies none; a record the directory already holds is left as it is; the host then
# switches to store = directory and alice logs in with the same secret, a code used before the
# move still refused. Back: a new host (empty database, store = local) takes every record with
# --to-local, and alice logs in there. While the daemon serves the directory, migrate is refused
# with what to do instead.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"

USERS=${S2FA_MIGRATE_USERS:-10000}
check "slapd starts with the fixtures (schema version 2)" ldap_start
ENROLLMENT_BASE=ou=studio2fa,$LDAP_BASE
printf 'dn: %s\nobjectClass: organizationalUnit\nou: studio2fa\n' "$ENROLLMENT_BASE" | ldap_add > /dev/null
trap 'stop_daemon; ldap_cleanup' EXIT

# config STORE: this host's config for the store STORE, the directory named either way.
config() {
  write_config "ldap_uri = $LDAP_URI_LDAPI" "ldap_base = $LDAP_BASE" "ldap_sasl_external = yes" \
    "ldap_timeout = 5s" "store = $1" "enrollment_base = $ENROLLMENT_BASE"
}
# records: how many enrollment entries the directory holds.
records() {
  ldap_search -b "$ENROLLMENT_BASE" -s one "(objectClass=studio2faEnrollment)" 1.1 | grep -c '^dn:'
}

"$top_builddir/bench/seed" --users "$USERS" --prefix m --out "$T/users" --db "$DB" --key "$KEY" \
  > /dev/null || { not_ok "seeding $USERS users"; finish; }
config local
check "the host starts with store = local and $USERS seeded users" start_daemon
check "alice enrolls on it" enroll alice
S=$SECRET
next_step
pam_login s2fa alice alice-Pa55word "$(code_for "$S")"
check "alice logs in before the move" login_succeeded
USED=$(code_for "$S")

# A record the directory has already (written by hand, as if by another host) stays as it is.
printf 'dn: studio2faUser=m7,%s\nobjectClass: studio2faEnrollment\nstudio2faUser: m7\nstudio2faRevision: 41\n' \
  "$ENROLLMENT_BASE" | ldap_add > /dev/null

t0=$(date +%s%N)
admin root migrate --to-directory
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "migrate --to-directory of $((USERS + 1)) records: $ms ms"
check "migrate --to-directory copies every record but the one already there (rc $RC): $OUT" \
  grep -q "^$USERS records copied to the directory store, 1 already there" <<< "$OUT"
check "... the directory holds $((USERS + 1)) records" test "$(records)" -eq $((USERS + 1))
check "... and m7's is still the one written before" \
  test "$(ldap_search -b "studio2faUser=m7,$ENROLLMENT_BASE" -s base studio2faRevision |
          sed -n 's/^studio2faRevision: //p')" = 41
admin root migrate --to-directory
check "a second run copies nothing (rc $RC): $OUT" \
  grep -q "^0 records copied to the directory store, $((USERS + 1)) already there" <<< "$OUT"
check "alice's secret is in the directory sealed, never in base32" \
  bash -c '! grep -q "$0" <<< "$1"' "$S" \
  "$(ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" -s base)"

stop_daemon
config directory
check "the host restarts with store = directory" start_daemon
pam_login s2fa alice alice-Pa55word "$USED"
check "the code alice used before the move is refused (rc=$LOGIN_RC)" login_failed_with 7
next_step
pam_login s2fa alice alice-Pa55word "$(code_for "$S")"
check "alice logs in with a fresh code after the move" login_succeeded
USED=$(code_for "$S")
admin root migrate --to-local
check "migrate while serving the directory is refused with what to do (rc $RC)" \
  bash -c '[ "$0" -eq 1 ] && grep -q "runs while studio2fad serves store = local" <<< "$1"' "$RC" "$OUT"

# Back, onto a host with an empty database.
stop_daemon
DB=$T/lib/back.db
config local
check "a new host starts with store = local and an empty database" start_daemon
t0=$(date +%s%N)
admin root migrate --to-local
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "migrate --to-local of $((USERS + 1)) records: $ms ms"
check "migrate --to-local copies every record of the directory (rc $RC): $OUT" \
  grep -q "^$((USERS + 1)) records copied to the local store" <<< "$OUT"
pam_login s2fa alice alice-Pa55word "$USED"
check "on it, the code alice used through the directory is refused (rc=$LOGIN_RC)" login_failed_with 7
next_step
pam_login s2fa alice alice-Pa55word "$(code_for "$S")"
check "alice logs in there with a fresh code" login_succeeded

finish
