#!/usr/bin/env bash
# test_schedule.sh -- the schedule of the runs at one m (issue 24): by default
# bench.sh interleaves the lines' runs in batches of at most 2 (A B C A B C
# ..., the order rotated each round), with each line's warm-up only in its
# first batch and the same number of timed runs per line as asked;
# --consecutive runs each line's runs in one batch, one line after the other.
# Checked on RAW/schedule.txt (every batch in the order it ran), the points'
# facts and REPORT.md. A short LOCAL --quick sweep at one m, twice.
#
# Environment (set by ctest): FLAGBENCH_SOURCE, FLAGBENCH_BUILD.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../lib.sh"
fb_need hyperfine:hyperfine gnuplot:gnuplot-nox

src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
build=${FLAGBENCH_BUILD:-$src/build}
runs=5

# check_schedule SCHEDULE MODE SCENARIO_JSON: prints one line per broken property (nothing
# when the schedule is MODE's: interleaved or consecutive).
check_schedule() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
path, mode = sys.argv[1], sys.argv[2]
# the runs asked of each line, as bench.sh resolved the scenario
want = {p["line"]: p["runs"] for p in json.load(open(sys.argv[3]))["points"] if not p["not_run"]}
rows = []
for line in open(path):
    w = line.split()
    kv = dict(zip(w[0::2], w[1::2]))
    rows.append({"line": kv["line"], "batch": int(kv["batch"]), "runs": int(kv["runs"]),
                 "warmup": int(kv["warmup"]), "extra": int(kv["extra"])})
rows = [r for r in rows if not r["extra"]]
lines = list(dict.fromkeys(r["line"] for r in rows))
if set(lines) != set(want):
    print("lines run %s, asked %s" % (sorted(lines), sorted(want)))
for l in lines:
    mine = [r for r in rows if r["line"] == l]
    if sum(r["runs"] for r in mine) != want[l]:
        print("%s: %d timed runs in all, asked %d" % (l, sum(r["runs"] for r in mine), want[l]))
    if [r["batch"] for r in mine] != list(range(1, len(mine) + 1)):
        print("%s: batches not numbered 1, 2, ... in order" % l)
    if any(r["warmup"] for r in mine[1:]):
        print("%s: a warm-up after the first batch" % l)
if len(lines) < 3:
    print("fewer than 3 lines at the m (%d)" % len(lines))
seq = [r["line"] for r in rows]
if mode == "consecutive":
    if seq != lines:
        print("not one batch per line, one line after the other: %s" % " ".join(seq))
    sys.exit(0)
if any(r["runs"] > 2 for r in rows):
    print("a batch of more than 2 runs")
# round 1 runs every line once; round 2 starts with round 1's second line
n = len(lines)
if seq[:n] != lines:
    print("round 1 is not every line once: %s" % " ".join(seq[:n]))
elif seq[n] != lines[1]:
    print("round 2 starts with %s, not %s (the order is not rotated)" % (seq[n], lines[1]))
# no line runs two batches in a row while another line has runs left
left = dict(want)
for i, l in enumerate(seq):
    left[l] -= rows[i]["runs"]
    if i + 1 < len(seq) and seq[i + 1] == l and any(v > 0 for k, v in left.items() if k != l):
        print("%s twice in a row at batch %d while other lines had runs left" % (l, i + 1))
        break
EOF
}

for mode in interleaved consecutive; do
    out="$FB_TMP/out-$mode"
    args=(--quick --scenario LOCAL --concur 10 --runs "$runs" --out "$out" --build "$build")
    if [ "$mode" = consecutive ]; then args+=(--consecutive); fi
    t0=$(fb_now)
    bash "$src/scripts/bench.sh" "${args[@]}" 2>"$FB_TMP/bench-$mode.err"
    rc=$?
    fb_log "bench.sh ${args[*]} took $(fb_elapsed "$t0") s"
    fb_eq "$mode: bench.sh exits 0" "$rc" 0
    if [ "$rc" -ne 0 ]; then tail -n 20 "$FB_TMP/bench-$mode.err" | sed 's/^/#   /'; fi
    sched="$out/LOCAL/raw/schedule.txt"
    fb_ok "$mode: raw/schedule.txt lists the batches" test -s "$sched"
    if [ -s "$sched" ]; then
        broken=$(check_schedule "$sched" "$mode" "$out/LOCAL/raw/scenario.json" 2>&1)
        fb_eq "$mode: the schedule is $mode, every line's runs as asked" "$broken" ""
    fi
    fb_eq "$mode: no point INVALID" "$(jq '[.[] | select(.valid | not)] | length' "$out/LOCAL/points.json" 2>/dev/null)" 0
    fb_eq "$mode: every C line has $runs timed runs in points.json" \
        "$(jq "[.[] | select((.line | startswith(\"py-\") | not) and .runs != $runs)] | length" \
            "$out/LOCAL/points.json" 2>/dev/null)" 0
    fb_ok "$mode: REPORT.md says how the runs were scheduled" grep -q "| runs at one m | $mode" "$out/REPORT.md"
done

fb_finish
