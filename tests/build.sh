#!/bin/bash
# Builds studio2fa out of tree: tests/build.sh DIR [CONFIGURE-ARGS...]
# Regenerates the build system when needed, configures DIR once, then runs make.
set -euo pipefail
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
if [ ! -x "$top_srcdir/configure" ] || [ "$top_srcdir/configure.ac" -nt "$top_srcdir/configure" ] ||
   [ "$top_srcdir/Makefile.am" -nt "$top_srcdir/Makefile.in" ]; then
  (cd "$top_srcdir" && autoreconf -fi)
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ]; then
  "$top_srcdir/configure" -q "$@"
fi
make -j"$(nproc)"
