#!/bin/bash
# The authselect recipe (packaging/authselect/README.md), as far as Debian allows (it has no
# authselect): the shell blocks of its step 3 run, as written, on a stand-in profile shaped like
# authselect's "sssd" one; authselect's template processing ({include if}, {exclude if},
# {if "feature":a|b}) is done by authselect_template.py, the same rules in a few lines; and the
# resulting auth stacks run through real libpam (pam_wrapper), with stand-in modules for what
# is not here:
#   pam_unix, pam_sss      -> pam_matrix with a local / an "SSSD" password file
#   pam_localuser          -> pam_succeed_if "user in" the local users
#   pam_usertype isregular -> pam_succeed_if "user notin" the system account
#   pam_faillock           -> pam_permit (preauth), pam_deny (authfail, which fails)
#   pam_studio2fa otp_only -> pam_exec touching a marker file and succeeding (a right code),
#                             pam_debug returning PAM_AUTH_ERR (a wrong code) or PAM_IGNORE
# so each test asks: is the code module reached after every right password, never after a
# wrong one, and is the answer then the one the code module gave.
. "$(dirname "$0")/lib.sh"

readme=$top_srcdir/packaging/authselect/README.md
PAM_WRAPPER_LIB=
NSS_WRAPPER_LIB=
for dir in "/usr/lib/$S2FA_MULTIARCH" /usr/lib64 /usr/lib; do
  [ -z "$PAM_WRAPPER_LIB" ] && [ -e "$dir/libpam_wrapper.so" ] && PAM_WRAPPER_LIB=$dir/libpam_wrapper.so
  [ -z "$NSS_WRAPPER_LIB" ] && [ -e "$dir/libnss_wrapper.so" ] && NSS_WRAPPER_LIB=$dir/libnss_wrapper.so
done
PAM_MATRIX=$(dirname "${PAM_WRAPPER_LIB:-/nonexistent}")/pam_wrapper/pam_matrix.so
if [ -z "$PAM_WRAPPER_LIB" ] || [ -z "$NSS_WRAPPER_LIB" ] || [ ! -e "$PAM_MATRIX" ] ||
   ! pkg-config --exists libpamtest; then
  skip "authselect recipe" "needs pam_wrapper (with pam_matrix), nss_wrapper and libpamtest"
  finish
fi
if ! gcc -o "$W/pam_login" "$top_srcdir/tests/integration/pam_login.c" \
       $(pkg-config --cflags --libs libpamtest) -lpam 2> "$W/cc.log"; then
  sed 's/^/# /' "$W/cc.log"
  bail "compile tests/integration/pam_login.c"
fi

# --- step 3 of the recipe, run as written ---------------------------------------------------
# A stand-in for /etc/authselect/custom/studio2fa after "authselect create-profile -b sssd":
# the auth section in the shape of the sssd profile (its sufficient password modules and the
# skips around them), then the other sections.
profile=$W/profile
mkdir -p "$profile"
cat > "$profile/system-auth" <<'EOF'
auth        required                                     pam_env.so
auth        required                                     pam_faildelay.so delay=2000000
auth        required                                     pam_faillock.so preauth silent                         {include if "with-faillock"}
auth        sufficient                                   pam_fprintd.so                                         {include if "with-fingerprint"}
auth        [default=1 ignore=ignore success=ok]         pam_usertype.so isregular
auth        [default=1 ignore=ignore success=ok]         pam_localuser.so
auth        sufficient                                   pam_unix.so {if not "without-nullok":nullok}
auth        [default=1 ignore=ignore success=ok]         pam_usertype.so isregular
auth        sufficient                                   pam_sss.so forward_pass
auth        required                                     pam_faillock.so authfail                               {include if "with-faillock"}
auth        optional                                     pam_gnome_keyring.so only_if=login auto_start          {include if "with-pam-gnome-keyring"}
auth        required                                     pam_deny.so

account     required                                     pam_unix.so
account     required                                     pam_permit.so

