#!/bin/bash
# Codes by text message and voice call, end to end: the real CLI registers numbers, the real
# module (pam_wrapper + libpamtest) logs in, the real daemon sends codes through a command sender
# that this test writes. The sender records the JSON it gets on standard input; the test reads
# the code from that record and types it, as a person reads it off the phone.
. "$top_srcdir/tests/integration/lib.sh"

. "$top_srcdir/tests/integration/phone_lib.sh"
add_user erin 5005 'erin-Pa55word'

# --- configuration ----------------------------------------------------------------------------
phone_config "phone_code_lifetime = 11m"
out=$("$S2FAD" --check-config -c "$CONF" 2>&1)
check "a code lifetime over 10 minutes is refused, naming the key and line" \
  grep -q "studio2fad.conf:[0-9]*: bad value for phone_code_lifetime: must be at most 10m" <<< "$out"
write_config "sms_command = $T/send-code" "sender_user = root"
out=$("$S2FAD" --check-config -c "$CONF" 2>&1)
check "a sender running as root is refused" grep -q "sender_user.*must not be root" <<< "$out"

phone_config
check "daemon starts with both senders" start_daemon
check "alice enrolls an app" enroll alice
A=$SECRET
check "dave enrolls an app (and no phone)" enroll dave
D=$SECRET

# --- registering a number ----------------------------------------------------------------------
cli bob -- enroll --sms 'not a number'
check "enroll --sms refuses what is not an E.164 number" \
  bash -c '[ "$0" -ne 0 ] && grep -q "international form" <<< "$1"' "$CLI_RC" "$CLI_OUT"
cli bob @code -- enroll --sms '+44 7946 004567'
check "bob registers a number: the code sent to it confirms it" \
  bash -c '[ "$0" -eq 0 ] && grep -q "Codes now come by text message to ••••••4567" <<< "$1"' \
  "$CLI_RC" "$CLI_OUT"
check "the CLI said where the code went, masked" cli_saw "A code was sent by text message to ••••••4567."
check "the sender got the canonical number" \
  bash -c '[ "$(last_message | json_field number)" = +447946004567 ]'
check "the sender got the kind" bash -c '[ "$(last_message | json_field kind)" = sms ]'
check "the sender ran as sender_user, not root" bash -c '! grep -qv "^5090$" "$0/ran-as"' "$OUTBOX"
check "the code was not in the sender's arguments" bash -c '! grep -q "[0-9]\{6\}" "$0/argv"' "$OUTBOX"
cli carol @code -- enroll --sms '+44 7946 007777'
check "carol registers a number too" test "$CLI_RC" -eq 0
cli bob -- status
check "status shows the masked number and the method" cli_saw "Codes come from: text message to ••••••4567."
check "status says it is on since the number was confirmed (not 1970)" \
  bash -c 'grep -q "^Two-factor authentication is on for bob (since 20" <<< "$0"' "$CLI_OUT"
check "status never shows the whole number" bash -c '! grep -q 7946004567 <<< "$0"' "$CLI_OUT"

# alice has an app: adding a phone needs its code first.
advance_time 61
next_step
cli alice '000000' -- enroll --sms '+15555550123' --voice '+15555550123'
check "adding a phone to an app user needs a right app code" \
  bash -c '[ "$0" -ne 0 ] && grep -q "not right" <<< "$1"' "$CLI_RC" "$CLI_OUT"
next_step
cli alice "$(code_for "$A")" @code -- enroll --sms '+15555550123' --voice '+15555550123'
check "alice adds a phone for texts and calls after her app code" \
  bash -c '[ "$0" -eq 0 ] && grep -q "text message or voice call to ••••••0123" <<< "$1"' \
  "$CLI_RC" "$CLI_OUT"
admin root list
check "admin list shows methods and masked numbers" \
  bash -c 'grep -qE "^alice .* app\+sms\+voice +••••••0123$" <<< "$0" && grep -qE "^bob .* sms +••••••4567$" <<< "$0" && grep -qE "^dave .* app +-$" <<< "$0"' "$OUT"
