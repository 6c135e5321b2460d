#!/bin/bash
# studio2fa-admin through the real daemon and module: a uid that is neither root nor in
# admin_group is refused every verb; an admin_group member may list, look, disable, unlock, give
# and revoke a temporary pass (whose end, with the daemon's clock moved, forces a new enrollment),
# read the audit trail and import existing secrets (base32 on stdin, a Google Authenticator file
# with its scratch codes, an oath-toolkit users file, and 10,000 users at once), which then work
# with codes from oathtool; every action is in the audit trail and in syslog.
. "$top_srcdir/tests/integration/lib.sh"

add_user erin 5005 'erin-Pa55word'
add_user frank 5006 'frank-Pa55word'
add_user gina 5007 'gina-Pa55word'
add_user oath1 5101 'oath1-Pa55word'
add_user oath2 5102 'oath2-Pa55word'
add_user oath3 5103 'oath3-Pa55word'
add_user oath4 5104 'oath4-Pa55word'
echo "s2faadmins:x:6000:dave" >> "$T/group"
write_config "admin_group = s2faadmins"

# at_fake_time USER COMMAND...: COMMAND as USER, with the daemon's (fake) clock.
at_fake_time() {
  local uid; uid=$(uid_of "$1"); shift
  setpriv --reuid="$uid" --regid="$uid" --clear-groups env $(nss_env) \
    LD_PRELOAD="$NSS_WRAPPER_LIB $FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$T/faketime" \
    FAKETIME_NO_CACHE=1 "$@"
}
random_base32() { python3 -c 'import base64, os; print(base64.b32encode(os.urandom(20)).decode())'; }
random_hex() { python3 -c 'import os; print(os.urandom(20).hex())'; }
cat > "$T/pam.d/s2fa-otp-ignore" <<PAM
auth [ignore=1 default=die] $S2FA_MODULE socket=$SOCK otp_only
auth requisite pam_deny.so
auth required pam_echo.so module-ignored
PAM
pam_service s2fa-otp otp_only
# The old code is no second factor any more: otp_only treats the user as not enrolled.
code_ignored() { pam_login s2fa-otp-ignore "$1" "$2"; saw "INFO module-ignored"; }

check "daemon starts (admin_group = s2faadmins, dave its member)" start_daemon

# A user name the protocol cannot carry is refused with a message, not a crash (it was a
# segfault: an out-of-range index in the import batching).
long_name=$(printf 'a%.0s' $(seq 1 300))
out=$(echo JBSWY3DPEHPK3PXP | "$S2FA_ADMIN" --socket "$SOCK" import "$long_name" 2>&1); rc=$?
check "import of a 300-byte user name fails cleanly (rc=$rc)" test "$rc" -eq 1
check "... saying what is wrong" grep -q "a user name is 1 to 256 bytes" <<< "$out"
mkfifo "$T/fifo.ga"
out=$(timeout 10 "$S2FA_ADMIN" --socket "$SOCK" import alice --google-authenticator "$T/fifo.ga" 2>&1); rc=$?
check "a FIFO given as the file is refused at once, not waited on (rc=$rc)" \
  bash -c '[ "$0" -eq 1 ] && grep -q "not a regular file" <<< "$1"' "$rc" "$out"
check "alice enrolls" enroll alice
A=$SECRET
check "bob enrolls" enroll bob
B=$SECRET

# --- a uid outside admin_group is refused every verb -----------------------------------------
GA_FILE=$T/ga.alice
printf '%s\n" TOTP_AUTH\n12345678\n' "$(random_base32)" > "$GA_FILE"
OATH_FILE=$T/users.oath
printf 'HOTP/T30 alice - %s\n' "$(random_hex)" > "$OATH_FILE"
chmod 0644 "$GA_FILE" "$OATH_FILE"
for verb in "list" "list --json" "status alice" "disable alice" "unlock alice" "pass alice" \
            "pass alice --hours 2" "pass alice --revoke" "log" "log alice" "log --since 1h" \
            "import alice --replace" "import alice --google-authenticator $GA_FILE --replace" \
            "import --oath-usersfile $OATH_FILE --replace"; do
  admin bob $verb <<< "$(random_base32)"
  check "bob (not an admin): '$verb' is refused (rc $RC)" \
    bash -c '[ "$0" -eq 1 ] && grep -q "permission denied" <<< "$1"' "$RC" "$OUT"
