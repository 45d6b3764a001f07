#!/usr/bin/env bash
# test_placement.sh -- the placement setting (issue 24): a tiny sweep of LOCAL
# (shared) and LOCAL-SPLIT (split) into one --out, at one m with 2 runs.
# Checks that bench.sh recorded the CPU sets it derived from the CPUs this
# process may use (raw/placement.txt), that every point's records say
# flagserver ran on the server's set at the start and end of every batch and
# every client run on the clients' set (one record per run), that no point is
# INVALID, and that REPORT.md has the placement lines and the section pairing
# LOCAL with LOCAL-SPLIT. The two run together (bench.sh's run_pair): one
# flagserver re-pinned before every batch, their batches interleaved (the
# joint schedule and each folder's paired.txt are checked). Independently of
# bench.sh's records, the test itself samples the Cpus_allowed_list of the
# flagserver while clients of each placement run. With fewer than 2 usable CPUs (the test's own,
# or bench.sh run under taskset on one of them), LOCAL-SPLIT must say "not
# run here: needs 2 CPUs".
#
# Environment (set by ctest): FLAGBENCH_SOURCE, FLAGBENCH_BUILD.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../lib.sh"
fb_need hyperfine:hyperfine gnuplot:gnuplot-nox taskset:util-linux jq:jq

src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
build=${FLAGBENCH_BUILD:-$src/build}
out="$FB_TMP/out"
samples="$FB_TMP/samples.txt"

allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
eval "$(python3 "$src/scripts/report.py" cpu-split "$allowed")"
fb_log "CPUs this test may use: $CPUS_ALLOWED; split: ${SPLIT_WHY:-server $SERVER_CPUS, clients $CLIENT_CPUS}"

# sample PID: until PID exits, every 50 ms, one line per pass: "pass
# SERVER_CPUS SCENARIO..." -- the Cpus_allowed_list of the flagserver that is
# a child of PID, read first, then the scenario of each client program
# running (one whose command line names a point folder of this test's --out)
# and still alive after it. A client seen alive after the server's read was
# alive at that read (it was listed before it), so the two were on those
# CPUs together.
sample() {
    local bench=$1 p ppid comm args scen srv srv_cpus clients
    while kill -0 "$bench" 2>/dev/null; do
        srv="" clients=()
        while read -r p ppid comm args; do
            if [ "$comm" = flagserver ] && [ "$ppid" = "$bench" ]; then
                srv=$p
            elif [[ $comm == flags_* ]]; then
                scen=$(sed -n "s|.*$out/[^ ]*/\(LOCAL[A-Z-]*\)/raw/.*|\1|p" <<<"$args")
                if [ -n "$scen" ]; then clients+=("$p:$scen"); fi
            fi
        done < <(ps -e -o pid=,ppid=,comm=,args=)
        if [ -n "$srv" ] && [ "${#clients[@]}" -gt 0 ]; then
            srv_cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$srv/status" 2>/dev/null)
            local seen=""
            for c in "${clients[@]}"; do
                [ -e "/proc/${c%%:*}" ] && seen+=" ${c#*:}"
            done
            if [ -n "$srv_cpus" ] && [ -n "$seen" ]; then echo "pass $srv_cpus$seen"; fi
        fi
        sleep 0.05
    done >"$samples"
}

t0=$(fb_now)
bash "$src/scripts/bench.sh" --quick --scenario LOCAL,LOCAL-SPLIT --concur 10 --runs 2 \
    --out "$out" --build "$build" 2>"$FB_TMP/bench.err" &
bench_pid=$!
sample "$bench_pid" &
sampler=$!
wait "$bench_pid"
rc=$?
wait "$sampler"
fb_log "bench.sh --scenario LOCAL,LOCAL-SPLIT took $(fb_elapsed "$t0") s"
fb_eq "bench.sh exits 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 20 "$FB_TMP/bench.err" | sed 's/^/#   /'; fi

