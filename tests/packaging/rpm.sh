#!/bin/bash
# The RPM, as far as Debian allows: rpmbuild (Debian's rpm) builds packaging/rpm/studio2fa.spec
# from the release tarball, with tests/packaging/rpm-macros standing in for the EL macros Debian
# lacks (their scriptlets become recognisable echos), and with dependency checks off (the rpm
# database here is empty). Then the file list, the config files, the modes, the scriptlets and the
# glibc / libstdc++ symbol versions of every ELF file are checked. %check runs too (unit tests).
#
# The -selinux subpackage is built with Debian's selinux-policy-dev (the refpolicy devel
# Makefile) when it is installed, else skipped with "--without selinux".
. "$(dirname "$0")/lib.sh"

if ! command -v rpmbuild > /dev/null; then
  skip "rpmbuild" "rpmbuild is not installed (apt-get install rpm)"
  finish
fi

dist_tarball

top=$W/rpmbuild
mkdir -p "$top/SOURCES"
cp "$TARBALL" "$top/SOURCES/"
spec=$top_srcdir/packaging/rpm/studio2fa.spec
with_selinux=--with
if [ ! -f /usr/share/selinux/devel/Makefile ]; then
  with_selinux=--without
  diag "no /usr/share/selinux/devel/Makefile (selinux-policy-dev): building --without selinux"
fi
if rpmbuild -bb --nodeps --define "_topdir $top" --load "$top_srcdir/tests/packaging/rpm-macros" \
     "$with_selinux" selinux "$spec" > "$W/rpmbuild.log" 2>&1; then
  ok "rpmbuild -bb $with_selinux selinux (%check: $(grep -o '^# PASS: *[0-9]*' "$W/rpmbuild.log" | tr -s ' ' | tail -n1))"
else
  tail -40 "$W/rpmbuild.log" | sed 's/^/# /'
  bail "rpmbuild -bb $with_selinux selinux"
fi

