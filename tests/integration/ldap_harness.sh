#!/bin/bash
# The LDAP test harness (ldap_lib.sh) does what the tests built on it rely on: a slapd with the
# fixtures on ldapi, ldap:// (StartTLS) and ldaps://, the test CA, the service account, the
# access rules, the operation counter, restarts with the rogue certificate, the hung directory,
# the NSS users, and nothing left running at exit.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"

# The fixture users, by uid (the table in ldap_fixtures.ldif).
FIXTURE_USERS="anim1 anim2 anim3 anim4 anim5 anim6 ctr1 ldaponly1 rev1 vfx1 vfx2 vfx3"

# tls_tool TOOL ARGS...: an LDAP tool trusting only the test CA, no ~/.ldaprc.
tls_tool() { LDAPTLS_CACERT=$LDAP_CA LDAPRC=/dev/null "$@"; }
# as_service TOOL ARGS...: TOOL as the service account, over StartTLS.
as_service() {
  tls_tool "$1" -ZZ -H "$LDAP_URI" -D "$LDAP_BIND_DN" -y "$LDAP_BIND_PASSWORD_FILE" "${@:2}"
}
# has TEXT PATTERN: TEXT contains a line matching PATTERN (grep -E).
has() { grep -qE -- "$2" <<< "$1"; }
lacks() { ! grep -qE -- "$2" <<< "$1"; }
# uids LDIF: the sorted uid values in LDIF, on one line.
uids() { sed -n 's/^uid: //p' <<< "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }
# dns LDIF: the sorted DNs in LDIF, without ",$LDAP_BASE", on one line.
dns() {
  sed -n "s/^dn: \(.*\),$LDAP_BASE\$/\1/p" <<< "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}
# secret_file_ok FILE: mode 0600, not empty, no trailing newline.
secret_file_ok() {
  [ "$(stat -c %a "$1")" = 600 ] && [ -s "$1" ] &&
    [ "$(tail -c1 "$1" | od -An -tx1 | tr -d ' ')" != 0a ]
}
equal() { [ "$1" = "$2" ] || { diag "expected '$2', got '$1'"; return 1; }; }

started=$SECONDS
check "ldap_start brings slapd up" ldap_start
diag "slapd on $LDAP_URI and $LDAP_URI_LDAPS, log $LDAP_LOG"

# --- the three listeners ----------------------------------------------------------------------
out=$(LDAPNOINIT=1 ldapwhoami -Q -Y EXTERNAL -H "$LDAP_URI_LDAPI" 2>&1)
check "ldapi answers; root by SASL EXTERNAL is the peercred identity" \
  equal "$out" "dn:gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
out=$(tls_tool ldapwhoami -x -H "$LDAP_URI" 2>&1)
check "ldap:// answers in clear (StartTLS is not required by the server)" equal "$out" anonymous
out=$(as_service ldapwhoami 2>&1)
check "the service account binds with its password file over StartTLS, trusting LDAP_CA" \
  equal "$out" "dn:$LDAP_BIND_DN"
out=$(tls_tool ldapwhoami -H "$LDAP_URI_LDAPS" -D "$LDAP_BIND_DN" -y "$LDAP_BIND_PASSWORD_FILE" \
  2>&1)
check "the service account binds over ldaps://" equal "$out" "dn:$LDAP_BIND_DN"
check "the password file is mode 0600, without a trailing newline" \
  secret_file_ok "$LDAP_BIND_PASSWORD_FILE"

# --- users, passwords, access control -----------------------------------------------------------
vfx1_dn=$(ldap_user_dn vfx1)
check "ldap_user_dn finds vfx1" equal "$vfx1_dn" "uid=vfx1,ou=vfx,ou=people,$LDAP_BASE"
out=$(tls_tool ldapwhoami -ZZ -H "$LDAP_URI" -D "$vfx1_dn" -w pw-vfx1 2>&1)
check "a user binds with pw-<uid>" equal "$out" "dn:$vfx1_dn"
rc=0; out=$(tls_tool ldapwhoami -ZZ -H "$LDAP_URI" -D "$vfx1_dn" -w pw-vfx2 2>&1) || rc=$?
check "a wrong password is refused (invalidCredentials, 49)" equal "$rc" 49
out=$(tls_tool ldapwhoami -ZZ -H "$LDAP_URI" -D "$(ldap_user_dn ctr1)" -w pw-ctr1 2>&1)
check "a user two OUs down binds too" has "$out" '^dn:uid=ctr1,'

out=$(tls_tool ldapsearch -x -LLL -H "$LDAP_URI" -b "ou=people,$LDAP_BASE" '(objectClass=*)' 2>&1)
check "anonymous sees nothing under ou=people" lacks "$out" '^dn:'
out=$(tls_tool ldapsearch -x -LLL -H "$LDAP_URI" -b "$LDAP_BASE" -s base 2>&1)
check "anonymous cannot even read the base entry" lacks "$out" '^dn:'
out=$(as_service ldapsearch -LLL -b "$LDAP_BASE" '(objectClass=posixAccount)' uid 2>&1)
check "the service account finds every fixture user" equal "$(uids "$out")" "$FIXTURE_USERS"
# (Its own it can: "by self write".)
out=$(as_service ldapsearch -LLL -b "ou=people,$LDAP_BASE" '(userPassword=*)' userPassword 2>&1)
check "the service account can neither read nor test the users' userPassword" \
  lacks "$out" '^(dn|userPassword):'
out=$(tls_tool ldapsearch -ZZ -LLL -H "$LDAP_URI" -D "$vfx1_dn" -w pw-vfx1 -b "$LDAP_BASE" \
  '(objectClass=groupOfUniqueNames)' cn uniqueMember 2>&1)
check "an authenticated user reads the groups" has "$out" '^uniqueMember: cn=nested-mid,'

# --- the fixtures -----------------------------------------------------------------------------
required="cn=deep-10,ou=groups cn=render-admins,ou=groups cn=security,ou=groups"
required+=" ou=contractors,ou=people ou=vfx,ou=people uid=vfx2,ou=vfx,ou=people"
out=$(ldap_search '(studio2faRequired=TRUE)' 1.1)
check "studio2faRequired is on exactly the fixtures' flagged entries" \
  equal "$(dns "$out")" "$required"
out=$(ldap_search '(studio2faExempt=TRUE)' 1.1)
check "studio2faExempt is on exactly ou=review, clients and anim4" equal "$(dns "$out")" \
  "cn=clients,ou=groups ou=review,ou=people uid=anim4,ou=anim,ou=people"
out=$(ldap_search -s base '(objectClass=*)' objectClass)
check "the base entry carries no studio2fa flag" lacks "$out" studio2faPolicy
out=$(ldap_search -b "ou=groups,$LDAP_BASE" '(cn=render-admins)' memberUid studio2faGracePeriod)
check "render-admins: memberUid anim2 and anim4, grace period 259200" \
  bash -c 'grep -qx "memberUid: anim2" <<< "$0" && grep -qx "memberUid: anim4" <<< "$0" &&
           grep -qx "studio2faGracePeriod: 259200" <<< "$0"' "$out"
out=$(ldap_search '(|(cn=deep-*)(cn=loop-*))' 1.1)
check "the depth chain has 10 groups and the loop 2" equal "$(dns "$out" | wc -w)" 12

# --- counting operations ----------------------------------------------------------------------
srch=$(ldap_ops_count SRCH); bind=$(ldap_ops_count BIND); conns=$(ldap_ops_count ACCEPT)
as_service ldapsearch -LLL -b "$LDAP_BASE" '(uid=anim1)' 1.1 > /dev/null 2>&1
check "one ldapsearch is one SRCH" equal "$(ldap_ops_count SRCH)" $((srch + 1))
check "... one BIND" equal "$(ldap_ops_count BIND)" $((bind + 1))
check "... and one connection (ACCEPT)" equal "$(ldap_ops_count ACCEPT)" $((conns + 1))
srch=$(ldap_ops_count SRCH)
ldap_search '(uid=anim1)' 1.1 > /dev/null
ldap_user_dn anim2 > /dev/null
check "the harness's own ldap_search is not counted" equal "$(ldap_ops_count SRCH)" "$srch"

# --- flipping flags ---------------------------------------------------------------------------
ldap_modify > /dev/null <<LDIF
dn: $LDAP_BASE
changetype: modify
add: objectClass
objectClass: studio2faPolicy
-
add: studio2faRequired
studio2faRequired: TRUE
LDIF
out=$(as_service ldapsearch -LLL -b "$LDAP_BASE" -s base studio2faRequired 2>&1)
check "ldap_modify flips a flag that the service account then sees" \
  has "$out" '^studio2faRequired: TRUE$'
ldap_modify > /dev/null <<LDIF
dn: $LDAP_BASE
changetype: modify
delete: studio2faRequired
-
delete: objectClass
objectClass: studio2faPolicy
LDIF
out=$(ldap_search -s base '(objectClass=*)' objectClass)
check "... and back" lacks "$out" studio2faPolicy

# --- restart with the rogue certificate ---------------------------------------------------------
ldap_stop
rc=0; tls_tool ldapwhoami -x -H "$LDAP_URI" -o nettimeout=2 > /dev/null 2>&1 || rc=$?
check "ldap_stop: nothing answers any more" test "$rc" -ne 0
srch=$(ldap_ops_count SRCH)
check "ldap_start rogue restarts slapd" ldap_start rogue
rc=0; out=$(as_service ldapwhoami 2>&1) || rc=$?
check "with the rogue certificate, StartTLS trusting LDAP_CA fails verification" \
  bash -c '[ "$0" -ne 0 ] && grep -qi "certificate\|connect error" <<< "$1"' "$rc" "$out"
rc=0; tls_tool ldapwhoami -H "$LDAP_URI_LDAPS" -D "$LDAP_BIND_DN" -y "$LDAP_BIND_PASSWORD_FILE" \
  > /dev/null 2>&1 || rc=$?
check "... and so does ldaps://" test "$rc" -ne 0
out=$(LDAPNOINIT=1 ldapsearch -Q -LLL -Y EXTERNAL -H "$LDAP_URI_LDAPI" -b "$LDAP_BASE" \
  '(objectClass=posixAccount)' uid 2>&1)
check "the data survived the restart (search over ldapi)" equal "$(uids "$out")" "$FIXTURE_USERS"
check "the operation count goes on across restarts" equal "$(ldap_ops_count SRCH)" $((srch + 1))
ldap_stop
check "ldap_start good: back to the good certificate" ldap_start good
out=$(as_service ldapwhoami 2>&1)
check "StartTLS trusting LDAP_CA works again" equal "$out" "dn:$LDAP_BIND_DN"

# --- the hung directory -----------------------------------------------------------------------
check "ldap_pause" ldap_pause
check "paused: a TCP connection is still accepted" python3 -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()' "$LDAP_PORT"
before=$SECONDS
rc=0; timeout 3 env LDAPRC=/dev/null ldapsearch -x -LLL -o nettimeout=1 -l 1 -H "$LDAP_URI" \
  -b "$LDAP_BASE" -s base > /dev/null 2>&1 || rc=$?
check "paused: an ldapsearch gets no answer (exit $rc)" test "$rc" -ne 0
check "... and the caller is not stuck (timeout 3)" test $((SECONDS - before)) -le 4
check "ldap_resume" ldap_resume
out=$(as_service ldapsearch -LLL -b "$LDAP_BASE" '(uid=vfx1)' uidNumber 2>&1)
check "resumed: searches work again" has "$out" '^uidNumber: 6001$'

# --- NSS ----------------------------------------------------------------------------------------
ldap_nss_users
ldap_nss_users
out=$(env $(nss_env) getent passwd vfx1)
check "ldap_nss_users: getent passwd vfx1 gives uid 6001, gid 6000" \
  equal "$out" "vfx1:x:6001:6000:VFX One:/home/vfx1:/bin/sh"
out=$(env $(nss_env) getent passwd alice)
check "lib.sh's own users are still there" has "$out" '^alice:x:5001:5001:'
out=$(env $(nss_env) getent group render-admins)
check "posixGroups come with their members" equal "$out" "render-admins:x:6100:anim2,anim4"
check "calling it twice adds nothing twice" equal "$(grep -c '^vfx1:' "$T/passwd")" 1
out=$(env $(nss_env) getent passwd 6011)
check "lookup by uid works too" has "$out" '^ctr1:'
out=$(as_user vfx1 id -u)
check "as_user works for a directory user" equal "$out" 6001

# --- exit --------------------------------------------------------------------------------------
# A test that exits with slapd paused leaves nothing behind: not slapd, not its temp dir.
out=$(bash -c '. "$top_srcdir/tests/integration/lib.sh"
  . "$top_srcdir/tests/integration/ldap_lib.sh"
  ldap_start > /dev/null; echo "$S2FA_LDAP_PID $T"; ldap_pause; exit 3')
read -r child_pid child_t <<< "$out"
check "at exit, a paused slapd is stopped" \
  bash -c '[ -n "$0" ] && ! kill -0 "$0" 2> /dev/null' "$child_pid"
check "... and lib.sh's cleanup still runs" bash -c '[ -n "$0" ] && [ ! -e "$0" ]' "$child_t"

ldap_stop
check "ldap_stop leaves no slapd of this test" \
  bash -c '! pgrep -f -- "-F $0/slapd.d" > /dev/null' "$T/ldap"
diag "took $((SECONDS - started)) s"
finish
