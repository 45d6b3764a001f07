#!/usr/bin/env bash
# netlab.sh -- the network lab: a server namespace and a client namespace
# joined by a veth pair (198.18.0.0/15, RFC 2544's benchmarking range), with a
# one-way delay and jitter per direction (netlab-delayer on NFQUEUE), random
# loss per direction (iptables statistic) and a rate limit with a bounded queue
# (TBF). It measures what it built. See docs/netlab.md.
#
# Everything it makes lives inside its two namespaces, named fbnl-<owner>-s and
# fbnl-<owner>-c after the pid of the process that owns the lab: the veth pair
# is created inside them, the rules and qdiscs are set inside them. It never
# changes the host's interfaces, routes, qdiscs or firewall. Outside the
# namespaces there is only what `ip netns` itself needs (/run/netns) and the
# lab's folder of logs (/run/flagbench-netlab/<owner>); both go with the lab. A
# lab whose owner is gone is removed by the next `up` or `run`.
#
# Usage:
#   netlab.sh up [SHAPE] [--owner PID]   build a lab owned by PID (default: the
#                                        caller); prints key=value lines
#   netlab.sh run [SHAPE] [--measure] -- CMD...
#                                        build a lab, run CMD (NETLAB_* in its
#                                        environment), tear down on any exit
#   netlab.sh exec ID server|client -- CMD...   run CMD inside a namespace
#   netlab.sh measure ID [--samples N] [--packets N] [--seconds S] [--parts rtt,loss,rate]
#   netlab.sh status                     the labs present, one line each
#   netlab.sh down ID | --stale          tear down one lab, or every lab whose
#                                        owner is gone (never another run's)
# SHAPE: --rtt MS (split evenly over the two directions) or --delay-c2s MS and
#   --delay-s2c MS; --jitter MS (each direction, never reorders); --loss P
#   (each direction, 0..1) or --loss-c2s P and --loss-s2c P; --rate MBIT (each
#   direction); --queue-ms MS (the rate limiter's queue, default 50);
#   --rate-at auto|receiver|sender (where that queue sits: on the receiver's
#   way in, where its drops are losses TCP must detect, as on a path; or on the
#   sender's way out, where TCP sees them at once as local congestion; auto,
#   the default: receiver where the kernel's ifb driver is already there);
#   --cc NAME (TCP congestion control in both namespaces, e.g. reno or bbr;
#   default: the host's, inherited).
#
# Exit status: 0 done; 1 the lab could not be built or measured; 2 usage error;
# 3 not run here (not root, the kernel lacks network namespaces, veth or
# NFQUEUE, or does not allow the --cc asked for in a namespace, or has no ifb
# driver loaded for --rate-at receiver), with the reason on one line. `run` exits with CMD's status.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DELAYER=${NETLAB_DELAYER:-$ROOT/build/netlab/netlab-delayer}
MEASURE="$HERE/measure.py"
PREFIX=fbnl
STATE_ROOT=/run/flagbench-netlab
SERVER_ADDR=198.18.0.1
CLIENT_ADDR=198.18.0.2
SERVER_DEV=$PREFIX-s # the veth end in the server namespace
CLIENT_DEV=$PREFIX-c # and its peer in the client namespace
QUEUE=0              # NFQUEUE numbers are per namespace
IFB_DEV=$PREFIX-b    # the bottleneck's device, in the receiving namespace
RATE_AT=""           # where the rate limiter sits: receiver (ifb) or sender
rate_at_asked=auto   # --rate-at

