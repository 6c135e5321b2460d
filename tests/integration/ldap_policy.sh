#!/bin/bash
# Who must use 2FA, decided from a real slapd (tests/integration/ldap_lib.sh): every precedence
# rule of studio2fad.conf(5) on the fixture directory, as studio2fa-admin policy explains it;
# nested groups with the depth limit and a loop; flags changed in the directory reach the daemon
# after policy_cache_ttl; the global switch (refused to an admin without a second factor, unless
# forced, and logged); and the local rules (require_groups with !exceptions) for users who are
# not in the directory.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"

check "slapd starts with the fixtures" ldap_start
ldap_nss_users
echo "leads:x:7100:alice,bob" >> "$T/group"
echo "contractors:x:7101:bob" >> "$T/group"
echo "s2faadmins:x:7102:dave" >> "$T/group"

ldap_config() {
  write_config "ldap_uri = $LDAP_URI" "ldap_base = $LDAP_BASE" "ldap_bind_dn = $LDAP_BIND_DN" \
    "ldap_bind_password_file = $LDAP_BIND_PASSWORD_FILE" "ldap_ca_file = $LDAP_CA" \
    "policy_cache_ttl = 60s" "admin_group = s2faadmins" \
    "require_groups = leads !contractors" "$@"
}
ldap_config
check "the daemon starts with the directory configured" start_daemon

field() { sed -n "s/^$1: //p" <<< "$OUT"; }
# expect USER DECISION WHY-FRAGMENT DESCRIPTION
expect() {
  admin root policy "$1"
  local decision why
  decision=$(field decision); why=$(field why)
  if [ "$RC" -eq 0 ] && [ "$decision" = "$2" ] && grep -qiF -- "$3" <<< "$why"; then
    ok "$1: $2 ($4)"
  else
    not_ok "$1: $2 ($4); got rc=$RC decision=$decision why=$why"
  fi
}

expect vfx1 required "container ou=vfx,ou=people,$LDAP_BASE" "an OU requires it"
check "... the answer came from the directory, naming the user's entry" \
  bash -c 'grep -q "^source: directory" <<< "$0" && grep -q "^entry: uid=vfx1,ou=vfx,ou=people,dc=studio,dc=example" <<< "$0"' "$OUT"
admin root policy vfx1
check "... asked again: from the cache" grep -q "^source: cache" <<< "$OUT"
expect anim1 optional "no policy requires it" "nothing flags it"
expect anim2 required "group cn=render-admins,ou=groups,$LDAP_BASE" "a posixGroup by memberUid"
expect anim3 required "group cn=security,ou=groups,$LDAP_BASE" "two levels of nested groups, member then uniqueMember"
expect rev1 exempt "exempt by container ou=review" "an OU exempts it"
expect vfx2 required "own entry uid=vfx2" "its own entry requires it: beats the group's exemption"
expect vfx3 exempt "exempt by group cn=clients" "a group's exemption beats the OU's requirement"
expect anim4 exempt "exempt by own entry" "its own exemption beats its group's requirement"
expect anim5 optional "no policy requires it" "a loop of groups ends"
expect anim6 optional "no policy requires it" "groups nested deeper than ldap_nesting_depth (8) are not followed"
check "... and the daemon logs that it stopped following them" grep -q "nest deeper than ldap_nesting_depth" "$DAEMON_LOG"
expect ctr1 required "container ou=contractors,ou=people" "an OU two levels up requires it"

# Local users: require_groups = leads !contractors.
expect alice required "local group leads" "a local user in a required group"
expect bob exempt "exempt by local group contractors" "a local !exception beats a required group"
expect dave optional "no policy requires it" "a local user in neither"
admin root policy dave
check "... answered from local settings" grep -q "^source: local settings" <<< "$OUT"

