#!/bin/bash
# The HTTPS sender (daemon/sender/https_sender) against a fake gateway on loopback
# (fake_gateway.py) over TLS with the test's own CA, through send_code, which builds the sender
# from a studio2fad.conf as the daemon does: the body a form gateway and a JSON gateway receive
# (escaped, and decoding to the number and message sent), the auth header arriving, 500 refused,
# a gateway slower than the deadline given up on in time, a rogue certificate (another CA's, or
# another host's) refused, http:// and a readable auth header file refused at config, a redirect
# not followed, and the message (which holds the code) in no output. The examples of
# conf/sender-examples/ run too: the two gateway configs against the fake gateway, the command
# sender script with a stand-in sendmail.
. "$(dirname "$0")/lib.sh"

SEND_CODE=$top_builddir/tests/integration/send_code
GATEWAY=$top_srcdir/tests/integration/fake_gateway.py
RECORD=$T/gateway-requests.jsonl
OUTPUT=$T/sender-output.log
# A proxy from the environment would carry the loopback requests elsewhere.
unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY
: > "$RECORD"
: > "$OUTPUT"

# --- certificates -----------------------------------------------------------------------------
mkdir -m 0700 "$T/tls"
tls() { openssl "$@" > /dev/null 2>&1; }
# new_ca NAME: a self-signed CA.
new_ca() {
  tls req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$1" -keyout "$T/tls/$1.key" -out "$T/tls/$1.pem"
}
# new_server NAME CA SAN: a server certificate for SAN, signed by CA.
new_server() {
  tls req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
    -keyout "$T/tls/$1.key" -out "$T/tls/$1.csr"
  printf 'subjectAltName = %s\nextendedKeyUsage = serverAuth\n' "$3" > "$T/tls/$1.ext"
  tls x509 -req -in "$T/tls/$1.csr" -CA "$T/tls/$2.pem" -CAkey "$T/tls/$2.key" \
    -CAcreateserial -days 2 -extfile "$T/tls/$1.ext" -out "$T/tls/$1.pem"
}
new_ca studio-test-ca
new_ca rogue-ca
new_server gateway studio-test-ca 'DNS:localhost,IP:127.0.0.1'
new_server rogue rogue-ca 'DNS:localhost,IP:127.0.0.1'
new_server elsewhere studio-test-ca 'DNS:gateway.invalid'
CA=$T/tls/studio-test-ca.pem
check "the test's CA and certificates are made" \
  tls verify -CAfile "$CA" "$T/tls/gateway.pem" "$T/tls/elsewhere.pem"

# --- the gateway ------------------------------------------------------------------------------
python3 "$GATEWAY" --record "$RECORD" \
  --serve "$T/tls/gateway.pem:$T/tls/gateway.key:$T/port-good" \
  --serve "$T/tls/rogue.pem:$T/tls/rogue.key:$T/port-rogue" \
  --serve "$T/tls/elsewhere.pem:$T/tls/elsewhere.key:$T/port-elsewhere" &
GATEWAY_PID=$!
trap 'kill $GATEWAY_PID 2>/dev/null; wait $GATEWAY_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do
  [ -s "$T/port-good" ] && [ -s "$T/port-rogue" ] && [ -s "$T/port-elsewhere" ] && break
  sleep 0.05
done
GOOD=$(cat "$T/port-good")
ROGUE=$(cat "$T/port-rogue")
ELSEWHERE=$(cat "$T/port-elsewhere")
diag "fake gateway on ports $GOOD (good), $ROGUE (rogue CA), $ELSEWHERE (other host's name)"

# The gateway's credential, root's and closed to others.
AUTH=$T/etc/gateway.auth
echo 'Authorization: Basic QUMxMjM0NTY3ODk6czNjcjN0LXQwa2Vu' > "$AUTH"
chmod 0600 "$AUTH"

