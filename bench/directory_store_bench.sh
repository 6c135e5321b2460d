#!/bin/bash
# store = directory against store = local (run by run_bench.sh; as root): one studio2fad, one
# client (bench/daemon_bench, code-only AUTHENTICATE over the socket), each login a fresh valid
# code of a distinct enrolled user; first with the records in the local database, then in a real
# slapd on loopback (tests/integration/ldap_lib.sh; ldapi://, SASL EXTERNAL). slapd's log counts
# the directory operations the logins made.
#
# Prints one line per store on stdout:
#   store=local daemon clients=1 ok=N failed=F ... p50_ms=P p99_ms=Q ldap_ops_per_login=0 ...
#   store=directory daemon clients=1 ok=N failed=F ... p50_ms=P p99_ms=Q ldap_ops_per_login=X srch=S mod=M
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
exec 3>&1 1>&2
N=${BENCH_DIRECTORY_LOGINS:-500}

ldap_start > /dev/null || exit 1
ENROLLMENT_BASE=ou=studio2fa,$LDAP_BASE
printf 'dn: %s\nobjectClass: organizationalUnit\nou: studio2fa\n' "$ENROLLMENT_BASE" | ldap_add > /dev/null

# run STORE [LINE...]: seeds N users into that store, starts the daemon, measures, stops it.
run() {
  local store=$1; shift
  DB=$T/lib/$store.db
  write_config "$@"
  "$top_builddir/bench/seed" --users "$N" --prefix "$store" --out "$T/users-$store" \
    --key "$KEY" --config "$CONF" > /dev/null || { echo "seed failed ($store)" >&2; exit 1; }
  start_daemon || { echo "the daemon does not start ($store)" >&2; exit 1; }
  local srch0 mod0 out srch mod
  srch0=$(ldap_ops_count SRCH); mod0=$(ldap_ops_count MOD)
  out=$("$top_builddir/bench/daemon_bench" --socket "$SOCK" --users "$T/users-$store" \
    --first 0 --count "$N" --clients 1)
  srch=$(( $(ldap_ops_count SRCH) - srch0 )); mod=$(( $(ldap_ops_count MOD) - mod0 ))
  stop_daemon
  echo "store=$store $out ldap_ops_per_login=$(awk -v t=$((srch + mod)) -v n="$N" 'BEGIN { printf "%.2f", t / n }') srch=$srch mod=$mod" >&3
}

run local
run directory "ldap_uri = $LDAP_URI_LDAPI" "ldap_base = $LDAP_BASE" "ldap_sasl_external = yes" \
  "store = directory" "enrollment_base = $ENROLLMENT_BASE"