log() { printf 'netlab: %s\n' "$*" >&2; }
die() { # status message
    log "$2"
    exit "$1"
}
usage() {
    sed -n '/^# Usage:/,/^# Exit status/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# number VALUE NAME MAX: VALUE is a non-negative decimal no larger than MAX.
number() {
    [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$1" -v m="$3" 'BEGIN { exit !(v <= m) }' ||
        die 2 "bad value for --$2: '$1'"
}
positive() { awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }

ns_server() { printf '%s-%s-s' "$PREFIX" "$1"; }
ns_client() { printf '%s-%s-c' "$PREFIX" "$1"; }
in_ns() { # NS CMD...
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die 3 "not run here: needs root for network namespaces"
    command -v ip >/dev/null || die 3 "not run here: needs ip (Debian package iproute2)"
    command -v tc >/dev/null || die 3 "not run here: needs tc (Debian package iproute2)"
    command -v iptables >/dev/null || die 3 "not run here: needs iptables (Debian package iptables)"
}

# ------------------------------------------------------------------ teardown

# lab_ids: the ids of every lab present (namespaces or log folders).
lab_ids() {
    {
        ip netns list 2>/dev/null | awk '{ print $1 }' |
            sed -n "s/^$PREFIX-\([0-9][0-9]*\)-[sc]\$/\1/p"
        if [ -d "$STATE_ROOT" ]; then
            find "$STATE_ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | grep -E '^[0-9]+$'
        fi
    } | sort -un
}

# teardown ID: ends the lab's processes, deletes its namespaces (and with them
# the veth pair, the rules and the qdiscs), removes its log folder.
teardown() {
    local id=$1 ns pids
    for ns in "$(ns_server "$id")" "$(ns_client "$id")"; do
        [ -e "/run/netns/$ns" ] || continue
        # Processes inside the lab are the lab's: its delayers, measurement
        # servers, and what was run there with `exec`.
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086 # a list of pids
            kill -TERM $pids 2>/dev/null || true
            for _ in $(seq 1 20); do
                [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
                sleep 0.05
            done
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
    done
    rm -rf "${STATE_ROOT:?}/$id"
    release_run_netns
    rmdir "$STATE_ROOT" 2>/dev/null || true
}

# /run/netns is made a shared mount point by `ip netns add` when it is not one
# yet (a fresh machine, a chroot). When the lab made it so and no namespace is
# left, it is unmounted again, so nothing of the lab stays mounted.
release_run_netns() {
    [ -f "$STATE_ROOT/made-run-netns" ] || return 0
    [ -z "$(ls -A /run/netns 2>/dev/null)" ] || return 0
    umount -n /run/netns 2>/dev/null || true # -n: no utab entry (nor /run/mount) for it
    rmdir /run/netns 2>/dev/null || true
    rm -f "$STATE_ROOT/made-run-netns"
    rmdir "$STATE_ROOT" 2>/dev/null || true
}

# remove_stale: tears down every lab whose owner process is gone. A lab whose
# owner is alive belongs to another run (a second bench, a test, CI beside a
# developer) and is never touched.
remove_stale() {
    local id
    for id in $(lab_ids); do
        if ! kill -0 "$id" 2>/dev/null; then
            log "removing lab $id left by a run that is gone"
            teardown "$id"
        fi
    done
}

# --------------------------------------------------------------------- build

# Shape settings, in ms, fractions and Mbit/s; 0 = none.
delay_c2s=0 delay_s2c=0 jitter=0 loss_c2s=0 loss_s2c=0 rate=0 queue_ms=50
cc="" # TCP congestion control in the namespaces; "": the host's

# parse_shape ARGS...: sets the shape settings; leaves the rest in REST.
REST=()
parse_shape() {
    REST=()
    while [ $# -gt 0 ]; do
        case $1 in
        --cc)
            [ $# -ge 2 ] || die 2 "$1 needs a value"
            [[ $2 =~ ^[a-z0-9_]{1,15}$ ]] || die 2 "bad value for --cc: '$2'"
            cc=$2
            shift 2
            ;;
        --rate-at)
            [ $# -ge 2 ] || die 2 "$1 needs a value"
            case $2 in
            auto | receiver | sender) rate_at_asked=$2 ;;
            *) die 2 "bad value for --rate-at: '$2' (auto, receiver or sender)" ;;
            esac
            shift 2
            ;;
        --rtt | --delay-c2s | --delay-s2c | --jitter | --loss | --loss-c2s | --loss-s2c | --rate | --queue-ms)
            [ $# -ge 2 ] || die 2 "$1 needs a value"
            case $1 in
            --rtt)
                number "$2" rtt 60000
                delay_c2s=$(awk -v v="$2" 'BEGIN { print v / 2 }')
                delay_s2c=$delay_c2s
                ;;
            --delay-c2s) number "$2" delay-c2s 30000 && delay_c2s=$2 ;;
            --delay-s2c) number "$2" delay-s2c 30000 && delay_s2c=$2 ;;
            --jitter) number "$2" jitter 30000 && jitter=$2 ;;
            --loss) number "$2" loss 1 && loss_c2s=$2 && loss_s2c=$2 ;;
            --loss-c2s) number "$2" loss-c2s 1 && loss_c2s=$2 ;;
            --loss-s2c) number "$2" loss-s2c 1 && loss_s2c=$2 ;;
            --rate) number "$2" rate 100000 && rate=$2 ;;
            --queue-ms) number "$2" queue-ms 10000 && queue_ms=$2 ;;
            esac
            shift 2
            ;;
        *)
            REST+=("$1")
            shift
            ;;
        esac
    done
}