NUMBER='+447946004567'
CODE=042917
MESSAGE="$CODE is your Studio Test login code. A&B=C+D \"quoted\" 100% caf\xc3\xa9"
MESSAGE=$(printf '%b' "$MESSAGE")
FORM_TEMPLATE='To={number}&From=%2B15005550006&Body={message}&Kind={kind}'
JSON_TEMPLATE='{"to": "{number}", "text": "{message}", "channel": "{kind}", "priority": 1}'

# sms_gateway URL [EXTRA-CONFIG-LINES...]: a config whose sms_ keys post a form to URL.
sms_gateway() {
  local url=$1; shift
  write_config "sms_url = $url" "sms_body_template = $FORM_TEMPLATE" \
    "sms_auth_header_file = $AUTH" "sms_ca_file = $CA" "$@"
}
# send CHANNEL DEADLINE_MS: sends MESSAGE to NUMBER; SENT holds the output, SENT_RC the status,
# SENT_MS the wall time.
send() {
  local started
  started=$(date +%s%N)
  SENT=$(printf '%s' "$MESSAGE" | "$SEND_CODE" "$CONF" "$1" "$NUMBER" "$2" 2>&1)
  SENT_RC=$?
  SENT_MS=$(( ($(date +%s%N) - started) / 1000000 ))
  printf '%s\n' "$SENT" >> "$OUTPUT"
  diag "send_code: $SENT (exit $SENT_RC, $SENT_MS ms)"
}
requests() { wc -l < "$RECORD"; }
# last_request PYTHON-EXPRESSION: evaluates it on the last recorded request (r), with the
# number and message sent as n and m; passes when it is true.
last_request() {
  tail -n 1 "$RECORD" | N="$NUMBER" M="$MESSAGE" python3 -c '
import json, os, sys, urllib.parse
r = json.loads(sys.stdin.readline())
n, m = os.environ["N"], os.environ["M"]
h = {k.lower(): v for k, v in r["headers"].items()}
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"
}

# --- accepted: a form gateway -----------------------------------------------------------------
sms_gateway "https://localhost:$GOOD/ok"
send sms 5000
check "a form gateway's 200 is accepted" [ "$SENT_RC" -eq 0 ]
check "the accepted send is reported with the masked number and the time" \
  grep -Eq '^code sent \(sms, .*4567, gateway accepted in [0-9]+ ms\)$' <<< "$SENT"
check "one POST reached the gateway" [ "$(requests)" -eq 1 ]
check "the form body is the template with number, message and kind percent-encoded" \
  last_request 'r["body"] == "To=%2B447946004567&From=%2B15005550006&Body=" + urllib.parse.quote(m, safe="") + "&Kind=sms"'
check "the gateway decodes the form to the number and message sent" \
  last_request 'urllib.parse.parse_qs(r["body"].encode("latin-1").decode()) == {"To": [n], "From": ["+15005550006"], "Body": [m], "Kind": ["sms"]}'
check "the form is sent as application/x-www-form-urlencoded" \
  last_request 'h["content-type"] == "application/x-www-form-urlencoded"'
check "the auth header from the root-only file arrives" \
  last_request 'h["authorization"] == "Basic QUMxMjM0NTY3ODk6czNjcjN0LXQwa2Vu"'
check "no Expect: 100-continue round trip" last_request '"expect" not in h'

# --- accepted: a JSON gateway, for voice ------------------------------------------------------
write_config "voice_url = https://localhost:$GOOD/ok" "voice_body_template = $JSON_TEMPLATE" \
  "voice_content_type = json" "voice_auth_header_file = $AUTH" "voice_ca_file = $CA"
send voice 5000
check "a JSON gateway's 200 is accepted" [ "$SENT_RC" -eq 0 ]
check "the JSON body parses to the number, message and kind sent" \
  last_request 'json.loads(r["body"].encode("latin-1").decode()) == {"to": n, "text": m, "channel": "voice", "priority": 1}'
check "the JSON body escapes the quotes of the message" \
  last_request '"\\\"quoted\\\"" in r["body"]'
