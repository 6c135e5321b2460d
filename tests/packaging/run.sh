#!/bin/bash
# The packaging tests: makes the release tarball once ("make dist" in a scratch build directory),
# runs tests/packaging/rpm.sh and deb.sh on it, then chroot.sh (the .deb installed, used, removed
# and purged in a fresh Debian chroot) and authselect.sh (the authselect recipe's PAM stacks
# through libpam). Each prints TAP; "not ok ... # TODO" is a
# known, expected failure (counted as passed, as automake's TAP driver does). Exits non-zero if
# any test failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

tarball=$(make_dist_tarball "$W/dist" 2> "$W/dist.log")
if [ -n "$tarball" ] && [ -f "$tarball" ]; then
  export S2FA_DIST_TARBALL=$tarball
else
  echo "# make dist failed; each test makes its own tarball"
  sed 's/^/# /' "$W/dist.log" | tail -20
fi

# deb.sh leaves the .deb here for chroot.sh, which installs it in a fresh Debian chroot.
export S2FA_DEB_DIR=$W/debs
mkdir -p "$S2FA_DEB_DIR"

status=0
for t in rpm deb chroot authselect; do
  echo "# --- tests/packaging/$t.sh ---"
  bash "$here/$t.sh" || status=1
done
exit $status
