#!/usr/bin/env bash
# netlab_rtt: the measured round trip (median of 50 TCP connects) against the
# setting at 10, 50 and 200 ms. Never shorter than set; within 5% of it, or
# 1 ms at 10 ms, where the scheduling delay of a loaded 2-core machine (the
# delayer's late_us figures) is a tenth of a millisecond per packet and more.
# The precise figures go to the log for docs/netlab.md.
# Usage: rtt.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"

for rtt in 10 50 200; do
  nl_up --rtt "$rtt" >/dev/null
  if nl_measure --parts rtt --samples 50; then
    median=$(nl_get rtt_median_ms)
    fb_eq "$rtt ms: 50 samples" "$(nl_get rtt_samples)" 50
    fb_le "$rtt ms: the fastest round trip is not shorter than set" "$rtt" "$(nl_get rtt_min_ms)"
    nl_within "$rtt ms: median round trip within 5% (or 1 ms)" "$median" "$rtt" 0.05 1
  fi
  nl_down
done
fb_finish
