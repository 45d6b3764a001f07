#!/usr/bin/env bash
# netlab_jitter: jitter of +-5 ms on each direction of a 20 ms RTT spreads the
# round trips but never reorders a packet: 10,000 numbered datagrams each way
# arrive in the order sent; a TCP bulk transfer's out-of-order segments
# are logged. Usage: jitter.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"

nl_up --rtt 20 --jitter 5 >/dev/null
if nl_measure --parts rtt,loss,rate --seconds 2; then
  fb_eq "c2s: 10,000 datagrams, none reordered" "$(nl_get c2s_received) $(nl_get c2s_reorders)" "10000 0"
  fb_eq "s2c: 10,000 datagrams, none reordered" "$(nl_get s2c_received) $(nl_get s2c_reorders)" "10000 0"
  # The jitter is really there: the round trips spread over milliseconds.
  spread=$(awk -v a="$(nl_get rtt_p90_ms)" -v b="$(nl_get rtt_p10_ms)" 'BEGIN { print a - b }')
  fb_le "round trips spread (p90 - p10 = $spread ms) by at least 2 ms" 2 "$spread"
  fb_le "no round trip below 20 - 2 x 5 ms" 10 "$(nl_get rtt_min_ms)"
fi
# The kernel's own count: segments the client's TCP received out of order in
# the bulk transfer. Logged, not asserted (issue 21, open): the fresh-machine
# check saw 15 with no retransmission under ASan, and a second transfer right
# after a first one saw 56 on a quiet machine, while the datagram checks above
# (10,000 each way, which count reordering directly) found none. Whether the
# delayer reorders a TCP bulk flow (GSO segments, its thread moving between
# CPUs and so between backlogs) is not yet known; a check that fails on it
# now and then would only stop CI, so it is reported here until found.
ofo=$(ip netns exec "fbnl-$NL_ID-c" nstat -az TcpExtTCPOFOQueue 2>/dev/null | awk '/TCPOFOQueue/ { print $2 }')
retrans=$(ip netns exec "fbnl-$NL_ID-s" nstat -az TcpRetransSegs 2>/dev/null | awk '/TcpRetransSegs/ { print $2 }')
fb_ok "nstat reads the client's out-of-order and the server's retransmission counters" \
  test -n "$ofo" -a -n "$retrans"
fb_log "bulk transfer: the client's TCP queued ${ofo:-?} segment(s) out of order;" \
  "the server retransmitted ${retrans:-?}"
fb_finish
