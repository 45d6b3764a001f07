#!/usr/bin/env bash
# netlab_loss: random loss of 0.1% and 1% on each direction, counted over
# 10,000 numbered datagrams each way, against the binomial interval of the
# setting. Each count must fall inside the 99.9% interval. A correct lab
# misses it in 1 run of 1,000 per count, 1 in 250 for the four, and CI runs
# this test twice (plain and ASan stages), which made the interval miss a
# rare but real CI failure (67 lost at 1%, interval 69-134). So a setting
# whose count misses is measured once more, with fresh datagrams, and fails
# only if it misses again. A correct lab then fails about 4 runs in a
# million. A wrong loss rate (say 0.5% for 1%) misses both times. Whether
# each count is also inside the 99% interval (the issue's target) is logged.
# Usage: loss.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"
MEASURE=$(dirname "$NETLAB")/measure.py

for p in 0.001 0.01; do
  nl_up --loss "$p" >/dev/null
  read -r lo hi < <(python3 "$MEASURE" interval 10000 "$p" 0.999)
  todo=(c2s s2c)
  for attempt in 1 2; do
    if ! nl_measure --parts loss --packets 10000; then
      fb_fail "at $p: the loss measurement ran" "measurement $attempt"
      break
    fi
    missed=()
    for dir in "${todo[@]}"; do
      lost=$(nl_get "${dir}_lost")
      fb_log "$dir at $p, measurement $attempt: $lost lost of 10000; 99% interval $(nl_get "${dir}_loss_interval99")"
      if [ -n "$lost" ] && [ "$lost" -ge "$lo" ] && [ "$lost" -le "$hi" ]; then
        fb_pass "$dir at $p: $lost lost, inside the 99.9% interval $lo-$hi (measurement $attempt)"
      elif [ "$attempt" -eq 1 ]; then
        fb_log "$dir at $p: $lost lost is outside the 99.9% interval $lo-$hi; measuring once more"
        missed+=("$dir")
      else
        fb_fail "$dir at $p: lost count inside the 99.9% interval $lo-$hi in one of two measurements" \
          "lost '$lost' the second time"
      fi
    done
    [ "${#missed[@]}" -gt 0 ] || break
    todo=("${missed[@]}")
  done
  nl_down
done
fb_finish
