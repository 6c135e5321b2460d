#!/bin/bash
# The LDAP schema loads into a real slapd exactly as schema/README.md says (ldapadd -Y EXTERNAL
# over ldapi), the slapd.conf form passes slaptest, and the definitions do what they claim.
. "$top_srcdir/tests/integration/lib.sh"

if ! command -v slapd >/dev/null && [ ! -x /usr/sbin/slapd ]; then
  echo "1..0 # SKIP slapd is not installed"; exit 0
fi
SLAPD=$(command -v slapd || echo /usr/sbin/slapd)
SCHEMA_DIR=/etc/ldap/schema
[ -d "$SCHEMA_DIR" ] || SCHEMA_DIR=/etc/openldap/schema
MODULE_DIR=/usr/lib/ldap
[ -d "$MODULE_DIR" ] || MODULE_DIR=/usr/lib64/openldap
L=$T/ldap
mkdir -p "$L/slapd.d" "$L/db"
LDAPI="ldapi://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$L/ldapi")"
BASE=dc=studio,dc=example

cat > "$L/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $L/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $MODULE_DIR
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$SCHEMA_DIR/core.ldif
include: file://$SCHEMA_DIR/cosine.ldif
include: file://$SCHEMA_DIR/nis.ldif
include: file://$SCHEMA_DIR/inetorgperson.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $L/db
olcSuffix: $BASE
olcRootDN: gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth
olcAccess: {0}to * by * read
LDIF
check "a test slapd configuration is built" slapadd -q -n0 -F "$L/slapd.d" -l "$L/config.ldif"
"$SLAPD" -F "$L/slapd.d" -h "$LDAPI" 2> "$L/slapd.log"
for i in $(seq 1 100); do [ -S "$L/ldapi" ] && break; sleep 0.05; done
stop_slapd() {
  local pid
  for pid in "$L/slapd.pid" "$L/v1/slapd.pid"; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done
  stop_daemon; cleanup
}
trap stop_slapd EXIT
check "slapd is running on ldapi" test -S "$L/ldapi"

out=$(ldapadd -Y EXTERNAL -H "$LDAPI" -f "$top_srcdir/schema/studio2fa.ldif" 2>&1)
check "schema/studio2fa.ldif loads with ldapadd -Y EXTERNAL (as the README says)" \
  grep -q 'adding new entry "cn=studio2fa,cn=schema,cn=config"' <<< "$out"
out=$(ldapsearch -Q -LLL -Y EXTERNAL -H "$LDAPI" -b cn=schema,cn=config '(cn=*studio2fa)' olcObjectClasses 2>&1)
check "the object class is in cn=schema" grep -q "NAME 'studio2faPolicy'" <<< "$out"

ldap_add() { ldapadd -Y EXTERNAL -H "$LDAPI" 2>&1; }
out=$(ldap_add <<LDIF
dn: $BASE
objectClass: dcObject
objectClass: organization
o: Studio
dc: studio

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=vfx,ou=people,$BASE
objectClass: organizationalUnit
objectClass: studio2faPolicy
ou: vfx
studio2faRequired: TRUE

dn: uid=rev1,ou=people,$BASE
objectClass: inetOrgPerson
objectClass: studio2faPolicy
uid: rev1
cn: Review One
sn: One
studio2faExempt: TRUE

dn: cn=render-admins,$BASE
objectClass: posixGroup
objectClass: studio2faPolicy
cn: render-admins
gidNumber: 7001
memberUid: alice
studio2faRequired: TRUE
studio2faGracePeriod: 259200

dn: cn=leads,$BASE
objectClass: groupOfNames
objectClass: studio2faPolicy
cn: leads
member: uid=rev1,ou=people,$BASE
studio2faRequired: FALSE
LDIF
)
check "studio2faPolicy goes on an OU, a user, a posixGroup and a groupOfNames" \
  bash -c '[ "$(grep -c "^adding new entry" <<< "$0")" -eq 6 ]' "$out"

out=$(ldapsearch -Q -LLL -Y EXTERNAL -H "$LDAPI" -b "$BASE" '(studio2faRequired=TRUE)' dn 2>&1)
check "an equality search on studio2faRequired finds the flagged entries" \
  bash -c 'grep -q "ou=vfx" <<< "$0" && grep -q "cn=render-admins" <<< "$0" && ! grep -q "cn=leads" <<< "$0"' "$out"
out=$(ldapsearch -Q -LLL -Y EXTERNAL -H "$LDAPI" -b "$BASE" '(studio2faGracePeriod>=86400)' dn 2>&1)
check "studio2faGracePeriod has an ordering match" grep -q "cn=render-admins" <<< "$out"

