# A private OpenLDAP directory for the integration tests (sourced after lib.sh; bash).
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   . "$top_srcdir/tests/integration/ldap_lib.sh"
#   ldap_start
#
# Everything lives in $T/ldap and is gone at exit: a test CA and server certificates, a
# cn=config slapd.d (back_mdb; core, cosine, nis, inetorgperson and schema/studio2fa.ldif), the
# fixtures of tests/integration/ldap_fixtures.ldif (whose header lists every user and the
# decision the daemon should reach for them), and a slapd run in the foreground with "-d stats",
# so that $LDAP_LOG records every operation. The test exits "1..0 # SKIP" at once when slapd,
# the LDAP tools or openssl are missing.
#
# Functions
#   ldap_start [good|rogue]  starts slapd (building the directory at the first call); TLS uses
#                            the server certificate of the test CA ($LDAP_CA: good, the
#                            default) or that of a rogue CA with the same names and the same
#                            CA subject (rogue). Starting again (after ldap_stop, or while it
#                            runs: it restarts) keeps the data. If slapd does not answer
#                            within 10 s the test bails out ("Bail out!", log tail as diag).
#   ldap_stop                stops slapd (even paused) and waits for it to exit.
#   ldap_pause, ldap_resume  SIGSTOP / SIGCONT: a hung directory. TCP and ldapi connections
#                            are still accepted by the kernel, but nothing answers.
#   ldap_modify              ldapmodify as the directory's root, LDIF on stdin; ldap_add
#                            likewise for ldapadd.
#   ldap_search ARGS...      ldapsearch as root: -LLL, unwrapped, base $LDAP_BASE unless ARGS
#                            give another -b; ARGS are the filter, attributes and options.
#   ldap_user_dn UID         prints the DN of the user UID.
#   ldap_ops_count KIND      how many operations of KIND (SRCH, BIND, EXT (StartTLS, WhoAmI), MOD,
#                            ADD, CMP, UNBIND, ...) slapd has logged so far, or with KIND
#                            ACCEPT how many connections it accepted; across restarts. Take a
#                            difference before and after what you measure. The functions above
#                            use a private ldapi socket whose connections are not counted;
#                            anything else is (the daemon's queries, but also an ldapsearch
#                            the test runs itself against $LDAP_URI*).
#   ldap_nss_users           adds the directory's posixAccounts and posixGroups, with their
#                            uidNumber/gidNumber, to lib.sh's nss_wrapper passwd and group (as
#                            SSSD would bring them to NSS); lib.sh's own users stay, names
#                            already there are skipped. No shadow entries: their passwords are
#                            checked by binding to the directory.
#   ldap_cleanup             stops slapd, then runs the EXIT trap that was set when this file
#                            was sourced (lib.sh's cleanup, or system_lib.sh's). It is the EXIT
#                            trap now; a test that sets its own ends with it:
#                            trap 'stop_mine; ldap_cleanup' EXIT.
#
# Variables (all set when this file is sourced; none changes afterwards)
#   LDAP_BASE                dc=studio,dc=example
#   LDAP_URI_LDAPI           ldapi:// URI (URL-encoded path) of the socket for the code under
#                            test (SASL EXTERNAL as root there is the directory's rootDN)
#   LDAP_URI                 ldap://127.0.0.1:$LDAP_PORT: StartTLS offered, not required; a
#                            client must itself refuse to send a password in clear
#   LDAP_URI_LDAPS           ldaps://127.0.0.1:$LDAPS_PORT
#   LDAP_PORT, LDAPS_PORT    the two TCP ports (free when sourced, outside the ephemeral range)
#   LDAP_CA                  the test CA certificate (PEM) that signs the good server cert;
#                            both server certificates name DNS:localhost and IP:127.0.0.1
#   LDAP_BIND_DN             cn=studio2fad,ou=services,$LDAP_BASE, the daemon's service account
#   LDAP_BIND_PASSWORD_FILE  its password (random; mode 0600, no trailing newline)
#   LDAP_LOG                 slapd's log (-d stats), appended across restarts
#
# Access control: userPassword is "by self write by anonymous auth by * none"; everything else
# is readable by the service account and by any authenticated user, not by anonymous. Root
# over ldapi (gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth) is the rootDN. Every
# fixture user's password is "pw-<uid>".

