#!/bin/bash
# The Debian package: debian/ is copied into the unpacked release tarball in a scratch directory
# (nothing is built in the source tree), "dpkg-buildpackage -us -uc -b" builds it, lintian must
# show no error, and the package's contents, pam-configs profile and maintainer scripts are
# checked. DEB_BUILD_OPTIONS=nocheck skips dh_auto_test (make check) to keep the time down: the
# unit tests run in the main test stage and in the RPM's %check.
. "$(dirname "$0")/lib.sh"

for tool in dpkg-buildpackage dh lintian; do
  if ! command -v "$tool" > /dev/null; then
    skip "Debian package" "$tool is not installed (apt-get install dpkg-dev debhelper lintian)"
    finish
  fi
done

dist_tarball

mkdir -p "$W/deb"
tar -xzf "$TARBALL" -C "$W/deb"
src=$W/deb/studio2fa-$S2FA_VERSION
cp -a "$top_srcdir/debian" "$src/"
if (cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) > "$W/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b"
else
  tail -40 "$W/build.log" | sed 's/^/# /'
  bail "dpkg-buildpackage -us -uc -b"
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb=$W/deb/studio2fa_$S2FA_VERSION-1_$arch.deb
changes=$W/deb/studio2fa_$S2FA_VERSION-1_${arch}.changes
check "built $(basename "$deb")" test -f "$deb"
if [ -n "${S2FA_DEB_DIR:-}" ] && [ -f "$deb" ]; then cp "$deb" "$S2FA_DEB_DIR/"; fi

# lintian as root warns that it should not run as root; that line is not a finding.
lintian --tag-display-limit 0 --info "$changes" > "$W/lintian.log" 2>&1
lintian_rc=$?
grep -v '^N:' "$W/lintian.log" | grep -v 'running with root privileges' | sed 's/^/# lintian: /'
errors=$(grep -c '^E:' "$W/lintian.log")
warnings=$(grep -c '^W:' "$W/lintian.log")
diag "lintian: $errors errors, $warnings warnings"
check "lintian shows no errors (exit $lintian_rc)" test "$errors" -eq 0 -a "$lintian_rc" -eq 0

contents=$(dpkg -c "$deb" | awk '{ print $1, $2, $NF }')
has() { grep -qE " \./$1/?$" <<< "$contents"; }
check "module in /lib/$multiarch/security" has "lib/$multiarch/security/pam_studio2fa.so"
check "no libtool archive" bash -c '! grep -q "\.la$" <<< "$0"' "$contents"
check "pam-auth-update profile /usr/share/pam-configs/studio2fa" has usr/share/pam-configs/studio2fa
check "systemd unit /lib/systemd/system/studio2fad.service" has lib/systemd/system/studio2fad.service
check "studio2fad.conf in /etc/studio2fa" has etc/studio2fa/studio2fad.conf
for program in usr/sbin/studio2fad usr/sbin/studio2fa-admin usr/bin/studio2fa; do
  check "$program" has "$program"
done
for page in man1/studio2fa.1 man5/studio2fad.conf.5 man8/pam_studio2fa.8 man8/studio2fad.8 \
            man8/studio2fa-admin.8; do
  check "man page $page" has "usr/share/man/$page.gz"
done
check "example PAM files in /usr/share/doc/studio2fa/examples" has usr/share/doc/studio2fa/examples/sudo
check "README.Debian in /usr/share/doc/studio2fa" has usr/share/doc/studio2fa/README.Debian
for example in generic-json-gateway.conf twilio-style-form.conf sms-command.example; do
  check "code sender example $example in /usr/share/doc/studio2fa/examples" \
    has "usr/share/doc/studio2fa/examples/$example"
done
check "Depends names libcurl (the HTTPS sender)" \
  grep -qE '(^|[ ,])libcurl4( |,|$)' <<< "$(dpkg-deb -f "$deb" Depends)"

x=$W/root
dpkg-deb -x "$deb" "$x"
dpkg-deb -e "$deb" "$x/DEBIAN"
profile=$x/usr/share/pam-configs/studio2fa
check "profile: Name: studio2fa two-factor authentication" \
  grep -qx 'Name: studio2fa two-factor authentication' "$profile"
check "profile: Default: no (installing does not turn it on)" grep -qx 'Default: no' "$profile"
check "profile: Priority: 0 (after the others)" grep -qx 'Priority: 0' "$profile"
check "profile: Auth-Type: Additional (after the primary password module)" \
  grep -qx 'Auth-Type: Additional' "$profile"
check "profile: Auth: required pam_studio2fa.so otp_only" \
  bash -c 'sed -n "/^Auth:/,/^[^[:space:]]/p" "$0" | grep -qE "^[[:space:]]+required[[:space:]]+pam_studio2fa\.so otp_only$"' "$profile"
check "conffiles: /etc/studio2fa/studio2fad.conf" grep -qx /etc/studio2fa/studio2fad.conf "$x/DEBIAN/conffiles"
check "unit runs /usr/sbin/studio2fad" grep -qx 'ExecStart=/usr/sbin/studio2fad -f' \
  "$x/lib/systemd/system/studio2fad.service"

