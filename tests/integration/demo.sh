#!/bin/bash
# The README's first command ends here (make demo): a real password-then-code login on one
# machine, with the embedded SQLite store and no LDAP.
#
# It runs the real studio2fad (as root, on a private socket, database and key), enrolls a demo
# account with the real `studio2fa enroll` running as that account, lets a stand-in "phone" read
# the QR code (zbarimg) and compute codes (oathtool), then logs in through the real
# pam_studio2fa.so with libpam, printing every prompt. Accounts come from nss_wrapper, so
# nothing on this machine changes.
. "$top_srcdir/tests/integration/lib.sh" > /dev/null

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
indent() { sed 's/^/    /'; }
fail() { echo "demo: $*" >&2; echo "--- daemon log ---" >&2; cat "$DAEMON_LOG" >&2; exit 1; }

say "1. Start studio2fad (root daemon), private socket, SQLite database and master key"
echo "    config: $CONF"
start_daemon || fail "the daemon did not start"
sed 's/^/    log: /' "$DAEMON_LOG"

say "2. alice (uid $(uid_of alice)) turns on two-factor authentication: studio2fa enroll"
rm -f "$T/fifo"; mkfifo -m 0666 "$T/fifo"
as_user alice "$S2FA_CLI" --socket "$SOCK" enroll < "$T/fifo" > "$T/enroll.out" 2>&1 &
enroll_pid=$!
exec 8> "$T/fifo"
for i in $(seq 1 100); do grep -q '^Verification code:' "$T/enroll.out" 2>/dev/null && break; sleep 0.05; done
cat "$T/enroll.out" | indent

say "3. The phone scans the QR code (zbarimg) and shows a code (oathtool, RFC 6238)"
python3 "$top_srcdir/tests/integration/qr_to_pbm.py" "$T/enroll.out" "$T/qr.pbm"
scanned=$(zbarimg --quiet --raw "$T/qr.pbm" 2>/dev/null | head -n1)
[ -n "$scanned" ] || fail "the phone could not read the QR code"
echo "    the phone read: ${scanned%%secret=*}secret=<hidden>${scanned#*secret=????????????????????????????????}"
secret=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<< "$scanned")
code=$(code_for "$secret")
echo "    the phone shows: $code   (alice types it)"
echo "$code" >&8; exec 8>&-
wait "$enroll_pid" || { cat "$T/enroll.out"; fail "enrollment was not confirmed"; }
sed -n '/^Verification code:/,$p' "$T/enroll.out" | indent

say "4. A real PAM login: libpam -> pam_studio2fa.so -> studio2fad (PAM service $T/pam.d/s2fa)"
sed 's/^/    pam.d: /' "$T/pam.d/s2fa"
echo "    (each code works once: the demo moves the daemon's clock to the next 30-second step"
echo "     instead of waiting for the phone's next code)"
next_step
code=$(code_for "$secret")
start=$(date +%s%N)
pam_login s2fa alice 'alice-Pa55word' "$code"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
while IFS= read -r line; do
  case "$line" in
    "PROMPT-HIDDEN Password: ") echo "    Password:            <alice types her password>" ;;
    "PROMPT-HIDDEN Verification code: ") echo "    Verification code:   <alice types $code from the phone>" ;;
    RESULT*) echo "    pam_authenticate() -> ${line#RESULT }   ($elapsed ms, including libpam start-up)" ;;
    *) echo "    $line" ;;
  esac
done <<< "$LOGIN_OUT"
login_succeeded || fail "the login did not succeed"

say "5. Someone replays the same code (shoulder-surfed): refused"
pam_login s2fa alice 'alice-Pa55word' "$code"
echo "    pam_authenticate() -> $(sed -n 's/^RESULT //p' <<< "$LOGIN_OUT")"
[ "$LOGIN_RC" -ne 0 ] || fail "a replayed code was accepted"

say "6. The right code with a wrong password: refused, and nothing says which factor was wrong"
next_step
pam_login s2fa alice 'guess' "$(code_for "$secret")"
grep '^PROMPT' <<< "$LOGIN_OUT" | sed 's/^PROMPT-HIDDEN /    /'
echo "    pam_authenticate() -> $(sed -n 's/^RESULT //p' <<< "$LOGIN_OUT")"

say "7. What the daemon logged (syslog authpriv in production; no password or code, ever)"
grep -E 'enrollment|authentication' "$DAEMON_LOG" | sed 's/^/    /'
say "Done: alice enrolled and logged in with her password and a code."
