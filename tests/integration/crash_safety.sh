#!/bin/bash
# kill -9 of the daemon in the middle of a burst of logins, enrollments and admin imports, many
# times over: after each restart the database passes PRAGMA integrity_check, no code the daemon
# confirmed is accepted again, and every enrollment and import it confirmed is still there.
. "$top_srcdir/tests/integration/lib.sh"

ROUNDS=${CRASH_ROUNDS:-8}
PER_ROUND=1500
"$top_builddir/bench/seed" --users $((ROUNDS * PER_ROUND)) --prefix c --out "$T/users" \
  --db "$DB" --key "$KEY" || { not_ok "seeding users"; finish; }
# Accounts that enroll during the bursts (ENROLL_BEGIN needs them to exist), and secrets for
# the admin imports.
PER_ROUND_ENROLL=200
for i in $(seq 0 $((ROUNDS * PER_ROUND_ENROLL - 1))); do
  echo "e$i:x:$((20000 + i)):$((20000 + i)):e$i:/:/bin/sh" >> "$T/passwd"
  echo "e$i JBSWY3DPEHPK3PXP" >> "$T/enrollees"
done
for i in $(seq 0 $((ROUNDS * 40 - 1))); do
  echo "i$i:x:$((30000 + i)):$((30000 + i)):i$i:/:/bin/sh" >> "$T/passwd"
done

confirmed_total=0
rounds_mid_burst=0
for round in $(seq 1 "$ROUNDS"); do
  check "round $round: daemon starts" start_daemon
  : > "$T/successes.$round"
  python3 "$top_srcdir/tests/integration/load_client.py" "$SOCK" "$T/users" \
    $(( (round - 1) * PER_ROUND )) "$PER_ROUND" 8 "$T/successes.$round" &
  load=$!
  : > "$T/enrolled.$round"
  python3 "$top_srcdir/tests/integration/load_client.py" "$SOCK" "$T/enrollees" \
    $(( (round - 1) * PER_ROUND_ENROLL )) "$PER_ROUND_ENROLL" 2 "$T/enrolled.$round" --enroll &
  enrolling=$!
  : > "$T/imported.$round"
  (
    for i in $(seq $(( (round - 1) * 40 )) $(( round * 40 - 1 ))); do
      if echo JBSWY3DPEHPK3PXP | env $(nss_env) "$S2FA_ADMIN" --socket "$SOCK" import "i$i" \
           > /dev/null 2>&1; then
        echo "i$i" >> "$T/imported.$round"
      fi
    done
  ) &
  importing=$!
  # A moment inside the burst: once the first code is confirmed, 0 to 300 ms later.
  for i in $(seq 1 300); do [ -s "$T/successes.$round" ] && break; sleep 0.01; done
  sleep "0.$(printf '%03d' $(( RANDOM % 300 )))"
  kill -9 "$S2FA_DAEMON_PID"; wait "$S2FA_DAEMON_PID" 2>/dev/null; S2FA_DAEMON_PID=
  wait "$load" "$enrolling" "$importing"
  confirmed=$(wc -l < "$T/successes.$round")
  confirmed_total=$((confirmed_total + confirmed))
  if [ "$confirmed" -gt 0 ] && [ "$confirmed" -lt "$PER_ROUND" ]; then
    rounds_mid_burst=$((rounds_mid_burst + 1))
  fi
  integrity=$(sqlite3 "$DB" "PRAGMA integrity_check" 2>&1)
  check "round $round: integrity_check after kill -9 ($confirmed codes confirmed): $integrity" \
    test "$integrity" = ok
  check "round $round: daemon restarts" start_daemon
  accepted=$(python3 "$top_srcdir/tests/integration/load_client.py" "$SOCK" "$T/users" 0 0 1 \
    "$T/successes.$round" --replay)
  check "round $round: none of the $confirmed confirmed codes is accepted again (accepted: $accepted)" \
    test "$accepted" = 0
  lost=0
  for user in $(cat "$T/enrolled.$round" "$T/imported.$round"); do
    "$S2FA_ADMIN" --socket "$SOCK" status "$user" 2>/dev/null | grep -q '^2fa: on' || lost=$((lost + 1))
  done
  kept=$(cat "$T/enrolled.$round" "$T/imported.$round" | wc -l)
  check "round $round: every confirmed enrollment and import survived ($kept confirmed, $lost lost)" \
    test "$lost" -eq 0
  stop_daemon
done
diag "$confirmed_total codes confirmed across $ROUNDS kills"
check "every kill landed mid-burst (each round confirmed some codes, not all)" \
  test "$rounds_mid_burst" -eq "$ROUNDS"
finish
