# Codes by phone in the integration tests (sourced after lib.sh): a command sender the test
# writes, run by the daemon as the unprivileged smsgw, that records the JSON it is given in
# $OUTBOX/sent (the test reads the code from there, as a person reads it off the phone), and
# conversations that type a code once it was sent.
add_user smsgw 5090 ''

OUTBOX=$T/outbox
mkdir -m 0777 "$OUTBOX"
echo ok > "$OUTBOX/mode"
chmod 0644 "$OUTBOX/mode"
# The sender: runs as smsgw with nothing but PATH in its environment. Its mode file says what the
# gateway does: ok (accept, and record the message), fail (exit 1), hang (never answer).
cat > "$T/send-code" <<SH
#!/bin/sh
input=\$(cat)
case "\$(cat "$OUTBOX/mode")" in
  fail) exit 1 ;;
  hang) exec sleep 60 ;;
esac
printf '%s\n' "\$input" >> "$OUTBOX/sent"
id -u >> "$OUTBOX/ran-as"
printf '%s\n' "\$*" >> "$OUTBOX/argv"
exit 0
SH
chmod 0755 "$T/send-code"

# The sender settings of a daemon that sends codes; phone_config LINE... writes a config of
# them and LINEs.
PHONE_LINES=("sms_command = $T/send-code --channel sms"
             "voice_command = $T/send-code --channel voice"
             "sender_user = smsgw" "send_timeout = 3s" "sender_concurrency = 2"
             "worker_threads = 8" "throttle_after = 10" "lockout_after = 50"
             "phone_sends_per_user_hour = 4")
phone_config() { write_config "${PHONE_LINES[@]}" "$@"; }

sent_count() { [ -f "$OUTBOX/sent" ] && wc -l < "$OUTBOX/sent" || echo 0; }
# wait_sent BEFORE: waits (at most 10 s) until more than BEFORE messages were sent.
wait_sent() {
  local i
  for i in $(seq 1 200); do
    [ "$(sent_count)" -gt "$1" ] && return 0
    sleep 0.05
  done
  return 1
}
last_message() { tail -n1 "$OUTBOX/sent"; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }
# The code of the last message: six digits, as a text has them or one by one as a call reads them.
last_code() { last_message | json_field message | tr -cd '0-9\n' | grep -o '[0-9]\{6\}' | head -n1; }
export OUTBOX
export -f sent_count last_message json_field

# converse OUTFILE ANSWERS... -- COMMAND...: runs COMMAND with its standard input on a pipe and
# writes ANSWERS to it one line at a time. "@code" waits for a new message and types its code;
# "@late" does so after moving the clock past the code's lifetime. Sets CONV_RC.
converse() {
  local out=$1 fifo=$T/converse.fifo answers=() a before
  shift
  while [ "$1" != -- ]; do answers+=("$1"); shift; done
  shift
  rm -f "$fifo"; mkfifo -m 0666 "$fifo"
  before=$(sent_count)
  "$@" < "$fifo" > "$out" 2>&1 &
  local pid=$!
  exec 8> "$fifo"
  for a in "${answers[@]}"; do
    case "$a" in
      @code|@late)
        if wait_sent "$before"; then
          [ "$a" = @late ] && advance_time 301
          before=$(sent_count)
          a=$(last_code)
        else
          a=no-code-came
        fi ;;
    esac
    echo "$a" >&8
  done
  exec 8>&-
  CONV_RC=0
  wait "$pid" || CONV_RC=$?
  rm -f "$fifo"
}

# phone_login SERVICE USER ANSWER...: a login through the real module, answering as converse
# does; sets LOGIN_OUT and LOGIN_RC as pam_login does.
run_pam_login() {
  pam_wrapped env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
    "$PAM_LOGIN" "$@"
}
phone_login() {
  local service=$1 user=$2; shift 2
  converse "$T/login.out" "$@" -- run_pam_login "$service" "$user"
  LOGIN_RC=$CONV_RC
  LOGIN_OUT=$(cat "$T/login.out")
}

# cli USER ANSWER... -- ARGS...: the real studio2fa as USER; sets CLI_OUT and CLI_RC.
cli() {
  local user=$1; shift
  local answers=()
  while [ "$1" != -- ]; do answers+=("$1"); shift; done
  shift
  converse "$T/cli.out" "${answers[@]}" -- as_user "$user" "$S2FA_CLI" --socket "$SOCK" "$@"
  CLI_RC=$CONV_RC
  CLI_OUT=$(cat "$T/cli.out")
}
cli_saw() { grep -qF -- "$1" <<< "$CLI_OUT"; }