session     required                                     pam_unix.so
EOF
sed -e 's/ only_if=login auto_start/ auto_start/' "$profile/system-auth" > "$profile/password-auth"
cp -a "$profile" "$W/orig"

# The ```sh blocks of the section "## 3.", in order.
awk '/^## 3\./ { on = 1; next } /^## / { on = 0 } on && /^```sh$/ { code = 1; next }
     code && /^```$/ { code = 0; next } on && code' "$readme" > "$W/step3.sh"
check "README step 3 has its three shell blocks" test "$(grep -c . "$W/step3.sh")" -gt 20
if (cd "$profile" && bash -e "$W/step3.sh") > "$W/step3.log" 2>&1; then
  ok "README step 3 runs on the stand-in profile"
else
  sed 's/^/# /' "$W/step3.log"
  bail "README step 3 runs on the stand-in profile"
fi
check "step 3 leaves no scratch files" test "$(ls "$profile")" = "$(printf 'password-auth\nsystem-auth')"

generate() {  # FILE FEATURE...: what authselect would write for these features
  python3 "$top_srcdir/tests/packaging/authselect_template.py" "$@"
}
auth_of() { grep -E '^auth[[:space:]]' | tr -s ' \t' ' '; }

# --- the generated files --------------------------------------------------------------------
for f in system-auth password-auth; do
  for features in "" "with-faillock with-fingerprint"; do
    check "$f without with-studio2fa${features:+ ($features)}: exactly what the profile gave before" \
      test "$(generate "$profile/$f" $features)" = "$(generate "$W/orig/$f" $features)"
  done
  on=$(generate "$profile/$f" with-studio2fa with-faillock with-fingerprint | auth_of)
  check "$f with with-studio2fa: one pam_studio2fa.so otp_only line" \
    test "$(grep -c 'pam_studio2fa.so otp_only' <<< "$on")" = 1
  check "$f with with-studio2fa: no sufficient line left (with-fingerprint selected too)" \
    bash -c '! grep -q " sufficient " <<< "$0"' "$on"
  check "$f with with-studio2fa: the other sections are untouched" \
    test "$(generate "$profile/$f" with-studio2fa | grep -v '^auth')" = \
         "$(generate "$W/orig/$f" | grep -v '^auth')"
done
diag "system-auth, with-studio2fa with-faillock:"
generate "$profile/system-auth" with-studio2fa with-faillock | auth_of | sed 's/^/#   /'

# --- the stacks through libpam ------------------------------------------------------------
printf 'root:x:0:0:root:/root:/bin/sh\nlocaluser:x:5001:5001::/tmp:/bin/sh\n' > "$W/passwd"
printf 'sssuser:x:5002:5002::/tmp:/bin/sh\nsysacct:x:998:998::/tmp:/bin/sh\n' >> "$W/passwd"
printf 'root:x:0:\nlocaluser:x:5001:\nsssuser:x:5002:\nsysacct:x:998:\n' > "$W/group"
printf 'localuser:local-pw:s2fa\nsysacct:sys-pw:s2fa\n' > "$W/local.db"
printf 'sssuser:sss-pw:s2fa\n' > "$W/sss.db"
mkdir -p "$W/pam.d"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' > "$W/pam.d/other"

# stack FILE CODE-RESULT FEATURE...: writes the pam.d service "s2fa" from the generated auth
# section, with the stand-in modules; for pam_studio2fa, CODE-RESULT "right" is pam_exec
# touching $W/code-asked, the others are pam_debug answering CODE-RESULT.
stack() {
  local file=$1 code=$2 module; shift 2
  module="pam_debug.so auth=$code"
  if [ "$code" = right ]; then module="pam_exec.so quiet /usr/bin/touch $W/code-asked"; fi
  generate "$file" "$@" | auth_of | sed -E \
    -e "s#pam_env\.so.*#pam_permit.so#" \
    -e "s#pam_faildelay\.so.*#pam_permit.so#" \
    -e "s#pam_faillock\.so preauth.*#pam_permit.so#" \
    -e "s#pam_faillock\.so authfail.*#pam_deny.so#" \
    -e "s#pam_usertype\.so isregular.*#pam_succeed_if.so quiet user notin sysacct#" \
    -e "s#pam_localuser\.so.*#pam_succeed_if.so quiet user in localuser:sysacct#" \
    -e "s#pam_unix\.so.*#$PAM_MATRIX passdb=$W/local.db#" \
    -e "s#pam_sss\.so.*#$PAM_MATRIX passdb=$W/sss.db#" \
    -e "s#pam_studio2fa\.so otp_only.*#$module#" \
    -e "s#pam_gnome_keyring\.so.*#pam_permit.so#" > "$W/pam.d/s2fa"
  echo 'account required pam_permit.so' >> "$W/pam.d/s2fa"
}
# login USER PASSWORD: the PAM result of a login answering every prompt with PASSWORD.
login() {
  rm -f "$W/code-asked"
  printf '%s\n%s\n%s\n' "$2" "$2" "$2" | env LD_PRELOAD="$PAM_WRAPPER_LIB $NSS_WRAPPER_LIB" \
    PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/pam.d" NSS_WRAPPER_PASSWD="$W/passwd" \
    NSS_WRAPPER_GROUP="$W/group" "$W/pam_login" s2fa "$1" | sed -n 's/^RESULT .* \([0-9]*\)$/\1/p'
}
PAM_SUCCESS=0
PAM_AUTH_ERR=7

# The harness itself, on the profile without the feature: right passwords in, wrong ones out.
stack "$profile/system-auth" success
check "stand-ins: the sssd-shaped stack lets localuser in with the right password" \
  test "$(login localuser local-pw)" = $PAM_SUCCESS
check "stand-ins: ... and sssuser" test "$(login sssuser sss-pw)" = $PAM_SUCCESS
check "stand-ins: ... and not localuser with a wrong one" test "$(login localuser nope)" = $PAM_AUTH_ERR

for f in system-auth password-auth; do
  for features in "" "with-faillock"; do
    label="$f, with-studio2fa${features:+ $features}"
    # A right code: in with the right password only; the code is asked after a right password
    # and never after a wrong one.
    stack "$profile/$f" right with-studio2fa $features
    for user in localuser:local-pw sssuser:sss-pw sysacct:sys-pw; do
      check "$label: ${user%%:*}, right password, right code: in" \
        test "$(login "${user%%:*}" "${user#*:}")" = $PAM_SUCCESS
      check "$label: ${user%%:*}, right password: the code is asked" test -e "$W/code-asked"
      check "$label: ${user%%:*}, wrong password: out" \
        test "$(login "${user%%:*}" wrong-pw)" = $PAM_AUTH_ERR
      check "$label: ${user%%:*}, wrong password: the code is not asked" test ! -e "$W/code-asked"
    done
    check "$label: sssuser with localuser's password: out" test "$(login sssuser local-pw)" = $PAM_AUTH_ERR
    check "$label: localuser with sssuser's password: out" test "$(login localuser sss-pw)" = $PAM_AUTH_ERR
    check "$label: unknown user: out" test "$(login nobody-here local-pw)" != $PAM_SUCCESS
    # A wrong code: out, whatever the password (so every way in passes the code module).
    stack "$profile/$f" auth_err with-studio2fa $features
    for user in localuser:local-pw sssuser:sss-pw sysacct:sys-pw; do
      check "$label: ${user%%:*}, right password, wrong code: out" \
        test "$(login "${user%%:*}" "${user#*:}")" = $PAM_AUTH_ERR
    done
    # Not enrolled (PAM_IGNORE): the password alone decides.
    stack "$profile/$f" ignore with-studio2fa $features
    for user in localuser:local-pw sssuser:sss-pw sysacct:sys-pw; do
      check "$label: ${user%%:*} not enrolled, right password: in" \
        test "$(login "${user%%:*}" "${user#*:}")" = $PAM_SUCCESS
      check "$label: ${user%%:*} not enrolled, wrong password: out" \
        test "$(login "${user%%:*}" wrong-pw)" = $PAM_AUTH_ERR
    done
  done
done

finish