# shape_direction ID DIR FROM_NS FROM_DEV TO_NS TO_DEV DELAY LOSS: one
# direction (c2s or s2c) of the link. Everything is applied on the receiver's
# way in, so that a packet held or dropped there has already left the sender,
# as on a real path; on the sender's way out it would still be the sender's:
# TCP small queues would count a held packet as the host's own queue, and TCP
# takes a packet its own qdisc refuses for local congestion (NET_XMIT_DROP:
# it cuts its window and resends as if never sent, no loss to detect).
# The rate limiter (TBF, bounded queue) sits on an ifb device in the receiving
# namespace, fed by a mirred redirect of everything the veth end receives; what
# it lets go re-enters the veth's receive path and meets the delay and the loss.
# Without an ifb driver it stays on the sender's way out (RATE_AT=sender, see
# pick_rate_at), where it sat until December 2026. The delayer runs
# whenever the direction has a delay, jitter or loss: it also splits GSO
# super-packets into segments (it does not ask for GSO), so that the loss rule
# behind it drops single segments, as a real link would.
shape_direction() {
    local id=$1 dir=$2 from_ns=$3 from_dev=$4 to_ns=$5 to_dev=$6 delay=$7 loss=$8 burst
    if positive "$delay" || positive "$jitter" || positive "$loss"; then
        [ -x "$DELAYER" ] || { log "no delayer at $DELAYER (build it, or set NETLAB_DELAYER)"; return 1; }
        setsid ip netns exec "$to_ns" "$DELAYER" --queue "$QUEUE" --delay-ms "$delay" \
            --jitter-ms "$jitter" --limit 100000 --seed "$RANDOM$RANDOM" \
            </dev/null >"$STATE_ROOT/$id/delayer-$dir.log" 2>&1 &
        echo $! >"$STATE_ROOT/$id/delayer-$dir.pid"
        for _ in $(seq 1 100); do
            grep -q '^ready' "$STATE_ROOT/$id/delayer-$dir.log" 2>/dev/null && break
            kill -0 "$!" 2>/dev/null || break
            sleep 0.02
        done
        grep -q '^ready' "$STATE_ROOT/$id/delayer-$dir.log" || {
            log "the $dir delayer did not start: $(tail -n 1 "$STATE_ROOT/$id/delayer-$dir.log")"
            return 1
        }
        # raw PREROUTING comes first; a packet the delayer lets go goes on
        # to mangle PREROUTING, where the loss rule is.
        in_ns "$to_ns" iptables -w -t raw -A PREROUTING -i "$to_dev" \
            -j NFQUEUE --queue-num "$QUEUE" --queue-bypass
    fi
    if positive "$loss"; then
        in_ns "$to_ns" iptables -w -t mangle -A PREROUTING -i "$to_dev" \
            -m statistic --mode random --probability "$loss" -j DROP
    fi
    if positive "$rate"; then
        # The bucket holds 2 ms at the rate, at least two full-size frames.
        burst=$(awk -v r="$rate" 'BEGIN { b = r * 1e6 / 8 * 0.002; if (b < 3028) b = 3028; printf "%d", b }')
        local tbf_ns=$from_ns tbf_dev=$from_dev
        if [ "$RATE_AT" = receiver ]; then
            tbf_ns=$to_ns tbf_dev=$IFB_DEV
            ip -n "$to_ns" link add "$IFB_DEV" type ifb || return 1
            ip -n "$to_ns" link set "$IFB_DEV" up
            in_ns "$to_ns" tc qdisc add dev "$to_dev" handle ffff: ingress
            in_ns "$to_ns" tc filter add dev "$to_dev" parent ffff: protocol all u32 match u32 0 0 \
                action mirred egress redirect dev "$IFB_DEV"
        fi
        in_ns "$tbf_ns" tc qdisc add dev "$tbf_dev" root tbf rate "${rate}mbit" burst "$burst" latency "${queue_ms}ms"
    fi
}