# Deeper nesting is followed when the config says so; changes in the directory reach the daemon
# once the cached answer is older than policy_cache_ttl.
stop_daemon
ldap_config "ldap_nesting_depth = 10"
start_daemon
expect anim1 optional "no policy requires it" "(cached, before the change below)"
expect anim6 optional "no policy requires it" "still the cached answer within the TTL, whatever the depth now"
ldap_modify > /dev/null <<LDIF
dn: $(ldap_user_dn anim1)
changetype: modify
add: objectClass
objectClass: studio2faPolicy
-
add: studio2faRequired
studio2faRequired: TRUE
LDIF
expect anim1 optional "no policy requires it" "a flag added in the directory is not seen before the TTL"
advance_time 61
expect anim1 required "own entry uid=anim1" "... and is seen after it"
expect anim6 required "group cn=deep-10,ou=groups,$LDAP_BASE" "with ldap_nesting_depth = 10 the deep group counts"

# The global switch: refused to an admin who has no second factor, unless forced.
admin dave enforce on
check "enforce on by dave (no second factor) is refused (rc=$RC)" test "$RC" -eq 1
check "... saying why" grep -q "your own account (dave) has no second factor" <<< "$OUT"
admin root enforce
check "... and enforcement is still off" grep -qx "enforcement: off" <<< "$OUT"
OUT=$(SUDO_USER=dave "$S2FA_ADMIN" --socket "$SOCK" enforce on 2>&1); RC=$?
check "root through sudo acts for the invoking admin (dave): refused too (rc=$RC)" \
  bash -c '[ "$0" -eq 1 ] && grep -q "(dave)" <<< "$1"' "$RC" "$OUT"
check "dave enrolls" enroll dave
admin dave enforce on --grace 2h
check "with a second factor, dave turns enforcement on (rc=$RC)" test "$RC" -eq 0
admin root enforce
check "... which shows on, grace 2h, by dave" \
  bash -c 'grep -qx "enforcement: on" <<< "$0" && grep -q "^grace: 2h" <<< "$0" && grep -qx "by: dave" <<< "$0"' "$OUT"
expect ldaponly1 required "global enforcement" "a directory user nothing else flags"
expect dave required "global enforcement" "a local user in no group"
expect rev1 exempt "exempt by container ou=review" "exemptions win over global enforcement"
expect bob exempt "exempt by local group contractors" "local exceptions win over global enforcement too"
admin root enforce off
check "enforce off needs no second factor check (rc=$RC)" test "$RC" -eq 0
expect ldaponly1 optional "no policy requires it" "with enforcement off again"
admin root enforce on --force
check "root without sudo, forced: turned on (rc=$RC)" test "$RC" -eq 0
check "... with a warning" grep -q "warning: --force" <<< "$OUT"
check "... and the daemon logs it as forced" grep -q "forced\|--force" "$DAEMON_LOG"
admin root log
check "the audit trail holds the refusals, the switches and the forced one" \
  bash -c '[ "$(grep -c "admin-enforce" <<< "$0")" -ge 4 ] && grep -q "forced" <<< "$0"' "$OUT"
admin bob policy alice
check "a non-admin may not ask for the policy (rc=$RC)" test "$RC" -eq 1

# An admin turning off the second factor of a required user: enrollment is due at the next
# login, with no new grace period.
admin root enforce off
check "alice (required by the local group leads) enrolls" enroll alice
admin root disable alice
check "an admin turns alice's second factor off (rc=$RC)" test "$RC" -eq 0
admin root policy alice
check "... her enrollment is due now" grep -q "^grace_until: none (enrollment due at the next login)" <<< "$OUT"
pam_login s2fa alice 'alice-Pa55word'
check "... so her next login, password right, does not let her in without a second factor" \
  test "$LOGIN_RC" -ne 0
check "... and walks her through enrollment instead" saw "INFO Two-factor authentication is required for this account. Set it up now:"
check "... showing the key to type" saw "INFO    Or type this key into the app: "
admin root disable dave
pam_login s2fa dave 'dave-Pa55word'
check "an admin disable of a user nobody requires leaves a password login (rc=$LOGIN_RC)" \
  login_succeeded
finish