done
admin bob list
check "bob's refused 'list' prints no table header, only the refusal" \
  bash -c '! grep -q "USER" <<< "$0" && [ "$(wc -l <<< "$0")" -eq 1 ]' "$OUT"
admin bob list --json
check "bob's refused 'list --json' prints no '['" bash -c '! grep -q "^\[" <<< "$0"' "$OUT"
check "the daemon logged the refusals with bob's uid" grep -q 'uid 5002 (pid [0-9]*) is not an administrator' "$DAEMON_LOG"
admin root status alice
check "alice is untouched: still on" grep -qx "2fa: on" <<< "$OUT"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "alice still logs in with her own secret" login_succeeded
admin bob status bob
check "bob may look at his own status" bash -c '[ "$0" -eq 0 ] && grep -qx "2fa: on" <<< "$1"' "$RC" "$OUT"

# --- an admin_group member ----------------------------------------------------------------------
admin dave list
check "dave (admin_group) lists the accounts" bash -c '[ "$0" -eq 0 ] && grep -q "^alice  *on  *no  *no policy requires it" <<< "$1"' "$RC" "$OUT"
check "... with a header naming the columns" grep -q "^USER *2FA *REQUIRED *WHY *GRACE UNTIL *LOCKED *CODES *LAST LOGIN *PASS UNTIL" <<< "$OUT"
admin dave list --json
check "list --json is JSON with the fields" python3 -c '
import json, sys
users = {u["user"]: u for u in json.loads(sys.argv[1])}
a = users["alice"]
assert a["enabled"] is True and a["required"] is False and a["locked"] is None
assert a["backup_codes"] == 0 and a["last_login"].endswith("Z") and a["pass_until"] is None
' "$OUT"
admin dave status alice
check "dave looks at alice's status" grep -qx "locked: no" <<< "$OUT"
admin dave pass root
check "dave may not act on root's account" bash -c '[ "$0" -ne 0 ] && grep -q "only root may administer" <<< "$1"' "$RC" "$OUT"
admin dave unlock alice
check "unlock of an account that is not locked says so" grep -q "was not locked" <<< "$OUT"

# --- a temporary pass, and its end (the daemon's clock moved) ----------------------------------
admin dave pass alice --hours 1
check "dave gives alice a pass for an hour (rc $RC)" bash -c '[ "$0" -eq 0 ] && grep -q "password alone until" <<< "$1"' "$RC" "$OUT"
pam_login s2fa alice 'alice-Pa55word'
check "during the pass alice logs in with her password alone" login_succeeded
check "... asked for nothing else" bash -c '[ "$(grep -c "^PROMPT" <<< "$0")" -eq 1 ]' "$LOGIN_OUT"
pam_login s2fa alice 'wrong-password'
check "... and the password is still checked" login_failed_with 7
next_step
check "the old secret is void at once" code_ignored alice "$(code_for "$A")"
admin root status alice
check "status: off, with the end of the pass" \
  bash -c 'grep -qx "2fa: off" <<< "$0" && grep -q "^pass_until: 20" <<< "$0"' "$OUT"
advance_time 3601
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")" "$(code_for "$A")" "$(code_for "$A")"
check "after the hour, the pass is over: the password alone no longer logs in" login_failed_with 7
check "... the login walks alice into a new enrollment" saw "INFO Two-factor authentication is required for this account. Set it up now:"
check "... where the old secret's codes do not confirm it" saw "ERROR That code is not right."
pam_login s2fa-otp-ignore alice "$(code_for "$A")"
check "... and an otp_only stack demands the enrollment too" saw "INFO 1. Scan this QR code"
check "... the old secret never comes back (rc=$LOGIN_RC)" test "$LOGIN_RC" -ne 0
out=$(at_fake_time alice "$S2FA_CLI" --socket "$SOCK" status)
check "studio2fa status tells alice to enroll again" grep -q "pass an administrator gave you ended" <<< "$out"
out=$(at_fake_time dave "$S2FA_ADMIN" --socket "$SOCK" status alice)
check "studio2fa-admin status shows the pass as ended" grep -q "^pass_until: ended 20" <<< "$out"
check "alice enrolls again" enroll alice
A=$SECRET
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "and logs in with password and code again" login_succeeded