check "the JSON body is sent as application/json with the auth header" \
  last_request 'h["content-type"] == "application/json" and h["authorization"].startswith("Basic ")'

# --- refused ----------------------------------------------------------------------------------
sms_gateway "https://localhost:$GOOD/fail"
send sms 5000
check "a 500 is refused" [ "$SENT_RC" -eq 1 ]
check "the problem says the gateway answered 500" grep -q 'the gateway answered 500$' <<< "$SENT"

sms_gateway "https://localhost:$GOOD/slow?ms=6000"
send sms 1000
check "a gateway slower than the deadline is refused" [ "$SENT_RC" -eq 1 ]
check "the problem says no answer within the deadline" \
  grep -q 'no answer within 1000 ms$' <<< "$SENT"
check "the sender gives up within the deadline and a small margin ($SENT_MS ms for 1000 ms)" \
  [ "$SENT_MS" -lt 1500 ]

before=$(requests)
sms_gateway "https://localhost:$ROGUE/ok"
send sms 5000
check "a certificate from another CA is refused" [ "$SENT_RC" -eq 1 ]
check "the problem says the certificate failed verification" \
  grep -q 'certificate verify failed' <<< "$SENT"
check "nothing was posted to the rogue gateway" [ "$(requests)" -eq "$before" ]

sms_gateway "https://localhost:$ELSEWHERE/ok"
send sms 5000
check "a certificate of the right CA for another host name is refused" [ "$SENT_RC" -eq 1 ]
check "the problem says the certificate failed verification (host name)" \
  grep -q 'certificate verify failed' <<< "$SENT"
check "nothing was posted past the wrong host name" [ "$(requests)" -eq "$before" ]

# Without sms_ca_file the system's CAs count, and the test's CA is not among them.
write_config "sms_url = https://localhost:$GOOD/ok" "sms_body_template = $FORM_TEMPLATE"
send sms 5000
check "without sms_ca_file the private CA is not trusted" \
  grep -q 'certificate verify failed' <<< "$SENT"

before=$(requests)
sms_gateway "https://localhost:$GOOD/redirect"
send sms 5000
check "a redirect is refused" [ "$SENT_RC" -eq 1 ]
check "the problem says the gateway answered 302" \
  grep -q 'the gateway answered 302 (redirects are not followed)$' <<< "$SENT"
only_redirect_requested() {
  [ "$(requests)" -eq $((before + 1)) ] && last_request 'r["path"] == "/redirect"'
}
check "the redirect was not followed (one request, to /redirect)" only_redirect_requested

# --- refused at config ------------------------------------------------------------------------
before=$(requests)
sms_gateway "http://localhost:$GOOD/ok"
send sms 5000
check "an http:// URL is refused at config" [ "$SENT_RC" -eq 2 ]
check "the error names the key and says https" \
  grep -q 'bad value for sms_url: must be an https:// URL' <<< "$SENT"

sms_gateway "https://localhost:$GOOD/ok"
chmod 0644 "$AUTH"
send sms 5000
check "a world-readable auth header file is refused" [ "$SENT_RC" -eq 2 ]
check "the error says how to fix it" grep -q "(sms_auth_header_file) must be owned by root with mode 0600" <<< "$SENT"
chmod 0640 "$AUTH"
send sms 5000
check "a group-readable auth header file is refused" [ "$SENT_RC" -eq 2 ]
chmod 0600 "$AUTH"
chown 1:1 "$AUTH"
send sms 5000
check "an auth header file not owned by root is refused" [ "$SENT_RC" -eq 2 ]
chown 0:0 "$AUTH"
check "nothing was sent with a refused config" [ "$(requests)" -eq "$before" ]

