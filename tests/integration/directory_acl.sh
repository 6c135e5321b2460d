#!/bin/bash
# The directory as the shared store, on a real slapd prepared as schema/README.md says
# (schema/studio2fa-store-acl.ldif, the container): the service account adds, changes and reads
# enrollment entries; a user's own bind, anonymous and the replication account cannot change
# them, and only the replication account can read them; the rules for every other entry are
# what they were. And the compare-and-swap forms the daemons rely on, raced from 20 clients:
# the RFC 4528 assertion control on the revision and on the last step, the delete-old/add-new
# form for directories without the control, and spending one backup code exactly once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"

RACERS=20
tls_tool() { LDAPTLS_CACERT=$LDAP_CA LDAPTLS_REQCERT=demand LDAPRC=/dev/null "$@"; }
# as_bind DN PASSWORD TOOL ARGS...: TOOL bound as DN over StartTLS.
as_bind() { tls_tool "$3" -ZZ -H "$LDAP_URI" -D "$1" -w "$2" "${@:4}"; }
as_anonymous() { tls_tool "$1" -x -ZZ -H "$LDAP_URI" "${@:2}"; }
as_replicator() {
  tls_tool "$1" -ZZ -H "$LDAP_URI" -D "$LDAP_REPLICATOR_DN" -y "$LDAP_REPLICATOR_PASSWORD_FILE" \
    "${@:2}"
}
equal() { [ "$1" = "$2" ] || { diag "expected '$2', got '$1'"; return 1; }; }
# rc_of COMMAND...: the command's exit status (the LDAP result code, for the ldap tools).
rc_of() { local rc=0; "$@" > "$T/rc_of.out" 2>&1 || rc=$?; echo "$rc"; }
value_of() {  # value_of ATTRIBUTE LDIF
  sed -n "s/^$1: //p" <<< "$2"
}
# A record as the service account sees it.
service_read() {
  as_store_service ldapsearch -LLL -o ldif-wrap=no -b "$(ldap_store_dn "$1")" -s base \
    '(objectClass=*)' "${@:2}"
}
# everything_but_the_store TOOL-PREFIX...: what a bind sees of the whole directory, but the two
# entries ldap_store_prepare adds (the container, the replication account) and the records.
everything_but_the_store() {
  "$@" ldapsearch -LLL -o ldif-wrap=no -b "$LDAP_BASE" '(objectClass=*)' '*' 2>&1 |
    awk -v RS= -v ORS='\n\n' -v store="$LDAP_STORE_BASE" -v replicator="$LDAP_REPLICATOR_DN" '
      { dn = $0; sub(/^dn: /, "", dn); sub(/\n.*/, "", dn) }
      dn != replicator && dn != store && substr(dn, length(dn) - length(store)) != "," store'
}
# refused RC: an LDAP result code that refuses a write (any but success).
refused() { [ "$1" != 0 ]; }
# Binary values, as the daemon writes them (sealed blobs, keyed hashes).
SECRET=$(head -c 48 /dev/urandom | base64 -w0)
CODE_ONE=$(head -c 32 /dev/urandom | base64 -w0)
CODE_TWO=$(head -c 32 /dev/urandom | base64 -w0)

