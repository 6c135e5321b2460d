#!/bin/bash
# Rotating the studio key with the real daemon, as studio2fad.conf(5) "KEY ROTATION" says: users
# enrolled under the old key, the key file replaced and the old one listed in previous_key_paths,
# logins still work; studio2fa-admin rekey re-seals every record (and a second run nothing); the
# old key removed, logins still work, and backup codes made under it no longer do. A key the
# records were not sealed under fails closed, with a log line naming the key id they need.
. "$top_srcdir/tests/integration/lib.sh"

# key_id FILE: the first 8 bytes of HMAC-SHA256(key, "studio2fa key id v1"), in hex, computed
# here with openssl rather than by the daemon.
key_id() {
  printf 'studio2fa key id v1' |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(od -An -tx1 -v "$1" | tr -d ' \n')" |
    sed 's/.*= //' | cut -c1-16
}
new_key() { (umask 077; head -c 32 /dev/urandom > "$1"); }
restart() { stop_daemon; start_daemon; }
login_ok() {
  next_step
  pam_login s2fa "$1" "$1-Pa55word" "$(code_for "$(cat "$T/secret.$1")")"
  login_succeeded
}

check "daemon starts" start_daemon
OLD_ID=$(key_id "$KEY")
check "it logs the id of the key that seals ($OLD_ID)" \
  grep -q "studio key $OLD_ID seals; older keys accepted for opening: none" "$DAEMON_LOG"
check "alice enrolls" enroll alice
check "bob enrolls" enroll bob
G=$(python3 -c 'import base64, os; print(base64.b32encode(os.urandom(10)).decode())')
printf '%s\n" TOTP_AUTH\n12345678\n23456789\n' "$G" > "$T/ga.dave"
chmod 0400 "$T/ga.dave"
admin root import dave --google-authenticator "$T/ga.dave"
check "dave is imported, with two backup codes (rc $RC)" test "$RC" -eq 0
echo "$G" > "$T/secret.dave"
check "alice logs in under the first key" login_ok alice

# --- the new key current, the old one previous -------------------------------------------------
stop_daemon
mv "$KEY" "$T/etc/studio.key.old"
new_key "$KEY"
NEW_ID=$(key_id "$KEY")
write_config "previous_key_paths = $T/etc/studio.key.old"
check "the daemon starts with a new key and the old one previous" start_daemon
check "... and logs both ids" \
  grep -q "studio key $NEW_ID seals; older keys accepted for opening: $OLD_ID" "$DAEMON_LOG"
check "alice logs in (her secret is under the old key)" login_ok alice
check "bob logs in" login_ok bob
check "dave logs in with a TOTP code" login_ok dave
pam_login s2fa dave 'dave-Pa55word' 12345678
check "dave's backup code made under the old key works" login_succeeded

admin root rekey
diag "$OUT"
check "rekey re-seals the three records (rc $RC)" \
  bash -c '[ "$0" -eq 0 ] && grep -q "Studio key $1: 3 records re-sealed, 0 already under it, 0 failed" <<< "$2"' \
  "$RC" "$NEW_ID" "$OUT"
check "... and counts dave, whose backup codes are under the old key" \
  grep -q "^1 users have backup codes made under an older key" <<< "$OUT"
rekey_rows() { admin root log; grep -c "admin-rekey" <<< "$OUT"; }
check "each re-sealed record is in the audit trail" test "$(rekey_rows)" -eq 3
admin root rekey
check "a second rekey re-seals nothing" \
  grep -q "0 records re-sealed, 3 already under it, 0 failed" <<< "$OUT"
check "alice logs in after rekey" login_ok alice

# --- the old key removed ---------------------------------------------------------------------
write_config
check "the daemon starts without the old key" restart
check "alice logs in" login_ok alice
check "bob logs in" login_ok bob
check "dave logs in with a TOTP code" login_ok dave
pam_login s2fa dave 'dave-Pa55word' 23456789
check "dave's remaining old backup code no longer works (he needs a new set)" login_failed_with 7

# --- a key the records were not sealed under --------------------------------------------------
stop_daemon
mv "$KEY" "$T/etc/studio.key.current"
new_key "$KEY"
WRONG_ID=$(key_id "$KEY")
check "the daemon starts with a wrong key ($WRONG_ID)" start_daemon
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$(cat "$T/secret.alice")")"
check "alice's login fails closed (rc $LOGIN_RC)" bash -c '! grep -q "^RESULT Success" <<< "$0"' "$LOGIN_OUT"
check "the log names the key id the secret needs and where keys come from" \
  grep -q "the secret of alice is sealed under key $NEW_ID, which this host does not have: copy the studio key to key_path or list the old one in previous_key_paths" "$DAEMON_LOG"
admin root rekey
check "rekey with the wrong key fails for every record and re-seals none (rc $RC)" \
  bash -c '[ "$0" -eq 1 ] && grep -q "0 records re-sealed, 0 already under it, 3 failed" <<< "$1"' "$RC" "$OUT"
check "... and changes nothing" test "$(rekey_rows)" -eq 3
stop_daemon
mv -f "$T/etc/studio.key.current" "$KEY"
check "with the right key back" start_daemon
check "alice logs in again" login_ok alice
finish