bad() {  # bad DESCRIPTION LDIF: the server must refuse it
  local out
  out=$(ldapmodify -Y EXTERNAL -H "$LDAPI" 2>&1 <<< "$2") && not_ok "$1 (accepted: $out)" || ok "$1"
}
bad "a non-boolean studio2faRequired is refused" "dn: ou=vfx,ou=people,$BASE
changetype: modify
replace: studio2faRequired
studio2faRequired: yes"
bad "a non-integer studio2faGracePeriod is refused" "dn: cn=render-admins,$BASE
changetype: modify
replace: studio2faGracePeriod
studio2faGracePeriod: 3 days"
bad "studio2faRequired is single-valued" "dn: ou=vfx,ou=people,$BASE
changetype: modify
add: studio2faRequired
studio2faRequired: FALSE"
bad "the attributes need the studio2faPolicy class" "dn: ou=people,$BASE
changetype: modify
add: studio2faRequired
studio2faRequired: TRUE"

# The slapd.conf form: slaptest accepts a configuration that includes it.
cat > "$L/slapd.conf" <<CONF
include $SCHEMA_DIR/core.schema
include $SCHEMA_DIR/cosine.schema
include $SCHEMA_DIR/nis.schema
include $top_srcdir/schema/studio2fa.schema
modulepath $MODULE_DIR
moduleload back_mdb
database mdb
suffix "$BASE"
directory $L/db2
CONF
mkdir -p "$L/db2"
out=$(slaptest -u -f "$L/slapd.conf" 2>&1)
check "schema/studio2fa.schema passes slaptest (slapd.conf form): $out" grep -q 'config file testing succeeded' <<< "$out"

# --- upgrade of a directory that loaded version 1 (schema/README.md, "Upgrading") -----------------
# A second slapd, configured like the first, that loaded version 1 of studio2fa.ldif (commit
# c4850f6) and so holds it as cn={4}studio2fa: the upgrade LDIF's {N} must be found, as the
# README says, then the definitions must be exactly those of a fresh version 2.
mkdir -p "$L/v1/slapd.d" "$L/v1/db"
LDAPI_V1="ldapi://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$L/v1/ldapi")"
sed -e "s|^olcPidFile: .*|olcPidFile: $L/v1/slapd.pid|" -e "s|^olcDbDirectory: .*|olcDbDirectory: $L/v1/db|" \
  "$L/config.ldif" > "$L/v1/config.ldif"
check "a second slapd configuration is built" \
  slapadd -q -n0 -F "$L/v1/slapd.d" -l "$L/v1/config.ldif"
"$SLAPD" -F "$L/v1/slapd.d" -h "$LDAPI_V1" 2> "$L/v1/slapd.log"
for i in $(seq 1 100); do [ -S "$L/v1/ldapi" ] && break; sleep 0.05; done
cat > "$L/v1/studio2fa-v1.ldif" <<'LDIF'
dn: cn=studio2fa,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: studio2fa
olcObjectIdentifier: studio2fa 2.25.102637920133028547916063064081372960459
olcObjectIdentifier: studio2faAttributeType studio2fa:1
olcObjectIdentifier: studio2faObjectClass studio2fa:2
olcAttributeTypes: ( studio2faAttributeType:1 NAME 'studio2faRequired'
  DESC 'TRUE: the users this entry covers must use two-factor authentication'
  EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )
olcAttributeTypes: ( studio2faAttributeType:2 NAME 'studio2faExempt'
  DESC 'TRUE: the users this entry covers are exempt (e.g. review or SSO accounts)'
  EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )
olcAttributeTypes: ( studio2faAttributeType:3 NAME 'studio2faGracePeriod'
  DESC 'Seconds a newly required user has to enroll before login walks them through it'
  EQUALITY integerMatch ORDERING integerOrderingMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcObjectClasses: ( studio2faObjectClass:1 NAME 'studio2faPolicy'
  DESC 'studio2fa policy: on a user, a group or a container (the whole subtree below it)'
  SUP top AUXILIARY
  MAY ( studio2faRequired $ studio2faExempt $ studio2faGracePeriod ) )
LDIF
out=$(ldapadd -Q -Y EXTERNAL -H "$LDAPI_V1" -f "$L/v1/studio2fa-v1.ldif" 2>&1)
check "version 1 of the schema loads into the second slapd" \
  grep -q 'adding new entry "cn=studio2fa,cn=schema,cn=config"' <<< "$out"
out=$(ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" -f "$top_srcdir/schema/studio2fa-upgrade-v2.ldif" 2>&1)
check "the upgrade LDIF as shipped, with {N} unreplaced, is refused (noSuchObject)" \
  grep -q 'No such object (32)' <<< "$out"
# The README's two commands, with this server's ldapi URI.
dn=$(ldapsearch -Q -LLL -Y EXTERNAL -H "$LDAPI_V1" -b cn=schema,cn=config -s one \
  '(cn={*}studio2fa)' dn | sed -n 's/^dn: //p')
check "the README's search finds the loaded schema's entry: $dn" \
  test "$dn" = "cn={4}studio2fa,cn=schema,cn=config"
out=$(sed "s/^dn: cn={N}studio2fa,cn=schema,cn=config\$/dn: $dn/" \
  "$top_srcdir/schema/studio2fa-upgrade-v2.ldif" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" 2>&1)
check "the upgrade LDIF, {N} replaced as the README says, applies" \
  grep -q "modifying entry \"cn={4}studio2fa,cn=schema,cn=config\"" <<< "$out"
# definitions URI: the studio2fa attribute types and object classes, without their {n} order
# prefixes, sorted.
definitions() {
  ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H "$1" -b cn=schema,cn=config '(cn={*}studio2fa)' \
    olcObjectIdentifier olcAttributeTypes olcObjectClasses | grep -v '^dn:' | sed 's/: {[0-9]*}/: /' | sort
}
export -f definitions
upgraded=$(definitions "$LDAPI_V1")
check "after the upgrade to version 2 there are 21 attribute types and 2 object classes" \
  test "$(grep -c '^olcAttributeTypes:' <<< "$upgraded") $(grep -c '^olcObjectClasses:' <<< "$upgraded")" = "21 2"
out=$(ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" 2>&1 <<LDIF
dn: $BASE
changetype: add
objectClass: dcObject
objectClass: organization
o: Studio
dc: studio

dn: ou=studio2fa,$BASE
changetype: add
objectClass: organizationalUnit
ou: studio2fa

dn: studio2faUser=alice,ou=studio2fa,$BASE
changetype: add
objectClass: studio2faEnrollment
studio2faUser: alice
studio2faRevision: 1
studio2faLastStep: 100
LDIF
)
check "the upgraded directory takes a studio2faEnrollment entry" \
  grep -q 'adding new entry "studio2faUser=alice' <<< "$out"
out=$(ldapsearch -Q -LLL -Y EXTERNAL -H "$LDAPI_V1" -b "$BASE" '(studio2faLastStep>=99)' 1.1 2>&1)
check "and orders studio2faLastStep (integerOrderingMatch)" grep -q '^dn: studio2faUser=alice' <<< "$out"
out=$(sed "s/^dn: cn={N}studio2fa,cn=schema,cn=config\$/dn: $dn/" \
  "$top_srcdir/schema/studio2fa-upgrade-v3.ldif" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" 2>&1)
check "the upgrade to version 3, {N} replaced likewise, applies with the entry in place: $out" \
  grep -q "modifying entry \"cn={4}studio2fa,cn=schema,cn=config\"" <<< "$out"
upgraded=$(definitions "$LDAPI_V1")
fresh=$(definitions "$LDAPI")
check "after both upgrades the definitions are exactly version 3's ($(grep -c . <<< "$fresh") values)" \
  test "$upgraded" = "$fresh"
check "(and there are 29 attribute types and 2 object classes)" \
  test "$(grep -c '^olcAttributeTypes:' <<< "$upgraded") $(grep -c '^olcObjectClasses:' <<< "$upgraded")" = "29 2"
rc=0
out=$(sed "s/^dn: cn={N}studio2fa,cn=schema,cn=config\$/dn: $dn/" \
  "$top_srcdir/schema/studio2fa-upgrade-v2.ldif" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" 2>&1) || rc=$?
check "applying the version 2 upgrade twice is refused, the schema unchanged (rc $rc)" \
  bash -c '[ "$0" != 0 ] && [ "$(definitions "$1")" = "$2" ]' "$rc" "$LDAPI_V1" "$fresh"
rc=0
out=$(sed "s/^dn: cn={N}studio2fa,cn=schema,cn=config\$/dn: $dn/" \
  "$top_srcdir/schema/studio2fa-upgrade-v3.ldif" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" 2>&1) || rc=$?
check "applying the version 3 upgrade twice is refused, the schema unchanged (rc $rc)" \
  bash -c '[ "$0" != 0 ] && [ "$(definitions "$1")" = "$2" ]' "$rc" "$LDAPI_V1" "$fresh"
out=$(ldapmodify -Q -Y EXTERNAL -H "$LDAPI_V1" 2>&1 <<LDIF
dn: studio2faUser=alice,ou=studio2fa,$BASE
changetype: modify
add: studio2faPhone
studio2faPhone: +447946004567
-
add: studio2faPhoneMethods
studio2faPhoneMethods: sms voice
LDIF
)
check "the upgraded directory takes the phone factor's attributes in the existing entry" \
  grep -q 'modifying entry "studio2faUser=alice' <<< "$out"
finish
