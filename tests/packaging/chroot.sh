#!/bin/bash
# A sysadmin's first day from the Debian package, in a fresh Debian 12 minbase chroot: install
# the .deb built by deb.sh (S2FA_DEB_DIR, set by tests/packaging/run.sh), turn the
# pam-auth-update profile on, enroll a user, log in with pamtester and with su (through expect),
# try the stock sshd (password authentication, no keyboard-interactive) and show that it cannot
# lock the account, then the keyboard-interactive sshd the README asks for; then remove
# (refused while a hand-edited PAM file names the module; allowed once it is fixed, or with
# STUDIO2FA_FORCE_REMOVE=1), purge, and check that root logs in through the stock stacks and
# what is left on disk.
#
# The chroot runs in a private mount namespace (its /proc, a small /dev with a /dev/log this test
# listens on, /dev/pts) and shares only the loopback network for sshd. Its base, debootstrap
# --variant=minbase with the few packages the test needs, is made once and cached as a tarball
# under S2FA_CHROOT_CACHE (/var/cache/studio2fa-test); making it needs the Debian mirror
# (S2FA_DEBIAN_MIRROR, deb.debian.org by default) and takes minutes, extracting it seconds.
if [ "${S2FA_IN_NAMESPACE:-}" != 1 ]; then
  if [ "$(id -u)" -ne 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
    echo "ok 1 - chroot install test # SKIP needs root and mount namespaces"; echo "1..1"; exit 0
  fi
  exec unshare --mount --propagation private env S2FA_IN_NAMESPACE=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

for tool in debootstrap oathtool python3 chroot; do
  if ! command -v "$tool" > /dev/null; then
    skip "chroot install test" "$tool is not installed (apt-get install debootstrap oathtool)"
    finish
  fi
done
deb=$(ls "${S2FA_DEB_DIR:-/nonexistent}"/studio2fa_*.deb 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
  skip "chroot install test" "no .deb in S2FA_DEB_DIR (run through tests/packaging/run.sh)"
  finish
fi

# --- the cached base ----------------------------------------------------------------------------
suite=bookworm
include=libldap-2.5-0,libsqlite3-0,libssl3,libqrencode4,libcurl4,openssh-server,openssh-client,pamtester,expect,procps
cache=${S2FA_CHROOT_CACHE:-/var/cache/studio2fa-test}
mirror=${S2FA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=$cache/$suite-minbase-$(echo "$suite $include" | sha256sum | cut -c1-12).tar.gz
started=$SECONDS
if [ ! -f "$base" ]; then
  diag "no cached base at $base: debootstrap from $mirror (minutes)"
  mkdir -p "$cache"
  if debootstrap --variant=minbase --include="$include" "$suite" "$W/base" "$mirror" \
       > "$W/debootstrap.log" 2>&1; then
    rm -f "$W"/base/var/cache/apt/archives/*.deb
    tar -C "$W/base" --numeric-owner -czf "$base.tmp" . && mv "$base.tmp" "$base"
    rm -rf "$W/base"
  else
    tail -20 "$W/debootstrap.log" | sed 's/^/# /'
  fi
fi
if [ ! -f "$base" ]; then bail "a Debian $suite minbase base (debootstrap)"; fi
ok "Debian $suite minbase base $(basename "$base") ($((SECONDS - started)) s)"

R=$W/chroot
mkdir -p "$R"
tar -C "$R" -xzf "$base" || bail "extract the base"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=0755 tmpfs "$R/dev"
for node in null zero random urandom tty; do
  touch "$R/dev/$node"; mount --bind "/dev/$node" "$R/dev/$node"
done
mkdir -p "$R/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
# Nothing the packages install starts a service here (invoke-rc.d asks this first).
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 0755 "$R/usr/sbin/policy-rc.d"
# syslog: every line the module, the daemon and sshd send, in $W/syslog.txt.
python3 "$top_srcdir/tests/integration/syslog_listener.py" "$R/dev/log" "$W/syslog.txt" &
listener=$!
daemon_pid=
sshd_pid=
# The mounts go before the scratch directory does (rm must never walk into /proc or /dev).
end_chroot() {
  for pid in $sshd_pid $daemon_pid $listener; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  umount -R -l "$R/proc" "$R/dev" "$R/run" 2>/dev/null
  if mount | grep -qF " $R/"; then
    echo "# chroot mounts still there; leaving $W" >&2
  else
    cleanup
  fi
}
trap end_chroot EXIT
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# as_user USER COMMAND...: COMMAND in the chroot as USER.
as_user() {
  local user=$1; shift
  chroot --userspec="$user:$user" "$R" /usr/bin/env -i PATH=/usr/bin:/bin HOME="/home/$user" "$@"
}
cp "$deb" "$R/tmp/"
cp "$top_srcdir/tests/integration/answer_prompts.exp" "$R/tmp/"
debfile=/tmp/$(basename "$deb")

# --- install ---------------------------------------------------------------------------------------
stock_common_auth=$(cat "$R/etc/pam.d/common-auth")
if in_root dpkg -i "$debfile" > "$W/install.log" 2>&1; then
  ok "dpkg -i $(basename "$deb") in the fresh chroot"
else
  sed 's/^/# /' "$W/install.log" | tail -20
  bail "dpkg -i $(basename "$deb") in the fresh chroot"
fi
check "installing changed no PAM file (common-auth as it was)" \
  test "$(cat "$R/etc/pam.d/common-auth")" = "$stock_common_auth"
check "postinst enabled studio2fad.service" \
  test -L "$R/etc/systemd/system/multi-user.target.wants/studio2fad.service"
check "/etc/studio2fa is 0700" test "$(stat -c %a "$R/etc/studio2fa")" = 700
check "the examples are in /usr/share/doc/studio2fa/examples" test -f "$R/usr/share/doc/studio2fa/examples/login"

# No systemd here: started by hand, as in a container. It makes /run/studio2fa itself.
start_daemon() {
  # chroot itself in the background (not a function), so that $! is the daemon.
  chroot "$R" /usr/sbin/studio2fad -f >> "$W/daemon.log" 2>&1 &
  daemon_pid=$!
  local i
  for i in $(seq 1 100); do
    [ -S "$R/run/studio2fa/studio2fad.sock" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
stop_daemon() { kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; daemon_pid=; }
check "studio2fad starts (no systemd: by hand)" start_daemon
check "the socket directory it made is open to users (0755)" \
  test "$(stat -c %a "$R/run/studio2fa")" = 755

in_root useradd -m -s /bin/bash alice
in_root useradd -m -s /bin/bash bob
# Letters and digits: the kind of password sshd's old behaviour turned into wrong backup codes.
printf 'alice:Alice2024Passw0rd\nbob:Bob2024Passw0rd\nroot:Root2024Passw0rd\n' | in_root chpasswd

# --- the profile ---------------------------------------------------------------------------------
in_root env DEBIAN_FRONTEND=noninteractive pam-auth-update --enable studio2fa > "$W/pam-auth-update.log" 2>&1
check "pam-auth-update --enable studio2fa: common-auth asks for the code after pam_unix" \
  grep -qE '^auth[[:space:]]+required[[:space:]]+pam_studio2fa\.so otp_only' "$R/etc/pam.d/common-auth"
check "check-removal does not count the profile's own lines" in_root /usr/libexec/studio2fa/check-removal

# --- enroll, then log in ---------------------------------------------------------------------------
code_for() { oathtool --totp -b "$1" --now "@$(( $(date +%s) + ${2:-0} ))"; }
# Waits for the start of a fresh 30 s step, so that a new code is due (a code is accepted once).
next_step() { sleep $(( 30 - $(date +%s) % 30 )); }
enroll_user() {
  local user=$1 fifo=$R/tmp/enroll.fifo out=$W/enroll.$1.out i uri
  rm -f "$fifo"; mkfifo -m 0666 "$fifo"
  as_user "$user" studio2fa enroll --no-qr < "$fifo" > "$out" 2>&1 &
  local pid=$!
  exec 9> "$fifo"
  for i in $(seq 1 100); do grep -q '^otpauth://' "$out" 2>/dev/null && break; sleep 0.05; done
  uri=$(grep '^otpauth://' "$out" | head -n1)
  SECRET=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<< "$uri")
  code_for "$SECRET" >&9
  exec 9>&-
  wait "$pid"
}
check "alice enrolls with studio2fa enroll, as herself" enroll_user alice
A=$SECRET

# pamtester SERVICE USER ANSWER...: one authentication through the chroot's real PAM stack.
# PT_TTY, when set, is the PAM_TTY the login program would set.
pamtest() {
  local service=$1 user=$2; shift 2
  PT_OUT=$(printf '%s\n' "$@" | in_root pamtester ${PT_TTY:+-I tty="$PT_TTY"} "$service" "$user" authenticate 2>&1)
}
pamtest_ok() { grep -q 'successfully authenticated' <<< "$PT_OUT"; }
next_step
pamtest login alice 'Alice2024Passw0rd' "$(code_for "$A")"
check "pamtester login alice: password, then code (the profile's stack)" pamtest_ok
pamtest login alice 'Alice2024Passw0rd' '000000'
check "pamtester login alice: a wrong code is refused" bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
pamtest login bob 'Bob2024Passw0rd'
check "pamtester login bob (not enrolled): the password alone" pamtest_ok

next_step
# su_from_bob TARGET ANSWER...: the real (setuid) su, run by bob on a pseudo-terminal.
su_from_bob() {
  local target=$1; shift
  SU_OUT=$(as_user bob expect /tmp/answer_prompts.exp $# "$@" su "$target" -c 'echo SU-AS-$(id -un)' 2>&1)
}
su_from_bob alice 'Alice2024Passw0rd' "$(code_for "$A")"
su_out=$SU_OUT
check "su alice from bob, through expect: password, code, shell" grep -q 'SU-AS-alice' <<< "$su_out"
check "su asked 'Verification code: '" grep -q 'Verification code: ' <<< "$su_out"

# --- sshd as Debian ships it: password authentication, keyboard-interactive off --------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_sshd() {
  local port=$1; shift
  mkdir -p "$R/run/sshd"
  chroot "$R" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 "$@" >> "$W/sshd.log" 2>&1 &
  sshd_pid=$!
  local i
  for i in $(seq 1 100); do
    grep -q "Server listening on 127.0.0.1 port $port" "$W/sshd.log" && return 0
    sleep 0.05
  done
  return 1
}
stop_sshd() { kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null; sshd_pid=; }
ssh_as() {
  local port=$1 user=$2; shift 2
  SSH_OUT=$(in_root expect /tmp/answer_prompts.exp $# "$@" ssh -p "$port" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no \
    -o NumberOfPasswordPrompts=1 "$user@127.0.0.1" 'echo SSH-AS-$(id -un)' 2>&1)
}
port=$(free_port)
if start_sshd "$port"; then
  ok "stock sshd_config on 127.0.0.1:$port ($(in_root sshd -T -p "$port" | grep -Ei '^(kbdinteractiveauthentication|passwordauthentication) ' | tr '\n' ' '))"
  for attempt in 1 2 3 4; do
    ssh_as "$port" alice 'Alice2024Passw0rd'
    check "stock sshd, attempt $attempt: alice's password is not enough (no code can be asked)" \
      bash -c '! grep -q SSH-AS-alice <<< "$0"' "$SSH_OUT"
  done
  stop_sshd
  status=$(in_root studio2fa-admin status alice)
  check "after those, alice is not locked" grep -qx 'locked: no' <<< "$status"
  check "... and has no wrong code counted" grep -qx 'failures: 0' <<< "$status"
  check "syslog says the code prompt got the password and what to set" \
    grep -q 'the answer to the code prompt for alice (service sshd) was the password.*KbdInteractiveAuthentication yes' "$W/syslog.txt"
  check "no password in syslog" bash -c '! grep -q Alice2024Passw0rd "$0"' "$W/syslog.txt"
  next_step
  pamtest login alice 'Alice2024Passw0rd' "$(code_for "$A")"
  check "alice still logs in at the console with password and code" pamtest_ok

  # The README's sshd settings: keyboard-interactive asks for the code.
  port=$(free_port)
  if start_sshd "$port" -o KbdInteractiveAuthentication=yes -o PasswordAuthentication=no \
       -o AuthenticationMethods=keyboard-interactive; then
    next_step
    ssh_as "$port" alice 'Alice2024Passw0rd' "$(code_for "$A")"
    check "sshd with keyboard-interactive: password, then code, logs in" grep -q SSH-AS-alice <<< "$SSH_OUT"
    stop_sshd
  else
    not_ok "sshd with keyboard-interactive starts"; sed 's/^/# /' "$W/sshd.log" | tail -5
  fi
else
  not_ok "stock sshd starts"; sed 's/^/# /' "$W/sshd.log" | tail -5
fi

# --- break-glass (README): root at a local text console with the password alone ---------------------
stop_daemon
pamtest login alice 'Alice2024Passw0rd' "$(code_for "$A")"
check "daemon down: the profile's stack refuses everyone (alice)" bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
pamtest login root 'Root2024Passw0rd'
check "daemon down: ... and root" bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
cp "$R/etc/pam.d/login" "$W/login.stock"
# The two lines of the README's "Break-glass" section, before "@include common-auth".
awk '/^@include common-auth/ && !done {
       print "auth  [success=ok default=1]    pam_succeed_if.so quiet uid eq 0 tty =~ tty[0-9]*"
       print "auth  [success=done default=die] pam_unix.so"; done = 1 } { print }' \
  "$W/login.stock" > "$R/etc/pam.d/login"
PT_TTY=tty1 pamtest login root 'Root2024Passw0rd'
check "break-glass: daemon down, root on tty1 logs in with the password" pamtest_ok
PT_TTY=tty1 pamtest login root 'not-the-password'
check "break-glass: ... but not with a wrong one" bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
PT_TTY=pts/0 pamtest login root 'Root2024Passw0rd'
check "break-glass: root on pts/0 does not" bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
PT_TTY=tty1 pamtest login alice 'Alice2024Passw0rd' "$(code_for "$A")"
check "break-glass: alice on tty1 does not" bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
su_from_bob root 'Root2024Passw0rd'
check "break-glass: su to root (from bob) does not: not in its stack" bash -c '! grep -q SU-AS-root <<< "$0"' "$SU_OUT"
cp "$W/login.stock" "$R/etc/pam.d/login"
check "studio2fad starts again" start_daemon

# --- removal ---------------------------------------------------------------------------------------
deb_state() { in_root dpkg-query -W -f='${db:Status-Abbrev}' studio2fa 2>/dev/null; }
# The README's other way: the shipped example replaces /etc/pam.d/login by hand.
cp "$R/usr/share/doc/studio2fa/examples/login" "$R/etc/pam.d/login"
module=$(in_root dpkg -L studio2fa | grep '/security/pam_studio2fa\.so$')
out=$(in_root dpkg -r studio2fa 2>&1)
# dpkg keeps the wish to remove ("r") but the package stays installed ("i"), module and all.
state=$(deb_state)
check "dpkg -r is refused while /etc/pam.d/login names the module (state '$state')" \
  test "${state:1:1}" = i -a -f "$R$module"
check "... and the refusal names the file" grep -q '^    /etc/pam.d/login$' <<< "$out"
check "... and says how to force it" grep -q 'STUDIO2FA_FORCE_REMOVE=1' <<< "$out"
check "the profile is still on after the refusal" grep -q pam_studio2fa "$R/etc/pam.d/common-auth"

cp "$W/login.stock" "$R/etc/pam.d/login"
out=$(in_root dpkg -r studio2fa 2>&1)
check "with the file fixed, dpkg -r removes the package" test "$(deb_state)" = "rc "
check "... and the profile's line is out of common-auth" bash -c '! grep -q pam_studio2fa "$0"' "$R/etc/pam.d/common-auth"
check "remove keeps the master key and the database" \
  test -f "$R/etc/studio2fa/master.key" -a -f "$R/var/lib/studio2fa/studio2fa.db"

in_root dpkg -i "$debfile" > "$W/reinstall.log" 2>&1
check "reinstalled: the profile stays off" bash -c '! grep -q pam_studio2fa "$0"' "$R/etc/pam.d/common-auth"
cp "$R/usr/share/doc/studio2fa/examples/login" "$R/etc/pam.d/login"
out=$(in_root env STUDIO2FA_FORCE_REMOVE=1 dpkg -r studio2fa 2>&1)
check "STUDIO2FA_FORCE_REMOVE=1 dpkg -r removes it anyway" test "$(deb_state)" = "rc "
check "... with a warning naming the file" grep -q '^    /etc/pam.d/login$' <<< "$out"
pamtest login root 'Root2024Passw0rd'
check "... which is why it is refused: login through the edited file fails" \
  bash -c '! grep -q successfully <<< "$0"' "$PT_OUT"
cp "$W/login.stock" "$R/etc/pam.d/login"

stop_daemon
out=$(in_root dpkg -P studio2fa 2>&1)
check "dpkg -P purges the package" test -z "$(deb_state)"
check "purge says the key and the database are deleted" grep -q 'deleting the master key and the database' <<< "$out"
check "purge removed /etc/studio2fa (the master key)" test ! -e "$R/etc/studio2fa"
check "purge removed /var/lib/studio2fa (the database)" test ! -e "$R/var/lib/studio2fa"
left=$(cd "$R" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp \) -prune -o \
  -iname '*studio2fa*' -print | sed 's|^\.||')
diag "left on disk after purge: ${left:-nothing}"
check "nothing of studio2fa is left on disk but the deb copied to /tmp" test -z "$left"
check "no PAM file names the module" bash -c '! grep -rq pam_studio2fa "$0"' "$R/etc/pam.d"

pamtest login root 'Root2024Passw0rd'
check "root logs in through the stock login stack (pamtester)" pamtest_ok
su_from_bob root 'Root2024Passw0rd'
check "su to root (from bob) through the stock su stack" grep -q SU-AS-root <<< "$SU_OUT"

# A reinstall after the purge starts afresh: alice is not enrolled any more.
in_root dpkg -i "$debfile" > "$W/reinstall2.log" 2>&1
check "daemon starts after the reinstall" start_daemon
status=$(in_root studio2fa-admin status alice 2>&1)
check "after purge and reinstall, alice's old enrollment is gone (2fa: off)" grep -qx '2fa: off' <<< "$status"
stop_daemon

diag "chroot test: $((SECONDS - started)) s"
finish
