#!/bin/bash
# The QR code `studio2fa enroll` prints decodes (zbarimg, an independent decoder) to exactly the
# otpauth:// URI printed below it, with a 4-module quiet zone; in a terminal it is drawn in
# explicit black-on-white colours.
. "$top_srcdir/tests/integration/lib.sh"

check "daemon starts" start_daemon
as_user alice "$S2FA_CLI" --socket "$SOCK" enroll < /dev/null > "$T/enroll.out" 2>&1
uri=$(grep '^otpauth://' "$T/enroll.out")
check "the URI is printed" test -n "$uri"
check "the QR code converts to an image" python3 "$top_srcdir/tests/integration/qr_to_pbm.py" "$T/enroll.out" "$T/qr.pbm"
decoded=$(zbarimg --quiet --raw "$T/qr.pbm" 2>/dev/null | head -n1)
check "zbarimg decodes the QR code to the printed URI (decoded: ${decoded:0:60}...)" test "$decoded" = "$uri"

# Quiet zone: the first two and last two text rows (4 modules) are blank.
qr=$(awk '/^Scan this QR code/{s=NR+3} s && NR>=s { if ($0 == "") exit; print }' "$T/enroll.out")
check "quiet zone: first 2 rows blank" bash -c '! head -n2 <<< "$0" | grep -q "[^ ]"' "$qr"
check "quiet zone: last 2 rows blank" bash -c '! tail -n2 <<< "$0" | grep -q "[^ ]"' "$qr"
check "quiet zone: every row starts and ends with 4 blank modules" \
  bash -c '! grep -v "^    .*    $" <<< "$0" | grep -q .' "$qr"

# With algorithm/digits/period left at SHA1/6/30, the URI does not name them (a smaller QR).
check "default parameters are not in the URI" bash -c '! grep -Eq "algorithm=|digits=|period=" <<< "$0"' "$uri"

# In a terminal: explicit colours for both dark and light modules (readable on any theme).
stop_daemon
write_config "totp_algorithm = SHA256" "totp_digits = 8" "totp_period = 60"
check "daemon restarts with SHA256/8/60" start_daemon
script -qec "setpriv --reuid=$(uid_of bob) --regid=$(uid_of bob) --clear-groups env $(nss_env) $S2FA_CLI --socket $SOCK enroll < /dev/null" /dev/null > "$T/tty.out" 2>&1
check "on a terminal the QR code uses black (30/40) and bright white (97/107)" \
  bash -c 'grep -q $'"'"'\e\[30m'"'"' "$0" && grep -q $'"'"'\e\[107m'"'"' "$0"' "$T/tty.out"
uri=$(tr -d '\r' < "$T/tty.out" | grep '^otpauth://')
check "non-default parameters are named in the URI ($uri)" \
  bash -c 'grep -q "algorithm=SHA256" <<< "$0" && grep -q "digits=8" <<< "$0" && grep -q "period=60" <<< "$0"' "$uri"

finish
