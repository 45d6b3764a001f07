#!/usr/bin/env bash
# netlab_jitter: jitter of +-5 ms on each direction of a 20 ms RTT spreads the
# round trips but never reorders a packet: 10,000 numbered datagrams each way
# arrive in the order sent, and a TCP bulk transfer sees no out-of-order
# segment. Usage: jitter.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
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
# The kernel's own count: segments the client's TCP received out of order. A
# segment lost on the way (no loss is set, but a delayer starved of CPU on a
# loaded machine releases bursts the veth backlog may drop) also puts the
# segments after it out of order; the server then retransmits. So the count
# must be 0 when nothing was retransmitted; after a loss only the datagram
# checks above, which count reordering directly, decide.
ofo=$(ip netns exec "fbnl-$NL_ID-c" nstat -az TcpExtTCPOFOQueue 2>/dev/null | awk '/TCPOFOQueue/ { print $2 }')
retrans=$(ip netns exec "fbnl-$NL_ID-s" nstat -az TcpRetransSegs 2>/dev/null | awk '/TcpRetransSegs/ { print $2 }')
if [ "${retrans:-0}" -eq 0 ]; then
  fb_eq "the client's TCP queued no segment out of order" "${ofo:-missing}" 0
else
  fb_log "the server retransmitted $retrans segment(s) (a loss, not set: a loaded machine);" \
    "the client's $ofo out-of-order segment(s) follow from it, not from reordering"
fi
fb_finish
