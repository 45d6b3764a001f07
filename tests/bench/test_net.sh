#!/usr/bin/env bash
# test_net.sh -- scripts/bench.sh over the network lab (issue 21): one short
# sweep of WAN (m = 50, one run a point) and checks that flagserver ran in the
# lab's server namespace and every line in its client namespace (the runs
# take the lab's round trips: over loopback they would be 4x shorter), that
# the lab was measured into raw/netlab.txt and the report shows it, and that
# nothing of the lab is left after the run, nor after a SIGTERM in the middle
# of a sweep (the staging-folder interrupt path). Traffic stays inside the
# lab's namespaces (198.18.0.0/15); the host's network is not touched.
#
# Needs root (network namespaces); without it, "not run here" and exit 77.
# Environment (set by ctest): FLAGBENCH_SOURCE, FLAGBENCH_BUILD.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    echo "not run here: needs root for network namespaces"
    exit 77
fi
fb_need hyperfine:hyperfine gnuplot:gnuplot-nox jq:jq ip:iproute2 iptables:iptables

src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
build=${FLAGBENCH_BUILD:-$src/build}
out="$FB_TMP/out"
errlog="$FB_TMP/bench.err"

# lab_left ID: what of lab ID is still there (namespaces, its log folder)
lab_left() {
    local id=$1
    ls -d "/run/netns/fbnl-$id-s" "/run/netns/fbnl-$id-c" "/run/flagbench-netlab/$id" 2>/dev/null
}

# ---- one short sweep of WAN over the lab
t0=$(fb_now)
bash "$src/scripts/bench.sh" --quick --scenario WAN --concur 50 --runs 1 --out "$out" \
    --build "$build" 2>"$errlog"
rc=$?
fb_log "bench.sh --quick --scenario WAN --concur 50 --runs 1 took $(fb_elapsed "$t0") s"
fb_eq "bench.sh exits 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 30 "$errlog" | sed 's/^/#   /'; fi
raw="$out/WAN/raw"
# Where the lab cannot be built (a chroot without a usable /run/netns, say),
# bench.sh marks the scenario "not run here": so does this test, with the
# reason, instead of failing on a lab that was never there.
if [ "$rc" -eq 0 ] && [ -s "$raw/skipped.txt" ]; then
    echo "not run here: $(cat "$raw/skipped.txt")"
    exit 77
fi
id=$(sed -n 's/^id=//p' "$raw/netlab-up.txt" 2>/dev/null)
fb_ok "the lab was built (raw/netlab-up.txt names its id)" test -n "$id"
fb_eq "flagserver listened at the lab's server address" \
    "$(sed -n 's|^url \(http://198\.18\.0\.1\):[0-9]*/flags$|\1|p' "$raw/server.txt")" "http://198.18.0.1"
fb_eq "the lab was measured: RTT over 50 connects, loss over 10,000 datagrams each way, the wire rate" \
    "$(grep -cE '^(rtt_samples=50|c2s_packets=10000|s2c_packets=10000|wire_mbit=[0-9.]+)$' "$raw/netlab.txt")" 4
grep -E '^(rtt_median_ms|c2s_lost|s2c_lost|wire_mbit|delayer_c2s_cpu_ns_per_packet)=' "$raw/netlab.txt" |
    sed 's/^/# /'
fb_ok "REPORT.md shows the lab set against measured" \
    grep -q '^- network lab measured: RTT median' "$out/REPORT.md"
fb_ok "REPORT.md states the delayers' CPU per packet" \
    grep -q "^- the lab's delayers (not the clients): .* µs CPU per packet" "$out/REPORT.md"
for line in threadpool asyncloop curl py-asyncio; do
    pdir="$raw/$line-m50"
    # 388 requests, 50 in flight: one TCP round trip, then ceil(388 / 50) = 8
    # of a round trip and the 20 ms delay: at least 0.61 s over the lab, 0.16 s
    # over loopback
    t=$(jq '[.results[0].times[]] | min' "$pdir/hf-1.json" 2>/dev/null || echo 0)
    fb_le "$line ran across the lab: its fastest run $t s >= 0.6 s of round trips" 0.6 "$t"
    if [ "$line" != curl ]; then
        fb_eq "$line: every run downloaded all 388 flags" \
            "$(jq -s 'map(.ok == 388 and .errors == 0) | all' "$pdir/records.jsonl" 2>/dev/null)" true
    fi
done
fb_eq "flagserver counted each batch's requests (388 a run)" \
    "$(jq -s 'map(.requests % 388 == 0 and .requests > 0) | all' "$raw"/*-m50/stats-1.json)" true
fb_eq "nothing of the lab is left after the run" "$(lab_left "$id")" ""

# ---- SIGTERM while the sweep runs over the lab: exit 130, the earlier
# results as they were, the lab torn down
sum0=$(md5sum <"$out/REPORT.md")
bash "$src/scripts/bench.sh" --quick --scenario WAN --concur 50 --runs 1 --out "$out" \
    --build "$build" 2>"$FB_TMP/bench2.err" &
pid=$!
up=""
for _ in $(seq 1 600); do # at most 60 s for the build check and the lab
    up=$(find "$out" -path '*/.flagbench-partial.*/WAN/raw/asyncloop-m50' 2>/dev/null | head -n 1)
    [ -n "$up" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
fb_ok "the second run reached its sweep over the lab" test -n "$up"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
fb_eq "SIGTERM: bench.sh exits 130" "$rc" 130
fb_eq "SIGTERM: nothing of its lab is left" "$(lab_left "$pid")" ""
fb_eq "SIGTERM: the earlier REPORT.md is as it was" "$(md5sum <"$out/REPORT.md")" "$sum0"
fb_eq "SIGTERM: no flagserver of the run is left" \
    "$(pgrep -f "flagserver --bind 198.18.0.1 --port 0 --dir $build" || true)" ""
fb_finish
