#!/bin/bash
# studio2fa-admin health against real daemons: store = local says so; store = directory with a
# real slapd (tests/integration/ldap_lib.sh) names the write server and the read server that
# answered (the first of ldap_uri does not), how conditional writes go (slapd lists the RFC 4528
# assertion control), offline_logins and the age of this host's copies, which a login starts;
# with slapd stopped both servers are named as not answering, within the timeout, and the exit
# status says so; once slapd is back, all is well again. Only root and admin_group may ask.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ldap_lib.sh"

trap 'ldap_cleanup; cleanup' EXIT

# --- store = local ----------------------------------------------------------------------------
write_config
check "a daemon with store = local starts" start_daemon
admin root health
check "health says store local (rc=$RC)" bash -c '[ "$0" -eq 0 ] && grep -q "^store: *local" <<< "$1"' "$RC" "$OUT"
check "... and names no directory server" bash -c '! grep -q "server" <<< "$0"' "$OUT"
admin alice health
check "alice, not an administrator, may not ask (rc=$RC)" test "$RC" -ne 0
stop_daemon

# --- store = directory --------------------------------------------------------------------------
check "slapd starts" ldap_start
ENROLLMENT_BASE=ou=studio2fa,$LDAP_BASE
printf 'dn: %s\nobjectClass: organizationalUnit\nou: studio2fa\n' "$ENROLLMENT_BASE" | ldap_add > /dev/null
DOWN_URI=ldapi://%2Fnonexistent%2Fslapd.sock
write_config "ldap_uri = $DOWN_URI $LDAP_URI_LDAPI" "ldap_write_uri = $LDAP_URI_LDAPI" \
  "ldap_base = $LDAP_BASE" "ldap_sasl_external = yes" "ldap_timeout = 2s" \
  "ldap_connect_timeout = 1s" "store = directory" "enrollment_base = $ENROLLMENT_BASE" \
  "offline_logins = cached" "offline_cache_age = 10m"
check "a daemon with store = directory starts" start_daemon
admin root health
check "health: store directory, all answering (rc=$RC)" \
  bash -c '[ "$0" -eq 0 ] && grep -q "^store: *directory$" <<< "$1"' "$RC" "$OUT"
check "... the write server is ldap_write_uri, and it answers" \
  grep -qF "write server:   $LDAP_URI_LDAPI (answers)" <<< "$OUT"
check "... conditional writes by the RFC 4528 assertion control (slapd lists it)" \
  grep -q "^conditional writes: RFC 4528 assertion control$" <<< "$OUT"
check "... the read server is the one of ldap_uri that answered, not the first" \
  grep -qF "read server:    $LDAP_URI_LDAPI (answers)" <<< "$OUT"
check "... no problem line" bash -c '! grep -q "^problem:" <<< "$0"' "$OUT"
check "... offline_logins cached, with its age" \
  grep -q "^offline_logins: cached (copies up to 600 s old)$" <<< "$OUT"
check "... no copies yet" grep -q "^cache: *0 users; newest copy none, oldest none$" <<< "$OUT"

check "alice enrolls (her record is read and written in the directory)" enroll alice
admin root health
check "health: one user's copy now, a few seconds old at most" \
  grep -Eq "^cache: *1 users; newest copy [0-5] s old, oldest [0-5] s old$" <<< "$OUT"

ldap_stop
started=$(date +%s%N)
admin root health
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
check "slapd stopped: health fails (rc=$RC)" test "$RC" -eq 1
check "... the write server does not answer" \
  grep -qF "write server:   $LDAP_URI_LDAPI (does not answer)" <<< "$OUT"
check "... nor any read server" grep -q "^read server: .*(does not answer)$" <<< "$OUT"
check "... and the problem line says why" grep -q "^problem: *$LDAP_URI_LDAPI: " <<< "$OUT"
check "... answered within the two probes' timeouts (${elapsed_ms} ms)" test "$elapsed_ms" -lt 6000
check "... the copy is still listed (offline_logins = cached may use it)" \
  grep -q "^cache: *1 users;" <<< "$OUT"

check "slapd starts again" ldap_start
admin root health
check "health: all answering again (rc=$RC)" test "$RC" -eq 0
check "... write server answers" grep -qF "write server:   $LDAP_URI_LDAPI (answers)" <<< "$OUT"
finish