# pick_rate_at: receiver when the kernel's ifb driver is already there (built
# in, or a loaded module), sender otherwise. Making an ifb device without it
# would load the module, whose start-up adds ifb0 and ifb1 to the host: the lab
# never changes the host's interfaces, so then it does without.
# --rate-at receiver without the driver is refused (status 3); sender is
# always possible.
pick_rate_at() {
    if [ "$rate_at_asked" = sender ]; then
        RATE_AT=sender
    elif [ -d /sys/module/ifb ] || [ -n "$(ip -o link show type ifb 2>/dev/null | head -n 1)" ]; then
        RATE_AT=receiver
    elif [ "$rate_at_asked" = receiver ]; then
        PROBE_ERROR="--rate-at receiver needs the kernel's ifb driver, which is not loaded (loading it would add ifb0 and ifb1 to the host)"
        return 1
    else
        RATE_AT=sender
        log "no ifb driver loaded: the rate limiter sits on the sender's way out (drops there are local congestion to TCP, not losses)"
    fi
}

# probe CMD...: runs one of the commands that show whether this environment
# can make a lab; on failure keeps the first line of what it said in
# PROBE_ERROR, for the one-line refusal.
PROBE_ERROR=""
probe() {
    local out
    out=$("$@" 2>&1 >/dev/null) && return 0
    PROBE_ERROR=$(printf '%s' "$out" | head -n 1)
    # `ip -n` and `ip netns exec` make / a slave mount in the namespace they
    # enter; the kernel refuses when / is not a mount point (a chroot into a
    # plain folder).
    case $PROBE_ERROR in
    *make-rslave*) PROBE_ERROR="$PROBE_ERROR: / is not a mount point (a chroot into a folder? bind-mount the folder on itself)" ;;
    esac
    return 1
}

