#!/bin/bash
# Numbers from the directory (phone_attribute = mobile) against a real slapd: a directory user's
# code goes to the number in their entry, which the administrators change and the user cannot
# (self enrollment is refused); a change shows at the next login, and so does its removal.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/phone_lib.sh"

check "slapd starts with the fixtures" ldap_start
ldap_nss_users
VFX1_DN=$(ldap_user_dn vfx1)
set_mobile() {
  printf 'dn: %s\nchangetype: modify\nreplace: mobile\nmobile: %s\n' "$VFX1_DN" "$1" | ldap_modify >/dev/null
}
check "an administrator gives vfx1 a mobile number in the directory" set_mobile '+44 7946 001111'

ldap_config() {
  write_config "ldap_uri = $LDAP_URI" "ldap_base = $LDAP_BASE" "ldap_bind_dn = $LDAP_BIND_DN" \
    "ldap_bind_password_file = $LDAP_BIND_PASSWORD_FILE" "ldap_ca_file = $LDAP_CA" \
    "policy_cache_ttl = 60s" "ldap_timeout = 2s" "ldap_connect_timeout = 1s" \
    "${PHONE_LINES[@]}" "phone_attribute = mobile" "$@"
}
ldap_config
check "the daemon starts with phone_attribute = mobile" start_daemon

cli vfx1 -- status
check "vfx1's status shows the directory's number, masked" cli_saw "text message to ••••••1111"
before=$(sent_count)
phone_login s2fa vfx1 'pw-vfx1' @code
check "vfx1 logs in with the code sent to the directory's number" login_succeeded
check "... which the module named, masked" saw "INFO A code was sent by text message to ••••••1111."
check "... sent to the number in the entry" \
  bash -c '[ "$(last_message | json_field number)" = +447946001111 ]'
cli vfx1 -- enroll --sms '+447946009999'
check "vfx1 cannot register a number of their own" \
  bash -c '[ "$0" -ne 0 ] && grep -q "comes from the directory" <<< "$1"' "$CLI_RC" "$CLI_OUT"
out=$(as_user vfx1 python3 "$RAW_CLIENT" "$SOCK" raw \
  "$(python3 -c '
import struct, sys
def s(t): b = t.encode(); return struct.pack(">H", len(b)) + b
p = s("vfx1") + s("+447946009999") + bytes([2]) + s("")
body = bytes([1, 0x0C]) + p
print((struct.pack(">I", len(body)) + body).hex())')")
check "... nor through the protocol (PHONE_ENROLL not_allowed)" grep -q "^REPLY 0x8c 02" <<< "$out"

check "the administrator changes the number" set_mobile '+44 7946 002222'
advance_time 61
phone_login s2fa vfx1 'pw-vfx1' @code
check "the next login's code goes to the new number" \
  bash -c '[ "$0" -eq 0 ] && [ "$(last_message | json_field number)" = +447946002222 ]' "$LOGIN_RC"
admin root status vfx1
check "admin status shows the new number, masked" grep -qx "phone: ••••••2222" <<< "$OUT"
admin root log vfx1
check "the audit trail records the number from the directory, masked" \
  grep -q 'phone-directory user=vfx1 .*number from the directory: ••••••2222' <<< "$OUT"
check "no whole number in the daemon's log" bash -c '! grep -q "7946002222\|7946001111" "$0"' "$DAEMON_LOG"

printf 'dn: %s\nchangetype: modify\ndelete: mobile\n' "$VFX1_DN" | ldap_modify >/dev/null
cli vfx1 -- status
check "once the administrator removes the number, vfx1 has none" \
  bash -c '! grep -q "text message" <<< "$0"' "$CLI_OUT"
before=$(sent_count)
pam_login s2fa vfx1 'pw-vfx1' '123456'
check "... and no code is sent at login" bash -c '[ "$(sent_count)" -eq "$0" ]' "$before"

finish
