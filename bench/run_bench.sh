#!/bin/bash
# The studio2fa benchmark (make bench; as root). Prints one table:
#   - whole logins through the real libpam at 1, 8 and 32 parallel clients, each a fresh valid
#     code for a distinct enrolled user, for studio2fa (otp_only) and, in the same harness, the
#     PAM framework's floor (pam_permit), Google Authenticator and pam_oath;
#   - studio2fad alone over its socket at 1..64 connections, twice: with names no NSS source
#     knows (every request misses in each source), then with names NSS knows and a warm name-
#     service cache (bench/warm_nss.sh), as when sshd looked the user up just before PAM;
#   - scale: 1,000 vs 100,000 enrolled users (db size, daemon RSS, start-up time, logins/s);
#   - the speed targets side by side: the daemon's p50 per code check at 1 connection against one
#     fdatasync of 4 KiB on the database's file system (bench/fsync_bench, measured around that
#     daemon run; again with the names in NSS cache, as on a real host), and whole logins at
#     32 clients against Google Authenticator's, in three interleaved pairs (the median ratio:
#     one pair alone swings with whatever else the host runs at that moment).
# Everything runs in a private temp directory; nothing on the machine changes.
set -euo pipefail
: "${top_builddir:?run through make bench}" "${top_srcdir:?}"
L=${BENCH_LOGINS:-2000}          # logins per studio2fa run
L_REF=${BENCH_REF_LOGINS:-1000}  # logins per reference run (they are slower)
D=${BENCH_VERIFICATIONS:-10000}  # verifications per daemon-alone run

B=$(mktemp -d /tmp/studio2fa-bench.XXXXXX)
chmod 0711 "$B"
mkdir -m 0700 "$B/etc" "$B/lib1k" "$B/lib100k" "$B/ga" "$B/oath"
mkdir -m 0755 "$B/run" "$B/pam.d"
SOCK=$B/run/studio2fad.sock
PID=
stop_nscd() { [ -s "$B/warm/nscd.pid" ] && kill "$(cat "$B/warm/nscd.pid")" 2>/dev/null; rm -f "$B/warm/nscd.pid"; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; stop_nscd; wait 2>/dev/null; rm -rf "$B"; }
trap cleanup EXIT

MODULE=$top_builddir/.libs/pam_studio2fa.so
PAMDIR=$(dirname "$(find /lib /usr/lib /lib64 /usr/lib64 -name pam_permit.so -path '*security*' 2>/dev/null | head -n1)")
have_ga=no; [ -e "$PAMDIR/pam_google_authenticator.so" ] && have_ga=yes
have_oath=no; [ -e "$PAMDIR/pam_oath.so" ] && have_oath=yes

echo "# seeding users (100,000 and 1,000 for studio2fa; $((5 * L_REF)) for the references)" >&2
seed_start=$(date +%s%N)
"$top_builddir/bench/seed" --users 100000 --prefix u --out "$B/users-100k" \
  --db "$B/lib100k/studio2fa.db" --key "$B/etc/master.key"
seed_ms=$(( ($(date +%s%N) - seed_start) / 1000000 ))
"$top_builddir/bench/seed" --users 1000 --prefix u --out "$B/users-1k" \
  --db "$B/lib1k/studio2fa.db" --key "$B/etc/master.key"
"$top_builddir/bench/seed" --users $((5 * L_REF)) --prefix r --out "$B/users-ref" \
  --ga-dir "$B/ga" --oath-file "$B/oath/users"
# pam_oath reads its whole users file at each login: it gets only the 3 × L_REF users it logs in
# (the two extra pairs at 32 clients are Google Authenticator's alone).
head -n $((3 * L_REF)) "$B/oath/users" > "$B/oath/users.first" && mv "$B/oath/users.first" "$B/oath/users"
chmod 0600 "$B/oath/users"