# build_lab ID: the two namespaces, the veth pair, addresses and shaping.
build_lab() {
    local id=$1 s c
    s=$(ns_server "$id")
    c=$(ns_client "$id")
    mkdir -p "$STATE_ROOT/$id"
    if ! mountpoint -q /run/netns 2>/dev/null; then
        touch "$STATE_ROOT/made-run-netns"
    fi
    probe ip netns add "$s" || return 3
    probe ip netns add "$c" || return 3
    # The pair is born inside the client namespace, its peer moved straight
    # into the server namespace: neither end ever exists on the host. This is
    # also the first command that enters a namespace's mount namespace.
    probe ip -n "$c" link add "$CLIENT_DEV" type veth peer name "$SERVER_DEV" netns "$s" || return 3
    ip -n "$s" link set lo up
    ip -n "$c" link set lo up
    # The congestion control is each namespace's own setting; a namespace may
    # take only what net.ipv4.tcp_allowed_congestion_control lists (the
    # host's, which the lab never changes).
    if [ -n "$cc" ]; then
        if ! in_ns "$s" sysctl -qw "net.ipv4.tcp_congestion_control=$cc" 2>/dev/null ||
            ! in_ns "$c" sysctl -qw "net.ipv4.tcp_congestion_control=$cc" 2>/dev/null; then
            PROBE_ERROR="congestion control $cc cannot be set in a network namespace here (allowed: $(sysctl -n net.ipv4.tcp_allowed_congestion_control 2>/dev/null))"
            return 4
        fi
    fi
    # IPv4 only: the rules are iptables (not ip6tables) rules, so IPv6 would
    # cross the link unshaped. The setting is the namespaces' own.
    in_ns "$s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    in_ns "$c" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$s" addr add "$SERVER_ADDR/24" dev "$SERVER_DEV"
    ip -n "$c" addr add "$CLIENT_ADDR/24" dev "$CLIENT_DEV"
    ip -n "$s" link set "$SERVER_DEV" up
    ip -n "$c" link set "$CLIENT_DEV" up
    # One CPU receives for each end. veth hands a packet to the backlog of the
    # CPU that sent it, and a TCP sender sends from two (its process's, and
    # wherever the returning ACKs are processed): two backlogs drained at once
    # let a later skb reach the receiver (and its NFQUEUE, whose order the
    # delayer keeps) before an earlier one. Bulk transfers saw tens of
    # segments out of order that way; steering the receive path (RPS) of each
    # end to one CPU keeps it in the order sent. The setting is the device's,
    # inside its namespace.
    steer_rx "$s" "$SERVER_DEV"
    steer_rx "$c" "$CLIENT_DEV"
    if positive "$rate"; then pick_rate_at || return 4; fi
    shape_direction "$id" c2s "$c" "$CLIENT_DEV" "$s" "$SERVER_DEV" "$delay_c2s" "$loss_c2s" || return 1
    shape_direction "$id" s2c "$s" "$SERVER_DEV" "$c" "$CLIENT_DEV" "$delay_s2c" "$loss_s2c" || return 1
    netem_probe "$c"
    {
        printf 'id=%s\n' "$id"
        printf 'server_ns=%s\nclient_ns=%s\n' "$s" "$c"
        printf 'server_addr=%s\nclient_addr=%s\n' "$SERVER_ADDR" "$CLIENT_ADDR"
        printf 'engine=nfqueue\nnetem=%s\n' "$NETEM"
        printf 'rx_steered=%s\n' "$RX_STEERED"
        # What TCP makes of the link depends on it: --cc, else the host's
        # default, inherited. Read back from each namespace.
        printf 'set_cc=%s\n' "$cc"
        printf 'tcp_congestion_control=%s\n' "$(in_ns "$c" sysctl -n net.ipv4.tcp_congestion_control)"
        printf 'tcp_congestion_control_server=%s\n' "$(in_ns "$s" sysctl -n net.ipv4.tcp_congestion_control)"
        printf 'set_delay_c2s_ms=%s\nset_delay_s2c_ms=%s\n' "$delay_c2s" "$delay_s2c"
        printf 'set_rtt_ms=%s\n' "$(awk -v a="$delay_c2s" -v b="$delay_s2c" 'BEGIN { print a + b }')"
        printf 'set_jitter_ms=%s\n' "$jitter"
        printf 'set_loss_c2s=%s\nset_loss_s2c=%s\n' "$loss_c2s" "$loss_s2c"
        printf 'set_rate_mbit=%s\nset_queue_ms=%s\nrate_at=%s\n' "$rate" "$queue_ms" "${RATE_AT:-none}"
    } >"$STATE_ROOT/$id/settings"
}

