#!/bin/bash
# When a login's write reaches this host's disk (cache_sync, studio2fad.conf(5)), counted as the
# daemon's fdatasync calls under strace, for logins through the real module with oathtool codes:
#  - store = local: every login's commit is flushed before the reply (the database is the only
#    record of the step it accepted), its WAL frames gathered into one write (pwrite64 counted);
#  - store = directory, cache_sync = normal (the default): the directory has made the login
#    durable before the cache's copy is written, and that copy waits for no flush: at most every
#    other login flushes (an unsynced run is never older than a second), and a crash of the
#    daemon (SIGKILL) loses none of it;
#  - cache_sync = full: every login flushes, as with store = local;
#  - a code accepted while the directory cannot be reached (offline_logins = cached) is flushed
#    whatever cache_sync says: the cache is then its only record.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"

command -v strace > /dev/null || { echo "1..0 # SKIP strace is not installed"; exit 77; }

N=10 # logins per count
# traced_start: starts the daemon and attaches strace to all its threads, which writes one line
# per fdatasync, fsync or pwrite64 to $T/syncs (appended to across restarts).
traced_start() {
  start_daemon || return 1
  strace -f -qq -e trace=fdatasync,fsync,pwrite64 -o "|cat >> $T/syncs" -p "$S2FA_DAEMON_PID" 2> /dev/null &
  local task deadline=$((SECONDS + 10))
  for task in /proc/"$S2FA_DAEMON_PID"/task/*; do
    until [ "$(awk '/^TracerPid:/ { print $2 }' "$task/status" 2> /dev/null)" != 0 ]; do
      [ "$SECONDS" -lt "$deadline" ] || return 1
      sleep 0.05
    done
  done
}
syncs() { grep -c -e 'fdatasync(' -e 'fsync(' "$T/syncs" 2> /dev/null || echo 0; }
writes() { grep -c -e 'pwrite64(' "$T/syncs" 2> /dev/null || echo 0; }

# logins USER: N logins of USER, each with the code of a fresh time step; sets OK (how many
# succeeded), FLUSHES (the daemon's flushes while they ran) and WRITES (its pwrite64 calls).
logins() {
  local before i writes_before
  before=$(syncs)
  writes_before=$(writes)
  OK=0
  for i in $(seq 1 "$N"); do
    next_step
    pam_login studio2fa "$1" "$1-Pa55word" "$(code_for "$SECRET")"
    login_succeeded && OK=$((OK + 1))
  done
  FLUSHES=$(( $(syncs) - before ))
  WRITES=$(( $(writes) - writes_before ))
}

pam_service studio2fa

# --- store = local -------------------------------------------------------------------------
check "the daemon starts under strace with store = local" traced_start
check "alice enrolls" enroll alice
logins alice
check "store = local: $N logins succeed" test "$OK" -eq "$N"
check "... and each is flushed before its reply ($FLUSHES flushes for $N logins)" \
  test "$FLUSHES" -ge "$N"
# Synced commits gather their WAL writes into one (sqlite_gather_vfs.hpp): a login's five pages
# would otherwise be ten writes (a frame header and a page each).
check "... each commit's WAL frames written at once ($WRITES writes for $N logins)" \
  test "$WRITES" -le $((2 * N))
stop_daemon

# --- store = directory ---------------------------------------------------------------------
check "slapd starts with the fixtures" ldap_start
ldap_store_prepare
trap 'stop_daemon; ldap_cleanup' EXIT
directory() {
  DB=$T/lib/directory.db
  ldap_store_config "$LDAP_URI" "offline_logins = cached" "$@"
}
directory
check "the daemon starts with store = directory (cache_sync left at its default)" traced_start
check "bob enrolls (in the directory)" enroll bob
logins bob
check "cache_sync = normal: $N logins succeed" test "$OK" -eq "$N"
# Gathering is off for unsynced commits (a NORMAL commit is published without a sync): their
# pages go out one write each, so there are many more writes than logins.
check "... the unsynced commits' writes not gathered ($WRITES writes for $N logins)" \
  test "$WRITES" -ge $((2 * N))
check "... with at most one flush for every two logins ($FLUSHES for $N)" \
  test "$FLUSHES" -le $((N / 2))
kill_daemon_hard
rm -f "$SOCK" # left by the killed daemon: start_daemon waits for the next one's
step=$(ldap_search -b "$(ldap_store_dn bob)" -s base studio2faLastStep | sed -n 's/^studio2faLastStep: //p')
check "after SIGKILL the cache holds the last step the directory took for bob ($step)" \
  test -n "$step" -a "$(sqlite3 "$DB" "SELECT last_step FROM users WHERE name = 'bob'")" = "$step"

directory "cache_sync = full"
check "the daemon starts with cache_sync = full" traced_start
logins bob
check "cache_sync = full: $N logins succeed" test "$OK" -eq "$N"
check "... and each is flushed ($FLUSHES flushes for $N logins)" test "$FLUSHES" -ge "$N"
stop_daemon

directory
check "the daemon starts again with cache_sync = normal" traced_start
next_step
pam_login studio2fa bob bob-Pa55word "$(code_for "$SECRET")" # a fresh copy for offline use
ldap_stop
next_step
pam_login studio2fa bob bob-Pa55word "$(code_for "$SECRET")"
check "with slapd stopped, a code is accepted from the cache (offline_logins = cached)" \
  login_succeeded
# The next one, well within a second of the last flush: a copy would not be flushed.
before=$(syncs)
next_step
pam_login studio2fa bob bob-Pa55word "$(code_for "$SECRET")"
flushes=$(( $(syncs) - before ))
check "... and the next one too" login_succeeded
check "... flushed before its reply, whatever cache_sync says ($flushes flushes)" test "$flushes" -ge 1
stop_daemon

cp "$CONF" "$T/etc/bad.conf"
echo "cache_sync = sometimes" >> "$T/etc/bad.conf"
check "the config check refuses a bad cache_sync" \
  bash -c '! "$0" --check-config -c "$1" 2> "$2"' "$S2FAD" "$T/etc/bad.conf" "$T/bad.err"
check "... naming the key and the values it takes" grep -q "cache_sync.*must be normal or full" "$T/bad.err"
finish
