# The test directory as the shared store of second factors (sourced after ldap_lib.sh; bash).
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   . "$top_srcdir/tests/integration/ldap_lib.sh"
#   . "$top_srcdir/tests/integration/ldap_store_lib.sh"
#   ldap_start
#   ldap_store_prepare
#
# Opt-in: nothing here runs unless a test calls it, and ldap_lib.sh's directory is unchanged
# until then.
#
# Functions
#   ldap_store_prepare         does what schema/README.md tells an administrator to do
#                              ("Using the directory as the shared store"): loads
#                              schema/studio2fa-store-acl.ldif as it is (the harness's base,
#                              service account and database are the file's examples), adds the
#                              replication account and the container $LDAP_STORE_BASE. Once.
#   ldap_store_record USER [ATTR: VALUE LINES]
#                              adds the enrollment entry of USER (studio2faRevision 1, and the
#                              given lines) as the directory's root; prints nothing.
#   ldap_store_dn USER         prints the DN of USER's enrollment entry.
#   as_store_service TOOL ARGS...
#                              an LDAP tool bound as the service account ($LDAP_BIND_DN) over
#                              StartTLS to $LDAP_URI, trusting only $LDAP_CA, no ~/.ldaprc.
#   store_service_at URI TOOL ARGS...
#                              the same against another server (a replica's ldap:// URI).
#   ldap_store_config READ-URI [LINE...]
#                              writes lib.sh's $CONF for store = directory: reads from
#                              READ-URI, bound as the service account over StartTLS, timeouts
#                              of 2 s (1 s to connect), lockout_after 3, then the LINEs.
#   ldap_store_host NAME       makes NAME the host lib.sh's helpers talk to: SOCK, CONF and DB
#                              of its own, and its daemon's pid (the last host's is kept).
#
# Variables (set when this file is sourced)
#   LDAP_STORE_BASE                ou=studio2fa,$LDAP_BASE (enrollment_base)
#   LDAP_REPLICATOR_DN             cn=replicator,ou=services,$LDAP_BASE
#   LDAP_REPLICATOR_PASSWORD_FILE  its password (random; mode 0600, no trailing newline)
#
# Access control once prepared: the container and everything below it is written by the
# service account, read by the replication account, invisible to everyone else (the users
# themselves, anonymous); ldap_lib.sh's rules for every other entry are unchanged.

LDAP_STORE_BASE=ou=studio2fa,$LDAP_BASE
LDAP_REPLICATOR_DN=cn=replicator,ou=services,$LDAP_BASE
LDAP_REPLICATOR_PASSWORD_FILE=$S2FA_LDAP/replicator.password
S2FA_LDAP_STORE_ACL=$top_srcdir/schema/studio2fa-store-acl.ldif
(umask 077 && openssl rand -base64 24 | tr -d '\n/+=' > "$LDAP_REPLICATOR_PASSWORD_FILE")
chmod 0600 "$LDAP_REPLICATOR_PASSWORD_FILE"

ldap_store_prepare() {
  local out
  [ -e "$S2FA_LDAP/store-prepared" ] && return 0
  out=$(s2fa_ldap_root ldapmodify -f "$S2FA_LDAP_STORE_ACL" 2>&1) ||
    s2fa_ldap_bail "ldap_store_prepare: $S2FA_LDAP_STORE_ACL did not load: $out"
  out=$(ldap_add 2>&1 <<LDIF
dn: $LDAP_REPLICATOR_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: replicator
description: replication account of the directory's replicas
userPassword: $("$S2FA_SLAPPASSWD" -h '{SSHA}' -T "$LDAP_REPLICATOR_PASSWORD_FILE")

dn: $LDAP_STORE_BASE
objectClass: organizationalUnit
ou: studio2fa
description: studio2fa second-factor records (store = directory)
LDIF
  ) || s2fa_ldap_bail "ldap_store_prepare: the container did not load: $out"
  touch "$S2FA_LDAP/store-prepared"
}

ldap_store_dn() { echo "studio2faUser=$1,$LDAP_STORE_BASE"; }

ldap_store_record() {
  local user=$1 out; shift
  out=$({
    printf 'dn: %s\nobjectClass: studio2faEnrollment\nstudio2faUser: %s\n' \
      "$(ldap_store_dn "$user")" "$user"
    printf 'studio2faRevision: 1\n'
    [ "$#" -eq 0 ] || printf '%s\n' "$@"
  } | ldap_add 2>&1) || s2fa_ldap_bail "ldap_store_record $user: $out"
}

store_service_at() {
  LDAPTLS_CACERT=$LDAP_CA LDAPTLS_REQCERT=demand LDAPRC=/dev/null \
    "$2" -ZZ -H "$1" -D "$LDAP_BIND_DN" -y "$LDAP_BIND_PASSWORD_FILE" "${@:3}"
}
as_store_service() { store_service_at "$LDAP_URI" "$@"; }

ldap_store_config() {
  local read_uri=$1; shift
  write_config "ldap_uri = $read_uri" "ldap_base = $LDAP_BASE" "ldap_bind_dn = $LDAP_BIND_DN" \
    "ldap_bind_password_file = $LDAP_BIND_PASSWORD_FILE" "ldap_ca_file = $LDAP_CA" \
    "ldap_timeout = 2s" "ldap_connect_timeout = 1s" "store = directory" \
    "enrollment_base = $LDAP_STORE_BASE" "lockout_after = 3" "$@"
}

declare -A S2FA_STORE_HOST_PID
S2FA_STORE_HOST=none
ldap_store_host() {
  S2FA_STORE_HOST_PID[$S2FA_STORE_HOST]=${S2FA_DAEMON_PID:-}
  S2FA_STORE_HOST=$1
  SOCK=$T/run/$1.sock
  CONF=$T/etc/$1.conf
  DB=$T/lib/$1.db
  S2FA_DAEMON_PID=${S2FA_STORE_HOST_PID[$1]:-}
}