# libpam reads "other" when a stack has none of a type; without it, it logs an error per login.
echo "auth required pam_deny.so" > "$B/pam.d/other"
echo "auth required pam_permit.so" > "$B/pam.d/permit"
echo "auth required $MODULE socket=$SOCK otp_only" > "$B/pam.d/studio2fa"
echo "auth required pam_google_authenticator.so user=root secret=$B/ga/\${USER}" > "$B/pam.d/ga"
echo "auth required pam_oath.so usersfile=$B/oath/users window=1 digits=6" > "$B/pam.d/oath"

# start_daemon DB_DIR [WRAPPER...]: starts studio2fad on that database, through WRAPPER (which
# must exec it) when given; sets PID and STARTUP_MS (which then includes the wrapper's time).
start_daemon() {
  local db=$1; shift
  cat > "$B/etc/studio2fad.conf" <<CONF
socket_path = $SOCK
db_path = $db/studio2fa.db
key_path = $B/etc/master.key
CONF
  local start; start=$(date +%s%N)
  "$@" "$top_builddir/studio2fad" -f -c "$B/etc/studio2fad.conf" 2>> "$B/daemon.log" &
  PID=$!
  until [ -S "$SOCK" ]; do
    if ! kill -0 "$PID" 2> /dev/null; then
      wait "$PID" || true
      PID=''
      STARTUP_MS=failed
      return
    fi
    sleep 0.001
  done
  STARTUP_MS=$(( ($(date +%s%N) - start) / 1000000 ))
}
stop_daemon() { kill "$PID"; wait "$PID" || true; PID=; rm -f "$SOCK"; stop_nscd; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$PID/status"; }

# field NAME LINE: a key=value field of a result line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
ROWS=()
row() {  # row LABEL RESULT_LINE
  local line=$2
  ROWS+=("$(printf '%-34s %7s %7s %7s %9s %9s %9s' "$1" "$(field clients "$line")" \
    "$(field ok "$line")" "$(field failed "$line")" "$(field rate "$line")" \
    "$(field p50_ms "$line")" "$(field p99_ms "$line")")")
}
pam_run() {  # pam_run SERVICE USERS FIRST COUNT CLIENTS
  "$top_builddir/bench/pam_bench" --confdir "$B/pam.d" --service "$1" --users "$2" \
    --first "$3" --count "$4" --clients "$5" --label "$1"
}

# Whole logins: the daemon sees the users' names in NSS behind a warm name-service cache, as on a
# host where sshd or login looked the user up a moment before (bench/warm_nss.sh); without
# nscd and libnss-db, with names unknown to NSS, and the table says so.
LOGIN_NSS="names in NSS cache"
start_daemon "$B/lib100k" "$top_srcdir/bench/warm_nss.sh" "$B/users-100k" 0 $((5 * L)) "$B/warm"
if [ "$STARTUP_MS" = failed ]; then
  LOGIN_NSS="names not in NSS: $(grep -m1 'warm_nss' "$B/daemon.log" || tail -n1 "$B/daemon.log")"
  start_daemon "$B/lib100k"
fi
echo "# whole logins through libpam" >&2
offset=0; ref_offset=0
LOGINS_32= GA_32=
for c in 1 8 32; do
  row "pam_permit (PAM floor)" "$(pam_run permit "$B/users-ref" 0 "$L_REF" "$c")"
  line=$(pam_run studio2fa "$B/users-100k" "$offset" "$L" "$c")
  row "studio2fa otp_only" "$line"
  [ "$c" = 32 ] && LOGINS_32=$line
  offset=$((offset + L))
  if [ "$have_ga" = yes ]; then
    line=$(pam_run ga "$B/users-ref" "$ref_offset" "$L_REF" "$c")
    row "google-authenticator" "$line"
    [ "$c" = 32 ] && GA_32=$line
  fi
  if [ "$have_oath" = yes ]; then
    row "pam_oath" "$(pam_run oath "$B/users-ref" "$ref_offset" "$L_REF" "$c")"
  fi
  ref_offset=$((ref_offset + L_REF))
done
# Two more pairs at 32 clients, right after the first: the ratio target is read as the median
# of the three pairs' ratios.
PAIRS_32=()
if [ "$have_ga" = yes ]; then
  PAIRS_32+=("$(field rate " $LOGINS_32") $(field rate " $GA_32")")
  for pair in 2 3; do
    ours=$(pam_run studio2fa "$B/users-100k" "$offset" "$L" 32)
    offset=$((offset + L))
    theirs=$(pam_run ga "$B/users-ref" "$ref_offset" "$L_REF" 32)
    ref_offset=$((ref_offset + L_REF))
    PAIRS_32+=("$(field rate " $ours") $(field rate " $theirs")")
  done
fi
stop_daemon

start_daemon "$B/lib100k"
startup_100k=$STARTUP_MS
line=$(pam_run studio2fa "$B/users-100k" "$offset" "$L" 32)
row "studio2fa otp_only, names not in NSS" "$line"
offset=$((offset + L))

# daemon_sweep LABEL FIRST: the daemon alone at 1..64 connections, D verifications each. The
# first sweep's 1-connection run is taken between two runs of fsync_bench on the database's
# file system (DAEMON_1, FSYNC_BEFORE, FSYNC_AFTER), so that both see the same disk.
CONNECTIONS=(1 2 4 8 16 32 64)
DAEMON_1= DAEMON_1_WARM= FSYNC_BEFORE= FSYNC_AFTER=
fsync_run() { "$top_builddir/bench/fsync_bench" --dir "$B/lib100k" --count "${BENCH_FSYNCS:-1000}"; }
daemon_sweep() {
  local first=$2 line
  for c in "${CONNECTIONS[@]}"; do
    [ "$c" = 1 ] && [ -z "$DAEMON_1" ] && FSYNC_BEFORE=$(fsync_run)
    line=$("$top_builddir/bench/daemon_bench" --socket "$SOCK" \
      --users "$B/users-100k" --first "$first" --count "$D" --clients "$c")
    if [ "$c" = 1 ] && [ -z "$DAEMON_1" ]; then
      DAEMON_1=$line
      FSYNC_AFTER=$(fsync_run)
    elif [ "$c" = 1 ]; then
      DAEMON_1_WARM=$line
    fi
    row "$1" "$line"
    first=$((first + D))
  done
}
echo "# the daemon alone, names unknown to NSS" >&2
sweep_first=$offset
daemon_sweep "studio2fad alone, names not in NSS" "$offset"
sweep_end=$(date +%s)
offset=$((offset + ${#CONNECTIONS[@]} * D))

echo "# scale" >&2
scale_100k=$(pam_run studio2fa "$B/users-100k" "$offset" 1000 8)
rss_100k=$(rss_kb); hwm_100k=$(hwm_kb)
stop_daemon
db_100k=$(du -k "$B/lib100k/studio2fa.db" | cut -f1)

echo "# the daemon alone, names in NSS behind a warm name-service cache" >&2
warm=measured
start_daemon "$B/lib100k" "$top_srcdir/bench/warm_nss.sh" "$B/users-100k" "$sweep_first" \
  $((${#CONNECTIONS[@]} * D)) "$B/warm"
if [ "$STARTUP_MS" = failed ]; then
  warm="not measured: $(grep -m1 'warm_nss' "$B/daemon.log" || tail -n1 "$B/daemon.log")"
else
  # The same users as the sweep above, two time steps on at least. One step on is not enough:
  # when a user's code of step S happens to equal their code of S+1 (one in a million), the
  # daemon took it as S+1, and rightly refuses that same code again during S+1.
  while [ $(( $(date +%s) / 30 )) -le $(( sweep_end / 30 + 1 )) ]; do sleep 1; done
  daemon_sweep "studio2fad alone, names in NSS cache" "$sweep_first"
  stop_daemon
fi
start_daemon "$B/lib1k"
startup_1k=$STARTUP_MS
scale_1k=$(pam_run studio2fa "$B/users-1k" 0 1000 8)
rss_1k=$(rss_kb); hwm_1k=$(hwm_kb)
stop_daemon
db_1k=$(du -k "$B/lib1k/studio2fa.db" | cut -f1)
row "studio2fa, 1,000 users" "$scale_1k"
row "studio2fa, 100,000 users" "$scale_100k"

echo "# with a directory (slapd on loopback)" >&2
LDAP_ROWS=()
if command -v slapd > /dev/null || [ -x /usr/sbin/slapd ]; then
  while read -r line; do
    LDAP_ROWS+=("$(printf '%-34s %7s %9s %7s %7s %7s %9s' "$(field temperature " $line")" \
      "$(field logins " $line")" "$(field ops_per_login " $line")" "$(field srch " $line")" \
      "$(field bind " $line")" "$(field ext " $line")" "$(field p50_ms " $line")")")
  done < <(bash "$top_srcdir/bench/ldap_bench.sh" 2> "$B/ldap_bench.log")
fi
echo "# store = directory against store = local (1 client, code-only)" >&2
STORE_ROWS=()
if command -v slapd > /dev/null || [ -x /usr/sbin/slapd ]; then
  while read -r line; do
    STORE_ROWS+=("$(printf '%-34s %7s %7s %9s %9s %9s %7s %7s' "store = $(field store " $line")" \
      "$(field ok " $line")" "$(field failed " $line")" "$(field p50_ms " $line")" \
      "$(field p99_ms " $line")" "$(field ldap_ops_per_login " $line")" "$(field srch " $line")" \
      "$(field mod " $line")")")
  done < <(bash "$top_srcdir/bench/directory_store_bench.sh" 2> "$B/directory_store_bench.log")
fi

echo
echo "studio2fa benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-34s %7s %7s %7s %9s %9s %9s\n' "what" clients ok failed "per s" "p50 ms" "p99 ms"
printf '%s\n' "${ROWS[@]}"
echo
# ratio A B: A / B to two decimals, or "n/a".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
fsync_p50=$(awk -v a="$(field p50_ms " $FSYNC_BEFORE")" -v b="$(field p50_ms " $FSYNC_AFTER")" \
  'BEGIN { printf "%.3f", (a + b) / 2 }')
daemon_p50=$(field p50_ms " $DAEMON_1")
echo "targets (issue 15), measured in this run on $(df -T "$B/lib100k" | awk 'NR == 2 { print $2 " " $1 }'):"
printf '  %-62s %9s ms\n' "studio2fad alone, 1 connection: p50 per code check" "$daemon_p50"
printf '  %-62s %9s ms\n' "one fdatasync of 4 KiB on the database's file system: p50" \
  "$fsync_p50 (before $(field p50_ms " $FSYNC_BEFORE"), after $(field p50_ms " $FSYNC_AFTER"))"
printf '  %-62s %9s x (target <= 2)\n' "ratio" "$(ratio "$daemon_p50" "$fsync_p50")"
if [ -n "$DAEMON_1_WARM" ]; then
  # The names as a real host has them (in NSS, looked up a moment before): the same check
  # without the misses in every NSS source that the first sweep pays for.
  warm_p50=$(field p50_ms " $DAEMON_1_WARM")
  printf '  %-62s %9s ms\n' "the same with the names in NSS cache" "$warm_p50"
  printf '  %-62s %9s x (target <= 2)\n' "ratio" "$(ratio "$warm_p50" "$fsync_p50")"
fi
if [ -n "$GA_32" ]; then
  printf '  %-62s %9s /s\n' "whole logins at 32 clients: studio2fa otp_only" "$(field rate " $LOGINS_32")"
  printf '  %-62s %9s /s\n' "whole logins at 32 clients: google-authenticator" "$(field rate " $GA_32")"
  printf '  %-62s %9s x\n' "ratio" \
    "$(ratio "$(field rate " $LOGINS_32")" "$(field rate " $GA_32")")"
  pairs_text=$(for p in "${PAIRS_32[@]}"; do set -- $p; printf '%s/%s ' "$1" "$2"; done)
  median_32=$(for p in "${PAIRS_32[@]}"; do set -- $p; ratio "$1" "$2"; echo; done | sort -g |
    awk '{ v[NR] = $1 } END { print (NR == 3 ? v[2] : "n/a") }')
  printf '  %-62s\n' "three interleaved pairs at 32 clients (studio2fa/GA per s): ${pairs_text% }"
  printf '  %-62s %9s x (target >= 10)\n' "median ratio of the three pairs" "$median_32"
else
  echo "  whole logins against Google Authenticator: not measured (pam_google_authenticator.so is not installed)"
fi
echo
printf '%-34s %12s %12s\n' "scale" "1,000 users" "100,000 users"
printf '%-34s %12s %12s\n' "database size (KiB)" "$db_1k" "$db_100k"
printf '%-34s %12s %12s\n' "daemon RSS after the runs (KiB)" "$rss_1k" "$rss_100k"
printf '%-34s %12s %12s\n' "daemon peak RSS (KiB)" "$hwm_1k" "$hwm_100k"
printf '%-34s %12s %12s\n' "daemon start-up to socket (ms)" "$startup_1k" "$startup_100k"
printf '%-34s %12s %12s\n' "logins/s at 8 clients" "$(field rate "$scale_1k")" "$(field rate "$scale_100k")"
echo "whole logins: the daemon with $LOGIN_NSS (one row: names not in NSS)"
echo "seeding 100,000 enrollments (sealed, one transaction per 5,000): $seed_ms ms"
echo "daemon alone: \"not in NSS\": $(grep -m1 '^passwd:' /etc/nsswitch.conf | tr -s ' ') knows none of the users, so each"
echo "  request misses in every source; \"in NSS cache\": the names in NSS (glibc's db source) and"
echo "  answered a moment before by the host's name-service cache (nscd), as sshd's lookup leaves them"
[ "$warm" = measured ] || echo "  in NSS cache: $warm"
echo
if [ "${#LDAP_ROWS[@]}" -gt 0 ]; then
  echo "with a directory: directory operations per two-prompt login of a directory user (slapd's log)"
  printf '%-34s %7s %9s %7s %7s %7s %9s\n' "cache" logins "ops each" SRCH BIND "EXT(TLS)" "p50 ms"
  printf '%s\n' "${LDAP_ROWS[@]}"
  echo "(cold: nothing cached, first connection; warm: within policy_cache_ttl, where the BIND and"
  echo " StartTLS left are the password check itself; warm-otp_only: password by an earlier module)"
else
  echo "with a directory: not measured (slapd is not installed)"
fi
if [ "${#STORE_ROWS[@]}" -gt 0 ]; then
  echo
  echo "where the records live: one code-only login at a time, distinct users (daemon_bench, 1 client)"
  printf '%-34s %7s %7s %9s %9s %9s %7s %7s\n' "store" ok failed "p50 ms" "p99 ms" "LDAP ops" SRCH MOD
  printf '%s\n' "${STORE_ROWS[@]}"
  echo "(directory: slapd on loopback over ldapi://, one read and one conditional modify per login)"
fi
# A refused valid login is a finding: show what the daemon said about it.
others=$(grep -v -e 'authentication success' -e 'serving on' -e 'stopping: finishing' \
  -e '\]: stopped$' "$B/daemon.log" || true)
if [ -n "$others" ]; then
  echo
  echo "daemon log lines other than successes, starts and stops (first 10):"
  head -n 10 <<< "$others"
fi