rpm=$(ls "$top"/RPMS/*/studio2fa-"$S2FA_VERSION"-*.rpm | grep -v -- -selinux- | head -n1)
files=$(rpm -qlp "$rpm")
listed() { grep -qxF -- "$1" <<< "$files"; }
for path in /usr/lib64/security/pam_studio2fa.so /usr/sbin/studio2fad /usr/sbin/studio2fa-admin \
            /usr/bin/studio2fa /usr/lib/systemd/system/studio2fad.service \
            /usr/lib/tmpfiles.d/studio2fa.conf /etc/studio2fa/studio2fad.conf /etc/studio2fa \
            /var/lib/studio2fa /run/studio2fa; do
  check "package has $path" listed "$path"
done
for page in man1/studio2fa.1 man5/studio2fad.conf.5 man8/pam_studio2fa.8 man8/studio2fad.8 \
            man8/studio2fa-admin.8; do
  check "package has the man page $page" grep -qE "^/usr/share/man/$page(\.gz|\.bz2|\.xz)?$" <<< "$files"
done
check "no libtool archive in the package" bash -c '! grep -q "\.la$" <<< "$0"' "$files"
check "nothing under /lib or /usr/lib/x86_64-linux-gnu (Debian paths)" \
  bash -c '! grep -qE "^/lib/|^/usr/lib/x86_64-linux-gnu" <<< "$0"' "$files"

check "studio2fad.conf is the only config file" test "$(rpm -qcp "$rpm")" = /etc/studio2fa/studio2fad.conf
flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm")
check "studio2fad.conf is %config(noreplace)" grep -qE '^[a-z]*c[a-z]*n[a-z]* /etc/studio2fa/studio2fad.conf$' <<< "$flags"
check "/run/studio2fa is %ghost" grep -qE '^[a-z]*g[a-z]* /run/studio2fa$' <<< "$flags"
modes=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm")
check "/etc/studio2fa is drwx------ root:root" grep -qxF 'drwx------ root:root /etc/studio2fa' <<< "$modes"
check "/var/lib/studio2fa is drwx------ root:root" grep -qxF 'drwx------ root:root /var/lib/studio2fa' <<< "$modes"
check "studio2fad.conf is -rw-r--r-- root:root" \
  grep -qxF -- '-rw-r--r-- root:root /etc/studio2fa/studio2fad.conf' <<< "$modes"

scripts=$(rpm -qp --scripts "$rpm")
diag "scriptlets:"; sed 's/^/#   /' <<< "$scripts"
check "%post: systemd_post studio2fad.service" \
  grep -qF 'S2FA-TEST-MACRO systemd_post studio2fad.service' <<< "$scripts"
check "%post: tmpfiles_create studio2fa.conf" \
  grep -qF 'S2FA-TEST-MACRO tmpfiles_create studio2fa.conf' <<< "$scripts"
check "%preun: systemd_preun studio2fad.service" \
  grep -qF 'S2FA-TEST-MACRO systemd_preun studio2fad.service' <<< "$scripts"
check "%postun: systemd_postun_with_restart studio2fad.service" \
  grep -qF 'S2FA-TEST-MACRO systemd_postun_with_restart studio2fad.service' <<< "$scripts"
check "package has /usr/libexec/studio2fa/check-removal" listed /usr/libexec/studio2fa/check-removal
# The documentation directory is studio2fa/ on EL, studio2fa-VERSION/ with Debian's rpm.
for example in generic-json-gateway.conf twilio-style-form.conf sms-command.example; do
  check "package has the code sender example $example" \
    grep -qE "^/usr/share/doc/studio2fa[^/]*/sender-examples/$example\$" <<< "$files"
done
check "%preun: erasing runs check-removal and stops when it refuses" \
  bash -c 'sed -n "/^preuninstall scriptlet/,/^[a-z]* scriptlet/p" <<< "$0" |
    grep -qF "/usr/libexec/studio2fa/check-removal || exit 1"' "$scripts"
check "scriptlets use only the macros (no hand-written systemctl)" \
  bash -c '! grep -v S2FA-TEST-MACRO <<< "$0" | grep -q systemctl' "$scripts"
check "no scriptlet touches the PAM stack (pam.d, authselect, pam-auth-update, pam_studio2fa)" \
  bash -c '! grep -qiE "pam\.d|authselect|pam-auth-update|pam_studio2fa|system-auth|password-auth" <<< "$0"' "$scripts"
check "%description says installing does not change the PAM configuration" \
  bash -c 'rpm -qp --qf "%{DESCRIPTION}" "$0" | tr "\n" " " | grep -q "does not change the PAM configuration"' "$rpm"

x=$W/root
mkdir -p "$x"
(cd "$x" && rpm2archive - < "$rpm" | tar xzf -)
check "unit runs /usr/sbin/studio2fad" grep -qx 'ExecStart=/usr/sbin/studio2fad -f' \
  "$x/usr/lib/systemd/system/studio2fad.service"
check "tmpfiles.d: d /run/studio2fa 0755 root root -" \
  grep -qxE 'd +/run/studio2fa +0755 +root +root +-' "$x/usr/lib/tmpfiles.d/studio2fa.conf"
check "authselect recipe in the documentation" bash -c 'ls "$0"/usr/share/doc/studio2fa*/authselect-README.md > /dev/null 2>&1' "$x"

if [ "$with_selinux" = --with ]; then
  selinux_rpm=$(ls "$top"/RPMS/noarch/studio2fa-selinux-"$S2FA_VERSION"-*.noarch.rpm 2>/dev/null | head -n1)
  if [ -n "$selinux_rpm" ]; then
    ok "studio2fa-selinux subpackage built (noarch)"
    sfiles=$(rpm -qlp "$selinux_rpm")
    check "-selinux has the module" grep -qxF /usr/share/selinux/packages/targeted/studio2fa.pp.bz2 <<< "$sfiles"
    check "-selinux has the interface file" \
      grep -qxF /usr/share/selinux/devel/include/distributed/studio2fa.if <<< "$sfiles"
    sscripts=$(rpm -qp --scripts "$selinux_rpm")
    check "-selinux %post: selinux_modules_install -s targeted" \
      grep -qF 'S2FA-TEST-MACRO selinux_modules_install -s targeted /usr/share/selinux/packages/targeted/studio2fa.pp.bz2' <<< "$sscripts"
    check "-selinux %postun: selinux_modules_uninstall on erase only" \
      grep -qF 'S2FA-TEST-MACRO selinux_modules_uninstall -s targeted studio2fa' <<< "$sscripts"
    check "-selinux scriptlets do not touch the PAM stack" \
      bash -c '! grep -qiE "pam\.d|authselect|pam-auth-update" <<< "$0"' "$sscripts"
    mkdir -p "$W/selinux"
    (cd "$W/selinux" && rpm2archive - < "$selinux_rpm" | tar xzf -)
    magic=$(bzip2 -dc "$W/selinux/usr/share/selinux/packages/targeted/studio2fa.pp.bz2" | head -c 4 | od -An -tx1 | tr -d ' \n')
    check "studio2fa.pp.bz2 is a SELinux policy package (magic $magic)" test "$magic" = 8fff7cf9
  else
    not_ok "studio2fa-selinux subpackage built (noarch)"
  fi
else
  skip "studio2fa-selinux subpackage" "built --without selinux (no selinux-policy-dev here)"
fi

# glibc and libstdc++ symbol versions of every ELF file in the package.
while read -r path; do
  f=$x$path
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || continue
  check_elf_compat "$f" "${path#/usr/}"
done <<< "$files"
check "the PAM module needs no libstdc++ (no GLIBCXX or CXXABI symbol)" \
  bash -c '! objdump -T "$0" | grep -qE "GLIBCXX_|CXXABI_"' "$x/usr/lib64/security/pam_studio2fa.so"

finish
