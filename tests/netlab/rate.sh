#!/usr/bin/env bash
# netlab_rate: one bulk TCP transfer at a limit of 10 and 100 Mbit/s; the wire
# rate (payload plus the header bytes the server's qdisc counted) within 5%
# of the setting, the payload rate below it.
# Usage: rate.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"

for rate in 10 100; do
  nl_up --rate "$rate" >/dev/null
  if nl_measure --parts rate --seconds 3; then
    nl_within "$rate Mbit/s: wire rate within 5%" "$(nl_get wire_mbit)" "$rate" 0.05 0
    fb_le "$rate Mbit/s: payload rate below the setting" "$(nl_get goodput_mbit)" "$rate"
  fi
  nl_down
done
fb_finish