# steer_rx NS DEV: the receive path of DEV (a veth end, one rx queue) on CPU 0
# only, so packets are received in the order they were sent. Without RPS in the
# kernel the lab still works, but TCP may see segments out of order: said once.
RX_STEERED=yes
steer_rx() {
    in_ns "$1" sh -c "echo 1 >/sys/class/net/$2/queues/rx-0/rps_cpus" 2>/dev/null || {
        RX_STEERED=no
        log "cannot steer $2's receive path to one CPU (kernel without RPS?): TCP may see reordering"
    }
}

# netem_probe NS: whether this kernel has netem, tried on the lab's own
# loopback (the host's qdiscs are never touched). Sets NETEM.
NETEM=absent
netem_probe() {
    if in_ns "$1" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
        NETEM=available
        in_ns "$1" tc qdisc del dev lo root 2>/dev/null || true
    fi
}

# up_lab OWNER: builds the lab owned by OWNER, removing it again on failure.
up_lab() {
    local id=$1 rc=0
    need_root
    remove_stale
    [ ! -e "/run/netns/$(ns_server "$id")" ] || die 1 "a lab owned by $id is already up"
    build_lab "$id" || rc=$?
    if [ "$rc" -ne 0 ]; then
        teardown "$id"
        case $rc in
        3) die 3 "not run here: this kernel or container cannot make network namespaces and veth pairs (${PROBE_ERROR:-no reason given})" ;;
        4) die 3 "not run here: $PROBE_ERROR" ;;
        *) die 1 "could not build the lab" ;;
        esac
    fi
}

# --------------------------------------------------------------- measurement

setting() { sed -n "s/^$2=//p" "$STATE_ROOT/$1/settings"; }

# start_bg NS FILE CMD...: starts CMD in NS with its output in FILE and waits
# for its "ready" line. Sets BG_PID.
BG_PID=""
start_bg() {
    local ns=$1 out=$2 pid
    shift 2
    ip netns exec "$ns" "$@" </dev/null >"$out" 2>&1 &
    pid=$!
    BG_PID=$pid
    for _ in $(seq 1 250); do
        grep -q '^ready' "$out" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    grep -q '^ready' "$out" || { kill "$pid" 2>/dev/null; log "$(cat "$out")"; return 1; }
}

qdisc_bytes() { # NS DEV
    in_ns "$1" tc -s qdisc show dev "$2" | awk '/Sent/ { print $2; exit }'
}

