#!/bin/bash
# warm_nss.sh USERS FIRST COUNT STATE_DIR CMD...   (as root; part of make bench)
#
# Runs CMD, by exec, in a private mount namespace where NSS knows every name in USERS (the
# benchmark's "name SECRET" lines) and a private nscd has just answered for names FIRST to
# FIRST+COUNT-1. That is the state of a host when a login's request reaches studio2fad: sshd,
# login or the screen locker looked the user up a moment before, and the host's name-service
# cache (SSSD's memory cache in a studio, nscd here) holds the answer.
#
#   - the names: glibc's "db" source (libnss-db, built by makedb) on a tmpfs over /var/lib/misc;
#   - /etc/nsswitch.conf: the host's, with "passwd: files db systemd", bind-mounted over;
#   - nscd on tmpfs over /run/nscd and /var/cache/nscd, its own configuration, passwd only.
# Nothing outside the namespace changes. nscd's pid is written to STATE_DIR/nscd.pid; stop it
# with kill after CMD ends. Exit 3, with the reason on stderr, when something it needs is missing.
set -euo pipefail
if [ $# -lt 5 ]; then
  echo "usage: warm_nss.sh USERS FIRST COUNT STATE_DIR CMD..." >&2
  exit 2
fi
users=$1 first=$2 count=$3 state=$4
shift 4

missing=()
command -v makedb > /dev/null || missing+=("makedb (package libnss-db)")
[ -e /lib/x86_64-linux-gnu/libnss_db.so.2 ] || [ -e /usr/lib/x86_64-linux-gnu/libnss_db.so.2 ] ||
  [ -e /lib64/libnss_db.so.2 ] || missing+=("libnss_db.so.2 (package libnss-db)")
NSCD=$(command -v nscd || echo /usr/sbin/nscd)
[ -x "$NSCD" ] || missing+=("nscd (package nscd)")
if [ "${#missing[@]}" -gt 0 ]; then
  echo "warm_nss.sh: missing ${missing[*]}" >&2
  exit 3
fi

# This script runs twice: first as called, then (WARM_NSS_OUTER naming the caller's mount
# namespace) again by unshare in a new mount namespace whose mounts do not propagate back.
here=$(readlink /proc/self/ns/mnt || true)
if [ -z "$here" ]; then
  echo "warm_nss.sh: cannot tell which mount namespace this is; nothing mounted" >&2
  exit 1
fi
if [ -z "${WARM_NSS_OUTER:-}" ]; then
  WARM_NSS_OUTER=$here exec unshare --mount --propagation private "$0" "$users" "$first" \
    "$count" "$state" "$@"
fi
# Never mount over the host's own files: this must be a mount namespace of its own.
if [ "$here" = "$WARM_NSS_OUTER" ]; then
  echo "warm_nss.sh: still in the caller's mount namespace ($here); nothing mounted" >&2
  exit 1
fi
mkdir -p "$state/nss"
for dir in /var/lib/misc /run/nscd /var/cache/nscd; do
  mkdir -p "$dir"
  mount -t tmpfs -o mode=0755 tmpfs "$dir"
done

# makedb's input: "0N line" for enumeration, ".name line" and "=uid line" for the lookups.
awk 'BEGIN { n = 0 }
     { uid = 200000 + n
       line = $1 ":x:" uid ":" uid "::/nonexistent:/usr/sbin/nologin"
       printf "0%u %s\n.%s %s\n=%u %s\n", n, line, $1, line, uid, line
       n++ }' "$users" | makedb -o /var/lib/misc/passwd.db -

sed 's/^passwd:.*/passwd:         files db systemd/' /etc/nsswitch.conf > "$state/nss/nsswitch.conf"
mount --bind "$state/nss/nsswitch.conf" /etc/nsswitch.conf

cat > "$state/nss/nscd.conf" <<'CONF'
	server-user		root
	enable-cache		passwd		yes
	positive-time-to-live	passwd		3600
	negative-time-to-live	passwd		20
	suggested-size		passwd		100003
	check-files		passwd		yes
	persistent		passwd		no
	shared			passwd		yes
	max-db-size		passwd		1073741824
	enable-cache		group		no
	enable-cache		hosts		no
	enable-cache		services	no
	enable-cache		netgroup	no
CONF
"$NSCD" -f "$state/nss/nscd.conf"
for _ in $(seq 500); do
  [ -S /run/nscd/socket ] && [ -s /run/nscd/nscd.pid ] && break
  sleep 0.01
done
cp /run/nscd/nscd.pid "$state/nscd.pid"

# The lookups that a login's earlier steps would have made.
found=$(awk -v first="$first" -v count="$count" 'NR > first && NR <= first + count { print $1 }' \
  "$users" | xargs -r -n 1000 getent passwd | wc -l)
if [ "$found" -ne "$count" ]; then
  echo "warm_nss.sh: NSS answered for $found of the $count names" >&2
  kill "$(cat "$state/nscd.pid")" 2> /dev/null || true
  exit 1
fi
exec "$@"
