#!/bin/bash
# Logins per second with store = directory at 32 clients spread over two daemons (two hosts:
# each its own socket, database and config, one key) against one slapd on loopback
# (tests/integration/ldap_lib.sh; ldapi://, SASL EXTERNAL), run by make bench-directory (as
# root). Each login is a code-only AUTHENTICATE (bench/daemon_bench) with a fresh valid code of
# a distinct enrolled user, 16 clients on each daemon; every one must be accepted. For scale,
# the same 32 clients on one daemon with store = local first.
#
# Runs: local (one daemon, its own database), directory-cold (each daemon reads each record
# first: one read and one conditional write per login), directory-warm (each daemon read its
# users' records before, with an untimed STATUS: the conditional write alone), and
# directory-warm-nosync, the same on a slapd with olcDbNoSync: TRUE, side by side, to show what
# slapd's flush to disk (one writer at a time) costs (never in production: an accepted step lost
# in a crash could be accepted again).
#
# Prints one line per run on stdout:
#   two_hosts store=NAME clients=32 ok=N failed=F seconds=S rate=R a_p50_ms=X b_p50_ms=Y
#     a_p99_ms=X b_p99_ms=Y srch=S mod=M
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
exec 3>&1 1>&2
N=${BENCH_TWO_HOSTS_LOGINS:-3000} # logins per run, half on each daemon
HALF=$((N / 2))

ldap_start > /dev/null || exit 1
ENROLLMENT_BASE=ou=studio2fa,$LDAP_BASE
printf 'dn: %s\nobjectClass: organizationalUnit\nou: studio2fa\n' "$ENROLLMENT_BASE" | ldap_add > /dev/null
DIRECTORY=("ldap_uri = $LDAP_URI_LDAPI" "ldap_base = $LDAP_BASE" "ldap_sasl_external = yes"
  "store = directory" "enrollment_base = $ENROLLMENT_BASE")

declare -A PIDS
# host NAME RUN [LINE...]: points lib.sh at host NAME's socket, config and database for RUN, and
# with LINEs writes its config.
host() {
  local name=$1 run=$2; shift 2
  SOCK=$T/run/$run-$name.sock
  CONF=$T/etc/$run-$name.conf
  DB=$T/lib/$run-$name.db
  write_config "$@"
}
start_host() {
  start_daemon || { echo "daemon $1 does not start" >&2; exit 1; }
  PIDS[$1]=$S2FA_DAEMON_PID
}
stop_hosts() {
  local name
  for name in "${!PIDS[@]}"; do
    S2FA_DAEMON_PID=${PIDS[$name]}
    stop_daemon
    unset "PIDS[$name]"
  done
}
trap 'stop_hosts; ldap_cleanup; cleanup' EXIT
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }

# measure RUN WARM SOCKET_A SOCKET_B: 16 clients on each socket at once, each daemon its half of
# the users.
measure() {
  local run=$1 warm=$2 a=$3 b=$4 out_a out_b srch0 mod0 srch mod
  if [ "$warm" = yes ]; then
    "$top_builddir/bench/daemon_bench" --socket "$a" --users "$T/users-$run" --first 0 \
      --count "$HALF" --clients 1 --warm only || exit 1
    "$top_builddir/bench/daemon_bench" --socket "$b" --users "$T/users-$run" --first "$HALF" \
      --count "$HALF" --clients 1 --warm only || exit 1
  fi
  srch0=$(ldap_ops_count SRCH); mod0=$(ldap_ops_count MOD)
  "$top_builddir/bench/daemon_bench" --socket "$a" --users "$T/users-$run" --first 0 \
    --count "$HALF" --clients 16 > "$T/out-a" &
  local bench_a=$!
  "$top_builddir/bench/daemon_bench" --socket "$b" --users "$T/users-$run" --first "$HALF" \
    --count "$HALF" --clients 16 > "$T/out-b"
  wait "$bench_a"
  srch=$(( $(ldap_ops_count SRCH) - srch0 )); mod=$(( $(ldap_ops_count MOD) - mod0 ))
  out_a=$(cat "$T/out-a"); out_b=$(cat "$T/out-b")
  awk -v run="$run" -v oka="$(field ok "$out_a")" -v okb="$(field ok "$out_b")" \
    -v fa="$(field failed "$out_a")" -v fb="$(field failed "$out_b")" \
    -v sa="$(field seconds "$out_a")" -v sb="$(field seconds "$out_b")" \
    -v pa="$(field p50_ms "$out_a")" -v pb="$(field p50_ms "$out_b")" \
    -v qa="$(field p99_ms "$out_a")" -v qb="$(field p99_ms "$out_b")" -v srch="$srch" -v mod="$mod" \
    'BEGIN { s = sa > sb ? sa : sb
             printf "two_hosts store=%s clients=32 ok=%d failed=%d seconds=%.3f rate=%.0f a_p50_ms=%s b_p50_ms=%s a_p99_ms=%s b_p99_ms=%s srch=%d mod=%d\n",
               run, oka + okb, fa + fb, s, (oka + okb) / s, pa, pb, qa, qb, srch, mod }' >&3
}

# local: one daemon, its own database, the same 32 clients (16 + 16 on one socket).
host a local
"$top_builddir/bench/seed" --users "$N" --prefix local --out "$T/users-local" --key "$KEY" \
  --config "$CONF" > /dev/null || { echo "seed failed (local)" >&2; exit 1; }
start_host a
measure local no "$SOCK" "$SOCK"
stop_hosts

for run in directory-cold directory-warm directory-warm-nosync; do
  if [ "$run" = directory-warm-nosync ]; then
    s2fa_ldap_root ldapmodify > /dev/null <<LDIF || exit 1
dn: olcDatabase={1}mdb,cn=config
changetype: modify
replace: olcDbNoSync
olcDbNoSync: TRUE
LDIF
  fi
  host b "$run" "${DIRECTORY[@]}"
  SOCK_B=$SOCK
  host a "$run" "${DIRECTORY[@]}"
  "$top_builddir/bench/seed" --users "$N" --prefix "${run#directory-}-" --out "$T/users-$run" \
    --key "$KEY" --config "$CONF" > /dev/null || { echo "seed failed ($run)" >&2; exit 1; }
  start_host a
  host b "$run"
  write_config "${DIRECTORY[@]}"
  start_host b
  warm=yes; [ "$run" = directory-cold ] && warm=no
  measure "$run" "$warm" "$T/run/$run-a.sock" "$SOCK_B"
  stop_hosts
done