# measure_lab ID [--samples N] [--packets N] [--seconds S] [--parts LIST]:
# prints the settings and what was measured, key=value a line.
measure_lab() {
    local id=$1 samples=50 packets=10000 seconds=3 parts=rtt,loss,rate s c dir pid pid2
    local rtt_ms jitter_ms rate_mbit wait_s gap_ms pps w0 w1 wns wdev side
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --samples | --packets | --seconds)
            [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || die 2 "bad value for $1: '${2:-}'"
            case $1 in --samples) samples=$2 ;; --packets) packets=$2 ;; --seconds) seconds=$2 ;; esac
            shift 2
            ;;
        --parts)
            [ $# -ge 2 ] && [[ $2 =~ ^(rtt|loss|rate)(,(rtt|loss|rate))*$ ]] ||
                die 2 "bad value for --parts: '${2:-}' (a list of rtt, loss, rate)"
            parts=$2
            shift 2
            ;;
        *) die 2 "unknown measure argument: $1" ;;
        esac
    done
    [ -f "$STATE_ROOT/$id/settings" ] || die 1 "no lab $id (see netlab.sh status)"
    s=$(ns_server "$id")
    c=$(ns_client "$id")
    dir=$(mktemp -d "$STATE_ROOT/$id/measure.XXXXXX")
    rtt_ms=$(setting "$id" set_rtt_ms)
    jitter_ms=$(setting "$id" set_jitter_ms)
    rate_mbit=$(setting "$id" set_rate_mbit)
    cat "$STATE_ROOT/$id/settings"

    if [[ ,$parts, == *,rtt,* ]]; then
        # Round trips: TCP connects, SYN out and SYN-ACK back, each one after
        # the previous connection's packets have left the delay line.
        gap_ms=$(awk -v r="$rtt_ms" -v j="$jitter_ms" 'BEGIN { print r / 2 + j + 1 }')
        start_bg "$s" "$dir/rtt-server" python3 "$MEASURE" rtt-server "$SERVER_ADDR" 5201 || return 1
        pid=$BG_PID
        in_ns "$c" python3 "$MEASURE" rtt "$SERVER_ADDR" 5201 "$samples" "$gap_ms" | tr ' ' '\n' ||
            { kill "$pid"; return 1; }
        kill "$pid" 2>/dev/null || true
    fi

    if [[ ,$parts, == *,loss,* ]]; then
        # Loss and order, both directions at once: numbered datagrams, paced
        # to use at most half of a limited rate (106 bytes on the wire each).
        pps=$(awk -v r="$rate_mbit" 'BEGIN { p = 5000; if (r > 0 && r * 1e6 / 848 / 2 < p) p = r * 1e6 / 848 / 2; printf "%d", p }')
        wait_s=$(awk -v r="$rtt_ms" -v j="$jitter_ms" 'BEGIN { printf "%.1f", (r + 2 * j) / 1000 + 1 }')
        start_bg "$s" "$dir/sink-c2s" python3 "$MEASURE" udp-sink "$SERVER_ADDR" 5202 "$packets" "$wait_s" || return 1
        pid=$BG_PID
        start_bg "$c" "$dir/sink-s2c" python3 "$MEASURE" udp-sink "$CLIENT_ADDR" 5203 "$packets" "$wait_s" || return 1
        pid2=$BG_PID
        in_ns "$c" python3 "$MEASURE" udp-send "$SERVER_ADDR" 5202 "$packets" "$pps" >/dev/null &
        in_ns "$s" python3 "$MEASURE" udp-send "$CLIENT_ADDR" 5203 "$packets" "$pps" >/dev/null || return 1
        wait "$!" || return 1
        wait "$pid" && wait "$pid2" || { log "$(cat "$dir"/sink-*)"; return 1; }
        for side in c2s s2c; do
            grep -v '^ready' "$dir/sink-$side" | tr ' ' '\n' | sed "s/^/${side}_/"
            printf '%s_loss_interval99=%s\n' "$side" \
                "$(python3 "$MEASURE" interval "$packets" "$(setting "$id" "set_loss_$side")" 0.99 | tr ' ' '-')"
        done
    fi

    if [[ ,$parts, == *,rate,* ]]; then
        # Rate: one bulk transfer, server to client, for a few seconds, timed
        # from the first byte to the last. The wire rate adds the header bytes
        # the bottleneck's qdisc counted (on the client's ifb, or on the
        # server's way out).
        if [ "$(setting "$id" rate_at)" = receiver ]; then
            wns=$c wdev=$IFB_DEV
        else
            wns=$s wdev=$SERVER_DEV
        fi
        w0=$(qdisc_bytes "$wns" "$wdev")
        start_bg "$s" "$dir/bulk-server" python3 "$MEASURE" bulk-server "$SERVER_ADDR" 5204 "$seconds" || return 1
        pid=$BG_PID
        in_ns "$c" python3 "$MEASURE" bulk "$SERVER_ADDR" 5204 >"$dir/bulk" || { kill "$pid"; return 1; }
        wait "$pid" || true
        w1=$(qdisc_bytes "$wns" "$wdev")
        tr ' ' '\n' <"$dir/bulk"
        # Without a rate there is no qdisc to count (veth's is noqueue).
        tr ' ' '\n' <"$dir/bulk" | awk -v w="$((w1 - w0))" -F= '
            { v[$1] = $2 }
            END { if (w > 0) printf "wire_mbit=%.3f\n", v["goodput_mbit"] * w / v["bulk_bytes"] }'
    fi

    # The delayers' own cost, so that nobody mistakes it for the clients'.
    for side in c2s s2c; do
        [ -f "$STATE_ROOT/$id/delayer-$side.pid" ] || continue
        kill -USR1 "$(cat "$STATE_ROOT/$id/delayer-$side.pid")" 2>/dev/null || continue
        sleep 0.1
        grep '^packets=' "$STATE_ROOT/$id/delayer-$side.log" | tail -n 1 | tr ' ' '\n' |
            sed "s/^/delayer_${side}_/"
    done
    rm -rf "$dir"
}

