#!/bin/bash
# The directory store's writes, measured against real slapd on loopback (make bench-directory;
# as root): compare-and-swap modifies per second from N concurrent clients (ldap_cas_bench),
# each on its own record (one accepted code each) and all on one record (revision conflicts),
# then the replication lag to a read-only replica (syncrepl refreshAndPersist). slapd is
# tests/integration/ldap_lib.sh's (StartTLS, the service account), prepared as schema/README.md
# says (ldap_store_lib.sh), the replica ldap_replica_lib.sh's.
#
# Prints the ldap_cas_bench result lines on stdout:
#   ldap_cas mode=own|shared clients=C ok=N failed=F seconds=S rate=R p50_ms=X p99_ms=Y
#   ldap_lag samples=N p50_ms=X p99_ms=Y max_ms=Z
# and last, after a line "# olcDbNoSync: TRUE", own-record runs without flushing to disk.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"
. "$top_srcdir/tests/integration/ldap_replica_lib.sh"
exec 3>&1 1>&2 # set-up noise to stderr; results to fd 3

BENCH=$top_builddir/bench/ldap_cas_bench
SECONDS_EACH=${S2FA_BENCH_SECONDS:-5}
CLIENT_COUNTS=(1 4 16 32)

ldap_start > /dev/null || exit 1
ldap_store_prepare
for ((i = 0; i < 32; i++)); do
  ldap_store_record "bench$i" "studio2faLastStep: 1000"
done

run() {
  "$BENCH" --uri "$LDAP_URI" --bind-dn "$LDAP_BIND_DN" --password-file "$LDAP_BIND_PASSWORD_FILE" \
    --ca-file "$LDAP_CA" --base "$LDAP_STORE_BASE" "$@" >&3
}
for clients in "${CLIENT_COUNTS[@]}"; do
  run --mode own --clients "$clients" --seconds "$SECONDS_EACH" || exit 1
done
for clients in "${CLIENT_COUNTS[@]}"; do
  run --mode shared --clients "$clients" --seconds "$SECONDS_EACH" || exit 1
done
ldap_replica_start consumer > /dev/null
run --mode lag --replica-uri "$LDAP_REPLICA_URI" --samples 200 || exit 1

# How much of a write is the database's flush to disk: the same without it (never in production:
# an accepted step lost in a crash can be accepted again).
ldap_replica_stop
s2fa_ldap_root ldapmodify > /dev/null <<LDIF || exit 1
dn: olcDatabase={1}mdb,cn=config
changetype: modify
replace: olcDbNoSync
olcDbNoSync: TRUE
LDIF
echo "# olcDbNoSync: TRUE" >&3
for clients in 1 16; do
  run --mode own --clients "$clients" --seconds "$SECONDS_EACH" || exit 1
done
