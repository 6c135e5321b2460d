#!/bin/bash
# The phone factor's fields (schema version 3, types 30-37) through a real slapd, both ways, by
# the real daemon: a record whose phone fields are all set in this host's database goes to the
# directory (studio2fa-admin migrate --to-directory) as the attributes schema/studio2fa.schema
# defines, in their documented forms; changed in the directory, it comes back with
# --to-local, every field as the directory holds it. Then a store = directory daemon writes a
# login of that user, and only what the login changed is sent (the phone attributes untouched).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"

check "slapd starts with the fixtures (schema version 3)" ldap_start
ENROLLMENT_BASE=ou=studio2fa,$LDAP_BASE
printf 'dn: %s\nobjectClass: organizationalUnit\nou: studio2fa\n' "$ENROLLMENT_BASE" | ldap_add > /dev/null
trap 'stop_daemon; ldap_cleanup; cleanup' EXIT

config() {
  write_config "ldap_uri = $LDAP_URI_LDAPI" "ldap_base = $LDAP_BASE" "ldap_sasl_external = yes" \
    "ldap_timeout = 5s" "store = $1" "enrollment_base = $ENROLLMENT_BASE"
}
# attrs: alice's entry, the phone factor's attributes only, sorted.
attrs() {
  ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" -s base "(objectClass=*)" \
    studio2faPhone studio2faPhoneMethods studio2faPhoneEnrolledAt studio2faPendingPhone \
    studio2faPendingPhoneMethods studio2faPhoneCode studio2faPhoneCodeState studio2faPhoneSends |
    grep -v '^dn:' | grep . | sort
}
phone_row() {
  sqlite3 "$DB" "SELECT phone, phone_methods, phone_enrolled_at, pending_phone,
    pending_phone_methods, hex(phone_code), phone_code_purpose, phone_code_sent_at,
    phone_code_expires_at, phone_code_tries, phone_sends_since, phone_sends
    FROM users WHERE name = 'alice'"
}

config local
check "the host starts with store = local" start_daemon
check "alice enrolls on it" enroll alice
S=$SECRET
stop_daemon
sqlite3 "$DB" "UPDATE users SET phone = '+447946004567', phone_methods = 3,
  phone_enrolled_at = 1700000100, pending_phone = '+14155550100', pending_phone_methods = 2,
  phone_code = zeroblob(32), phone_code_purpose = 2, phone_code_sent_at = 1700000200,
  phone_code_expires_at = 1700000500, phone_code_tries = 2, phone_sends_since = 1700000000,
  phone_sends = 3 WHERE name = 'alice'"
sqlite3 "$DB" "UPDATE users SET phone_code = x'$(printf 'a5%.0s' $(seq 32))' WHERE name = 'alice'"
check "the host starts again, alice's phone fields set in its database" start_daemon
admin root migrate --to-directory
check "migrate --to-directory copies alice's record (rc=$RC): $OUT" \
  bash -c '[ "$0" -eq 0 ] && grep -q "^1 records copied" <<< "$1"' "$RC" "$OUT"
expected=$(sort <<EXPECTED
studio2faPendingPhone: +14155550100
studio2faPendingPhoneMethods: voice
studio2faPhone: +447946004567
studio2faPhoneCode:: $(python3 -c 'import base64; print(base64.b64encode(bytes([0xa5] * 32)).decode())')
studio2faPhoneCodeState: confirm 1700000200 1700000500 2
studio2faPhoneEnrolledAt: 1700000100
studio2faPhoneMethods: sms voice
studio2faPhoneSends: 1700000000 3
EXPECTED
)
got=$(attrs)
check "the entry holds the eight phone attributes in their documented forms" test "$got" = "$expected"
[ "$got" = "$expected" ] || diag "$got"

# Changed in the directory (as another host would), it comes back whole.
revision=$(ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" -s base "(objectClass=*)" \
  studio2faRevision | sed -n 's/^studio2faRevision: //p')
ldap_modify > /dev/null <<LDIF
dn: studio2faUser=alice,$ENROLLMENT_BASE
changetype: modify
replace: studio2faPhone
studio2faPhone: +33123456789
-
replace: studio2faPhoneMethods
studio2faPhoneMethods: sms
-
delete: studio2faPendingPhone
-
delete: studio2faPendingPhoneMethods
-
replace: studio2faPhoneCodeState
studio2faPhoneCodeState: login 1700000600 1700000900 0
-
replace: studio2faRevision
studio2faRevision: $((revision + 1))
LDIF
admin root migrate --to-local
check "migrate --to-local takes the directory's record back (rc=$RC): $OUT" test "$RC" -eq 0
stop_daemon
check "this host's database now has every phone field as the directory holds it" \
  test "$(phone_row)" = "+33123456789|1|1700000100||0|$(printf 'A5%.0s' $(seq 32))|1|1700000600|1700000900|0|1700000000|3"

# store = directory: a login writes what it changed and nothing else.
config directory
check "the host starts with store = directory" start_daemon
before=$(attrs)
next_step
pam_login s2fa alice alice-Pa55word "$(code_for "$S")"
check "alice logs in with a code" login_succeeded
check "... the phone attributes are untouched by that write" test "$(attrs)" = "$before"
mod=$(grep ' MOD attr=' "$LDAP_LOG" | tail -n1)
check "... whose modify named only what the login changed: ${mod#* MOD }" \
  bash -c 'grep -q "studio2faLastStep" <<< "$0" && ! grep -q "studio2faPhone\|studio2faSecret" <<< "$0"' "$mod"
finish