admin root list --json
check "admin list --json has methods and the masked number" python3 -c '
import json, sys
users = {u["user"]: u for u in json.loads(sys.argv[1])}
assert users["bob"]["methods"] == ["sms"] and users["bob"]["phone"] == "••••••4567"
assert users["alice"]["methods"] == ["app", "sms", "voice"] and users["dave"]["phone"] is None
' "$OUT"
admin root status bob
check "admin status shows methods and the masked number" \
  bash -c 'grep -qx "methods: sms" <<< "$0" && grep -qx "phone: ••••••4567" <<< "$0"' "$OUT"
check "no whole number in the admin listings" bash -c '! grep -q 7946004567 <<< "$0"' "$OUT"

# --- phone only: the code is sent once the password is right ----------------------------------
advance_time 61
before=$(sent_count)
phone_login s2fa bob 'bob-Pa55word' @code
check "phone only: login with the code sent by text" login_succeeded
check "phone only: the module said where the code went" saw "INFO A code was sent by text message to ••••••4567."
check "phone only: one message per login" bash -c '[ "$(sent_count)" -eq $(( $0 + 1 )) ]' "$before"

advance_time 61
before=$(sent_count)
phone_login s2fa bob 'wrong-password' '123456'
check "a wrong password sends no text" bash -c '[ "$(sent_count)" -eq "$0" ]' "$before"
check "a wrong password: login refused" login_failed_with 7
out=$(raw dave send_code bob 'bob-Pa55word')
check "another user cannot ask for bob's code" grep -q "^ERROR 4" <<< "$out"
out=$(raw bob send_code bob '')
check "a user name alone (no password) never sends a text" grep -q "^REPLY 0x8b 01" <<< "$out"
check "... and nothing was sent" bash -c '[ "$(sent_count)" -eq "$0" ]' "$before"

# Resend: at most one code a minute, and the refusal says when.
phone_login s2fa bob 'bob-Pa55word' @code
check "a code after a minute" login_succeeded
before=$(sent_count)
pam_login s2fa bob 'bob-Pa55word' '000000'
check "a second code within 60 s is refused" bash -c '[ "$(sent_count)" -eq "$0" ]' "$before"
check "the refusal says when to try again" \
  bash -c 'grep -q "^ERROR No code was sent.*Try again in [0-9]* seconds" <<< "$0"' "$LOGIN_OUT"

# Expiry: a code typed after its lifetime (5 minutes) is refused.
advance_time 61
phone_login s2fa bob 'bob-Pa55word' @late
check "an expired code is refused" login_failed_with 7

# --- app and phone: an empty answer sends a text ------------------------------------------------
advance_time 61
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "app and phone: the app code works" login_succeeded
check "app and phone: the prompt says how to get a text" \
  saw "PROMPT-HIDDEN Verification code (press Enter to get one by text message): "
before=$(sent_count)
phone_login s2fa alice 'alice-Pa55word' '' @code
check "app and phone: an empty answer sends a text, whose code logs in" login_succeeded
check "... then the code is asked again" \
  bash -c '[ "$(grep -c "^PROMPT-HIDDEN Verification code" <<< "$0")" -eq 2 ]' "$LOGIN_OUT"
check "... one message" bash -c '[ "$(sent_count)" -eq $(( $0 + 1 )) ]' "$before"
advance_time 61
phone_login s2fa alice 'alice-Pa55word' 'voice' @code
check "app and phone: 'voice' places a call, whose code logs in" login_succeeded
check "the call is of kind voice" bash -c '[ "$(last_message | json_field kind)" = voice ]'
check "the call reads the digits one by one, twice" \
  bash -c 'last_message | json_field message | grep -q "code is: [0-9], [0-9], [0-9], [0-9], [0-9], [0-9]. Again"'

# Three wrong tries void a code.
advance_time 61
phone_login s2fa alice 'alice-Pa55word' '' '111111'
check "wrong code 1 refused" login_failed_with 7
voided=$(last_code)
pam_login s2fa alice 'alice-Pa55word' '222222'
check "wrong code 2 refused" login_failed_with 7
pam_login s2fa alice 'alice-Pa55word' '333333'
check "wrong code 3 refused" login_failed_with 7
pam_login s2fa alice 'alice-Pa55word' "$voided"
check "after 3 wrong tries the right code is void" login_failed_with 7

