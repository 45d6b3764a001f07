#!/usr/bin/env bash
# netlab_jitter: jitter of +-5 ms on each direction of a 20 ms RTT spreads the
# round trips but never reorders a packet: 10,000 numbered datagrams each way
# arrive in the order sent, and a TCP bulk transfer's client queues no
# segment out of order. Usage: jitter.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
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
# the bulk transfer. veth queues a packet on the backlog of the CPU that sent
# it, and a TCP sender sends from two CPUs (its own, and where the ACKs are
# processed), so without netlab.sh steering each end's receive path to one CPU
# (RPS) a later segment overtook an earlier one in 10 of 15 transfers here
# (1-138 segments, the sender counting TCPSACKReorder, not retransmissions).
fb_eq "the receive path of each veth end is steered to one CPU" "$(nl_get rx_steered)" "yes"
ofo=$(ip netns exec "fbnl-$NL_ID-c" nstat -az TcpExtTCPOFOQueue 2>/dev/null | awk '/TCPOFOQueue/ { print $2 }')
retrans=$(ip netns exec "fbnl-$NL_ID-s" nstat -az TcpRetransSegs 2>/dev/null | awk '/TcpRetransSegs/ { print $2 }')
fb_ok "nstat reads the client's out-of-order and the server's retransmission counters" \
  test -n "$ofo" -a -n "$retrans"
fb_eq "bulk transfer: no segment queued out of order by the client's TCP (the server retransmitted ${retrans:-?})" \
  "${ofo:-?}" "0"
fb_finish
