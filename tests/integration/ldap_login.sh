#!/bin/bash
# Logins of directory users through the real module, daemon and slapd (tests/integration/
# ldap_lib.sh): LDAP passwords (right, wrong, empty: never an anonymous bind); grace periods that
# start at the first login that finds a user required and end in an enrollment inside the PAM
# conversation (two-prompt and otp_only stacks); directory outages (stopped, hung) with the last
# known answer for cached users, fail closed within ldap_timeout for the others, local users
# unaffected, and the back-off of ldap_retry_interval; TLS (a rogue certificate, clear text
# refused); ldaps://, SASL EXTERNAL over ldapi://, failover, an unsafe bind password file; and
# how many directory operations one login costs, cold and warm.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"

check "slapd starts with the fixtures" ldap_start
ldap_nss_users

# ldap_config URI [LINE...]: the daemon's config for the test directory at URI, bound as the
# service account (password in $BIND_PASSWORD_FILE), or by SASL EXTERNAL when AUTH=external;
# short timeouts (ldap_timeout 2s, ldap_connect_timeout 1s), a 60 s cache, a 5 s back-off.
BIND_PASSWORD_FILE=$LDAP_BIND_PASSWORD_FILE
AUTH=service
ldap_config() {
  local uri=$1; shift
  local auth=("ldap_bind_dn = $LDAP_BIND_DN" "ldap_bind_password_file = $BIND_PASSWORD_FILE")
  [ "$AUTH" = external ] && auth=("ldap_sasl_external = yes")
  write_config "ldap_uri = $uri" "ldap_base = $LDAP_BASE" "${auth[@]}" "ldap_ca_file = $LDAP_CA" \
    "policy_cache_ttl = 60s" "ldap_timeout = 2s" "ldap_connect_timeout = 1s" \
    "ldap_retry_interval = 5s" "$@"
}
# fresh_daemon NAME URI [LINE...]: a daemon on a new, empty database $T/lib/NAME.db.
fresh_daemon() {
  local name=$1; shift
  stop_daemon
  DB=$T/lib/$name.db
  ldap_config "$@"
  start_daemon
}
ldap_config "$LDAP_URI"
check "the daemon starts with the directory configured" start_daemon

# otp_only stacks: the password was checked by an earlier module. s2fa-otp-ignore shows whether
# the module let the login through with PAM_IGNORE (the user has no second factor and policy
# does not need one now); success ends the stack at once.
pam_service s2fa-otp otp_only
cat > "$T/pam.d/s2fa-otp-ignore" <<PAM
auth [success=done ignore=1 default=die] $S2FA_MODULE socket=$SOCK otp_only
auth requisite pam_deny.so
auth required pam_echo.so module-ignored
PAM
ignored() { saw "INFO module-ignored"; }