if [ -n "$SPLIT_WHY" ]; then
    fb_ok "LOCAL-SPLIT is not run here: needs 2 CPUs" grep -q "needs 2 CPUs" "$out/LOCAL-SPLIT/raw/skipped.txt"
    fb_ok "REPORT.md says so" grep -q "Not run here.*needs 2 CPUs" "$out/REPORT.md"
    fb_finish
fi

# check_point PDIR SERVER CLIENT: one line per broken property of the point's
# CPU records (nothing when flagserver was on SERVER at the start and end of
# every batch and every run, warmup included, on CLIENT).
check_point() {
    python3 - "$@" <<'EOF'
import os, sys
pdir, server, client = sys.argv[1:]
batches = [l.split() for l in open(os.path.join(pdir, "facts.txt")) if l.startswith("batch ")]
runs = sum(int(b[b.index("runs") + 1]) + int(b[b.index("warmup") + 1]) for b in batches)
seen = {}
for l in open(os.path.join(pdir, "server-cpus.txt")):
    w = l.split()
    seen[(w[1], w[2])] = w[3:]
for b in batches:
    for when in ("start", "end"):
        if seen.get((b[1], when)) != [server]:
            print("%s: flagserver at the %s of batch %s: %s, want %s" % (pdir, when, b[1], seen.get((b[1], when)), server))
cl = open(os.path.join(pdir, "client-cpus.txt")).read().split()
if cl != [client] * runs:
    print("%s: client records %s, want %d x %s" % (pdir, cl, runs, client))
EOF
}

