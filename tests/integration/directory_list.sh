#!/bin/bash
# studio2fa-admin list with store = directory (a real slapd, the ACL recipe, the daemon bound as
# the service account): 300 records in the container come out in pages of ADMIN_LIST, every name
# once and in name order; and, from slapd's stats log, each page reads only its own records (the
# names alone once for the listing, then at most a page's entries per search), not the whole
# container per page. The directory's size limit: below the container's size, the recipe's
# olcLimits for the service account still lists every record; without it, the listing is refused
# with a message that says why, never cut short.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"
. "$top_srcdir/tests/integration/ldap_store_lib.sh"

check "slapd starts with the fixtures" ldap_start
ldap_store_prepare
N=300
# Names whose byte order differs from their numeric order and from their order of addition.
names=$(for i in $(seq 1 $N); do printf 'u%x-%03d\n' $(( (i * 7919) % 4096 )) "$i"; done)
for name in $names; do
  printf 'dn: %s\nobjectClass: studio2faEnrollment\nstudio2faUser: %s\nstudio2faRevision: 1\n\n' \
    "$(ldap_store_dn "$name")" "$name"
done | ldap_add > /dev/null
check "$N records in the container" \
  test "$(ldap_search -b "$LDAP_STORE_BASE" -s one '(objectClass=studio2faEnrollment)' 1.1 | grep -c '^dn: ')" -eq $N

write_config "ldap_uri = $LDAP_URI" "ldap_base = $LDAP_BASE" "ldap_bind_dn = $LDAP_BIND_DN" \
  "ldap_bind_password_file = $LDAP_BIND_PASSWORD_FILE" "ldap_ca_file = $LDAP_CA" \
  "store = directory" "enrollment_base = $LDAP_STORE_BASE"
check "the daemon starts with store = directory" start_daemon

from=$(wc -l < "$LDAP_LOG")
admin root list --json
check "studio2fa-admin list answers (rc=$RC)" test "$RC" -eq 0
listed=$(sed -n 's/^  {"user": "\([^"]*\)".*/\1/p' <<< "$OUT")
check "every name once, in name order ($(wc -l <<< "$listed") listed)" \
  test "$listed" = "$(LC_ALL=C sort <<< "$names")"

# The listing's searches of the container (scope=1) and the entries each returned, from the
# stats log: "conn=C op=O SRCH base=... scope=1 ..." then "conn=C op=O SEARCH RESULT ... nentries=N".
searches=$(tail -n +"$((from + 1))" "$LDAP_LOG" | awk '
  {
    for (i = 1; i < NF; i++) if ($i ~ /^conn=[0-9]+$/) break
    key = $i " " $(i + 1)
    if ($(i + 2) == "SRCH" && $0 ~ / scope=1 /) {
      one[key] = 1
      names_only[key] = 0
    }
    if ($(i + 2) == "SRCH" && $(i + 3) == "attr=studio2faUser" && NF == i + 3 && (key in one)) names_only[key] = 1
    if ($(i + 2) == "SEARCH" && $(i + 3) == "RESULT" && (key in one)) {
      for (j = i; j <= NF; j++) if ($j ~ /^nentries=/) { split($j, kv, "="); print (names_only[key] ? "names " : "records ") kv[2] }
      delete one[key]
    }
  }')
diag "container searches of the listing (kind, entries returned): $(tr '\n' ' ' <<< "$searches")"
pages=$(( (N + 63) / 64 ))
record_searches=$(grep -c '^records ' <<< "$searches")
largest=$(awk '$1 == "records" && $2 > m { m = $2 } END { print m + 0 }' <<< "$searches")
total=$(awk '$1 == "records" { n += $2 } END { print n + 0 }' <<< "$searches")
check "the names are read once for the listing ($(grep -c '^names ' <<< "$searches") search of names only)" \
  test "$(grep -c '^names ' <<< "$searches")" -eq 1
check "$pages pages, each reading at most its 65 records (largest: $largest)" \
  bash -c '[ "$0" -ge "$1" ] && [ "$2" -le 65 ]' "$record_searches" "$pages" "$largest"
check "... $total records read in all for $N accounts (the whole container per page would be $((pages * N)))" \
  bash -c '[ "$0" -le $(( $1 + $2 )) ]' "$total" "$N" "$pages"

# --- the directory's size limit ---------------------------------------------------------------
size_limit() {
  s2fa_ldap_root ldapmodify > /dev/null 2>&1 <<LDIF
dn: $S2FA_LDAP_DB_CONFIG
changetype: modify
replace: olcSizeLimit
olcSizeLimit: $1
LDIF
}
S2FA_LDAP_DB_CONFIG=$(s2fa_ldap_root ldapsearch -LLL -o ldif-wrap=no -b cn=config \
  "(olcSuffix=$LDAP_BASE)" dn 2> /dev/null | sed -n 's/^dn: //p')
check "the database's size limit is set to 100 entries, below the container's $N" size_limit 100
admin root list --json
check "... the service account's olcLimits (the recipe's) still lists all $N (rc=$RC)" \
  test "$RC" -eq 0 -a "$(grep -c '^  {"user": ' <<< "$OUT")" -eq $N
s2fa_ldap_root ldapmodify > /dev/null 2>&1 <<LDIF
dn: $S2FA_LDAP_DB_CONFIG
changetype: modify
delete: olcLimits
olcLimits: $(s2fa_ldap_root ldapsearch -LLL -o ldif-wrap=no -b "$S2FA_LDAP_DB_CONFIG" -s base olcLimits 2> /dev/null | sed -n 's/^olcLimits: \(.*cn=studio2fad.*\)$/\1/p')
LDIF
limits_now=$(s2fa_ldap_root ldapsearch -LLL -o ldif-wrap=no -b "$S2FA_LDAP_DB_CONFIG" -s base \
  olcLimits 2> /dev/null)
check "without that olcLimits value (gone from cn=config)" \
  bash -c '! grep -q studio2fad <<< "$0"' "$limits_now"
admin root list --json
check "... the listing is refused (rc=$RC), not cut short at 100" \
  test "$RC" -ne 0 -a "$(grep -c '^  {"user": ' <<< "$OUT")" -eq 0
check "... the CLI points to the daemon's log" grep -q "see the daemon's log" <<< "$OUT"
check "... whose line names the size limit and the fix" \
  grep -q "size limit cut the list of records.*lift it for the service account (olcLimits" "$DAEMON_LOG"
size_limit 500

finish