code() { grep -v '^[[:space:]]*#' "$1" 2>/dev/null; }
check "postinst never runs pam-auth-update" bash -c '! grep -q pam-auth-update <<< "$0"' "$(code "$x/DEBIAN/postinst")"
check "no maintainer script writes /etc/pam.d" \
  bash -c '! cat "$@" 2>/dev/null | grep -v "^[[:space:]]*#" | grep -q "/etc/pam.d"' _ "$x"/DEBIAN/{preinst,postinst,prerm,postrm}
prerm_pam=$(code "$x/DEBIAN/prerm" | grep pam-auth-update)
check "prerm only takes the profile out (pam-auth-update --package --remove studio2fa)" \
  bash -c 'test -n "$0" && ! grep -v -- "pam-auth-update --package --remove studio2fa$" <<< "$0"' "$prerm_pam"
check "removal check /usr/libexec/studio2fa/check-removal" has usr/libexec/studio2fa/check-removal
check "prerm runs check-removal before taking the profile out" \
  bash -c 'code=$(grep -v "^[[:space:]]*#" "$0"); c=$(grep -n "/usr/libexec/studio2fa/check-removal$" <<< "$code" | cut -d: -f1);
    p=$(grep -n "pam-auth-update --package --remove" <<< "$code" | cut -d: -f1); [ -n "$c" ] && [ -n "$p" ] && [ "$c" -lt "$p" ]' "$x/DEBIAN/prerm"
check "postrm purge deletes the master key and the database" \
  bash -c 'grep -q "rm -f /etc/studio2fa/master.key" "$0" && grep -q "rm -rf /var/lib/studio2fa" "$0"' "$x/DEBIAN/postrm"
check "postinst makes /etc/studio2fa 0700" grep -q 'chmod 0700 /etc/studio2fa' "$x/DEBIAN/postinst"
check "postinst has the dh_installsystemd snippet for studio2fad.service" \
  grep -q "deb-systemd-helper enable 'studio2fad.service'" "$x/DEBIAN/postinst"

# The postinst's own part, run against a scratch root: creates the directory 0700 when missing.
fake=$W/fakeroot-etc
mkdir -p "$fake"
sed -n '1,/^#DEBHELPER#/p' "$top_srcdir/debian/studio2fa.postinst" | sed "s|/etc/studio2fa|$fake/studio2fa|g" |
  grep -v '^#DEBHELPER#' > "$W/postinst-part"
sh "$W/postinst-part" configure
check "postinst creates a missing /etc/studio2fa as 0700" test "$(stat -c %a "$fake/studio2fa" 2>/dev/null)" = 700
chmod 0755 "$fake/studio2fa"
sh "$W/postinst-part" configure
check "postinst closes an existing /etc/studio2fa to 0700" test "$(stat -c %a "$fake/studio2fa")" = 700

# pam-auth-update with the packaged profile, in a private mount namespace over copies of
# /etc/pam.d, /usr/share/pam-configs, /var/lib/pam and the debconf database: the machine's own
# files are never touched.
if command -v pam-auth-update > /dev/null && command -v unshare > /dev/null; then
  p=$W/pam
  mkdir -p "$p/out"
  cp -a /etc/pam.d "$p/pam.d"
  cp -a /usr/share/pam-configs "$p/pam-configs"
  cp "$profile" "$p/pam-configs/studio2fa"
  cp -a /var/lib/pam "$p/var-lib-pam"
  cp -a /var/cache/debconf "$p/debconf"
  unshare --mount --propagation private bash -c '
    set -e
    p=$1
    mount --bind "$p/pam.d" /etc/pam.d
    mount --bind "$p/pam-configs" /usr/share/pam-configs
    mount --bind "$p/var-lib-pam" /var/lib/pam
    mount --bind "$p/debconf" /var/cache/debconf
    export DEBIAN_FRONTEND=noninteractive
    pam-auth-update --package
    cp /etc/pam.d/common-auth "$p/out/installed"
    pam-auth-update --enable studio2fa
    cp /etc/pam.d/common-auth "$p/out/enabled"
    pam-auth-update --package --remove studio2fa
    cp /etc/pam.d/common-auth "$p/out/removed"
  ' _ "$p" > "$p/log" 2>&1 || sed 's/^/# /' "$p/log"
  auth_lines() { grep -E '^auth[[:space:]]' "$1" 2>/dev/null | tr -s ' \t' ' '; }
  check "pam-auth-update --package: profile registered, common-auth unchanged (Default: no)" \
    bash -c 'test -s "$0" && ! grep -q pam_studio2fa "$0"' "$p/out/installed"
  enabled=$(auth_lines "$p/out/enabled")
  diag "common-auth with the profile enabled:"; sed 's/^/#   /' <<< "$enabled"
  check "--enable studio2fa: common-auth has auth required pam_studio2fa.so otp_only" \
    grep -qx "auth required pam_studio2fa.so otp_only *" <<< "$enabled"
  check "--enable studio2fa: the code comes after the password module and pam_deny/pam_permit" \
    bash -c 'grep -n . <<< "$0" | awk -F: "/pam_permit.so/ { p = \$1 } /pam_studio2fa.so/ { s = \$1 } END { exit !(p && s > p) }"' "$enabled"
  check "pam-auth-update --package --remove studio2fa (the prerm): the line is gone" \
    bash -c 'test -s "$0" && ! grep -q pam_studio2fa "$0"' "$p/out/removed"
else
  skip "pam-auth-update with the profile" "pam-auth-update or unshare missing"
fi

finish