for name in LOCAL LOCAL-SPLIT; do
    raw="$out/$name/raw"
    if [ "$name" = LOCAL ]; then
        want="placement shared|allowed $CPUS_ALLOWED|"
        srv=$CPUS_ALLOWED cli=$CPUS_ALLOWED
    else
        want="placement split|allowed $CPUS_ALLOWED|server $SERVER_CPUS|client $CLIENT_CPUS|"
        srv=$SERVER_CPUS cli=$CLIENT_CPUS
    fi
    fb_eq "$name: raw/placement.txt records the CPU sets" "$(tr '\n' '|' <"$raw/placement.txt" 2>/dev/null)" "$want"
    npts=0 broken="" b=""
    for pdir in "$raw"/*-m10; do
        [ -d "$pdir" ] || continue
        npts=$((npts + 1))
        b=$(check_point "$pdir" "$srv" "$cli" 2>&1)
        if [ -n "$b" ]; then broken+="$b"$'\n'; fi
    done
    fb_ok "$name: points to check ($npts)" test "$npts" -ge 3
    fb_eq "$name: every point's flagserver on CPU $srv, every run on CPU $cli" "$broken" ""
    fb_eq "$name: no point INVALID" "$(jq '[.[] | select(.valid | not) | select(.not_run == null)] | length' \
        "$out/$name/points.json" 2>/dev/null)" 0
done

# LOCAL and LOCAL-SPLIT ran together (bench.sh's run_pair): one flagserver,
# re-pinned before every batch, the two placements' batches interleaved
fb_ok "one flagserver for both, re-pinned per batch" \
    grep -q "^bench: \[LOCAL\] flagserver pid [0-9]* .*shared with LOCAL-SPLIT, re-pinned before every batch" \
    "$FB_TMP/bench.err"
fb_eq "each folder names its pair" "$(cat "$out/LOCAL/raw/paired.txt" "$out/LOCAL-SPLIT/raw/paired.txt" 2>/dev/null)" \
    "with LOCAL-SPLIT"$'\n'"with LOCAL"
fb_eq "their time is joint, in both folders" \
    "$(sed -n 2p "$out/LOCAL/raw/wall.txt" 2>/dev/null) $(cmp -s "$out/LOCAL/raw/wall.txt" "$out/LOCAL-SPLIT/raw/wall.txt" && echo same)" \
    "together LOCAL LOCAL-SPLIT same"
fb_eq "the joint schedule opens with threadpool shared, then split" \
    "$(head -n 2 "$out/LOCAL/raw/pair-schedule.txt" 2>/dev/null | awk '{ print $2 "/" $6 }' | tr '\n' ' ')" \
    "LOCAL/threadpool LOCAL-SPLIT/threadpool "
fb_eq "the joint schedule: every batch of both folders, nothing else" \
    "$(wc -l <"$out/LOCAL/raw/pair-schedule.txt" 2>/dev/null)" \
    "$(cat "$out/LOCAL/raw/schedule.txt" "$out/LOCAL-SPLIT/raw/schedule.txt" 2>/dev/null | wc -l)"

# what the test saw itself, not what bench.sh wrote: while a client of one
# placement ran, flagserver was on that placement's CPUs
fb_eq "sampled: while LOCAL-SPLIT's clients ran, flagserver only on CPU $SERVER_CPUS" \
    "$(awk '/ LOCAL-SPLIT/ { print $2 }' "$samples" | sort -u | tr '\n' ' ')" "$SERVER_CPUS "
fb_eq "sampled: while LOCAL's clients ran, flagserver on CPU $CPUS_ALLOWED" \
    "$(awk '/ LOCAL( |$)/ { print $2 }' "$samples" | sort -u | tr '\n' ' ')" "$CPUS_ALLOWED "
fb_eq "sampled: never a LOCAL and a LOCAL-SPLIT client at once" \
    "$(grep -c ' LOCAL-SPLIT.* LOCAL\( \|$\)\| LOCAL .*LOCAL-SPLIT' "$samples")" 0
fb_log "samples: $(wc -l <"$samples") passes with a client"

report="$out/REPORT.md"
fb_ok "REPORT.md: LOCAL-SPLIT's header says where each ran" \
    grep -qF "placement split: flagserver on CPU $SERVER_CPUS, the clients (hyperfine and every line) on CPU $CLIENT_CPUS" "$report"
fb_ok "REPORT.md: the placement section" grep -q "^## Placement: flagserver off the clients' cores" "$report"
fb_ok "REPORT.md: LOCAL paired with LOCAL-SPLIT" grep -q "^### LOCAL against LOCAL-SPLIT" "$report"
fb_ok "REPORT.md: the two ran together" grep -q "^The two ran together: at each m" "$report"
fb_ok "REPORT.md: threadpool at m = 10, shared against split" \
    grep -q "^| 10 | threadpool | [0-9.]* s ([0-9]*) | [0-9.]* s ([0-9]*) | \(too few runs to test\|no significant\|split \)" \
    "$report"

# Fewer than 2 CPUs: bench.sh itself limited to one of them, LOCAL-SPLIT is
# not run here, in one line, and never run shared in its place.
one=${CPUS_ALLOWED%%[-,]*}
out1="$FB_TMP/out-one"
taskset -c "$one" bash "$src/scripts/bench.sh" --quick --scenario LOCAL-SPLIT --concur 10 --runs 1 \
    --out "$out1" --build "$build" 2>"$FB_TMP/bench-one.err"
fb_eq "on CPU $one alone: bench.sh exits 0" "$?" 0
fb_eq "on CPU $one alone: LOCAL-SPLIT not run here, why" "$(cat "$out1/LOCAL-SPLIT/raw/skipped.txt" 2>/dev/null)" \
    "placement split needs 2 CPUs (this run may use only CPU $one)"
fb_ok "on CPU $one alone: no point ran" test -z "$(find "$out1/LOCAL-SPLIT/raw" -name 'hf-*.json' 2>/dev/null)"
fb_ok "on CPU $one alone: REPORT.md says why" grep -q "^\*\*Not run here\*\*: placement split needs 2 CPUs" "$out1/REPORT.md"

fb_finish