for s2fa_ldap_tool in slapd slapadd slappasswd ldapadd ldapmodify ldapsearch ldapwhoami openssl; do
  if ! command -v "$s2fa_ldap_tool" > /dev/null && [ ! -x "/usr/sbin/$s2fa_ldap_tool" ]; then
    echo "1..0 # SKIP $s2fa_ldap_tool is not installed"
    exit 0
  fi
done
S2FA_SLAPD=$(command -v slapd || echo /usr/sbin/slapd)
S2FA_SLAPADD=$(command -v slapadd || echo /usr/sbin/slapadd)
S2FA_SLAPPASSWD=$(command -v slappasswd || echo /usr/sbin/slappasswd)
S2FA_LDAP_SCHEMA_DIR=/etc/ldap/schema
[ -d "$S2FA_LDAP_SCHEMA_DIR" ] || S2FA_LDAP_SCHEMA_DIR=/etc/openldap/schema
S2FA_LDAP_MODULE_DIR=/usr/lib/ldap
[ -d "$S2FA_LDAP_MODULE_DIR" ] || S2FA_LDAP_MODULE_DIR=/usr/lib64/openldap

S2FA_LDAP=$T/ldap
mkdir -m 0755 "$S2FA_LDAP"
mkdir -m 0700 "$S2FA_LDAP/tls" "$S2FA_LDAP/db"

s2fa_ldapi_uri() {
  echo "ldapi://$(python3 -c '
import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")"
}

# Two free ports, chosen below the kernel's ephemeral range so that no outgoing connection
# (of this test or of another one running in parallel) takes one before slapd binds it.
s2fa_ldap_free_ports() {
  python3 - <<'PY'
import random, socket
low = 32768
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    pass
low = max(low, 12000)
ports = []
while len(ports) < 2:
    port = random.randrange(10000, low)
    if port in ports:
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    ports.append(port)
print(*ports)
PY
}

LDAP_BASE=dc=studio,dc=example
read -r LDAP_PORT LDAPS_PORT < <(s2fa_ldap_free_ports)
LDAP_URI_LDAPI=$(s2fa_ldapi_uri "$S2FA_LDAP/ldapi")
LDAP_URI=ldap://127.0.0.1:$LDAP_PORT
LDAP_URI_LDAPS=ldaps://127.0.0.1:$LDAPS_PORT
LDAP_CA=$S2FA_LDAP/tls/ca.crt
LDAP_BIND_DN=cn=studio2fad,ou=services,$LDAP_BASE
LDAP_BIND_PASSWORD_FILE=$S2FA_LDAP/bind.password
LDAP_LOG=$S2FA_LDAP/slapd.log
# The harness's own socket: what the ldap_* functions do there is not counted by ldap_ops_count.
S2FA_LDAP_ADMIN_SOCKET=$S2FA_LDAP/ldapi-harness
S2FA_LDAP_ADMIN_URI=$(s2fa_ldapi_uri "$S2FA_LDAP_ADMIN_SOCKET")
S2FA_LDAP_ROOT_DN=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth
S2FA_LDAP_FIXTURES=$top_srcdir/tests/integration/ldap_fixtures.ldif
S2FA_LDAP_PID=
: > "$LDAP_LOG"

(umask 077 && openssl rand -base64 24 | tr -d '\n/+=' > "$LDAP_BIND_PASSWORD_FILE")
chmod 0600 "$LDAP_BIND_PASSWORD_FILE"