# --- rations per user and per host ------------------------------------------------------------
# bob has had 4 codes this hour (his number's confirmation and three logins; one more was
# refused): phone_sends_per_user_hour = 4.
check "bob has been sent 4 codes" bash -c '[ "$(grep -c 447946004567 "$0/sent")" -eq 4 ]' "$OUTBOX"
advance_time 61
before=$(sent_count)
pam_login s2fa bob 'bob-Pa55word' '000000'
check "the per-user hourly cap refuses a further code" \
  bash -c '[ "$(sent_count)" -eq "$0" ] && grep -q "^ERROR No code was sent.*Try again in [0-9]* seconds" <<< "$1"' \
  "$before" "$LOGIN_OUT"
retry=$(grep -o 'Try again in [0-9]*' <<< "$LOGIN_OUT" | grep -o '[0-9]*$')
check "the per-user refusal waits for the hour, not the minute ($retry s)" test "${retry:-0}" -gt 60

stop_daemon
phone_config "phone_sends_per_host_hour = 1"
check "daemon restarts with a host cap of 1 an hour" start_daemon
advance_time 3600
phone_login s2fa bob 'bob-Pa55word' @code
check "the host's first code of the hour goes" login_succeeded
before=$(sent_count)
pam_login s2fa alice 'alice-Pa55word' '' '000000'
check "the host cap refuses another user's code" \
  bash -c '[ "$(sent_count)" -eq "$0" ] && grep -q "^ERROR No code was sent.*Try again in" <<< "$1"' \
  "$before" "$LOGIN_OUT"

# --- a user without a number --------------------------------------------------------------------
next_step
pam_login s2fa dave 'dave-Pa55word' "$(code_for "$D")"
check "no number: the plain code prompt, and the app code works" \
  bash -c 'grep -qx "PROMPT-HIDDEN Verification code: " <<< "$0" && grep -q "^RESULT Success 0$" <<< "$0"' \
  "$LOGIN_OUT"
out=$(raw root send_code dave '')
check "no number: SEND_CODE says no phone" grep -q "^REPLY 0x8b 04" <<< "$out"

# --- a gateway that fails, or hangs -----------------------------------------------------------
stop_daemon
phone_config
check "daemon restarts" start_daemon
advance_time 3600
# otp_only: the stack's earlier modules checked the password; the module (root) asks for the code
# without one.
pam_service s2fa-otp otp_only
phone_login s2fa-otp bob @code
check "otp_only, phone only: the code is sent at once and logs in" login_succeeded
check "otp_only: no password prompt" bash -c '! grep -q "Password" <<< "$0"' "$LOGIN_OUT"
advance_time 61
echo fail > "$OUTBOX/mode"
pam_login s2fa bob 'bob-Pa55word' '000000'
check "sender exits 1: the user is told plainly" \
  saw "ERROR Could not send a code; use your app or a backup code."
check "sender exits 1: the login fails closed" login_failed_with 7

echo hang > "$OUTBOX/mode"
advance_time 61
start=$(date +%s%N)
pam_login s2fa bob 'bob-Pa55word' '000000'
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "sender hung: the user is told plainly" \
  saw "ERROR Could not send a code; use your app or a backup code."
check "sender hung: the login fails closed" login_failed_with 7
check "sender hung: given up at the deadline (3 s; took $elapsed ms)" \
  bash -c '[ "$0" -ge 2900 ] && [ "$0" -lt 9000 ]' "$elapsed"

