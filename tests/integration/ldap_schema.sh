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
stop_slapd() { [ -f "$L/slapd.pid" ] && kill "$(cat "$L/slapd.pid")" 2>/dev/null; stop_daemon; cleanup; }
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
finish