# The EXIT trap in place now (lib.sh's "cleanup", or system_lib.sh's), run after slapd stops.
eval "s2fa_ldap_previous_trap=($(trap -p EXIT))"
S2FA_LDAP_PREVIOUS_TRAP=${s2fa_ldap_previous_trap[2]:-}
unset s2fa_ldap_previous_trap s2fa_ldap_tool
ldap_cleanup() {
  ldap_stop
  eval "$S2FA_LDAP_PREVIOUS_TRAP"
}
trap ldap_cleanup EXIT

# The harness's tools read no ~/.ldaprc or /etc/ldap/ldap.conf.
s2fa_ldap_root() {
  local tool=$1; shift
  LDAPNOINIT=1 "$tool" -Q -Y EXTERNAL -H "$S2FA_LDAP_ADMIN_URI" "$@"
}

ldap_modify() { s2fa_ldap_root ldapmodify; }
ldap_add() { s2fa_ldap_root ldapadd; }
ldap_search() { s2fa_ldap_root ldapsearch -LLL -o ldif-wrap=no -b "$LDAP_BASE" "$@"; }
ldap_user_dn() { ldap_search "(&(objectClass=posixAccount)(uid=$1))" 1.1 | sed -n 's/^dn: //p'; }

# s2fa_ldap_bail WHY: the directory is not usable; nothing after this would mean anything.
s2fa_ldap_bail() {
  echo "Bail out! $*"
  [ -s "$LDAP_LOG" ] && tail -n 20 "$LDAP_LOG" | sed 's/^/# slapd: /'
  exit 1
}

# --- building the directory (once per test) -------------------------------------------------
# s2fa_ldap_cert DIR CA_SUBJECT: DIR/ca.{crt,key} (a CA called CA_SUBJECT) and
# DIR/server.{crt,key} for localhost / 127.0.0.1, signed by it.
s2fa_ldap_cert() {
  local dir=$1 subject=$2
  mkdir -m 0700 "$dir"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "$subject" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2> /dev/null || return 1
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=localhost -keyout "$dir/server.key" -out "$dir/server.csr" 2> /dev/null || return 1
  printf '%s\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature \
    extendedKeyUsage=serverAuth subjectAltName=DNS:localhost,IP:127.0.0.1 > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 30 -extfile "$dir/server.ext" -out "$dir/server.crt" 2> /dev/null
}

s2fa_ldap_build() {
  local tls=$S2FA_LDAP/tls
  # The rogue CA copies the good one's subject: a client must check the signature, not a name.
  s2fa_ldap_cert "$tls/good" "/O=Studio Example/CN=Studio Test CA" &&
    s2fa_ldap_cert "$tls/rogue" "/O=Studio Example/CN=Studio Test CA" ||
    s2fa_ldap_bail "ldap_start: cannot make the test certificates"
  cp "$tls/good/ca.crt" "$LDAP_CA"

  mkdir -m 0700 "$S2FA_LDAP/slapd.d"
  # olcLogLevel 0: nothing to the machine's syslog; "-d stats" still writes $LDAP_LOG.
  cat > "$S2FA_LDAP/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $S2FA_LDAP/slapd.pid
olcLogLevel: 0
olcTLSCACertificateFile: $LDAP_CA
olcTLSCertificateFile: $tls/server.crt
olcTLSCertificateKeyFile: $tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $S2FA_LDAP_MODULE_DIR
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$S2FA_LDAP_SCHEMA_DIR/core.ldif
include: file://$S2FA_LDAP_SCHEMA_DIR/cosine.ldif
include: file://$S2FA_LDAP_SCHEMA_DIR/nis.ldif
include: file://$S2FA_LDAP_SCHEMA_DIR/inetorgperson.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=$S2FA_LDAP_ROOT_DN manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $S2FA_LDAP/db
olcDbMaxSize: 104857600
olcSuffix: $LDAP_BASE
olcRootDN: $S2FA_LDAP_ROOT_DN
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by dn.exact=$LDAP_BIND_DN read by users read by * none
LDIF
  "$S2FA_SLAPADD" -q -n0 -F "$S2FA_LDAP/slapd.d" -l "$S2FA_LDAP/config.ldif" \
    > "$S2FA_LDAP/slapadd.out" 2>&1 ||
    s2fa_ldap_bail "ldap_start: slapadd of the configuration failed:" \
      "$(cat "$S2FA_LDAP/slapadd.out")"
}

