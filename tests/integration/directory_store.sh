#!/bin/bash
# store = directory with a real slapd (tests/integration/ldap_lib.sh) and two daemons as two
# hosts: each its own socket, database and config, one key file, the same enrollment_base; the
# directory prepared as schema/README.md says (ACL recipe), the daemons bound as the service
# account over StartTLS, not as the directory's root.
# Through the real module (pam_wrapper) and CLIs, codes from oathtool: an enrollment made on A
# works on B; one valid code raced on A and B (50 rounds) is accepted exactly once each time; a
# backup code spent on A is refused on B; a lock from wrong codes on A holds on B; an admin's
# unlock, disable and pass on B take effect on A's next login. Then with slapd stopped:
# offline_logins = deny (B) fails closed within the module's timeout; cached (A) accepts a fresh
# code, refuses its replay and refuses once its copy is older than offline_cache_age; after
# slapd returns, A pushes the step it accepted offline, and reports at warning (and in its audit
# trail) when the directory had already seen it.
# DIRECTORY_CAS (default auto) is both daemons' ldap_compare_and_swap: slapd's stats log must show
# the races lost the way that form loses them (directory_delete_add.sh sets delete-add).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"
DIRECTORY_CAS=${DIRECTORY_CAS:-auto}

check "slapd starts with the fixtures (schema version 3)" ldap_start
# As schema/README.md says: the ACL recipe, the container; the daemons bind as the service
# account, which alone may read and write it.
ldap_store_prepare
ENROLLMENT_BASE=$LDAP_STORE_BASE
check "the container $ENROLLMENT_BASE is there" \
  test -n "$(ldap_search -b "$ENROLLMENT_BASE" -s base dn)"

# host NAME [LINE...]: makes NAME (a or b) the host the helpers of lib.sh talk to: its socket,
# config, database and PAM service s2fa-NAME. With LINEs, writes its config first (the
# directory store over StartTLS, bound as the service account under the ACL recipe).
host() {
  ldap_store_host "$1"; shift
  if [ $# -gt 0 ]; then
    ldap_store_config "$LDAP_URI" "ldap_compare_and_swap = $DIRECTORY_CAS" "$@"
  fi
}
stop_hosts() {
  local name
  for name in a b c; do host "$name"; stop_daemon; done
}
trap 'stop_hosts; ldap_cleanup' EXIT

host a "offline_logins = cached" "offline_cache_age = 10m"
check "host A starts with store = directory" start_daemon
host b "offline_logins = deny"
check "host B starts with store = directory" start_daemon
case $DIRECTORY_CAS in
auto) form='assertion control (RFC 4528)' ;;
delete-add) form='delete of the old value and add of the new, forced by ldap_compare_and_swap' ;;
esac
check "each says which store and which conditional write it uses ($DIRECTORY_CAS: $form)" \
  test "$(grep -cF "conditional writes by $form);" "$DAEMON_LOG")" -eq 2
check "... in one start-up line naming the records and the write server" \
  test "$(grep -c 'store: directory (records under ou=studio2fa,dc=studio,dc=example, written to ldap://.*, conditional writes by ' "$DAEMON_LOG")" -eq 2
pam_service s2fa-a; sed -i "s|socket=[^ ]*|socket=$T/run/a.sock|" "$T/pam.d/s2fa-a"
pam_service s2fa-b; sed -i "s|socket=[^ ]*|socket=$T/run/b.sock|" "$T/pam.d/s2fa-b"
pam_service s2fa-b-timeout; sed -i "s|socket=[^ ]*|socket=$T/run/b.sock timeout=5|" "$T/pam.d/s2fa-b-timeout"

