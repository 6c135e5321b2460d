# A second slapd replicating the test directory with syncrepl (sourced after ldap_lib.sh and
# ldap_store_lib.sh; bash).
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   . "$top_srcdir/tests/integration/ldap_lib.sh"
#   . "$top_srcdir/tests/integration/ldap_store_lib.sh"
#   . "$top_srcdir/tests/integration/ldap_replica_lib.sh"
#   ldap_start
#   ldap_replica_start consumer        # or: multiprovider
#
# Opt-in: nothing runs unless a test calls it. ldap_lib.sh's slapd becomes the primary: the first
# ldap_replica_start adds to it the syncprov overlay, the entryCSN/entryUUID index, no size or
# time limit for the replication account and a first access rule that lets that account read
# everything (the rest of the rules unchanged: "by * break"), and prepares the store
# (ldap_store_prepare). The second server is a copy of the primary's configuration at that
# moment (schema, access rules, indexes, TLS certificate) with its own database, ports, ldapi
# sockets and log, started empty: it fills itself from the primary.
#
# Functions
#   ldap_replica_start MODE  MODE consumer: a read-only replica (syncrepl refreshAndPersist from
#                            the primary, binding as $LDAP_REPLICATOR_DN over StartTLS); a write
#                            sent to it is refused with a referral to the primary. MODE
#                            multiprovider: both servers take writes and replicate to each
#                            other (olcServerID 1 and 2, olcMultiProvider on both). Returns once
#                            the second server holds the primary's contextCSN (bails out after
#                            20 s). A test may start a consumer, stop it and then start a
#                            multi-provider pair (the second server is built afresh each time);
#                            not the other way round.
#   ldap_replica_stop        stops the second server (the EXIT trap does it too); its
#                            database stays until the next ldap_replica_start.
#   ldap_replica_restart     starts the stopped second server again, as it was.
#   ldap_replica_partition   cuts replication both ways (each consumer is pointed at a port
#                            where nothing listens); both servers go on answering clients.
#   ldap_replica_heal        points the consumers back at each other; replication resumes from
#                            where each stopped.
#   ldap_replica_in_sync     succeeds when both servers hold the same contextCSN values.
#   ldap_replica_wait_sync [SECONDS]
#                            waits (default 20 s) for ldap_replica_in_sync; fails on timeout.
#   ldap_replica_search ARGS...  ldap_search's twin on the second server (root, over ldapi).
#   ldap_replica_modify      ldapmodify as root on the second server, LDIF on stdin.
#
# Variables (set when this file is sourced)
#   LDAP_REPLICA_URI         ldap://127.0.0.1:$LDAP_REPLICA_PORT (StartTLS, the same test CA)
#   LDAP_REPLICA_URI_LDAPI   the second server's ldapi socket for the code under test
#   LDAP_REPLICA_LOG         its log (-d stats), begun afresh by each ldap_replica_start

S2FA_REPLICA=$S2FA_LDAP/replica
read -r LDAP_REPLICA_PORT S2FA_REPLICA_DEAD_PORT < <(s2fa_ldap_free_ports)
LDAP_REPLICA_URI=ldap://127.0.0.1:$LDAP_REPLICA_PORT
LDAP_REPLICA_URI_LDAPI=$(s2fa_ldapi_uri "$S2FA_REPLICA/ldapi")
LDAP_REPLICA_LOG=$S2FA_REPLICA/slapd.log
S2FA_REPLICA_ADMIN_URI=$(s2fa_ldapi_uri "$S2FA_REPLICA/ldapi-harness")
S2FA_REPLICA_PID=
S2FA_REPLICA_MODE=

# The EXIT trap stops the second server first.
trap 'ldap_replica_stop; ldap_cleanup' EXIT

s2fa_replica_root() {
  local tool=$1; shift
  LDAPNOINIT=1 "$tool" -Q -Y EXTERNAL -H "$S2FA_REPLICA_ADMIN_URI" "$@"
}
ldap_replica_modify() { s2fa_replica_root ldapmodify; }
ldap_replica_search() {
  s2fa_replica_root ldapsearch -LLL -o ldif-wrap=no -b "$LDAP_BASE" "$@"
}

