#!/usr/bin/env bash
# netlab_cc: --cc sets TCP's congestion control inside both namespaces and
# only there (the host keeps its own), the lab reports it read back from each
# namespace; a name the kernel does not allow in a namespace is "not run
# here" (exit 3, one line) with nothing left behind; a malformed one is a
# usage error (exit 2). reno is always allowed (the kernel builds it in).
# Usage: cc.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"

host_cc=$(sysctl -n net.ipv4.tcp_congestion_control)
nl_up --rtt 10 --cc reno >/dev/null
if nl_measure --parts rtt --samples 10; then
  fb_eq "set_cc is reno" "$(nl_get set_cc)" reno
  fb_eq "the client namespace runs reno" "$(nl_get tcp_congestion_control)" reno
  fb_eq "the server namespace runs reno" "$(nl_get tcp_congestion_control_server)" reno
fi
fb_eq "the host keeps its congestion control" "$(sysctl -n net.ipv4.tcp_congestion_control)" "$host_cc"
nl_down

nl_up --rtt 10 >/dev/null
if nl_measure --parts rtt --samples 10; then
  fb_eq "without --cc: set_cc is empty" "$(nl_get set_cc)" ""
  fb_eq "without --cc: the namespaces inherit the host's" "$(nl_get tcp_congestion_control)" "$host_cc"
fi
nl_down

rc=0
out=$(bash "$NETLAB" up --owner $$ --rtt 10 --cc nosuchcc 2>&1) || rc=$?
fb_eq "a congestion control not allowed here: exit 3" "$rc" 3
fb_eq "... on one line" "$(printf '%s\n' "$out" | wc -l)" 1
fb_ok "... naming it" grep -q "not run here: congestion control nosuchcc cannot be set" <<<"$out"
fb_ok "... and no lab left" test ! -e "/run/netns/fbnl-$$-s"

rc=0
out=$(bash "$NETLAB" up --owner $$ --cc 'Bad;' 2>&1) || rc=$?
fb_eq "a malformed name: exit 2" "$rc" 2
fb_finish
