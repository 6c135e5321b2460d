#!/bin/bash
# store = directory on two slapd providers replicating both ways (olcMultiProvider syncrepl,
# tests/integration/ldap_replica_lib.sh) and two daemons as two hosts (own sockets, configs and
# caches, one key): A reads from provider 1, B from provider 2 (its nearest replica), both write
# through ldap_write_uri = provider 1. Through the real module (pam_wrapper), the protocol client
# and the CLIs, codes from oathtool:
#  - an enrollment made on A is read on B from provider 2 (replication lag measured);
#  - one valid code raced on A and B: exactly one accepts each round, also while replication is
#    cut (B's replica stale); a code A accepted is refused on B although provider 2 never saw it;
#  - a backup code spent on A is refused on B;
#  - studio2fa-admin health on B names provider 1 as the write server, provider 2 as the read
#    server that answered;
#  - provider 1 stopped while provider 2 answers B's reads: offline_logins = deny refuses within
#    the module's timeout and the log names the write server; offline_logins = cached accepts a
#    fresh code from B's copy and refuses its replay; once provider 1 is back, B pushes the step
#    it accepted offline, and provider 2 receives it.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"
. "$top_srcdir/tests/integration/ldap_replica_lib.sh"

ROUNDS=20
STALE_ROUNDS=10
LAG_BOUND_MS=5000
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

check "slapd starts (provider 1)" ldap_start
check "a second slapd replicates both ways with it (provider 2, olcMultiProvider)" \
  ldap_replica_start multiprovider
ENROLLMENT_BASE=$LDAP_STORE_BASE