# live_login SERVICE USER ANSWER...: pam_login, but each answer is written only once the prompt
# it answers has shown, so that it can depend on what this same login showed before: "@code" is
# the code now of the secret in the last otpauth:// URI shown (which is left in ENROLL_SECRET),
# "@wrong" a code that is not it. The module runs at the daemon's (fake) time, so what it says
# about time left matches the daemon's clock. Sets LOGIN_OUT and LOGIN_RC.
live_login() {
  local service=$1 user=$2; shift 2
  local fifo=$T/live.fifo out=$T/live.out answer n=0 i pid code
  rm -f "$fifo"; mkfifo -m 0600 "$fifo"
  pam_wrapped env LD_PRELOAD="$PAM_WRAPPER_LIB $FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$T/faketime" \
    FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" "$PAM_LOGIN" "$service" "$user" < "$fifo" > "$out" 2>&1 &
  pid=$!
  exec 8> "$fifo"
  ENROLL_SECRET=
  for answer in "$@"; do
    n=$((n + 1))
    for i in $(seq 1 200); do
      [ "$(grep -c '^PROMPT' "$out")" -ge "$n" ] && break
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.05
    done
    case $answer in
      @code | @wrong)
        ENROLL_SECRET=$(grep -o 'otpauth://[^ )]*' "$out" | tail -n1 |
          sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
        code=$(code_for "$ENROLL_SECRET")
        if [ "$answer" = @wrong ]; then
          code=$(printf '%06d' $(( (10#$code + 500000) % 1000000 )))
        fi
        answer=$code ;;
    esac
    # A login that already ended closes the pipe: only this subshell gets the SIGPIPE.
    (echo "$answer" >&8) 2> /dev/null
  done
  exec 8>&-
  LOGIN_RC=0
  wait "$pid" || LOGIN_RC=$?
  LOGIN_OUT=$(cat "$out")
}
prompts() { grep -c '^PROMPT' <<< "$LOGIN_OUT"; }
# qr_shown: the login showed a QR code (lines of half blocks).
qr_shown() { grep '^INFO ' <<< "$LOGIN_OUT" | grep -qF -e '▀' -e '▄' -e '█'; }
# grace_end USER: GRACE_END, the grace_until of `studio2fa-admin policy USER --json` in seconds
# since 1970 (empty when there is none); DECISION, its decision.
grace_end() {
  admin root policy "$1" --json
  local when
  when=$(sed -n 's/.*"grace_until": "\([^"]*\)".*/\1/p' <<< "$OUT")
  DECISION=$(sed -n 's/.*"decision": "\([^"]*\)".*/\1/p' <<< "$OUT")
  GRACE_END=
  if [ -n "$when" ]; then GRACE_END=$(date -u -d "$when" +%s); fi
}
not() { ! "$@"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# --- 1. LDAP passwords ----------------------------------------------------------------------
pam_login s2fa anim1 pw-anim1
check "anim1 (optional, not enrolled) logs in with the directory password alone" login_succeeded
check "... asked for the password only" test "$(prompts)" -eq 1
pam_login s2fa anim1 pw-wrong
check "a wrong directory password is refused (rc=$LOGIN_RC)" login_failed_with 7
binds=$(ldap_ops_count BIND)
pam_login s2fa anim1 ''
check "an empty password is refused (rc=$LOGIN_RC)" login_failed_with 7
check "... and no bind for it reached the directory (an empty simple bind is anonymous)" \
  test "$(ldap_ops_count BIND)" -eq "$binds"

check "ldaponly1, a directory user known to NSS, enrolls with the CLI" enroll ldaponly1
L=$SECRET
next_step
pam_login s2fa ldaponly1 pw-ldaponly1 "$(code_for "$L")"
check "... and logs in with the directory password and a code" login_succeeded
check "... asked for both" test "$(prompts)" -eq 2
next_step
pam_login s2fa ldaponly1 pw-wrong "$(code_for "$L")"
check "... a wrong directory password with a right code is refused (rc=$LOGIN_RC)" login_failed_with 7

# --- 2. grace, then enrollment inside the login ----------------------------------------------
# vfx1: required by ou=vfx (studio2faGracePeriod 3600). Asking the policy starts nothing; the
# first login that finds vfx1 required does.
grace_end vfx1
g0=$GRACE_END
check "before any login the policy of vfx1 says required" test "$DECISION" = required
advance_time 300
live_login s2fa vfx1 pw-vfx1
check "vfx1's first login (password only, not enrolled) succeeds" login_succeeded
check "... and says how long is left, and how to enroll" \
  saw "INFO Two-factor authentication is required for this account. You have 60 minutes left to set it up: run 'studio2fa enroll'."
grace_end vfx1
g1=$GRACE_END
now=$(fake_now)
check "the grace period started at that login (grace_until $g1, now $now), not at the earlier question ($g0)" \
  test "$g1" -ge $((g0 + 300)) -a "$g1" -ge $((now + 3600 - 5)) -a "$g1" -le $((now + 3600))
advance_time 600
grace_end vfx1
check "... and is kept: ten minutes later it ends at the same time" test "$GRACE_END" = "$g1"
live_login s2fa vfx1 pw-vfx1
check "... the next login still succeeds, with 50 minutes left" \
  bash -c '[ "$0" -eq 0 ] && grep -qF "You have 50 minutes left" <<< "$1"' "$LOGIN_RC" "$LOGIN_OUT"
admin root status vfx1
check "studio2fa-admin status: required, not enrolled, with the same grace_until" \
  bash -c 'grep -qx "2fa: off" <<< "$0" && grep -q "^required: yes (container ou=vfx" <<< "$0" &&
           grep -q "^grace_until: $1" <<< "$0"' "$OUT" "$(date -u -d "@$g1" +%Y-%m-%dT%H:%M:%SZ)"

advance_time $((g1 - $(fake_now) + 1))
live_login s2fa vfx1 pw-vfx1 @wrong @wrong @wrong
check "past the grace period, the login walks vfx1 into an enrollment" \
  saw "INFO Two-factor authentication is required for this account. Set it up now:"
check "... showing a QR code (half blocks)" qr_shown
check "... and the otpauth URI" grep -q '^INFO .*(otpauth://totp/Studio%20Test:vfx1?secret=[A-Z2-7]*&' <<< "$LOGIN_OUT"
check "... then asks for the code" grep -qx 'PROMPT-HIDDEN Verification code: ' <<< "$LOGIN_OUT"
check "... a wrong code gets 'That code is not right' and another try" \
  test "$(grep -c '^ERROR That code is not right\. Check the app and try again\.$' <<< "$LOGIN_OUT")" -eq 2
check "... the third time, to log in again" saw "ERROR That code is not right either. Log in again"
check "... three wrong codes: no login (rc=$LOGIN_RC)" login_failed_with 7
first_key=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<< "$LOGIN_OUT" | head -n1)
check "... and is told how long the key stays valid" grep -q "^INFO This key stays valid for [0-9]* more minutes" <<< "$LOGIN_OUT"
admin root status vfx1
check "... and vfx1 is not enrolled" bash -c '! grep -qx "2fa: on" <<< "$0"' "$OUT"
live_login s2fa vfx1 pw-vfx1
check "the password alone no longer logs vfx1 in (rc=$LOGIN_RC)" test "$LOGIN_RC" -ne 0

live_login s2fa vfx1 pw-vfx1 @wrong @code
check "a wrong code, then the right one from the URI shown in the same login: success" login_succeeded
check "... after one 'That code is not right'" \
  test "$(grep -c '^ERROR That code is not right' <<< "$LOGIN_OUT")" -eq 1
check "... and the user is told 2FA is on" saw "INFO Two-factor authentication is now on for this account."
V=$ENROLL_SECRET
check "... with the key the earlier failed login showed (one pending key for its window)" \
  test -n "$first_key" -a "$V" = "$first_key"
admin root status vfx1
check "vfx1 is enrolled now (studio2fa-admin status)" grep -qx "2fa: on" <<< "$OUT"
admin root list
check "... and listed as on" grep -qE '^vfx1 +on ' <<< "$OUT"
next_step
pam_login s2fa vfx1 pw-vfx1 "$(code_for "$V")"
check "the next login needs the password and a code" \
  bash -c '[ "$0" -eq 0 ] && [ "$(grep -c "^PROMPT" <<< "$1")" -eq 2 ]' "$LOGIN_RC" "$LOGIN_OUT"
next_step
pam_login s2fa vfx1 pw-vfx1 000000
check "... a wrong code is refused (rc=$LOGIN_RC)" login_failed_with 7

# otp_only: anim2, required by render-admins (grace 259200 s).
live_login s2fa-otp-ignore anim2
check "otp_only: anim2 (required, in grace) passes through with PAM_IGNORE" ignored
check "... told 3 days are left" saw "You have 3 days left to set it up"
advance_time 259201
live_login s2fa-otp-ignore anim2 @wrong @code
check "otp_only, past the grace period: enrollment inside the login, confirmed: success" login_succeeded
check "... with the QR code" qr_shown
check "... and the URI" grep -q '^INFO .*(otpauth://totp/Studio%20Test:anim2?secret=' <<< "$LOGIN_OUT"
check "... and one wrong code before" \
  test "$(grep -c '^ERROR That code is not right' <<< "$LOGIN_OUT")" -eq 1
check "... not passed through" bash -c '! grep -q "INFO module-ignored" <<< "$0"' "$LOGIN_OUT"
A2=$ENROLL_SECRET
admin root status anim2
check "anim2 is enrolled" grep -qx "2fa: on" <<< "$OUT"
next_step
pam_login s2fa-otp anim2 "$(code_for "$A2")"
check "... and its next otp_only login asks for a code" \
  bash -c '[ "$0" -eq 0 ] && grep -qx "PROMPT-HIDDEN Verification code: " <<< "$1"' "$LOGIN_RC" "$LOGIN_OUT"

# --- 3. the directory out of reach ---------------------------------------------------------
# slapd restarts under a daemon that holds several idle connections (from lookups made in
# parallel): they died with it, and the first lookup afterwards must not fail on them.
binds=$(ldap_ops_count BIND)
pids=
for user in anim3 anim4 anim6 vfx2 vfx3 ctr1; do
  "$S2FA_ADMIN" --socket "$SOCK" policy "$user" > /dev/null 2>&1 &
  pids="$pids $!"
done
wait $pids
connections=$(( $(ldap_ops_count BIND) - binds ))
ldap_start
admin root policy vfx1
check "slapd restarted under $connections idle connections: the next lookup asks it at once" \
  grep -q "^source: directory" <<< "$OUT"
pam_login s2fa alice alice-Pa55word
check "alice (local, not in the directory) logs in with her shadow password" login_succeeded
admin root policy anim1
check "anim1's policy is asked of the directory (and cached)" grep -q "^source: directory" <<< "$OUT"
ldap_stop
advance_time 61 # every cached answer is older than policy_cache_ttl now
admin root policy anim1
check "slapd stopped: anim1's policy is the last known answer" \
  bash -c 'grep -qx "decision: optional" <<< "$0" && grep -q "^source: last known answer: the directory cannot be reached" <<< "$0"' "$OUT"
live_login s2fa-otp-ignore anim1
check "... and an otp_only login of anim1 passes through as before" ignored
pam_login s2fa alice alice-Pa55word
check "alice still logs in with her local password" login_succeeded
next_step
pam_login s2fa-otp anim2 "$(code_for "$A2")"
check "an enrolled directory user logs in with a code (otp_only)" login_succeeded
next_step
outage_code=$(code_for "$L")
log_from=$(($(wc -l < "$DAEMON_LOG") + 1))
pam_login s2fa ldaponly1 pw-ldaponly1 "$outage_code"
check "ldaponly1's directory password cannot be checked: unavailable, not wrong (rc=$LOGIN_RC)" \
  login_failed_with 9
check "... the user is told 2FA is not available, not that the password was wrong" \
  saw "ERROR Two-factor authentication is not available right now. Contact your administrator."
check "... and the daemon's log says why" bash -c 'tail -n "+$0" "$1" | grep -q "user=ldaponly1 .*password not checked: the directory holding it cannot be reached"' \
  "$log_from" "$DAEMON_LOG"
advance_time 6 # past ldap_retry_interval: the directory is asked again
started=$(date +%s%N)
live_login s2fa-otp-ignore rev1
elapsed=$(ms_since "$started")
check "rev1, never looked up: its otp_only login fails closed (rc=$LOGIN_RC)" login_failed_with 9
check "... telling the user 2FA is not available" \
  saw "ERROR Two-factor authentication is not available right now. Contact your administrator."
check "... in ${elapsed} ms (ldap_timeout is 2 s)" test "$elapsed" -lt 3500
admin root policy rev1
check "... its policy is unknown: nothing is cached" \
  bash -c 'grep -qx "decision: unknown" <<< "$0" && grep -q "^source: unknown: the directory cannot be reached and nothing is cached" <<< "$0"' "$OUT"

# A hung directory: connections are accepted, nothing answers.
ldap_start
advance_time 6
admin root policy anim1
check "slapd back: anim1's policy comes from the directory again" grep -q "^source: directory" <<< "$OUT"
pam_login s2fa ldaponly1 pw-ldaponly1 "$outage_code"
check "... and the code ldaponly1 typed during the outage was not used up: it logs in now" \
  login_succeeded
ldap_pause
advance_time 61
started=$(date +%s%N)
live_login s2fa-otp-ignore anim1
elapsed=$(ms_since "$started")
check "slapd hung: anim1 (cached) still passes through" ignored
check "... after ${elapsed} ms (ldap_timeout is 2 s)" test "$elapsed" -lt 3500
advance_time 6
started=$(date +%s%N)
live_login s2fa-otp-ignore anim5
elapsed=$(ms_since "$started")
check "slapd hung: anim5, never looked up, fails closed (rc=$LOGIN_RC)" login_failed_with 9
check "... in ${elapsed} ms, not hanging (ldap_timeout is 2 s)" test "$elapsed" -lt 3500
diag "fail closed: ${elapsed} ms with slapd hung (ldap_timeout 2 s, ldap_connect_timeout 1 s)"
ldap_resume
searches=$(ldap_ops_count SRCH)
admin root policy anim5
check "slapd answers again, but within ldap_retry_interval the daemon does not ask it" \
  bash -c 'grep -qx "decision: unknown" <<< "$0" && [ "$1" -eq "$2" ]' "$OUT" "$(ldap_ops_count SRCH)" "$searches"
advance_time 6
admin root policy anim5
check "... once it has passed (daemon clock), fresh lookups work again" \
  bash -c 'grep -qx "decision: optional" <<< "$0" && grep -q "^source: directory" <<< "$0"' "$OUT"
live_login s2fa-otp-ignore anim5
check "... and anim5's otp_only login passes through" ignored

# --- 4. TLS ---------------------------------------------------------------------------------
ldap_start rogue
log_from=$(($(wc -l < "$DAEMON_LOG") + 1))
check "slapd with a certificate from a rogue CA; a daemon with a fresh database starts" \
  fresh_daemon rogue "$LDAP_URI"
admin root policy anim1
check "the policy cannot be had: unknown, nothing is cached" \
  bash -c 'grep -qx "decision: unknown" <<< "$0" && grep -q "nothing is cached" <<< "$0"' "$OUT"
pam_login s2fa ldaponly1 pw-ldaponly1
check "an LDAP password login fails (rc=$LOGIN_RC)" test "$LOGIN_RC" -ne 0
check "the daemon's log names the certificate problem" \
  bash -c 'tail -n "+$0" "$1" | grep -q "StartTLS failed: .*the TLS handshake failed; most often the server.s certificate is not signed by a CA in ldap_ca_file $2"' \
  "$log_from" "$DAEMON_LOG" "$LDAP_CA"
log_from=$(($(wc -l < "$DAEMON_LOG") + 1))
check "... and so does one on ldaps://" fresh_daemon rogue-ldaps "$LDAP_URI_LDAPS"
admin root policy anim1
check "... where the policy cannot be had either" grep -qx "decision: unknown" <<< "$OUT"
check "... and the log names the certificate too" \
  bash -c 'tail -n "+$0" "$1" | grep -q "the TLS handshake failed; most often the server.s certificate"' \
  "$log_from" "$DAEMON_LOG"
ldap_start good
stop_daemon
ldap_config "$LDAP_URI" "ldap_starttls = no"
OUT=$("$S2FAD" --check-config -c "$CONF" 2>&1); RC=$?
check "ldap:// with ldap_starttls = no is refused (rc=$RC)" test "$RC" -ne 0
check "... because passwords would go in clear" grep -q "would send passwords in clear" <<< "$OUT"
check "... and the daemon does not start" not start_daemon
check "... saying so in its log" grep -q "ldap://127.0.0.1:$LDAP_PORT without ldap_starttls would send passwords in clear" "$DAEMON_LOG"
ldap_config "$LDAP_URI" "ldap_starttls = no" "ldap_allow_cleartext = yes"
OUT=$("$S2FAD" --check-config -c "$CONF" 2>&1); RC=$?
check "with ldap_allow_cleartext = yes it is accepted (rc=$RC)" test "$RC" -eq 0
check "... and the daemon starts" fresh_daemon cleartext "$LDAP_URI" "ldap_starttls = no" "ldap_allow_cleartext = yes"
pam_login s2fa anim1 pw-anim1
check "... and checks directory passwords" login_succeeded

# --- 5. other ways to reach the directory --------------------------------------------------
# policy_from_directory USER DECISION: the daemon asked the directory just now and found DECISION.
policy_from_directory() {
  admin root policy "$1"
  grep -qx "decision: $2" <<< "$OUT" && grep -q "^source: directory" <<< "$OUT"
}
check "ldaps:// ($LDAP_URI_LDAPS): the daemon starts" fresh_daemon ldaps "$LDAP_URI_LDAPS"
check "... reads the policy (vfx2: required)" policy_from_directory vfx2 required
pam_login s2fa ldaponly1 pw-ldaponly1
check "... and checks a directory password" login_succeeded
AUTH=external
check "SASL EXTERNAL over ldapi:// (no bind DN): the daemon starts" fresh_daemon ldapi "$LDAP_URI_LDAPI"
check "... reads the policy as root, the directory's rootDN (anim3: required)" \
  policy_from_directory anim3 required
pam_login s2fa ldaponly1 pw-ldaponly1
check "... and checks a directory password" login_succeeded
pam_login s2fa ldaponly1 pw-wrong
check "... and refuses a wrong one (rc=$LOGIN_RC)" login_failed_with 7
AUTH=service
check "failover: ldap_uri = ldap://127.0.0.1:1 (refused) $LDAP_URI: the daemon starts" \
  fresh_daemon failover "ldap://127.0.0.1:1 $LDAP_URI"
check "... reads the policy from the second URI (rev1: exempt)" policy_from_directory rev1 exempt
pam_login s2fa ldaponly1 pw-ldaponly1
check "... and checks a directory password there" login_succeeded
BIND_PASSWORD_FILE=$T/etc/bind.password.0644
cp "$LDAP_BIND_PASSWORD_FILE" "$BIND_PASSWORD_FILE"
chmod 0644 "$BIND_PASSWORD_FILE"
log_from=$(($(wc -l < "$DAEMON_LOG") + 1))
check "a bind password file of mode 0644: the daemon refuses to start" \
  not fresh_daemon unsafe "$LDAP_URI"
check "... naming the file" \
  bash -c 'tail -n "+$0" "$1" | grep -qF "$2 (ldap_bind_password_file) must be owned by root with mode 0600"' \
  "$log_from" "$DAEMON_LOG" "$BIND_PASSWORD_FILE"
BIND_PASSWORD_FILE=$LDAP_BIND_PASSWORD_FILE

# --- 6. directory operations per login -----------------------------------------------------
# ops: the SRCH, BIND and EXT (StartTLS) operations slapd has seen so far, as "S B E".
ops() { echo "$(ldap_ops_count SRCH) $(ldap_ops_count BIND) $(ldap_ops_count EXT)"; }
# ops_since "S B E": sets SRCH, BIND, EXT and OPS (their sum) to what happened since then.
ops_since() {
  local s b e
  read -r s b e <<< "$1"
  read -r SRCH BIND EXT <<< "$(ops)"
  SRCH=$((SRCH - s)); BIND=$((BIND - b)); EXT=$((EXT - e)); OPS=$((SRCH + BIND + EXT))
}
check "a daemon on a fresh database, nothing cached, no connection open" fresh_daemon counts "$LDAP_URI"
before=$(ops)
pam_login s2fa anim5 pw-anim5
ops_since "$before"
cold="cold $OPS ($SRCH SRCH, $BIND BIND, $EXT EXT)"
check "cold: anim5 logs in with the password (STATUS, then AUTHENTICATE)" login_succeeded
check "... the directory was searched ($SRCH SRCH) and the password bound (BIND $BIND)" \
  test "$SRCH" -ge 1 -a "$BIND" -ge 1
before=$(ops)
pam_login s2fa anim5 pw-anim5
ops_since "$before"
warm="warm $OPS ($SRCH SRCH, $BIND BIND, $EXT EXT)"
check "warm (within policy_cache_ttl): anim5 logs in again" login_succeeded
check "... with no search, one bind (the password check) and its StartTLS" \
  test "$SRCH" -eq 0 -a "$BIND" -eq 1 -a "$EXT" -eq 1
diag "directory operations per login: $cold, $warm"
before=$(ops)
live_login s2fa-otp-ignore anim5
ops_since "$before"
check "a warm otp_only login of anim5 (optional) passes through without a directory operation ($OPS)" \
  bash -c '[ "$0" -eq 0 ] && grep -q "^INFO module-ignored" <<< "$1"' "$OPS" "$LOGIN_OUT"
check "ldaponly1 enrolls (fresh database)" enroll ldaponly1
L=$SECRET
next_step
pam_login s2fa-otp ldaponly1 "$(code_for "$L")"
check "ldaponly1 logs in with a code (otp_only)" login_succeeded
next_step
before=$(ops)
pam_login s2fa-otp ldaponly1 "$(code_for "$L")"
ops_since "$before"
check "... and again, warm: no search ($SRCH SRCH, $OPS operations)" \
  bash -c '[ "$0" -eq 0 ] && [ "$1" -eq 0 ]' "$LOGIN_RC" "$SRCH"

finish