admin dave pass bob --hours 24
admin dave pass bob --revoke
check "a pass can be revoked" grep -q "pass of bob has ended" <<< "$OUT"
admin dave pass bob --revoke
check "revoking again: no pass to revoke" bash -c '[ "$0" -ne 0 ] && grep -q "no pass to revoke" <<< "$1"' "$RC" "$OUT"
admin dave pass bob --hours 721
check "--hours is at most 720" test "$RC" -eq 2

# --- disable ----------------------------------------------------------------------------------
check "erin enrolls" enroll erin
E=$SECRET
admin dave disable erin
check "dave turns erin's second factor off" grep -q "off for erin" <<< "$OUT"
next_step
check "erin's code is no second factor any more" code_ignored erin "$(code_for "$E")"
admin dave disable erin
check "a second disable says there was nothing on" grep -q "was not on for erin" <<< "$OUT"

# --- import -------------------------------------------------------------------------------------
F=$(random_base32)
admin dave import frank <<< "$F"
check "import of a base32 secret from stdin (rc $RC)" bash -c '[ "$0" -eq 0 ] && grep -q "Imported 1 user" <<< "$1"' "$RC" "$OUT"
next_step
pam_login s2fa frank 'frank-Pa55word' "$(code_for "$F")"
check "frank logs in with an oathtool code of the imported secret" login_succeeded
F2=$(random_base32)
admin dave import frank <<< "$F2"
check "importing over an active secret is refused" bash -c '[ "$0" -ne 0 ] && grep -q "already has two-factor authentication on" <<< "$1"' "$RC" "$OUT"
admin dave import frank --replace <<< "$F2"
check "... unless --replace" test "$RC" -eq 0
next_step
pam_login s2fa frank 'frank-Pa55word' "$(code_for "$F")"
check "the replaced secret no longer works" login_failed_with 7
pam_login s2fa frank 'frank-Pa55word' "$(code_for "$F2")"
check "the new one does" login_succeeded
admin dave import frank --replace <<< "not-base32!"
check "a secret that is not base32 is refused before anything is sent" bash -c '[ "$0" -ne 0 ] && grep -q "not base32" <<< "$1"' "$RC" "$OUT"

G=$(random_base32 | cut -c1-16) # 80 bits, as google-authenticator makes them
printf '%s\n" RATE_LIMIT 3 30 1700000000\n" WINDOW_SIZE 17\n" DISALLOW_REUSE\n" TOTP_AUTH\n' "$G" > "$T/ga.gina"
printf '12345678\n23456789\n34567890\n45678901\n56789012\n' >> "$T/ga.gina"
chown 5007 "$T/ga.gina"; chmod 0400 "$T/ga.gina"
admin root import gina --google-authenticator "$T/ga.gina"
check "import of a ~/.google_authenticator file (rc $RC)" test "$RC" -eq 0
next_step
pam_login s2fa gina 'gina-Pa55word' "$(code_for "$G")"
check "gina logs in with an oathtool code" login_succeeded
pam_login s2fa gina 'gina-Pa55word' 34567890
check "a scratch code of the file works as a backup code" login_succeeded
check "... and the user is told how many are left" saw "INFO Backup code accepted. 4 backup codes left."
pam_login s2fa gina 'gina-Pa55word' 34567890
check "... once" login_failed_with 7
printf '%s\n" HOTP_COUNTER 1\n' "$G" > "$T/ga.hotp"
admin root import gina --replace --google-authenticator "$T/ga.hotp"
check "a counter-based (HOTP) file is refused" bash -c '[ "$0" -ne 0 ] && grep -q "HOTP" <<< "$1"' "$RC" "$OUT"

