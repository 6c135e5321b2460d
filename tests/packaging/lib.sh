# Shared set-up for the packaging tests (sourced; bash): TAP output, a scratch directory, and the
# release tarball made by "make dist" in a scratch build directory (or the one named by
# S2FA_DIST_TARBALL, so that tests/packaging/run.sh makes it only once). Nothing is written into
# the source tree, except what autoreconf generates there when configure is missing or stale
# (as tests/build.sh does).

set -u
top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# --- TAP ------------------------------------------------------------------------------------
S2FA_TESTS=0
S2FA_FAILED=0
ok() { S2FA_TESTS=$((S2FA_TESTS + 1)); echo "ok $S2FA_TESTS - $*"; }
not_ok() {
  S2FA_TESTS=$((S2FA_TESTS + 1)); S2FA_FAILED=$((S2FA_FAILED + 1))
  echo "not ok $S2FA_TESTS - $*"
}
# todo DESCRIPTION REASON: a known failure, reported and counted as expected (TAP "# TODO").
todo() { S2FA_TESTS=$((S2FA_TESTS + 1)); echo "not ok $S2FA_TESTS - $1 # TODO $2"; }
skip() { S2FA_TESTS=$((S2FA_TESTS + 1)); echo "ok $S2FA_TESTS - $1 # SKIP $2"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local description=$1; shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
diag() { echo "# $*"; }
# bail DESCRIPTION: a step the rest depends on failed; ends the test.
bail() { not_ok "$1"; finish; }
finish() {
  echo "1..$S2FA_TESTS"
  [ "$S2FA_FAILED" -eq 0 ]
  exit $?
}

# --- scratch directory ----------------------------------------------------------------------
W=$(mktemp -d /tmp/studio2fa-pkg.XXXXXX)
cleanup() {
  if [ "${S2FA_KEEP:-}" = 1 ]; then echo "# kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

# --- the release tarball --------------------------------------------------------------------
S2FA_VERSION=$(sed -n 's/^AC_INIT(\[studio2fa\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")

# make_dist_tarball DIR: runs configure and "make dist" in DIR; prints the tarball's path.
make_dist_tarball() {
  local dir=$1
  if [ ! -x "$top_srcdir/configure" ] || [ "$top_srcdir/configure.ac" -nt "$top_srcdir/configure" ] ||
     [ "$top_srcdir/Makefile.am" -nt "$top_srcdir/Makefile.in" ]; then
    (cd "$top_srcdir" && autoreconf -fi) >&2 || return 1
  fi
  mkdir -p "$dir"
  (cd "$dir" && "$top_srcdir/configure" -q && make -s dist) >&2 || return 1
  echo "$dir/studio2fa-$S2FA_VERSION.tar.gz"
}

# dist_tarball: sets TARBALL to S2FA_DIST_TARBALL or to a fresh one in the scratch directory.
dist_tarball() {
  if [ -n "${S2FA_DIST_TARBALL:-}" ] && [ -f "$S2FA_DIST_TARBALL" ]; then
    TARBALL=$S2FA_DIST_TARBALL
    diag "using $TARBALL"
  else
    TARBALL=$(make_dist_tarball "$W/dist" 2> "$W/dist.log") || TARBALL=
    if [ -z "$TARBALL" ] || [ ! -f "$TARBALL" ]; then
      sed 's/^/# /' "$W/dist.log" | tail -20
      bail "make dist"
    fi
  fi
  ok "release tarball $(basename "$TARBALL")"
}

# --- ELF checks ---------------------------------------------------------------------------
# The oldest targets: glibc 2.28 (EL8, the VFX Reference Platform floor) and EL8's libstdc++
# (GCC 8: GLIBCXX_3.4.25, CXXABI_1.3.11).
S2FA_GLIBC_FLOOR=2.28
S2FA_GLIBCXX_FLOOR=3.4.25
S2FA_CXXABI_FLOOR=1.3.11

# version_newer A B: A > B as versions.
version_newer() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" = "$1" ]; }

# elf_symbol_versions FILE: "VERSION SYMBOL" for each undefined versioned dynamic symbol.
elf_symbol_versions() {
  objdump -T "$1" | awk '$0 ~ /\*UND\*/ {
    for (i = 1; i <= NF; i++) if ($i ~ /^\(?(GLIBC|GLIBCXX|CXXABI)_[0-9.]+\)?$/) {
      v = $i; gsub(/[()]/, "", v); print v, $NF } }' | sort -u
}

# newest_version FILE PREFIX: the newest PREFIX_x.y version FILE needs ("" if none).
newest_version() {
  elf_symbol_versions "$1" | awk -v p="$2_" 'index($1, p) == 1 { print substr($1, length(p) + 1) }' |
    sort -V | tail -n1
}

# newer_than FILE PREFIX FLOOR: "VERSION SYMBOL" lines for the symbols needing more than FLOOR.
newer_than() {
  local version symbol
  elf_symbol_versions "$1" | while read -r version symbol; do
    case $version in "$2"_*) ;; *) continue ;; esac
    if version_newer "${version#"$2"_}" "$3"; then echo "$version $symbol"; fi
  done
}