# ---------------------------------------------------------------- commands

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
up)
    parse_shape "$@"
    owner=$PPID
    set -- "${REST[@]+"${REST[@]}"}"
    while [ $# -gt 0 ]; do
        case $1 in
        --owner) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || die 2 "bad value for --owner: '${2:-}'"
            owner=$2; shift 2 ;;
        *) die 2 "unknown argument: $1" ;;
        esac
    done
    up_lab "$owner"
    cat "$STATE_ROOT/$owner/settings"
    ;;
run)
    parse_shape "$@"
    set -- "${REST[@]+"${REST[@]}"}"
    do_measure=0
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        case $1 in
        --measure) do_measure=1; shift ;;
        *) die 2 "unknown argument: $1" ;;
        esac
    done
    [ $# -ge 2 ] || die 2 "run needs -- and a command"
    shift
    id=$$
    child=""
    # CMD runs in the background and is waited for, so that a signal is
    # handled at once (bash runs a trap only after a foreground command ends):
    # CMD is ended, then the EXIT trap tears the lab down.
    on_signal() {
        [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true
        exit "$1"
    }
    trap 'teardown "$id"' EXIT
    trap 'on_signal 130' INT
    trap 'on_signal 143' TERM
    trap 'on_signal 129' HUP
    up_lab "$id"
    if [ "$do_measure" -eq 1 ]; then
        measure_lab "$id" >&2 || die 1 "the lab's measurement failed"
    fi
    export NETLAB_ID=$id NETLAB_SERVER_NS NETLAB_CLIENT_NS
    export NETLAB_SERVER_ADDR=$SERVER_ADDR NETLAB_CLIENT_ADDR=$CLIENT_ADDR NETLAB="${BASH_SOURCE[0]}"
    NETLAB_SERVER_NS=$(ns_server "$id")
    NETLAB_CLIENT_NS=$(ns_client "$id")
    "$@" <&0 &
    child=$!
    rc=0
    wait "$child" || rc=$?
    exit "$rc"
    ;;
exec)
    [ $# -ge 4 ] && [ "$3" = "--" ] || usage
    need_root
    case $2 in
    server) ns=$(ns_server "$1") ;;
    client) ns=$(ns_client "$1") ;;
    *) die 2 "exec: say server or client, not '$2'" ;;
    esac
    [ -e "/run/netns/$ns" ] || die 1 "no lab $1 (see netlab.sh status)"
    shift 3
    exec ip netns exec "$ns" "$@"
    ;;
measure)
    [ $# -ge 1 ] || usage
    need_root
    measure_lab "$@" || die 1 "the measurement of lab $1 failed"
    ;;
status)
    need_root
    for id in $(lab_ids); do
        state=gone
        kill -0 "$id" 2>/dev/null && state=alive
        printf 'lab=%s owner=%s %s\n' "$id" "$state" \
            "$(grep -E '^set_' "$STATE_ROOT/$id/settings" 2>/dev/null | tr '\n' ' ')"
    done
    ;;
down)
    [ $# -eq 1 ] || usage
    need_root
    if [ "$1" = "--stale" ]; then
        remove_stale
    elif [ "$1" = "--all" ]; then
        # It used to remove every lab, live ones included: two runs at once
        # broke each other.
        die 2 "down --all is gone (it removed other runs' labs): use down ID, or down --stale"
    else
        [[ $1 =~ ^[0-9]+$ ]] || die 2 "down: not a lab id: '$1'"
        teardown "$1"
    fi
    release_run_netns
    ;;
-h | --help) usage ;;
*) usage ;;
esac
