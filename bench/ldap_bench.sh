#!/bin/bash
# The directory part of the benchmark (run by run_bench.sh; as root): a real slapd on loopback
# (tests/integration/ldap_lib.sh: StartTLS with a test CA, a service account, the fixture
# directory), a real studio2fad reading it, and whole two-prompt logins through libpam and the
# real module (pam_wrapper) of the directory users no policy forces to enroll. For each user, a
# cold login (nothing cached, no connection open) and a warm one (within policy_cache_ttl);
# slapd's own log counts the operations (searches, binds, StartTLS) each made.
#
# Prints one line per run on stdout (cold and warm two-prompt logins, in which the password is
# checked by a bind as the user; then warm otp_only logins, the password left to an earlier
# module):
#   ldap temperature=cold logins=N failed=F ops_per_login=X srch=S bind=B ext=E p50_ms=P
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
exec 3>&1 1>&2 # lib.sh's TAP lines and the set-up noise to stderr; results to fd 3

ldap_start > /dev/null || exit 1
ldap_nss_users
write_config "ldap_uri = $LDAP_URI" "ldap_base = $LDAP_BASE" "ldap_bind_dn = $LDAP_BIND_DN" \
  "ldap_bind_password_file = $LDAP_BIND_PASSWORD_FILE" "ldap_ca_file = $LDAP_CA" \
  "policy_cache_ttl = 1h"
start_daemon || { echo "ldap_bench: the daemon does not start" >&2; exit 1; }

# Optional or exempt in the fixtures: their logins are the password alone, as for most users of
# a studio on the day the policy arrives.
USERS=(anim1 anim5 anim6 rev1 vfx3 anim4 ldaponly1)

ops() { echo $(( $(ldap_ops_count SRCH) + $(ldap_ops_count BIND) + $(ldap_ops_count EXT) )); }

# The code-only stack, after a password module (pam_permit stands in for pam_sss or pam_unix).
printf 'auth required pam_permit.so\nauth required %s socket=%s otp_only\naccount required pam_permit.so\n' \
  "$S2FA_MODULE" "$SOCK" > "$T/pam.d/s2fa-otp"

# measure LABEL SERVICE: one login per user; prints the result line.
measure() {
  local srch0 bind0 ext0 user start times=() failed=0
  srch0=$(ldap_ops_count SRCH); bind0=$(ldap_ops_count BIND); ext0=$(ldap_ops_count EXT)
  for user in "${USERS[@]}"; do
    start=$(date +%s%N)
    pam_login "$2" "$user" "pw-$user"
    times+=($(( ($(date +%s%N) - start) / 1000 )))
    login_succeeded || failed=$((failed + 1))
  done
  local srch=$(( $(ldap_ops_count SRCH) - srch0 )) bind=$(( $(ldap_ops_count BIND) - bind0 ))
  local ext=$(( $(ldap_ops_count EXT) - ext0 )) n=${#USERS[@]}
  local p50
  p50=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }')
  echo "ldap temperature=$1 logins=$n failed=$failed ops_per_login=$(awk -v t=$((srch + bind + ext)) -v n="$n" 'BEGIN { printf "%.1f", t / n }') srch=$(awk -v t="$srch" -v n="$n" 'BEGIN { printf "%.1f", t / n }') bind=$(awk -v t="$bind" -v n="$n" 'BEGIN { printf "%.1f", t / n }') ext=$(awk -v t="$ext" -v n="$n" 'BEGIN { printf "%.1f", t / n }') p50_ms=$p50" >&3
}

measure cold s2fa
measure warm s2fa
measure warm-otp_only s2fa-otp
stop_daemon
