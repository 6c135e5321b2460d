#!/bin/bash
# How hopeless is guessing? An attacker who already has alice's password tries wrong codes as
# fast as the daemon allows, through the real module, for two (simulated) days: each time the
# daemon says "wait N seconds", the attacker's clock jumps N seconds. We count the attempts the
# daemon actually evaluated and derive the expected time to guess a code.
. "$top_srcdir/tests/integration/lib.sh"

DAYS=2
# The throttle alone is measured here: the account lock (lockout_after, default 20 wrong codes)
# would end the guessing after 20 tries; recovery.sh tests it.
write_config "lockout_after = 0"
check "daemon starts (default throttle: 5 free, then 2 s doubling to 15 min)" start_daemon
check "alice enrolls" enroll alice
A=$SECRET

start=$(fake_now)
end=$((start + DAYS * 86400))
evaluated=0
probes=0
unexpected=0
# Bounded: at most 1,000 attempts (about twice what two days allow), whatever happens.
while [ "$(fake_now)" -lt "$end" ] && [ "$probes" -lt 1000 ]; do
  right=$(code_for "$A")
  wrong=$(printf '%06d' $(( (10#$right + 1) % 1000000 )))
  pam_login s2fa alice 'alice-Pa55word' "$wrong"
  probes=$((probes + 1))
  wait_s=$(sed -n 's/^ERROR Too many wrong codes. Wait \([0-9]*\) seconds.*/\1/p' <<< "$LOGIN_OUT")
  if [ -n "$wait_s" ]; then
    advance_time "$wait_s"
  elif [ "$LOGIN_RC" -eq 7 ]; then
    evaluated=$((evaluated + 1))
  else
    unexpected=$((unexpected + 1))
    diag "unexpected answer: rc=$LOGIN_RC $(tr '\n' ' ' <<< "$LOGIN_OUT")"
    advance_time 60
  fi
done
check "every attempt was either refused or throttled ($unexpected other answers)" test "$unexpected" -eq 0
check "the two days ran out before the attempt bound ($probes attempts)" test "$probes" -lt 1000
per_day=$(( evaluated / DAYS ))
# Window 1: three codes are valid at any moment, so each evaluated guess wins with p = 3/10^6.
# Expected attempts for a 50% chance: 0.5 / p = 166,667.
days_to_half=$(( 166667 / (per_day > 0 ? per_day : 1) ))
diag "attempts made: $probes; evaluated by the daemon: $evaluated in $DAYS days ($per_day a day)"
diag "expected time for a 50% chance of guessing one code: $days_to_half days (~$((days_to_half / 365)) years)"
# At the 15-minute cap that is 96 a day, plus the first day's free attempts and ramp.
check "at most 110 guesses a day are evaluated ($per_day)" test "$per_day" -le 110
check "a 50% chance of guessing takes more than 4 years ($days_to_half days)" test "$days_to_half" -gt 1460
# The attacker guesses once more; then alice, with the right code, is asked to wait.
next_step
right=$(code_for "$A")
pam_login s2fa alice 'alice-Pa55word' "$(printf '%06d' $(( (10#$right + 1) % 1000000 )))"
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "meanwhile alice, with the right code, is only asked to wait" saw "ERROR Too many wrong codes"
wait_s=$(sed -n 's/^ERROR Too many wrong codes. Wait \([0-9]*\) seconds.*/\1/p' <<< "$LOGIN_OUT")
check "... at most 15 minutes ($wait_s s)" test "${wait_s:-0}" -le 900
advance_time "${wait_s:-0}"
next_step
pam_login s2fa alice 'alice-Pa55word' "$(code_for "$A")"
check "and then logs in" login_succeeded
finish