# The concurrency cap: two hung sends hold both senders (sender_concurrency = 2); app-code logins
# of other users are answered in their usual time meanwhile. Timed through the raw client (the
# pam_wrapper lock is shared with other test scripts, whose logins would be timed too).
advance_time 61
timed_login() {
  local start
  next_step
  start=$(date +%s%N)
  TIMED_OUT=$(raw root authenticate dave 2 'dave-Pa55word' "$(code_for "$D")")
  TIMED_MS=$(( ($(date +%s%N) - start) / 1000000 ))
}
timed_login
usual=$TIMED_MS
check "an app-code login before the hang ($TIMED_OUT)" grep -q "^REPLY 0x83 00" <<< "$TIMED_OUT"
raw root send_code bob '' > "$T/hung.bob" &
hung1=$!
raw root send_code alice '' > "$T/hung.alice" &
hung2=$!
sleep 0.5
start=$(date +%s%N)
out=$(raw root send_code carol '')
third=$(( ($(date +%s%N) - start) / 1000000 ))
check "a third sending while both senders hang fails closed ($out)" grep -q "^REPLY 0x8b 03" <<< "$out"
check "... at once, not after send_timeout ($third ms; a request takes $usual ms)" \
  test "$third" -lt $(( usual + 1500 ))
timed_login
during=$TIMED_MS
check "with the gateway hung, an app-code login still succeeds" grep -q "^REPLY 0x83 00" <<< "$TIMED_OUT"
# A login that waited for a sender would take the rest of send_timeout (2.5 s) more.
check "... in its usual time (usual $usual ms, during the hang $during ms)" \
  bash -c '[ "$0" -lt $(( $1 + 1500 )) ]' "$during" "$usual"
check "... while both sends still hang" kill -0 "$hung1" "$hung2"
wait "$hung1" "$hung2"
check "the hung sends failed closed" bash -c 'grep -q "^REPLY 0x8b 03" "$0" && grep -q "^REPLY 0x8b 03" "$1"' \
  "$T/hung.bob" "$T/hung.alice"
echo ok > "$OUTBOX/mode"

# --- never a code in the daemon's log or the audit trail ---------------------------------------
codes=$(python3 -c '
import json, re, sys
for line in open(sys.argv[1]):
    digits = re.sub(r"[^0-9]", "", json.loads(line)["message"])
    print(digits[:6])
' "$OUTBOX/sent" | sort -u)
admin root log
audit=$OUT
leaked=0
for code in $codes; do
  if grep -q "$code" "$DAEMON_LOG" || grep -q "$code" <<< "$audit"; then
    leaked=$((leaked + 1)); diag "code $code found in the log or the audit trail"
  fi
done
check "$(wc -w <<< "$codes") codes sent; none in the daemon's log or the audit trail" test "$leaked" -eq 0
check "the audit trail says what was sent, masked" \
  grep -q "code sent (sms, ••••••4567, gateway accepted in [0-9]* ms)" <<< "$audit"
check "no whole number in the daemon's log" bash -c '! grep -q "7946004567\|5555550123" "$0"' "$DAEMON_LOG"

# --- phone_self_enroll = no ----------------------------------------------------------------------
stop_daemon
phone_config "phone_self_enroll = no"
check "daemon restarts with phone_self_enroll = no" start_daemon
cli erin -- enroll --sms '+447946009999'
check "self enrollment refused with a clear message" \
  bash -c '[ "$0" -ne 0 ] && grep -q "registering your own phone number is turned off" <<< "$1"' \
  "$CLI_RC" "$CLI_OUT"

# --- removing a number ------------------------------------------------------------------------
advance_time 3600
next_step
cli alice "$(code_for "$A")" -- phone remove
check "alice removes her phone with her app code" \
  bash -c '[ "$0" -eq 0 ] && grep -q "phone number is removed" <<< "$1"' "$CLI_RC" "$CLI_OUT"
cli alice -- status
check "alice's status shows the app alone" \
  bash -c 'grep -q "Codes come from: authenticator app.$" <<< "$0" && ! grep -q "••••" <<< "$0"' "$CLI_OUT"
cli bob '' 'bob-Pa55word' @code -- phone remove
check "bob (phone only) gets a code sent for the proof, with his password, and removes it" \
  bash -c '[ "$0" -eq 0 ] && grep -q "Two-factor authentication is now off" <<< "$1"' \
  "$CLI_RC" "$CLI_OUT"
before=$(sent_count)
pam_login s2fa bob 'bob-Pa55word'
check "without a number bob logs in with his password, and nothing is sent" \
  bash -c '[ "$0" -eq 0 ] && [ "$(sent_count)" -eq "$1" ]' "$LOGIN_RC" "$before"

finish
