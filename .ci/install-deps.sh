#!/bin/bash
# Installs everything studio2fa needs to build, run its demo and run its whole test suite on
# Debian 12 (run as root). Used by the README's commands and by .ci/run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  # build
  build-essential autoconf automake libtool pkg-config
  libpam0g-dev libldap2-dev libssl-dev libsqlite3-dev libqrencode-dev
  # the HTTPS sender of codes (libcurl with OpenSSL, as EL's libcurl)
  libcurl4-openssl-dev
  # tests: unit (CMocka), PAM and NSS wrappers, an independent TOTP generator, a QR decoder,
  # a fake clock, and the tools the test scripts call
  libcmocka-dev libpam-wrapper libpamtest0-dev libnss-wrapper oathtool zbar-tools faketime
  sqlite3 openssl python3 util-linux bsdutils procps man-db groff-base strace
  # tests against the real login programs (sshd, ssh, su, sudo) driven by expect; they run
  # in a private mount namespace and never use the machine's own configuration. (Where
  # services may start, installing openssh-server also starts the stock ssh service.)
  openssh-server openssh-client sudo expect mount
  # a real OpenLDAP server for the schema and directory tests (run privately by the tests)
  slapd ldap-utils
  # systemd-analyze, to verify the unit
  systemd
  # the benchmark's references (make bench): installed, never enabled in a PAM stack
  libpam-google-authenticator libpam-oath
  # the benchmark's name-service cache: it runs its own nscd over glibc's db source in a
  # private mount namespace (bench/warm_nss.sh); see below for the system-wide one
  nscd libnss-db
  # packaging tests (tests/packaging/): the RPM with Debian's rpmbuild, its SELinux module with
  # Debian's refpolicy devel files, the Debian package with debhelper, checked by lintian
  rpm bzip2 selinux-policy-dev checkpolicy debhelper dpkg-dev fakeroot lintian binutils
  # the .deb installed in a fresh Debian chroot (tests/packaging/chroot.sh; its base is made
  # once from the Debian mirror and cached in /var/cache/studio2fa-test)
  debootstrap
  # sanitizers, fuzzing and memory checks
  clang valgrind
  # libFuzzer and clang's sanitizer runtimes (only "recommended" by clang's packages)
  libclang-rt-14-dev
)
had_nscd=no
dpkg-query -W -f '${Status}' nscd 2> /dev/null | grep -q 'install ok installed' && had_nscd=yes
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
# Debian's nscd package starts a system-wide nscd. The tests' private mount namespaces (sshd,
# su, sudo) would then get passwd answers from the host's files through its socket, not from
# their own: one installed here is stopped and kept from starting. One the machine had before
# is left as it was.
if [ "$had_nscd" = no ]; then
  if command -v systemctl > /dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now nscd.service 2> /dev/null || true
  elif [ -x /etc/init.d/nscd ]; then
    /etc/init.d/nscd stop > /dev/null 2>&1 || true
    update-rc.d nscd disable > /dev/null 2>&1 || true
  fi
  pkill -x nscd 2> /dev/null || true
fi
