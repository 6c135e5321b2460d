#!/bin/bash
# The directory as the shared store, replicated: two real slapd with syncrepl, driven with the
# plain LDAP tools as the daemons would drive them (tests/integration/ldap_replica_lib.sh).
#  - A read-only replica (consumer): a compare-and-swap write on the primary reaches it within a
#    bounded time (measured); it refuses writes with a referral to the primary; clients that
#    read from either server but write with the assertion through the primary never take the
#    same last step twice, even when the read was stale; with the primary down it still answers
#    reads and still refuses writes.
#  - Two providers (olcMultiProvider): replication both ways; the same race through one write URI
#    is still safe; and the hazard that makes ldap_write_uri one URI: writes to both sides of a
#    partition are resolved last-writer-wins on entryCSN, so after healing studio2faLastStep can
#    go backwards and a step already accepted is accepted again.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"
. "$top_srcdir/tests/integration/ldap_replica_lib.sh"

ROUNDS=5
CLIENTS=10
LAG_SAMPLES=10
LAG_BOUND_MS=5000
equal() { [ "$1" = "$2" ] || { diag "expected '$2', got '$1'"; return 1; }; }
rc_of() { local rc=0; "$@" > "$T/rc_of.out" 2>&1 || rc=$?; echo "$rc"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# last_step_on ROOT-SEARCH USER: the last step as that server holds it (root over ldapi).
last_step_on() {
  "$1" -b "$(ldap_store_dn "$2")" -s base studio2faLastStep 2> /dev/null |
    sed -n 's/^studio2faLastStep: //p'
}
# service_last_step URI USER: the last step as the service account reads it from URI.
service_last_step() {
  store_service_at "$1" ldapsearch -LLL -o ldif-wrap=no -b "$(ldap_store_dn "$2")" -s base \
    '(objectClass=*)' studio2faLastStep 2> /dev/null | sed -n 's/^studio2faLastStep: //p'
}
# take_step URI USER STEP: what a daemon sends for an accepted code: the step, if no higher or
# equal one was taken. Exit status: the LDAP result (0, or 122 for a reused code).
take_step() {
  store_service_at "$1" ldapmodify -e "!assert=(!(studio2faLastStep>=$3))" > /dev/null 2>&1 <<LDIF
dn: $(ldap_store_dn "$2")
changetype: modify
replace: studio2faLastStep
studio2faLastStep: $3
LDIF
}
# wait_step ROOT-SEARCH USER STEP: waits (up to 20 s) until that server holds STEP; prints the
# milliseconds it took.
wait_step() {
  local start deadline
  start=$(now_ms)
  deadline=$((SECONDS + 20))
  until [ "$(last_step_on "$1" "$2")" = "$3" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo timeout; return 1; }
    sleep 0.01
  done
  echo $(( $(now_ms) - start ))
}
# reaches ROOT-SEARCH USER STEP: that server holds STEP within 20 s.
reaches() { wait_step "$@" > /dev/null; }
# take_and_reach WRITE-URI ROOT-SEARCH USER STEP: STEP is taken through WRITE-URI and reaches
# the server ROOT-SEARCH reads.
take_and_reach() { take_step "$1" "$3" "$4" && reaches "$2" "$3" "$4"; }
# lag_samples WRITE-URI ROOT-SEARCH USER: LAG_SAMPLES steps taken through WRITE-URI, each timed
# until the other server holds it; prints "min median max" in ms, or fails.
lag_samples() {
  local i step ms all=()
  step=$(last_step_on ldap_search "$3")
  for ((i = 1; i <= LAG_SAMPLES; i++)); do
    take_step "$1" "$3" $((step + i)) || return 1
    ms=$(wait_step "$2" "$3" $((step + i))) || return 1
    all+=("$ms")
  done
  printf '%s\n' "${all[@]}" | sort -n |
    awk '{ v[NR] = $1 } END { print v[1], v[int((NR + 1) / 2)], v[NR] }'
}
within_bound() {  # within_bound "MIN MEDIAN MAX"
  local max=${1##* }
  [ -n "$1" ] && [ "$max" -le "$LAG_BOUND_MS" ]
}

# race_across_reads USER STEP: CLIENTS clients at once, half reading the last step from the
# primary, half from the second server, each taking STEP through the primary unless what it
# read already covers it; prints "won=W refused=R skipped=S stale=N" (stale: read from the
# second server, older than STEP, after the winner's write had returned).
race_across_reads() {
  local user=$1 step=$2 i uri pids=()
  rm -rf "$T/race"
  mkdir "$T/race"
  for ((i = 0; i < CLIENTS; i++)); do
    uri=$LDAP_URI
    [ $((i % 2)) = 1 ] && uri=$LDAP_REPLICA_URI
    mkfifo "$T/race/$i.go"
    (
      read -r < "$T/race/$i.go"
      seen=$(service_last_step "$uri" "$user")
      read_at=$(now_ms)
      if [ -n "$seen" ] && [ "$seen" -ge "$step" ]; then
        echo "skipped $uri $seen $read_at" > "$T/race/$i.result"
      else
        rc=0
        take_step "$LDAP_URI" "$user" "$step" || rc=$?
        echo "rc$rc $uri ${seen:-none} $read_at $(now_ms)" > "$T/race/$i.result"
      fi
    ) &
    pids+=($!)
  done
  for ((i = 0; i < CLIENTS; i++)); do echo go > "$T/race/$i.go"; done
  wait "${pids[@]}"
  cat "$T/race/"*.result | awk -v replica="$LDAP_REPLICA_URI" -v step="$step" '
    $1 == "rc0" { won++; won_at = $5 }
    $1 == "rc122" { refused++ }
    $1 == "skipped" { skipped++ }
    { line[NR] = $0 }
    END {
      for (i = 1; i <= NR; i++) {
        split(line[i], f, " ")
        if (f[2] == replica && f[3] != "none" && f[3] + 0 < step && f[4] + 0 > won_at) stale++
      }
      printf "won=%d refused=%d skipped=%d stale=%d\n", won, refused, skipped, stale
    }'
}
# rounds_of_races USER: ROUNDS races on successive steps; prints one result line per round.
rounds_of_races() {
  local user=$1 step r
  step=$(last_step_on ldap_search "$user")
  for ((r = 1; r <= ROUNDS; r++)); do
    race_across_reads "$user" $((step + r))
  done
}
# one_winner_each RESULTS: every round had exactly one winner, and nobody else wrote.
one_winner_each() {
  local n
  n=$(grep -c '^won=1 ' <<< "$1")
  [ "$n" = "$ROUNDS" ] || { diag "rounds with exactly one winner: $n of $ROUNDS"; return 1; }
}
stale_total() { sed -n 's/.* stale=\([0-9]*\)$/\1/p' <<< "$1" | awk '{ n += $1 } END { print n + 0 }'; }

# --- a read-only replica ----------------------------------------------------------------------------
check "ldap_start brings the primary up" ldap_start
check "ldap_replica_start consumer: a second slapd replicates it" ldap_replica_start consumer
out=$(ldap_replica_search -b "$LDAP_STORE_BASE" -s base 1.1)
check "the replica holds the container" equal "$out" "dn: $LDAP_STORE_BASE"
ldap_store_record alice "studio2faLastStep: 1000"
check "a record added on the primary reaches the replica" reaches ldap_replica_search alice 1000
out=$(service_last_step "$LDAP_REPLICA_URI" alice)
check "the service account reads it from the replica" equal "$out" 1000
out=$(LDAPTLS_CACERT=$LDAP_CA LDAPRC=/dev/null ldapsearch -ZZ -H "$LDAP_REPLICA_URI" \
  -D "$(ldap_user_dn vfx1)" -w pw-vfx1 -LLL -b "$LDAP_BASE" '(studio2faUser=*)' 1.1 2>&1)
check "a user finds no record on the replica either (its rules are the primary's)" \
  bash -c '! grep -q "^dn:" <<< "$0"' "$out"
rc=0; out=$(store_service_at "$LDAP_REPLICA_URI" ldapmodify 2>&1 <<LDIF
dn: $(ldap_store_dn alice)
changetype: modify
replace: studio2faLastStep
studio2faLastStep: 1001
LDIF
) || rc=$?
check "a write sent to the replica is refused with a referral (10) to the primary" \
  bash -c '[ "$0" = 10 ] && grep -qF "$1/" <<< "$2"' "$rc" "$LDAP_URI" "$out"

lag=$(lag_samples "$LDAP_URI" ldap_replica_search alice)
diag "primary -> replica, $LAG_SAMPLES assertion writes: min/median/max ${lag// //} ms" \
  "(polled with ldapsearch every 10 ms; includes its start-up)"
check "each assertion write on the primary is on the replica within $LAG_BOUND_MS ms" \
  within_bound "$lag"

results=$(rounds_of_races alice)
diag "$CLIENTS clients a round, reading from both servers, writing through the primary:"
while read -r line; do diag "  $line"; done <<< "$results"
check "each of $ROUNDS steps was taken exactly once" one_winner_each "$results"
check "the primary and the replica agree on the last step" \
  reaches ldap_replica_search alice "$(last_step_on ldap_search alice)"

# A read that is certainly stale: the replica cut off from the primary.
ldap_replica_partition
step=$(( $(last_step_on ldap_search alice) + 1 ))
check "partitioned: a host takes step $step through the primary" take_step "$LDAP_URI" alice "$step"
sleep 1
stale=$(service_last_step "$LDAP_REPLICA_URI" alice)
check "the replica still shows the older step $stale" test "$stale" -lt "$step"
check "a host that read $stale there and sends step $step to the primary is refused (122)" \
  equal "$(rc_of take_step "$LDAP_URI" alice "$step")" 122
ldap_replica_heal
check "healed: the replica catches up to step $step" reaches ldap_replica_search alice "$step"

# The primary down: the replica answers reads and refuses writes (a daemon writing only to
# ldap_write_uri refuses codes rather than accept one twice).
ldap_stop
out=$(service_last_step "$LDAP_REPLICA_URI" alice)
check "primary stopped: the replica still serves the record" equal "$out" "$step"
check "primary stopped: the replica still refuses the write (referral, 10)" \
  equal "$(rc_of take_step "$LDAP_REPLICA_URI" alice $((step + 1)))" 10
ldap_start
check "primary back: a step taken there reaches the replica again" \
  take_and_reach "$LDAP_URI" ldap_replica_search alice $((step + 1))

# The replica down for a while: it resumes from its own cookie when it comes back.
ldap_replica_stop
check "replica stopped: the primary goes on taking steps" take_step "$LDAP_URI" alice $((step + 2))
ldap_replica_restart
check "replica restarted: it catches up to step $((step + 2))" \
  reaches ldap_replica_search alice $((step + 2))
step=$((step + 2))

# --- two providers ----------------------------------------------------------------------------------
check "ldap_replica_start multiprovider: the second slapd becomes a second provider" \
  ldap_replica_start multiprovider
check "it holds alice's record" reaches ldap_replica_search alice "$step"
ldap_store_record bob "studio2faLastStep: 2000"
check "both servers accept writes: one made on the second reaches the primary" \
  take_and_reach "$LDAP_REPLICA_URI" ldap_search bob 2001
lag=$(lag_samples "$LDAP_URI" ldap_replica_search bob)
diag "multi-provider, primary -> second: min/median/max ${lag// //} ms"
check "primary -> second within $LAG_BOUND_MS ms" within_bound "$lag"
lag=$(lag_samples "$LDAP_REPLICA_URI" ldap_search bob)
diag "multi-provider, second -> primary: min/median/max ${lag// //} ms"
check "second -> primary within $LAG_BOUND_MS ms" within_bound "$lag"

results=$(rounds_of_races bob)
diag "$CLIENTS clients a round, reading from both providers, writing through the primary:"
while read -r line; do diag "  $line"; done <<< "$results"
check "each of $ROUNDS steps was taken exactly once" one_winner_each "$results"
ldap_replica_wait_sync 20

# The hazard: a partition, and a write on each side.
base=$(last_step_on ldap_search bob)
ldap_replica_partition
check "partitioned: host A takes step $((base + 10)) through the primary" \
  take_step "$LDAP_URI" bob $((base + 10))
sleep 1.1
check "partitioned: host B takes the older step $((base + 5)) through the second provider" \
  take_step "$LDAP_REPLICA_URI" bob $((base + 5))
ldap_replica_heal
check "healed: the two providers converge" ldap_replica_wait_sync 20
primary=$(last_step_on ldap_search bob)
second=$(last_step_on ldap_replica_search bob)
diag "after healing: primary $primary, second provider $second (A wrote $((base + 10)), B $((base + 5)))"
check "both hold the same last step" equal "$primary" "$second"
check "last writer wins: the last step went BACK from $((base + 10)) to $((base + 5))" \
  equal "$primary" $((base + 5))
check "so step $((base + 10)), already accepted on A, is accepted again through the primary" \
  take_step "$LDAP_URI" bob $((base + 10))
finish