# --- the shipped examples ---------------------------------------------------------------------
# example_config FILE: the example of conf/sender-examples/ as the config, its gateways pointed
# at the fake one (the path kept in the query), with the test's auth header file and CA.
example_config() {
  write_config "$(sed -e "s#^\(sms\|voice\)_url = https://[^/]*/#\1_url = https://localhost:$GOOD/ok?was=/#" \
                      -e "s#^\(sms\|voice\)_auth_header_file = .*#\1_auth_header_file = $AUTH#" \
                      -e '/^\(sms\|voice\)_ca_file = /d' "$top_srcdir/conf/sender-examples/$1")" \
    "sms_ca_file = $CA" "voice_ca_file = $CA"
}
example_config twilio-style-form.conf
send sms 5000
check "twilio-style-form.conf: a text message is accepted" [ "$SENT_RC" -eq 0 ]
check "twilio-style-form.conf: the form decodes to To, From and Body" \
  last_request 'urllib.parse.parse_qs(r["body"].encode("latin-1").decode()) == {"To": [n], "From": ["+15005550006"], "Body": [m]} and h["authorization"].startswith("Basic ")'
send voice 5000
check "twilio-style-form.conf: a voice call is accepted" [ "$SENT_RC" -eq 0 ]
check "twilio-style-form.conf: the call's TwiML says the message" \
  last_request 'urllib.parse.parse_qs(r["body"].encode("latin-1").decode())["Twiml"] == ["<Response><Say>" + m + "</Say></Response>"]'
example_config generic-json-gateway.conf
send sms 5000
check "generic-json-gateway.conf: a text message is accepted" [ "$SENT_RC" -eq 0 ]
check "generic-json-gateway.conf: the JSON holds the number, message and kind" \
  last_request 'json.loads(r["body"].encode("latin-1").decode()) == {"to": n, "text": m, "channel": "sms", "priority": "high"}'
send voice 5000
check "generic-json-gateway.conf: a voice call is accepted" [ "$SENT_RC" -eq 0 ]

# The command sender example, with a stand-in sendmail that keeps its arguments and its input.
sed -e "s|^SENDMAIL = .*|SENDMAIL = \"$T/sendmail\"|" \
  "$top_srcdir/conf/sender-examples/sms-command.example" > "$T/sms-command"
printf '#!/bin/sh\necho "$@" > %s/sendmail.argv\ncat > %s/sendmail.mail\n' "$T" "$T" > "$T/sendmail"
chmod 0755 "$T/sms-command" "$T/sendmail"
sender_json() { # KIND: the JSON object studio2fad writes to a command sender
  N="$NUMBER" M="$MESSAGE" python3 -c 'import json, os, sys
print(json.dumps({"number": os.environ["N"], "message": os.environ["M"], "kind": sys.argv[1]}))' "$1"
}
sender_json sms | "$T/sms-command" > "$T/command.out" 2>&1
check "sms-command.example hands a text message on (exit 0)" [ $? -eq 0 ]
check "sms-command.example mails the message to the number's gateway address" \
  grep -q "^To: 447946004567@sms.provider.example$" "$T/sendmail.mail"
check "sms-command.example passes the message through a pipe" grep -qF "$MESSAGE" "$T/sendmail.mail"
check "sms-command.example never puts the message in argv or its output" \
  bash -c "! grep -q '$CODE' '$T/sendmail.argv' '$T/command.out'"
sender_json voice | "$T/sms-command" > /dev/null 2>&1
check "sms-command.example refuses a voice call (exit 2)" [ $? -eq 2 ]
echo 'not json' | "$T/sms-command" > /dev/null 2>&1
check "sms-command.example refuses input that is not the sender's JSON (exit 2)" [ $? -eq 2 ]

# --- never the message ------------------------------------------------------------------------
check "the gateway received the code (the record is real)" grep -q "$CODE" "$RECORD"
check "no output of the sender holds the code" bash -c "! grep -q '$CODE' '$OUTPUT'"
check "no output of the sender holds the whole number" bash -c "! grep -qF -- '$NUMBER' '$OUTPUT'"
check "no output of the sender holds the credential" bash -c "! grep -q 'czNjcjN0' '$OUTPUT'"
finish