# s2fa_replica_syncrepl RID PORT: the olcSyncrepl value of a consumer of the server on PORT.
s2fa_replica_syncrepl() {
  printf 'rid=%s provider=ldap://127.0.0.1:%s bindmethod=simple binddn="%s" credentials=%s' \
    "$1" "$2" "$LDAP_REPLICATOR_DN" "$(cat "$LDAP_REPLICATOR_PASSWORD_FILE")"
  printf ' searchbase="%s" type=refreshAndPersist retry="1 +" timeout=3 network-timeout=3' \
    "$LDAP_BASE"
  printf ' starttls=critical tls_cacert=%s tls_reqcert=demand\n' "$LDAP_CA"
}

# The primary as a provider: syncprov, its index, the replication account's rights and limits.
s2fa_replica_provider() {
  local out
  out=$(s2fa_ldap_root ldapmodify 2>&1 <<LDIF
dn: cn=module{0},cn=config
changetype: modify
add: olcModuleLoad
olcModuleLoad: syncprov

dn: olcDatabase={1}mdb,cn=config
changetype: modify
add: olcDbIndex
olcDbIndex: entryCSN,entryUUID eq
-
add: olcLimits
olcLimits: dn.exact="$LDAP_REPLICATOR_DN" time=unlimited size=unlimited
-
add: olcAccess
olcAccess: {0}to * by dn.exact="$LDAP_REPLICATOR_DN" read by * break

dn: olcOverlay=syncprov,olcDatabase={1}mdb,cn=config
changetype: add
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: syncprov
olcSpCheckpoint: 100 1
olcSpSessionlog: 1000
LDIF
  ) || s2fa_ldap_bail "ldap_replica_start: the primary did not become a provider: $out"
}

# The second server's configuration: the primary's, with its own database and pid file.
s2fa_replica_build() {
  mkdir -m 0700 "$S2FA_REPLICA" "$S2FA_REPLICA/db" "$S2FA_REPLICA/slapd.d"
  "${S2FA_SLAPD%slapd}slapcat" -n0 -F "$S2FA_LDAP/slapd.d" -o ldif-wrap=no 2> /dev/null |
    awk -v db="$S2FA_REPLICA/db" -v pid="$S2FA_REPLICA/slapd.pid" '
      /^olcDbDirectory: / { print "olcDbDirectory: " db; next }
      /^olcPidFile: / { print "olcPidFile: " pid; next }
      { print }' > "$S2FA_REPLICA/config.ldif"
  grep -q "^olcDbDirectory: $S2FA_REPLICA/db\$" "$S2FA_REPLICA/config.ldif" ||
    s2fa_ldap_bail "ldap_replica_start: cannot copy the primary's configuration"
  "$S2FA_SLAPADD" -q -n0 -F "$S2FA_REPLICA/slapd.d" -l "$S2FA_REPLICA/config.ldif" \
    > "$S2FA_REPLICA/slapadd.out" 2>&1 ||
    s2fa_ldap_bail "ldap_replica_start: slapadd of the copy failed:" \
      "$(cat "$S2FA_REPLICA/slapadd.out")"
}

s2fa_replica_run() {
  echo "# ldap_replica_lib: slapd start" >> "$LDAP_REPLICA_LOG"
  "$S2FA_SLAPD" -d stats -F "$S2FA_REPLICA/slapd.d" \
    -h "$S2FA_REPLICA_ADMIN_URI $LDAP_REPLICA_URI_LDAPI $LDAP_REPLICA_URI/" \
    < /dev/null >> "$LDAP_REPLICA_LOG" 2>&1 &
  S2FA_REPLICA_PID=$!
  s2fa_ldap_await "$S2FA_REPLICA_PID" s2fa_replica_root || {
    S2FA_REPLICA_PID=
    s2fa_ldap_bail "ldap_replica_start: the second slapd exited at start" \
      "($(tail -n 5 "$LDAP_REPLICA_LOG" | tr '\n' ' '))"
  }
}

