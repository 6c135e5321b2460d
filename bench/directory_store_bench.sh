#!/bin/bash
# store = directory against store = local (run by run_bench.sh; as root): one studio2fad, one
# client (bench/daemon_bench, code-only AUTHENTICATE over the socket), each login a fresh valid
# code of a distinct enrolled user; first with the records in the local database, then in a real
# slapd on loopback (tests/integration/ldap_lib.sh; ldapi://, SASL EXTERNAL). slapd's log counts
# the directory operations the logins made.
#
# The directory store runs three ways: cold (the daemon has not read the user's record before:
# one read and one conditional write per login), warm (it read each record once before, with an
# untimed STATUS, as on a host the user logged in to before: the conditional write alone), and
# warm again on a slapd with olcDbNoSync: TRUE, side by side, to show how much of a login is
# slapd's flush to disk (never in production: an accepted step lost in a crash could be accepted
# again).
#
# Prints one line per run on stdout:
#   store=local daemon clients=1 ok=N failed=F ... p50_ms=P p99_ms=Q ldap_ops_per_login=0 ...
#   store=directory-cold|directory-warm|directory-warm-nosync daemon clients=1 ok=N ...
#     p50_ms=P p99_ms=Q ldap_ops_per_login=X srch=S mod=M
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
exec 3>&1 1>&2
N=${BENCH_DIRECTORY_LOGINS:-500}

ldap_start > /dev/null || exit 1
ENROLLMENT_BASE=ou=studio2fa,$LDAP_BASE
printf 'dn: %s\nobjectClass: organizationalUnit\nou: studio2fa\n' "$ENROLLMENT_BASE" | ldap_add > /dev/null

# run NAME STORE [LINE...]: seeds N users into that store, starts the daemon, reads each record
# once when NAME ends in -warm*, measures, stops it.
run() {
  local name=$1 store=$2; shift 2
  DB=$T/lib/$name.db
  write_config "$@"
  "$top_builddir/bench/seed" --users "$N" --prefix "$name" --out "$T/users-$name" \
    --key "$KEY" --config "$CONF" > /dev/null || { echo "seed failed ($name)" >&2; exit 1; }
  start_daemon || { echo "the daemon does not start ($name)" >&2; exit 1; }
  local srch0 mod0 out srch mod
  case $name in
    *warm* | local)
      "$top_builddir/bench/daemon_bench" --socket "$SOCK" --users "$T/users-$name" \
        --first 0 --count "$N" --clients 1 --warm only || exit 1 ;;
  esac
  srch0=$(ldap_ops_count SRCH); mod0=$(ldap_ops_count MOD)
  out=$("$top_builddir/bench/daemon_bench" --socket "$SOCK" --users "$T/users-$name" \
    --first 0 --count "$N" --clients 1)
  srch=$(( $(ldap_ops_count SRCH) - srch0 )); mod=$(( $(ldap_ops_count MOD) - mod0 ))
  stop_daemon
  echo "store=$name $out ldap_ops_per_login=$(awk -v t=$((srch + mod)) -v n="$N" 'BEGIN { printf "%.2f", t / n }') srch=$srch mod=$mod" >&3
}

DIRECTORY=("ldap_uri = $LDAP_URI_LDAPI" "ldap_base = $LDAP_BASE" "ldap_sasl_external = yes"
  "store = directory" "enrollment_base = $ENROLLMENT_BASE")
run local local
run directory-cold directory "${DIRECTORY[@]}"
run directory-warm directory "${DIRECTORY[@]}"
s2fa_ldap_root ldapmodify > /dev/null <<LDIF || exit 1
dn: olcDatabase={1}mdb,cn=config
changetype: modify
replace: olcDbNoSync
olcDbNoSync: TRUE
LDIF
run directory-warm-nosync directory "${DIRECTORY[@]}"