# host NAME [READ-URI LINE...]: makes NAME (a or b) the host the helpers of lib.sh talk to (its
# socket, config, database); with READ-URI, writes its config first: reads from READ-URI,
# writes to provider 1, StartTLS, bound as the service account.
host() {
  ldap_store_host "$1"; shift
  if [ $# -gt 0 ]; then
    ldap_store_config "$1" "ldap_write_uri = $LDAP_URI" "${@:2}"
  fi
}
stop_hosts() {
  local name
  for name in a b; do host "$name"; stop_daemon; done
}
trap 'stop_hosts; ldap_replica_stop; ldap_cleanup' EXIT

host a "$LDAP_URI" "offline_logins = deny"
check "host A starts (reads provider 1, writes provider 1)" start_daemon
host b "$LDAP_REPLICA_URI" "offline_logins = deny"
check "host B starts (reads provider 2, writes provider 1)" start_daemon
pam_service s2fa-a; sed -i "s|socket=[^ ]*|socket=$T/run/a.sock|" "$T/pam.d/s2fa-a"
pam_service s2fa-b; sed -i "s|socket=[^ ]*|socket=$T/run/b.sock timeout=5|" "$T/pam.d/s2fa-b"

login() { pam_login "s2fa-$1" "${@:2}"; }
# last_step_on ROOT-SEARCH USER: USER's last step as that server holds it (root over ldapi).
last_step_on() {
  "$1" -b "$(ldap_store_dn "$2")" -s base studio2faLastStep 2> /dev/null |
    sed -n 's/^studio2faLastStep: //p'
}
# lag_to_2 USER STEP: waits (up to 20 s) until provider 2 holds STEP for USER; prints the ms.
lag_to_2() {
  local start deadline
  start=$(now_ms)
  deadline=$((SECONDS + 20))
  until [ "$(last_step_on ldap_replica_search "$1")" = "$2" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo timeout; return 1; }
    sleep 0.01
  done
  echo $(( $(now_ms) - start ))
}
step_now() { echo $(( $(fake_now) / 30 )); }
log_mark() { wc -l < "$DAEMON_LOG"; }
log_since() { tail -n "+$(( $1 + 1 ))" "$DAEMON_LOG"; }

# --- 1. enroll on A, log in on B (read from provider 2) ---------------------------------------
host a
check "alice enrolls on host A" enroll alice
S=$SECRET
start=$(now_ms)
until ldap_replica_search -b "$(ldap_store_dn alice)" -s base 1.1 2> /dev/null | grep -q '^dn:'; do
  [ $(( $(now_ms) - start )) -lt 20000 ] || break
  sleep 0.01
done
check "... her entry reaches provider 2 ($(( $(now_ms) - start )) ms after the enrollment ended)" \
  ldap_replica_wait_sync 20
next_step
reads_2=$(grep -c 'SRCH base="studio2faUser=alice,' "$LDAP_REPLICA_LOG")
login b alice alice-Pa55word "$(code_for "$S")"
check "alice logs in on host B with a code of the secret enrolled on A" login_succeeded
check "... B asked for the code (her record was found)" \
  test "$(grep -c '^PROMPT' <<< "$LOGIN_OUT")" -eq 2
check "... B read it from provider 2" \
  test "$(grep -c 'SRCH base="studio2faUser=alice,' "$LDAP_REPLICA_LOG")" -gt "$reads_2"
login a alice alice-Pa55word "$(code_for "$S")"
check "... and the same code is refused on A (rc=$LOGIN_RC)" login_failed_with 7

# --- 2. replication lag, measured through the daemons -----------------------------------------
lags=()
for i in 1 2 3 4 5; do
  next_step
  python3 "$RAW_CLIENT" "$T/run/a.sock" authenticate alice 3 "" "$(code_for "$S")" > "$T/lag.out"
  grep -q '^REPLY 0x[0-9a-f]* 00' "$T/lag.out" || { lags+=(refused); continue; }
  lags+=("$(lag_to_2 alice "$(step_now)")")
done
sorted=$(printf '%s\n' "${lags[@]}" | sort -n | tr '\n' ' ')
diag "a login on A (written to provider 1) -> provider 2: ${sorted}ms (5 samples, sorted)"
check "each accepted step reaches provider 2 within $LAG_BOUND_MS ms" \
  bash -c 'for l in $0; do [[ $l =~ ^[0-9]+$ ]] && [ "$l" -lt "$1" ] || exit 1; done' \
  "$sorted" "$LAG_BOUND_MS"

# --- 3. one code raced on A and B ---------------------------------------------------------------
# race_round: the code of a fresh step sent to A and B at once (code-only, as root); sets
# ACCEPTED, and CODE.
race_round() {
  next_step
  CODE=$(code_for "$S")
  python3 "$RAW_CLIENT" "$T/run/a.sock" authenticate alice 3 "" "$CODE" > "$T/race.a" &
  local pid_a=$!
  python3 "$RAW_CLIENT" "$T/run/b.sock" authenticate alice 3 "" "$CODE" > "$T/race.b" &
  wait "$pid_a" $!
  ACCEPTED=$(cat "$T/race.a" "$T/race.b" | grep -c '^REPLY 0x[0-9a-f]* 00')
  grep -q '^REPLY 0x[0-9a-f]* 00' "$T/race.a" && WON_A=$((WON_A + 1))
}
WON_A=0
exactly_one=0
for round in $(seq 1 "$ROUNDS"); do
  race_round # not in $(...): its next_step must move this shell's clock
  [ "$ACCEPTED" -eq 1 ] && exactly_one=$((exactly_one + 1))
done
check "one valid code sent to A and B at once, $ROUNDS times: exactly one accepted each time ($exactly_one/$ROUNDS; A won $WON_A)" \
  test "$exactly_one" -eq "$ROUNDS"

# Replication cut: provider 2, where B reads, no longer sees what goes through provider 1.
ldap_replica_partition
WON_A=0
exactly_one=0
refused_alone=0
for round in $(seq 1 "$STALE_ROUNDS"); do
  race_round
  [ "$ACCEPTED" -eq 1 ] && exactly_one=$((exactly_one + 1))
  # The same code again on B alone, now that one host has taken it.
  python3 "$RAW_CLIENT" "$T/run/b.sock" authenticate alice 3 "" "$CODE" > "$T/again.b"
  grep -q '^REPLY 0x[0-9a-f]* 00' "$T/again.b" || refused_alone=$((refused_alone + 1))
done
check "replication cut: raced $STALE_ROUNDS times, exactly one accepted each time ($exactly_one/$STALE_ROUNDS; A won $WON_A)" \
  test "$exactly_one" -eq "$STALE_ROUNDS"
check "... and the code sent once more to B alone refused each time ($refused_alone/$STALE_ROUNDS)" \
  test "$refused_alone" -eq "$STALE_ROUNDS"
on_1=$(last_step_on ldap_search alice)
on_2=$(last_step_on ldap_replica_search alice)
check "... while provider 2 was behind (step $on_2 there, $on_1 on provider 1)" \
  test "${on_2:-0}" -lt "$on_1"
next_step
python3 "$RAW_CLIENT" "$T/run/a.sock" authenticate alice 3 "" "$(code_for "$S")" > "$T/cut.a"
check "replication cut: a code accepted on A" grep -q '^REPLY 0x[0-9a-f]* 00' "$T/cut.a"
python3 "$RAW_CLIENT" "$T/run/b.sock" authenticate alice 3 "" "$(code_for "$S")" > "$T/cut.b"
check "... is refused on B, which reads provider 2 (still at step $(last_step_on ldap_replica_search alice))" \
  grep -q '^REPLY 0x[0-9a-f]* 0[^0]' "$T/cut.b"
ldap_replica_heal
check "replication restored: the providers agree again" ldap_replica_wait_sync 20
check "... on alice's last step ($(last_step_on ldap_replica_search alice))" \
  test "$(last_step_on ldap_replica_search alice)" = "$(last_step_on ldap_search alice)"
diag "conflicts retried: $(grep -c 'deciding again' "$DAEMON_LOG") (both daemons log to one file)"

# --- 4. a backup code spent on A is refused on B -----------------------------------------------
mkdir -p -m 0777 "$T/home/alice"
next_step
as_user alice "$S2FA_CLI" --socket "$T/run/a.sock" backup-codes --output "$T/home/alice/codes.txt" \
  <<< "$(code_for "$S")" > /dev/null 2>&1
BACKUP=$(grep -o '[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}' \
  "$T/home/alice/codes.txt" | head -n1)
check "alice makes backup codes on A" test -n "$BACKUP"
ldap_replica_wait_sync 20
login b alice alice-Pa55word "$(code_for "$S" 30)" # B reads her new codes (and warms its copy)
login a alice alice-Pa55word "$BACKUP"
check "a backup code is accepted on A" login_succeeded
login b alice alice-Pa55word "$BACKUP"
check "... and refused on B right after, its copy and provider 2 maybe not yet told (rc=$LOGIN_RC)" \
  login_failed_with 7

# --- 5. health on B -----------------------------------------------------------------------------
host b
admin root health
check "health on B: all answering (rc=$RC)" test "$RC" -eq 0
check "... the write server is provider 1, and it answers" \
  grep -qF "write server:   $LDAP_URI (answers)" <<< "$OUT"
check "... the read server is provider 2, and it answered" \
  grep -qF "read server:    $LDAP_REPLICA_URI (answers)" <<< "$OUT"

# --- 6. provider 1 stopped: offline_logins = deny on B ------------------------------------------
host a
check "bob enrolls on A" enroll bob
Bs=$SECRET
ldap_replica_wait_sync 20
next_step
login b bob bob-Pa55word "$(code_for "$Bs")"
check "bob logs in on B" login_succeeded
ldap_stop
mark=$(log_mark)
next_step
t0=$(now_ms)
login b bob bob-Pa55word "$(code_for "$Bs")"
DENY_MS=$(( $(now_ms) - t0 ))
check "provider 1 stopped: B (deny) refuses bob's code (rc=$LOGIN_RC) in $DENY_MS ms, within the module's 5 s" \
  bash -c '[ "$0" -ne 0 ] && [ "$1" -lt 5000 ]' "$LOGIN_RC" "$DENY_MS"
check "... B's log says the write server cannot be reached" \
  grep -q "store: directory store: the write server (ldap_write_uri) cannot be reached: .*$LDAP_URI" \
  <<< "$(log_since "$mark")"
host b
t0=$(now_ms)
admin root health
HEALTH_MS=$(( $(now_ms) - t0 ))
check "... health on B fails (rc=$RC, $HEALTH_MS ms)" test "$RC" -eq 1
check "... provider 1, the write server, does not answer" \
  grep -qF "write server:   $LDAP_URI (does not answer)" <<< "$OUT"
check "... provider 2 still answers B's reads" \
  grep -qF "read server:    $LDAP_REPLICA_URI (answers)" <<< "$OUT"
check "... the problem line names the write server" grep -q "^problem: *$LDAP_URI: " <<< "$OUT"

# --- 7. provider 1 stopped: offline_logins = cached on B ----------------------------------------
ldap_start > /dev/null
ldap_replica_wait_sync 20
stop_daemon # B's
host b "$LDAP_REPLICA_URI" "offline_logins = cached" "offline_cache_age = 10m"
check "B starts again with offline_logins = cached" start_daemon
# Replication cut first: B's last write before the outage (through provider 1) never reaches
# provider 2, which B reads when provider 1 is back: the residual window of a failover.
ldap_replica_partition
next_step
login b bob bob-Pa55word "$(code_for "$Bs")"
check "bob logs in on B (B's copy of his record is fresh)" login_succeeded
login b alice alice-Pa55word "$(code_for "$S")"
check "so does alice" login_succeeded
ldap_stop
mark=$(log_mark)
next_step
C=$(code_for "$Bs")
OFFLINE_STEP=$(step_now)
t0=$(now_ms)
login b bob bob-Pa55word "$C"
CACHED_MS=$(( $(now_ms) - t0 ))
check "provider 1 stopped: B (cached) accepts a fresh code from its copy ($CACHED_MS ms)" \
  login_succeeded
check "... and says it checked it against its copy because the write server cannot be reached" \
  grep -q "directory store: the write server (ldap_write_uri) cannot be reached; bob is checked against this host's copy" \
  <<< "$(log_since "$mark")"
login b bob bob-Pa55word "$C"
check "... the same code a second time is refused (rc=$LOGIN_RC)" login_failed_with 7
BACKUP2=$(grep -o '[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}' \
  "$T/home/alice/codes.txt" | sed -n 2p)
login b alice alice-Pa55word "$BACKUP2"
check "... no backup code while the write server is down, even with a fresh copy (rc=$LOGIN_RC)" \
  bash -c '[ "$0" -ne 0 ]' "$LOGIN_RC"
check "... provider 2 never heard of step $OFFLINE_STEP" \
  test "$(last_step_on ldap_replica_search bob)" -lt "$OFFLINE_STEP"

# --- 8. provider 1 back: B pushes what it accepted offline ---------------------------------------
ldap_start > /dev/null
mark=$(log_mark)
next_step
login b bob bob-Pa55word "$(code_for "$Bs")"
check "provider 1 back: B's next login of bob succeeds" login_succeeded
check "... after pushing step $OFFLINE_STEP, accepted offline, through provider 1" \
  grep -q "pushed step $OFFLINE_STEP of bob" <<< "$(log_since "$mark")"
check "... though provider 2, read first, had not seen B's last write before the outage: no conflict reported" \
  bash -c '! grep -q "the code may have been used on another host" <<< "$0"' "$(log_since "$mark")"
ldap_replica_heal
lag=$(lag_to_2 bob "$(step_now)")
check "... and provider 2 has bob's newest step $(step_now) ($lag ms later)" \
  test "$lag" != timeout
login a bob bob-Pa55word "$C"
check "... the code B accepted offline is refused on A (rc=$LOGIN_RC)" login_failed_with 7

diag "figures: race $ROUNDS + $STALE_ROUNDS (cut) rounds; lag ${sorted}ms; deny ${DENY_MS} ms; health ${HEALTH_MS} ms; cached ${CACHED_MS} ms"
finish