# The fixtures with their password placeholders replaced by {SSHA} hashes.
s2fa_ldap_fixtures() {
  local line password
  while IFS= read -r line; do
    case $line in
      'userPassword: @SERVICE_PASSWORD_SSHA@')
        echo "userPassword: $("$S2FA_SLAPPASSWD" -h '{SSHA}' -T "$LDAP_BIND_PASSWORD_FILE")" ;;
      'userPassword: @SSHA('*')@')
        password=${line#'userPassword: @SSHA('}
        password=${password%')@'}
        echo "userPassword: $("$S2FA_SLAPPASSWD" -h '{SSHA}' -s "$password")" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$S2FA_LDAP_FIXTURES"
}

s2fa_ldap_load() {
  local out
  out=$(s2fa_ldap_root ldapadd -f "$top_srcdir/schema/studio2fa.ldif" 2>&1) ||
    s2fa_ldap_bail "ldap_start: schema/studio2fa.ldif did not load: $out"
  s2fa_ldap_fixtures > "$S2FA_LDAP/fixtures.ldif"
  out=$(ldap_add < "$S2FA_LDAP/fixtures.ldif" 2>&1) ||
    s2fa_ldap_bail "ldap_start: the fixtures did not load: $out"
  touch "$S2FA_LDAP/loaded"
}

# --- running it -----------------------------------------------------------------------------
# s2fa_ldap_exited PID: PID is gone or a zombie (kill -0 still succeeds on a zombie).
s2fa_ldap_exited() {
  local state
  state=$(ps -o stat= -p "$1" 2> /dev/null) || return 0
  [[ $state == Z* ]]
}

ldap_start() {
  local cert=${1:-good}
  case $cert in good | rogue) ;; *) s2fa_ldap_bail "ldap_start: good or rogue, not '$cert'" ;; esac
  [ -n "$S2FA_LDAP_PID" ] && ldap_stop
  [ -d "$S2FA_LDAP/slapd.d" ] || s2fa_ldap_build
  cp "$S2FA_LDAP/tls/$cert/server.crt" "$S2FA_LDAP/tls/server.crt"
  cp "$S2FA_LDAP/tls/$cert/server.key" "$S2FA_LDAP/tls/server.key"

  # A marker line: connection numbers start again at 1000 after each start.
  echo "# ldap_lib: slapd start ($cert certificate)" >> "$LDAP_LOG"
  "$S2FA_SLAPD" -d stats -F "$S2FA_LDAP/slapd.d" \
    -h "$S2FA_LDAP_ADMIN_URI $LDAP_URI_LDAPI $LDAP_URI/ $LDAP_URI_LDAPS/" \
    < /dev/null >> "$LDAP_LOG" 2>&1 &
  S2FA_LDAP_PID=$!
  s2fa_ldap_await "$S2FA_LDAP_PID" s2fa_ldap_root || {
    S2FA_LDAP_PID=
    s2fa_ldap_bail "ldap_start: slapd exited at start (see $LDAP_LOG)"
  }
  [ -e "$S2FA_LDAP/loaded" ] || s2fa_ldap_load
  return 0
}

# s2fa_ldap_await PID ROOT-TOOL: waits until the slapd PID answers ROOT-TOOL ldapwhoami. Fails
# (and reaps it) if it exits first; bails out after 10 s.
s2fa_ldap_await() {
  local pid=$1 root=$2 deadline=$((SECONDS + 10))
  until "$root" ldapwhoami > /dev/null 2>&1; do
    if s2fa_ldap_exited "$pid"; then
      wait "$pid" 2> /dev/null
      return 1
    fi
    [ "$SECONDS" -lt "$deadline" ] || s2fa_ldap_bail "slapd (pid $pid) did not answer within 10 s"
    sleep 0.05
  done
}

