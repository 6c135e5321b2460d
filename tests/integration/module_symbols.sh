#!/bin/bash
# The module exports only the PAM entry points and does not drag libstdc++ into its host.
. "$top_srcdir/tests/integration/lib.sh"

exported=$(nm -D --defined-only "$S2FA_MODULE" | awk '{print $3}' | sort | tr '\n' ' ')
check "only pam_sm_authenticate and pam_sm_setcred are exported (got: $exported)" \
  test "$exported" = "pam_sm_authenticate pam_sm_setcred "
if [ "$S2FA_SANITIZED" = no ]; then  # the sanitizer runtime itself brings libstdc++ in
  check "module does not link libstdc++" bash -c '! ldd "$0" | grep -q libstdc++' "$S2FA_MODULE"
fi
check "module does not link OpenSSL" bash -c '! ldd "$0" | grep -q libcrypto' "$S2FA_MODULE"
check "module is dlopen-able with its symbols" python3 -c '
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW)
lib.pam_sm_authenticate; lib.pam_sm_setcred
' "$S2FA_MODULE"
check "module is built with full RELRO (BIND_NOW)" bash -c 'readelf -d "$0" | grep -q "BIND_NOW\|FLAGS.*NOW"' "$S2FA_MODULE"
finish
