#!/bin/bash
# conf/studio2fad.service passes `systemd-analyze verify` (with the binaries and man pages it
# names in place) and keeps its hardening.
. "$top_srcdir/tests/integration/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
  echo "1..0 # SKIP systemd-analyze is not installed"; exit 0
fi
# The unit as make generates it, pointing at this build's binaries; its Documentation= pages
# from man/ (systemd-analyze runs man(1) on each).
sed "s|@sbindir@|$top_builddir|g" "$top_srcdir/conf/studio2fad.service.in" > "$T/studio2fad.service"
mkdir -p "$T/man/man5" "$T/man/man8"
cp "$top_srcdir"/man/*.5 "$T/man/man5/"
cp "$top_srcdir"/man/*.8 "$T/man/man8/"
out=$(cd "$T" && MANPATH="$T/man" systemd-analyze verify "$T/studio2fad.service" 2>&1)
check "systemd-analyze verify is clean${out:+ (got: $out)}" test -z "$out"

unit=$T/studio2fad.service
for directive in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
                 'RuntimeDirectory=studio2fa' 'RuntimeDirectoryMode=0755' \
                 'StateDirectory=studio2fa' 'StateDirectoryMode=0700' \
                 'ConfigurationDirectoryMode=0700' 'UMask=0077'; do
  check "the unit sets $directive" grep -qx "$directive" "$unit"
done
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
check "capabilities are bounded to a minimal set ($caps)" test "$caps" = CAP_DAC_READ_SEARCH
check "ExecStart runs the daemon in the foreground (logs to the journal)" \
  grep -qx "ExecStart=$top_builddir/studio2fad -f" "$unit"
check "the configuration is checked before start" \
  grep -qx "ExecStartPre=$top_builddir/studio2fad --check-config" "$unit"
finish