# s2fa_replica_consume TOOL-FUNCTION SERVER-ID RID PORT MULTI: makes the server that
# TOOL-FUNCTION (s2fa_ldap_root or s2fa_replica_root) reaches a consumer of the one on PORT.
s2fa_replica_consume() {
  local root=$1 id=$2 rid=$3 port=$4 multi=$5 out
  out=$({
    if [ "$multi" = yes ]; then
      printf 'dn: cn=config\nchangetype: modify\nreplace: olcServerID\nolcServerID: %s\n\n' "$id"
    fi
    printf 'dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nadd: olcSyncrepl\n'
    printf 'olcSyncrepl: %s\n' "$(s2fa_replica_syncrepl "$rid" "$port")"
    if [ "$multi" = yes ]; then
      printf -- '-\nreplace: olcMultiProvider\nolcMultiProvider: TRUE\n'
    else
      printf -- '-\nreplace: olcUpdateRef\nolcUpdateRef: %s\n' "$LDAP_URI"
    fi
  } | "$root" ldapmodify 2>&1) ||
    s2fa_ldap_bail "ldap_replica_start: syncrepl (rid $rid) was refused: $out"
}

ldap_replica_start() {
  local mode=$1
  case $mode in consumer | multiprovider) ;; *)
    s2fa_ldap_bail "ldap_replica_start: consumer or multiprovider, not '$mode'" ;;
  esac
  [ "$S2FA_REPLICA_MODE" != multiprovider ] ||
    s2fa_ldap_bail "ldap_replica_start: a multi-provider pair cannot be started again"
  ldap_replica_stop
  if [ -z "$S2FA_REPLICA_MODE" ]; then
    ldap_store_prepare
    s2fa_replica_provider
  fi
  S2FA_REPLICA_MODE=$mode
  rm -rf "$S2FA_REPLICA"
  s2fa_replica_build
  s2fa_replica_run
  if [ "$mode" = multiprovider ]; then
    s2fa_replica_consume s2fa_replica_root 2 001 "$LDAP_PORT" yes
    s2fa_replica_consume s2fa_ldap_root 1 002 "$LDAP_REPLICA_PORT" yes
  else
    s2fa_replica_consume s2fa_replica_root "" 001 "$LDAP_PORT" no
  fi
  ldap_replica_wait_sync 20 ||
    s2fa_ldap_bail "ldap_replica_start: the second server did not catch up within 20 s"
}

ldap_replica_restart() {
  [ -n "$S2FA_REPLICA_MODE" ] || s2fa_ldap_bail "ldap_replica_restart: never started"
  [ -n "$S2FA_REPLICA_PID" ] || s2fa_replica_run
}

ldap_replica_stop() {
  [ -n "$S2FA_REPLICA_PID" ] || return 0
  s2fa_ldap_terminate "$S2FA_REPLICA_PID"
  S2FA_REPLICA_PID=
  return 0
}

# s2fa_replica_point TOOL-FUNCTION RID PORT: the consumer RID of that server now fetches from
# PORT (its cookie, and so where it resumes, is kept in the database).
s2fa_replica_point() {
  local out
  out=$(printf 'dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcSyncrepl\nolcSyncrepl: %s\n' \
    "$(s2fa_replica_syncrepl "$2" "$3")" | "$1" ldapmodify 2>&1) ||
    s2fa_ldap_bail "ldap_replica: repointing rid $2 was refused: $out"
}

ldap_replica_partition() {
  s2fa_replica_point s2fa_replica_root 001 "$S2FA_REPLICA_DEAD_PORT"
  [ "$S2FA_REPLICA_MODE" != multiprovider ] ||
    s2fa_replica_point s2fa_ldap_root 002 "$S2FA_REPLICA_DEAD_PORT"
}

ldap_replica_heal() {
  s2fa_replica_point s2fa_replica_root 001 "$LDAP_PORT"
  [ "$S2FA_REPLICA_MODE" != multiprovider ] ||
    s2fa_replica_point s2fa_ldap_root 002 "$LDAP_REPLICA_PORT"
}

s2fa_replica_context_csn() {
  "$1" ldapsearch -LLL -o ldif-wrap=no -b "$LDAP_BASE" -s base contextCSN 2> /dev/null |
    sed -n 's/^contextCSN: //p' | sort
}

ldap_replica_in_sync() {
  local primary
  primary=$(s2fa_replica_context_csn s2fa_ldap_root)
  [ -n "$primary" ] && [ "$primary" = "$(s2fa_replica_context_csn s2fa_replica_root)" ]
}

ldap_replica_wait_sync() {
  local deadline=$((SECONDS + ${1:-20}))
  until ldap_replica_in_sync; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