# s2fa_ldap_terminate PID: stops that slapd (even paused) and waits for it to exit.
s2fa_ldap_terminate() {
  local pid=$1 deadline
  kill -CONT "$pid" 2> /dev/null
  kill -TERM "$pid" 2> /dev/null
  deadline=$((SECONDS + 10))
  until s2fa_ldap_exited "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2> /dev/null
      break
    fi
    sleep 0.05
  done
  wait "$pid" 2> /dev/null
}

ldap_stop() {
  [ -n "$S2FA_LDAP_PID" ] || return 0
  s2fa_ldap_terminate "$S2FA_LDAP_PID"
  S2FA_LDAP_PID=
  return 0
}

ldap_pause() {
  [ -n "$S2FA_LDAP_PID" ] || return 1
  kill -STOP "$S2FA_LDAP_PID"
}

ldap_resume() {
  [ -n "$S2FA_LDAP_PID" ] || return 1
  kill -CONT "$S2FA_LDAP_PID"
}

# Log lines look like "<time> <thread> conn=1003 op=2 SRCH base=..." (an operation may log
# several lines: counted once) and "conn=1003 fd=14 ACCEPT from IP=... (IP=<listener>)".
ldap_ops_count() {
  # Two passes over the log: slapd's threads may log a connection's first operation before its
  # ACCEPT line, so the harness's own connections are all known before anything is counted.
  awk -v kind="$1" -v harness="(PATH=$S2FA_LDAP_ADMIN_SOCKET)" '
    FNR == 1 { pass++; start = 0 }
    /^# ldap_lib: slapd start/ { start++; next }
    {
      for (i = 1; i < NF - 1; i++) if ($i ~ /^conn=[0-9]+$/) break
      if (i >= NF - 1) next
      connection = start SUBSEP $i
      if ($(i + 1) ~ /^fd=/ && $(i + 2) == "ACCEPT") {
        if ($NF == harness) skip[connection] = 1
        else if (pass == 2 && kind == "ACCEPT") n++
        next
      }
      if (pass == 1 || $(i + 1) !~ /^op=[0-9]+$/ || $(i + 2) != kind || (connection in skip)) next
      if (!((connection, $(i + 1)) in seen)) { seen[connection, $(i + 1)] = 1; n++ }
    }
    END { print n + 0 }
  ' "$LDAP_LOG" "$LDAP_LOG"
}

ldap_nss_users() {
  ldap_search '(objectClass=posixAccount)' uid uidNumber gidNumber cn homeDirectory loginShell |
    awk -F': ' -v known="$T/passwd" '
      BEGIN { while ((getline line < known) > 0) { split(line, f, ":"); have[f[1]] = 1 } }
      function flush() {
        if (a["uid"] != "" && !(a["uid"] in have))
          print a["uid"] ":x:" a["uidNumber"] ":" a["gidNumber"] ":" a["cn"] ":" \
                a["homeDirectory"] ":" (a["loginShell"] != "" ? a["loginShell"] : "/bin/sh")
        delete a
      }
      /^$/ { flush(); next }
      { a[$1] = substr($0, length($1) + 3) }
      END { flush() }
    ' >> "$T/passwd"
  ldap_search '(objectClass=posixGroup)' cn gidNumber memberUid |
    awk -F': ' -v known="$T/group" '
      BEGIN { while ((getline line < known) > 0) { split(line, f, ":"); have[f[1]] = 1 } }
      function flush() {
        if (cn != "" && !(cn in have)) print cn ":x:" gid ":" members
        cn = ""; gid = ""; members = ""
      }
      /^$/ { flush(); next }
      $1 == "cn" { cn = $2 }
      $1 == "gidNumber" { gid = $2 }
      $1 == "memberUid" { members = members (members == "" ? "" : ",") $2 }
      END { flush() }
    ' >> "$T/group"
}