H1=$(random_hex); H2=$(random_hex); H3=$(random_hex); H4=$(random_hex)
cat > "$T/users.oath" <<OATH
# pam_oath users file
HOTP/T30/6 oath1 - $H1
HOTP/T30 oath2 4711 $H2 0 2026-11-23T10:00:00L
HOTP oath3 - $H3
HOTP/T60/8 oath4 - $H4
OATH
admin root import --oath-usersfile "$T/users.oath"
check "import of an oath users file (rc $RC)" bash -c '[ "$0" -eq 0 ] && grep -q "Imported 3 users" <<< "$1"' "$RC" "$OUT"
check "... warning that the counter-based user was skipped" grep -q "oath3 has a counter-based (HOTP) token; skipped" <<< "$OUT"
check "... and that the PIN was dropped" grep -q "PIN of oath2 is dropped" <<< "$OUT"
next_step 60
pam_login s2fa oath1 'oath1-Pa55word' "$(oathtool --totp "$H1" --now "@$(fake_now)")"
check "oath1 logs in with an oathtool code (hex key)" login_succeeded
pam_login s2fa oath2 'oath2-Pa55word' "$(oathtool --totp "$H2" --now "@$(fake_now)")"
check "oath2 too, with the password in place of the PIN" login_succeeded
pam_login s2fa oath4 'oath4-Pa55word' "$(oathtool --totp -s 60 -d 8 "$H4" --now "@$(fake_now)")"
check "oath4 with 8 digits every 60 s" login_succeeded
admin root status oath3
check "oath3 (HOTP) was not imported" grep -qx "2fa: off" <<< "$OUT"

# Bulk: 10,000 users in one file.
python3 - "$T/bulk.oath" <<'PY'
import os, sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        f.write("HOTP/T30 u%05d - %s\n" % (i, os.urandom(20).hex()))
PY
start_ns=$(date +%s%N)
admin root import --oath-usersfile "$T/bulk.oath"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
diag "imported 10,000 users from an oath users file in $elapsed_ms ms"
check "10,000 users imported (rc $RC: $OUT)" bash -c '[ "$0" -eq 0 ] && grep -q "Imported 10000 users" <<< "$1"' "$RC" "$OUT"
check "... in seconds, not minutes ($elapsed_ms ms < 30 s)" test "$elapsed_ms" -lt 30000
next_step
for u in u00000 u04242 u09999; do
  hex=$(awk -v u="$u" '$2 == u { print $4 }' "$T/bulk.oath")
  reply=$(raw root authenticate "$u" 3 x "$(oathtool --totp "$hex" --now "@$(fake_now)")")
  check "$u's oathtool code is accepted (got: $reply)" grep -q '^REPLY 0x83 00' <<< "$reply"
done
admin root list --json
check "list pages through all of them" python3 -c 'import json, sys; assert len(json.load(sys.stdin)) > 10000' <<< "$OUT"

# --- the audit trail ----------------------------------------------------------------------------
admin dave log alice
check "the log shows the pass, by dave" grep -q 'admin-pass user=alice outcome=success by=dave(uid 5004) detail="until 20.*; the old secret and backup codes are void"' <<< "$OUT"
check "... the logins, with service and result" grep -q 'login user=alice outcome=success by=root(uid 0) service=s2fa .*detail="password (temporary pass)"' <<< "$OUT"
check "... the wrong password during the pass" grep -q 'login user=alice outcome=denied .*detail="wrong password"' <<< "$OUT"
check "... and the new enrollment" grep -q 'enroll-confirm user=alice outcome=confirmed by=alice(uid 5001)' <<< "$OUT"
admin dave log
for action in admin-list admin-disable admin-unlock admin-pass admin-pass-revoke admin-import admin-log; do
  check "every admin action is in the audit trail: $action" grep -q " $action .*by=\(dave(uid 5004)\|root(uid 0)\)" <<< "$OUT"
done
check "a refused import is there too" grep -q 'admin-import user=frank outcome=refused' <<< "$OUT"
advance_time 10
mark=$(fake_now)
advance_time 10
pam_login s2fa dave 'dave-Pa55word'
admin dave log --since "@$mark"
check "log --since shows what came after (dave's login)" grep -q 'login user=dave outcome=success' <<< "$OUT"
check "... and nothing before" bash -c '! grep -q "admin-pass " <<< "$0"' "$OUT"
admin dave log alice --since 2000-01-01
check "log USER --since DATE" grep -q 'admin-pass user=alice' <<< "$OUT"
admin dave log --since yesterday-ish
check "a --since that is not a time is a usage error" test "$RC" -eq 2
check "admin actions go to syslog too" grep -q 'admin pass by dave (uid 5004): user=alice result=granted' "$DAEMON_LOG"
check "no secret of an import in the daemon's log" bash -c '! grep -qiF "$0" "$1" && ! grep -qF "$2" "$1"' "$F" "$DAEMON_LOG" "$H1"
finish