# Symbols that glibc gave a new version after 2.28 although the function is older: what a
# program built against a newer glibc binds to, and built against 2.28 would bind to the old
# name. The stat family became real symbols in 2.33 (before: __xstat and co., through
# libc_nonshared); the rest moved from libpthread/libdl into libc in 2.34 and keep their old
# version there as a compat symbol, which glibc_had_symbol finds by itself.
S2FA_REVERSIONED="stat fstat lstat fstatat stat64 fstat64 lstat64 fstatat64 mknod mknodat"

# glibc_had_symbol SYMBOL: glibc 2.28 had SYMBOL (under a version <= 2.28 in the libraries of
# this machine's glibc, or in the list above).
glibc_had_symbol() {
  local symbol=$1 lib
  case " $S2FA_REVERSIONED " in *" $symbol "*) return 0 ;; esac
  for lib in "${S2FA_GLIBC_LIBS[@]}"; do
    objdump -T "$lib" | awk -v s="$symbol" -v floor="$S2FA_GLIBC_FLOOR" '
      $NF == s { for (i = 1; i <= NF; i++) if ($i ~ /^\(?GLIBC_[0-9.]+\)?$/) {
        v = $i; gsub(/[()]/, "", v); sub(/^GLIBC_/, "", v); print v } }' |
      while read -r v; do version_newer "$v" "$S2FA_GLIBC_FLOOR" || echo yes; done | grep -q yes &&
      return 0
  done
  return 1
}
S2FA_MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
S2FA_GLIBC_LIBS=()
for lib in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1; do
  for dir in "/lib/$S2FA_MULTIARCH" "/usr/lib/$S2FA_MULTIARCH" /lib64 /usr/lib64; do
    if [ -e "$dir/$lib" ]; then S2FA_GLIBC_LIBS+=("$dir/$lib"); break; fi
  done
done
S2FA_HOST_GLIBC=$(getconf GNU_LIBC_VERSION | awk '{print $2}')

# check_elf_compat FILE NAME: the glibc / libstdc++ checks for one ELF file of a package.
check_elf_compat() {
  local file=$1 name=$2 newer missing glibc glibcxx cxxabi
  glibc=$(newest_version "$file" GLIBC)
  glibcxx=$(newest_version "$file" GLIBCXX)
  cxxabi=$(newest_version "$file" CXXABI)
  diag "$name: newest GLIBC_${glibc:-none}, GLIBCXX_${glibcxx:-none}, CXXABI_${cxxabi:-none}"

  newer=$(newer_than "$file" GLIBC "$S2FA_GLIBC_FLOOR")
  if [ -z "$newer" ]; then
    ok "$name: no symbol newer than GLIBC_$S2FA_GLIBC_FLOOR"
  else
    diag "$name needs:" $newer
    # Strict: holds only for a build against glibc 2.28 itself (an EL8 build root).
    if version_newer "$S2FA_HOST_GLIBC" "$S2FA_GLIBC_FLOOR"; then
      todo "$name: no symbol newer than GLIBC_$S2FA_GLIBC_FLOOR" \
        "built against glibc $S2FA_HOST_GLIBC here; an EL8 build root binds the old versions"
    else
      not_ok "$name: no symbol newer than GLIBC_$S2FA_GLIBC_FLOOR"
    fi
    # What can be checked here: every such symbol existed in glibc 2.28 (under an older
    # version), so the same source builds and runs against 2.28; no 2.29+ function is used.
    missing=$(echo "$newer" | while read -r _ symbol; do
      glibc_had_symbol "$symbol" || echo "$symbol"; done | sort -u | tr '\n' ' ')
    check "$name: uses no glibc function newer than $S2FA_GLIBC_FLOOR${missing:+ (new: $missing)}" \
      test -z "$missing"
  fi

  if [ -n "$glibcxx$cxxabi" ]; then
    newer=$( { newer_than "$file" GLIBCXX "$S2FA_GLIBCXX_FLOOR"
               newer_than "$file" CXXABI "$S2FA_CXXABI_FLOOR"; } )
    if [ -z "$newer" ]; then
      ok "$name: libstdc++ symbols all in EL8's (GLIBCXX_$S2FA_GLIBCXX_FLOOR, CXXABI_$S2FA_CXXABI_FLOOR)"
    else
      diag "$name needs from libstdc++:" $newer
      todo "$name: libstdc++ symbols all in EL8's (GLIBCXX_$S2FA_GLIBCXX_FLOOR)" \
        "built with g++ $(gcc -dumpversion) here; on EL8 gcc-toolset-12 links these from libstdc++_nonshared.a (or use -static-libstdc++)"
    fi
  fi
}