# login NAME USER ANSWER...: a login through the module on host NAME (s2fa-NAME).
login() { pam_login "s2fa-$1" "${@:2}"; }
# directory_attr USER ATTRIBUTE: the attribute's value in USER's entry (as root).
directory_attr() {
  ldap_search -b "studio2faUser=$1,$ENROLLMENT_BASE" -s base "(objectClass=*)" "$2" |
    sed -n "s/^$2: //p"
}
wrong() { printf '%06d' $(( (10#$1 + 500000) % 1000000 )); }

# --- 1. enroll on A, log in on B -------------------------------------------------------------
host a
check "alice enrolls on host A" enroll alice
S=$SECRET
check "... her record is one entry in the directory, at revision 2 (begun, confirmed)" \
  test "$(directory_attr alice studio2faRevision)" = 2
entry=$(ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" -s base)
check "... with the secret sealed (no base32 of it in the entry)" \
  bash -c '[ -n "$0" ] && ! grep -q "$1" <<< "$0"' "$entry" "$S"
next_step
login b alice alice-Pa55word "$(code_for "$S")"
check "alice logs in on host B with a code of the secret enrolled on A" login_succeeded
login a alice alice-Pa55word "$(code_for "$S")"
check "... and the same code is refused on A (rc=$LOGIN_RC)" login_failed_with 7

# --- 2. one code raced on A and B ---------------------------------------------------------------
# Straight at the two sockets with the protocol client (pam_wrapper runs one login at a time),
# as root in code-only mode, the way the otp_only stack asks.
race_round() {
  local code out_a out_b
  next_step
  code=$(code_for "$S")
  python3 "$RAW_CLIENT" "$T/run/a.sock" authenticate alice 3 "" "$code" > "$T/race.a" &
  local pid_a=$!
  python3 "$RAW_CLIENT" "$T/run/b.sock" authenticate alice 3 "" "$code" > "$T/race.b" &
  wait "$pid_a" $!
  # The reply's first byte is the result: 00 success.
  ACCEPTED=$(cat "$T/race.a" "$T/race.b" | grep -c '^REPLY 0x[0-9a-f]* 00')
}
race_from=$(wc -l < "$LDAP_LOG")
exactly_one=0
for round in $(seq 1 50); do
  race_round # not in $(...): its next_step must move this shell's clock
  [ "$ACCEPTED" -eq 1 ] && exactly_one=$((exactly_one + 1))
done
check "one valid code sent to A and B at once, 50 times: exactly one accepted each time ($exactly_one/50)" \
  test "$exactly_one" -eq 50
diag "conflicts retried: A $(grep -c 'deciding again' "$DAEMON_LOG") (both daemons log to one file)"
# How the races were lost, in slapd's stats log: a modify's RESULT is err=122 (assertionFailed)
# under the assertion control, err=16 (noSuchAttribute) under delete/add; "MOD attr=" names each
# modification's attribute in order, so a delete/add of the revision names it twice.
race_log=$(tail -n +"$((race_from + 1))" "$LDAP_LOG")
lost_122=$(grep -c 'RESULT tag=103 err=122 ' <<< "$race_log")
lost_16=$(grep -c 'RESULT tag=103 err=16 ' <<< "$race_log")
mods=$(grep -c ' MOD attr=' <<< "$race_log")
mods_delete_add=$(grep -c ' MOD attr=studio2faRevision studio2faRevision' <<< "$race_log")
case $DIRECTORY_CAS in
auto)
  check "slapd: the races were lost to the assertion (err=122: $lost_122, err=16: $lost_16)" \
    bash -c '[ "$0" -gt 0 ] && [ "$1" -eq 0 ]' "$lost_122" "$lost_16"
  check "... every modify replaced the revision once ($mods_delete_add of $mods deleted and added it)" \
    bash -c '[ "$0" -gt 0 ] && [ "$1" -eq 0 ]' "$mods" "$mods_delete_add"
  ;;
delete-add)
  check "slapd: the races were lost to the delete of the old value (err=16: $lost_16, err=122: $lost_122)" \
    bash -c '[ "$0" -gt 0 ] && [ "$1" -eq 0 ]' "$lost_16" "$lost_122"
  check "... every modify deleted the old revision and added the new ($mods_delete_add of $mods)" \
    bash -c '[ "$0" -gt 0 ] && [ "$0" -eq "$1" ]' "$mods" "$mods_delete_add"
  ;;
esac

# --- 3. a backup code spent on A is refused on B -----------------------------------------------
mkdir -p -m 0777 "$T/home/alice"
next_step
OUT=$(as_user alice "$S2FA_CLI" --socket "$T/run/a.sock" backup-codes --output "$T/home/alice/codes.txt" \
  <<< "$(code_for "$S")" 2>&1)
BACKUP=$(grep -o '[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}' "$T/home/alice/codes.txt" | head -n1)
check "alice makes backup codes on A ($(ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" studio2faBackupCode | grep -c '^studio2faBackupCode::') hashes in the entry)" \
  test "$(ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" studio2faBackupCode | grep -c '^studio2faBackupCode::')" -eq 10
login a alice alice-Pa55word "$BACKUP"
check "a backup code is accepted on A" login_succeeded
login b alice alice-Pa55word "$BACKUP"
check "... and refused on B (rc=$LOGIN_RC)" login_failed_with 7
check "... its hash is gone from the entry (9 left)" \
  test "$(ldap_search -b "studio2faUser=alice,$ENROLLMENT_BASE" studio2faBackupCode | grep -c '^studio2faBackupCode::')" -eq 9

# --- 4. a lock from wrong codes on A holds on B; admin changes on B reach A -------------------
next_step
for i in 1 2 3; do login a alice alice-Pa55word "$(wrong "$(code_for "$S")")"; done
check "three wrong codes on A lock alice (directory: $(directory_attr alice studio2faLockState))" \
  test "$(directory_attr alice studio2faLockState)" = account
login b alice alice-Pa55word "$(code_for "$S")"
check "... the right code is refused on B (rc=$LOGIN_RC)" login_failed_with 11
host b
admin root unlock alice
check "an admin unlocks alice on B" test "$RC" -eq 0
next_step
login a alice alice-Pa55word "$(code_for "$S")"
check "... and A's next login succeeds" login_succeeded
admin root disable alice
check "an admin turns alice's second factor off on B" test "$RC" -eq 0
next_step
login a alice alice-Pa55word "$(code_for "$S")"
check "... A's next login asks for the password only: her second factor is off" \
  bash -c '[ "$0" -eq 1 ]' "$(grep -c '^PROMPT' <<< "$LOGIN_OUT")"
check "... and her entry holds no secret" test -z "$(directory_attr alice studio2faSecret)"
host a
check "alice enrolls again on A" enroll alice
S=$SECRET
host b
admin root pass alice --hours 1
check "an admin gives alice a pass on B (rc=$RC)" test "$RC" -eq 0
login a alice alice-Pa55word ""
check "... A lets her in with the password alone" login_succeeded
admin root pass alice --revoke
check "the admin revokes the pass on B (rc=$RC)" test "$RC" -eq 0
login a alice alice-Pa55word ""
check "... A no longer lets her in with the password alone (rc=$LOGIN_RC)" \
  bash -c '[ "$0" -ne 0 ]' "$LOGIN_RC"

# --- 5. the directory stops ------------------------------------------------------------------
host a
check "bob enrolls on host A" enroll bob
B=$SECRET
next_step
login a bob bob-Pa55word "$(code_for "$B")"
check "bob logs in on A (A's copy of his record is fresh)" login_succeeded
# A two-prompt login on a fresh copy: the module's PHONE_STATUS reads bob's record (it picks
# the prompt), the password-and-code check goes on A's copy, and its conditional write is all.
next_step
from=$(wc -l < "$LDAP_LOG")
login a bob bob-Pa55word "$(code_for "$B")"
entry_ops=$(tail -n +"$((from + 1))" "$LDAP_LOG" | grep -E ' (SRCH|MOD) (base|dn)="studio2faUser=bob,' |
  awk '{ print $5 }' | sort | uniq -c | awk '{ printf "%s %s ", $2, $1 }')
check "... and again: one read and one write of his entry (got: ${entry_ops:-none})" \
  bash -c '[ "$0" -eq 0 ] && [ "$1" = "MOD 1 SRCH 1 " ]' "$LOGIN_RC" "$entry_ops"
ldap_stop
next_step
C=$(code_for "$B")
t0=$(date +%s%N)
pam_login s2fa-b-timeout bob bob-Pa55word "$C"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "slapd stopped: B (offline_logins = deny) refuses bob's code (rc=$LOGIN_RC) in $ms ms, within the module's 5 s" \
  bash -c '! [ "$0" -eq 0 ] && [ "$1" -lt 5000 ]' "$LOGIN_RC" "$ms"
login a bob bob-Pa55word "$C"
check "A (offline_logins = cached) accepts the same fresh code from its copy" login_succeeded
login a bob bob-Pa55word "$C"
check "... and refuses it a second time (rc=$LOGIN_RC)" login_failed_with 7

# --- 6. slapd returns: the step A accepted offline goes to the directory ----------------------
ldap_start > /dev/null
login b bob bob-Pa55word "$C"
check "slapd back: the code A accepted offline still works once on B (the window offline_logins = cached opens)" \
  login_succeeded
next_step
login a bob bob-Pa55word "$(code_for "$B")"
check "A's next login of bob succeeds" login_succeeded
check "... and A reports that the directory had already seen the step it accepted offline" \
  grep -q 'directory store: bob: the directory is already at step .* accepted here offline: the code may have been used on another host too' "$DAEMON_LOG"
admin root log bob
check "... in A's audit trail too" grep -q 'offline-reconcile user=bob outcome=conflict' <<< "$OUT"

# An offline step the directory has not seen is pushed.
ldap_stop
next_step
login a bob bob-Pa55word "$(code_for "$B")"
check "slapd stopped again: A accepts a fresh code from its copy" login_succeeded
step=$(( $(fake_now) / 30 ))
ldap_start > /dev/null
next_step
login a bob bob-Pa55word "$(code_for "$B")"
check "slapd back: A's next login succeeds" login_succeeded
check "... after pushing step $step to the directory" grep -q "pushed step $step of bob" "$DAEMON_LOG"

# The copy ages out.
ldap_stop
advance_time 601
next_step
login a bob bob-Pa55word "$(code_for "$B")"
check "slapd stopped, A's copy older than offline_cache_age: the code is refused (rc=$LOGIN_RC)" \
  bash -c '[ "$0" -ne 0 ]' "$LOGIN_RC"

# --- 7. a server that does not list the assertion control ---------------------------------------
# The frontend hides supportedControl from everyone but the harness: to a daemon, the server no
# longer lists the control.
ldap_start > /dev/null
s2fa_ldap_root ldapmodify > /dev/null <<LDIF
dn: olcDatabase={-1}frontend,cn=config
changetype: modify
add: olcAccess
olcAccess: {0}to dn.base="" attrs=supportedControl by dn.exact=$S2FA_LDAP_ROOT_DN read by * none
olcAccess: {1}to * by * read
LDIF
DIRECTORY_CAS=assertion
host c "offline_logins = deny"
: > "$T/c.log"
DAEMON_LOG=$T/c.log
if start_daemon; then started=yes; else started=no; fi
check "ldap_compare_and_swap = assertion: host C refuses to start where the control is not listed" \
  test "$started" = no
check "... saying why" grep -q 'ldap_compare_and_swap = assertion, but the write server does not list the assertion control (1.3.6.1.1.12)' "$T/c.log"
DIRECTORY_CAS=auto
host c "offline_logins = deny"
check "with auto, host C starts" start_daemon
check "... and chooses the delete and add by itself (not forced)" \
  grep -q 'conditional writes by delete of the old value and add of the new);' "$T/c.log"
stop_daemon

finish