# race N LDIF ARGS...: N clients connect and bind as the service account, then send the same
# modify LDIF together (ldapmodify ARGS...); prints how many ended with each exit status, as
# "rc0=1 rc122=19".
race() {
  local n=$1 ldif=$2 binds i deadline pids=(); shift 2
  rm -rf "$T/race"
  mkdir "$T/race"
  binds=$(ldap_ops_count BIND)
  for ((i = 0; i < n; i++)); do
    mkfifo "$T/race/$i.go"
    (
      { read -r < "$T/race/$i.go"; printf '%s\n' "$ldif"; } |
        as_store_service ldapmodify "$@" > "$T/race/$i.out" 2>&1
      echo $? > "$T/race/$i.rc"
    ) &
    pids+=($!)
  done
  # ldapmodify binds before it reads its input: once slapd has seen the N binds, all of them
  # wait for their signal, and the signals go out in one loop.
  deadline=$((SECONDS + 20))
  while [ "$(ldap_ops_count BIND)" -lt $((binds + n)) ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
  done
  sleep 0.2
  for ((i = 0; i < n; i++)); do echo go > "$T/race/$i.go"; done
  wait "${pids[@]}"
  cat "$T/race/"*.rc | sort -n | uniq -c | awk '{ printf "%src%s=%s", sep, $2, $1; sep = " " }'
}

check "ldap_start brings slapd up" ldap_start
vfx1_dn=$(ldap_user_dn vfx1)
anim1_dn=$(ldap_user_dn anim1)
before_user=$(everything_but_the_store as_bind "$vfx1_dn" pw-vfx1)
before_anonymous=$(everything_but_the_store as_anonymous)
before_service=$(everything_but_the_store as_store_service)
check "ldap_store_prepare loads schema/studio2fa-store-acl.ldif and the container" \
  ldap_store_prepare
out=$(ldap_search -b "olcDatabase={1}mdb,cn=config" -s base olcAccess olcDbIndex)
check "the three container rules come first in the database's access list" \
  bash -c 'grep -q "^olcAccess: {0}to dn.base=\"ou=studio2fa,dc=studio,dc=example\" attrs=children" <<< "$0" &&
           grep -q "^olcAccess: {2}to dn.children=\"ou=studio2fa,dc=studio,dc=example\"" <<< "$0" &&
           grep -q "^olcAccess: {3}to attrs=userPassword" <<< "$0"' "$out"
check "studio2faUser has an equality index" grep -q '^olcDbIndex: studio2faUser eq' <<< "$out"

# --- the rules for everything else are what they were ------------------------------------------
check "a user sees exactly what they saw before, outside the container" \
  equal "$(everything_but_the_store as_bind "$vfx1_dn" pw-vfx1)" "$before_user"
check "anonymous sees exactly what it saw before (nothing)" \
  equal "$(everything_but_the_store as_anonymous)" "$before_anonymous"
check "the service account sees exactly what it saw before, outside the container" \
  equal "$(everything_but_the_store as_store_service)" "$before_service"
check "(a user did see the directory, their own password hash and no other)" \
  bash -c 'grep -q "^dn: uid=anim1," <<< "$0" && [ "$(grep -c "^userPassword" <<< "$0")" = 1 ]' \
  "$before_user"

# --- the service account ------------------------------------------------------------------------
out=$(as_store_service ldapadd 2>&1 <<LDIF
dn: $(ldap_store_dn vfx1)
objectClass: studio2faEnrollment
studio2faUser: vfx1
studio2faRevision: 1
studio2faSecret:: $SECRET
studio2faTotpParameters: SHA1 6 30
studio2faBackupCode:: $CODE_ONE
studio2faBackupCode:: $CODE_TWO
LDIF
)
check "the service account adds a studio2faEnrollment entry" \
  grep -q "adding new entry \"$(ldap_store_dn vfx1)\"" <<< "$out"
out=$(as_store_service ldapmodify 2>&1 <<LDIF
dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faFailures
studio2faFailures: 2
-
replace: studio2faLockState
studio2faLockState: none
LDIF
)
check "the service account modifies it" grep -q 'modifying entry' <<< "$out"
out=$(service_read vfx1)
check "the service account reads it back" \
  bash -c 'grep -qx "studio2faFailures: 2" <<< "$0" && grep -qxF "studio2faSecret:: $1" <<< "$0"' \
  "$out" "$SECRET"
out=$(as_store_service ldapsearch -LLL -b "$LDAP_STORE_BASE" '(studio2faUser=vfx1)' 1.1 2>&1)
check "the service account finds it by studio2faUser" equal "$out" "dn: $(ldap_store_dn vfx1)"
check "the service account cannot change a user's own entry (its rights there are unchanged)" \
  equal "$(rc_of as_store_service ldapmodify <<< "dn: $vfx1_dn
changetype: modify
replace: description
description: x")" 50

# --- a user's own bind --------------------------------------------------------------------------
ldap_store_record anim1 'studio2faLastStep: 10'
out=$(as_bind "$vfx1_dn" pw-vfx1 ldapsearch -LLL -b "$LDAP_STORE_BASE" '(objectClass=*)' 2>&1)
rc=$(rc_of as_bind "$vfx1_dn" pw-vfx1 ldapsearch -LLL -b "$LDAP_STORE_BASE" '(objectClass=*)')
check "a user searching the container gets noSuchObject (32): not even its existence" equal "$rc" 32
rc=$(rc_of as_bind "$vfx1_dn" pw-vfx1 ldapsearch -LLL -b "$(ldap_store_dn vfx1)" -s base)
check "a user reading their own record gets noSuchObject (32)" equal "$rc" 32
out=$(as_bind "$vfx1_dn" pw-vfx1 ldapsearch -LLL -b "$LDAP_BASE" '(|(studio2faUser=*)(ou=studio2fa))' 2>&1)
check "a subtree search from the base finds neither the container nor a record" equal "$out" ""
rc=$(rc_of as_bind "$vfx1_dn" pw-vfx1 ldapcompare "$(ldap_store_dn vfx1)" "studio2faFailures:2")
check "a user's compare on their own record answers neither true nor false (rc $rc)" \
  bash -c '[ "$0" != 5 ] && [ "$0" != 6 ]' "$rc"
rc=$(rc_of as_bind "$vfx1_dn" pw-vfx1 ldapmodify <<< "dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faFailures
studio2faFailures: 0")
check "a user cannot reset their own failure count (rc $rc)" bash -c '[ "$0" = 50 ] || [ "$0" = 32 ]' "$rc"
rc=$(rc_of as_bind "$vfx1_dn" pw-vfx1 ldapdelete "$(ldap_store_dn vfx1)")
check "a user cannot delete their own record (rc $rc)" bash -c '[ "$0" = 50 ] || [ "$0" = 32 ]' "$rc"
rc=$(rc_of as_bind "$vfx1_dn" pw-vfx1 ldapadd <<< "dn: $(ldap_store_dn vfx2)
objectClass: studio2faEnrollment
studio2faUser: vfx2
studio2faRevision: 1")
check "a user cannot add a record (rc $rc)" bash -c '[ "$0" = 50 ] || [ "$0" = 32 ]' "$rc"
rc=$(rc_of as_bind "$anim1_dn" pw-anim1 ldapmodify <<< "dn: $(ldap_store_dn vfx1)
changetype: modify
delete: studio2faBackupCode")
check "another user cannot delete someone's backup codes (rc $rc)" \
  bash -c '[ "$0" = 50 ] || [ "$0" = 32 ]' "$rc"

# --- anonymous, the replication account -----------------------------------------------------------
out=$(as_anonymous ldapsearch -LLL -b "$LDAP_BASE" '(|(studio2faUser=*)(ou=studio2fa))' 2>&1)
check "anonymous finds nothing of the store" bash -c '! grep -q "^dn:" <<< "$0"' "$out"
out=$(as_anonymous ldapsearch -LLL -b "$(ldap_store_dn vfx1)" -s base 2>&1)
check "anonymous reading a record gets nothing" bash -c '! grep -q "^dn:" <<< "$0"' "$out"
rc=$(rc_of as_anonymous ldapmodify <<< "dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faFailures
studio2faFailures: 0")
check "anonymous cannot write a record (rc $rc)" refused "$rc"
check "(the record is unchanged)" \
  equal "$(value_of studio2faFailures "$(service_read vfx1 studio2faFailures)")" 2
out=$(as_replicator ldapsearch -LLL -o ldif-wrap=no -b "$LDAP_STORE_BASE" '(objectClass=*)' \
  '*' entryCSN 2>&1)
check "the replication account reads the container and every record, entryCSN included" \
  bash -c 'grep -q "^dn: $0" <<< "$1" && grep -q "^dn: studio2faUser=vfx1," <<< "$1" &&
           grep -q "^studio2faSecret:: " <<< "$1" && grep -q "^entryCSN: " <<< "$1"' \
  "$LDAP_STORE_BASE" "$out"
rc=$(rc_of as_replicator ldapmodify <<< "dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faFailures
studio2faFailures: 0")
check "the replication account cannot write a record (insufficientAccess, 50)" equal "$rc" 50
rc=$(rc_of as_store_service ldapmodify <<< "dn: $LDAP_STORE_BASE
changetype: modify
replace: description
description: x")
check "the service account cannot change the container entry itself (50)" equal "$rc" 50

# --- compare-and-swap -----------------------------------------------------------------------------
out=$(as_store_service ldapsearch -LLL -o ldif-wrap=no -b "" -s base supportedControl 2>&1)
check "the root DSE lists the assertion control (RFC 4528, 1.3.6.1.1.12) in supportedControl" \
  grep -qx 'supportedControl: 1.3.6.1.1.12' <<< "$out"

revision=$(value_of studio2faRevision "$(service_read vfx1 studio2faRevision)")
out=$(race "$RACERS" "dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faRevision
studio2faRevision: $((revision + 1))" -e "!assert=(studio2faRevision=$revision)")
check "$RACERS clients replace revision $revision with $((revision + 1)) under the assertion:\
 one wins, the others get assertionFailed (122): $out" equal "$out" "rc0=1 rc122=$((RACERS - 1))"
check "the revision is $((revision + 1))" \
  equal "$(value_of studio2faRevision "$(service_read vfx1 studio2faRevision)")" $((revision + 1))

# The last step: a record without one accepts the first step, then only ever higher ones.
step=$(( $(date +%s) / 30 ))
out=$(as_store_service ldapmodify -e "!assert=(!(studio2faLastStep>=$step))" 2>&1 <<LDIF
dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faLastStep
studio2faLastStep: $step
LDIF
)
check "a record without a last step accepts the first one under (!(studio2faLastStep>=S))" \
  grep -q 'modifying entry' <<< "$out"
out=$(race "$RACERS" "dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faLastStep
studio2faLastStep: $((step + 1))" -e "!assert=(!(studio2faLastStep>=$((step + 1))))")
check "$RACERS clients with the same code (step S+1): exactly one is accepted: $out" \
  equal "$out" "rc0=1 rc122=$((RACERS - 1))"
rc=$(rc_of as_store_service ldapmodify -e "!assert=(!(studio2faLastStep>=$step))" <<< "dn: $(ldap_store_dn vfx1)
changetype: modify
replace: studio2faLastStep
studio2faLastStep: $step")
check "an older step is refused after a newer one (122): the last step only goes up" equal "$rc" 122
check "the last step is S+1" \
  equal "$(value_of studio2faLastStep "$(service_read vfx1 studio2faLastStep)")" $((step + 1))
rc=$(rc_of as_store_service ldapmodify -e "assert=(!(studio2faLastStep>=$((step + 5))))" \
  <<< "dn: $(ldap_store_dn nobody)
changetype: modify
replace: studio2faLastStep
studio2faLastStep: $((step + 5))")
check "a write to a record that does not exist fails (noSuchObject, 32)" equal "$rc" 32

# Without the control: one modify that deletes the old value and adds the new one.
revision=$(value_of studio2faRevision "$(service_read vfx1 studio2faRevision)")
out=$(race "$RACERS" "dn: $(ldap_store_dn vfx1)
changetype: modify
delete: studio2faRevision
studio2faRevision: $revision
-
add: studio2faRevision
studio2faRevision: $((revision + 1))")
check "$RACERS clients delete revision $revision and add $((revision + 1)) in one modify:\
 one wins, the others get noSuchAttribute (16): $out" equal "$out" "rc0=1 rc16=$((RACERS - 1))"
check "the revision is $((revision + 1)), one value" \
  equal "$(service_read vfx1 studio2faRevision | grep -c '^studio2faRevision: ')" 1

# A backup code is spent by deleting exactly its value.
spend_code_one() {
  as_store_service ldapmodify <<LDIF
dn: $(ldap_store_dn vfx1)
changetype: modify
delete: studio2faBackupCode
studio2faBackupCode:: $CODE_ONE
LDIF
}
check "deleting one backup code's value succeeds the first time" equal "$(rc_of spend_code_one)" 0
check "deleting it again fails with noSuchAttribute (16)" equal "$(rc_of spend_code_one)" 16
out=$(service_read vfx1 studio2faBackupCode)
check "the other backup code is still there, and only it" \
  equal "$(grep '^studio2faBackupCode' <<< "$out")" "studio2faBackupCode:: $CODE_TWO"
finish
