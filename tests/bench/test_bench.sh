#!/usr/bin/env bash
# test_bench.sh -- runs scripts/bench.sh --quick into a temporary directory and
# checks what it produced: REPORT.md, every plot it embeds is a real PNG, every
# JSON file parses, every scenario has points and none is INVALID, the raw
# layout (hyperfine, records, gzipped latencies, /stats per batch), pooled
# latency percentiles and a significance-tested verdict per scenario. Then
# checks that SIGTERM in the middle of a sweep stops bench.sh and its
# flagserver.
#
# Environment (set by ctest): FLAGBENCH_SOURCE, FLAGBENCH_BUILD (the build dir
# whose programs are benchmarked; bench.sh builds nothing when they exist).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../lib.sh"
fb_need hyperfine:hyperfine gnuplot:gnuplot-nox

src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
build=${FLAGBENCH_BUILD:-$src/build}
out="$FB_TMP/out"
errlog="$FB_TMP/bench.err"

# ---- the quick sweep
t0=$(fb_now)
bash "$src/scripts/bench.sh" --quick --out "$out" --build "$build" 2>"$errlog"
rc=$?
fb_log "bench.sh --quick took $(fb_elapsed "$t0") s"
fb_eq "bench.sh --quick exits 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 30 "$errlog" | sed 's/^/#   /'; fi

report="$out/REPORT.md"
fb_ok "REPORT.md exists and is not empty" test -s "$report"

# bench.sh --quick runs the default set (each scenario lists its sets)
mapfile -t default_set < <(python3 "$src/scripts/report.py" scenario-set "$src/bench/scenarios" default)
nscen=${#default_set[@]}
fb_ok "the default set has scenarios ($nscen)" test "$nscen" -ge 4
fb_eq "scenarios.txt lists the default set" "$(cat "$out/scenarios.txt" 2>/dev/null)" "$(printf '%s\n' "${default_set[@]}")"

# Every scenario of the default set has a section, a non-empty points.json and
# its raw data: per client point hyperfine's JSON, records, latencies, /stats.
for name in "${default_set[@]}"; do
    fb_ok "REPORT.md has a section for $name" grep -q "^## $name\$" "$report"
    # A scenario this machine cannot run (the network lab without usable
    # network namespaces, e.g. in a chroot) says so in one line, in its raw
    # folder and in REPORT.md, and has no points to check.
    if [ -s "$out/$name/raw/skipped.txt" ]; then
        fb_ok "$name: not run here, and REPORT.md says why" grep -qF "$(head -n 1 "$out/$name/raw/skipped.txt")" "$report"
        continue
    fi
    n=$(jq '[.[] | select(.valid)] | length' "$out/$name/points.json" 2>/dev/null || echo 0)
    fb_ok "$name has valid points ($n)" test "$n" -gt 0
    fb_ok "$name: raw/scenario.json" test -s "$out/$name/raw/scenario.json"
    # the time it took (report.py budget calibrates on it), also in REPORT.md
    fb_ok "$name: raw/wall.txt holds the seconds it took" grep -qx 'seconds [0-9][0-9]*' "$out/$name/raw/wall.txt"
    fb_ok "$name: REPORT.md gives that time" \
        grep -q "^- time: $(awk '{ print $2 }' "$out/$name/raw/wall.txt" 2>/dev/null) s (" "$report"
    pdir="$out/$name/raw/asyncloop-m$(jq '.concur[0]' "$out/$name/raw/scenario.json")"
    fb_ok "$name: $(basename "$pdir") has hf-1.json, stats-1.json, records, latencies" \
        test -s "$pdir/hf-1.json" -a -s "$pdir/stats-1.json" -a -s "$pdir/records.jsonl" \
        -a -s "$pdir/latencies.txt.gz"
    # pooled: the latency sample count is every OK/404 request of the timed runs
    fb_eq "$name: pooled latency samples == ok + not found of the timed runs" \
        "$(jq -r '[.[] | select(.valid and .latency_ms != null and .errors == 0)
                  | (.latency_ms.n == (.ok + .not_found) * .runs)] | all' "$out/$name/points.json")" true
done
# DISK saves under the build directory, names its file system, holds each
# design against curl --parallel, and leaves nothing under BUILD/bench-disk.
disk_section=$(sed -n '/^## DISK$/,/^## [A-Z]/p' "$report")
# findmnt names ext4 where statfs says ext2/ext3; in a chroot (fresh-check)
# whose root is no mount point findmnt finds nothing and statfs is the answer
disk_fs=$(findmnt -n -o FSTYPE -T "$build" 2>/dev/null | head -n 1) || disk_fs=""
[ -n "$disk_fs" ] || disk_fs=$(stat -f -c %T "$build")
fb_ok "DISK names the file system it saved on ($disk_fs)" grep -qF \
    "downloads saved on: $disk_fs (\`$build/bench-disk/DISK\`)" <<<"$disk_section"
fb_ok "DISK holds each design against curl" \
    grep -qE '^\| [0-9]+ \| (threadpool|asyncloop) \| [0-9.]+× curl' <<<"$disk_section"
fb_eq "bench.sh removed BUILD/bench-disk" "$(ls -d "$build/bench-disk" 2>/dev/null)" ""
fb_ok "REPORT.md has a threadpool-vs-asyncloop table with p-values" \
    grep -qE '^\| [0-9]+ \| (no significant difference|too few runs to test|(threadpool|asyncloop) faster by).*\) \|$' "$report"
fb_ok "REPORT.md has the pooled latency column" grep -q 'p50 / p99 / p99.9 (ms, pooled)' "$report"
fb_ok "verdicts.json parses" jq -e 'length >= 4' "$out/verdicts.json"

# Every plot the report embeds exists and starts with the PNG signature.
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
plots=$(grep -o '!\[[^]]*\]([^)]*)' "$report" 2>/dev/null | sed 's/.*(\(.*\))/\1/')
nplots=$(printf '%s\n' "$plots" | grep -c . || true)
fb_ok "REPORT.md embeds a plot per scenario at least ($nplots)" \
    test "$nplots" -ge "$nscen"
bad=""
for p in $plots; do
    if [ ! -f "$out/$p" ] || ! is_png "$out/$p"; then bad+=" $p"; fi
done
fb_eq "every embedded plot is a PNG file" "${bad:-none}" none
svgs=$(find "$out" -name '*.svg' | wc -l)
bad_svg=$(find "$out" -name '*.svg' -exec grep -L '<svg' {} + | tr '\n' ' ')
fb_ok "SVG plots were written ($svgs)" test "$svgs" -gt 0
fb_eq "every SVG holds an <svg> element" "${bad_svg:-none}" none

# Every JSON file parses.
njson=$(find "$out" -name '*.json' | wc -l)
bad=""
while IFS= read -r f; do
    jq empty "$f" 2>/dev/null || bad+=" ${f#"$out"/}"
done < <(find "$out" -name '*.json')
fb_ok "JSON files were written ($njson)" test "$njson" -gt 0
fb_eq "every JSON file parses" "${bad:-none}" none

# No point is INVALID, by the summaries and by the report.
invalid=$(jq -r '.[] | select((.valid or .not_run) | not) | "\(.line) m=\(.m): \(.reasons | join("; "))"' \
    "$out"/*/points.json 2>/dev/null)
fb_eq "no point is INVALID in points.json" "${invalid:-none}" none
if [ -n "$invalid" ]; then
    # what bench.sh said about its servers and failed batches, and each failed
    # client's own words: the temporary directory is gone once this test ends
    grep -E 'flagserver|could not|error' "$errlog" | tail -n 20 | sed 's/^/#   /'
    find "$out" -name probe.err -size +0 | head -n 5 | while read -r f; do
        printf '#   %s: %s\n' "${f#"$out"/}" "$(head -c 300 "$f")"
    done
fi
fb_eq "REPORT.md marks no point INVALID" "$(grep -cE '\*\*INVALID\*\*:|point\(s\) INVALID' "$report")" 0
nran=0 # the default set's scenarios this machine could run
for name in "${default_set[@]}"; do
    if [ ! -s "$out/$name/raw/skipped.txt" ]; then nran=$((nran + 1)); fi
done
fb_ok "REPORT.md has a computed verdict per scenario run ($nran)" \
    test "$(grep -c '^\*\*Verdict\.\*\* .*m = ' "$report")" -eq "$nran"

# The HTTPS scenarios of the default set (issue 10): the server's handshake
# counters in every valid point, one full handshake per request in HANDSHAKE,
# the verdict's "Second core" sentence.
in_default() {
    local s
    for s in "${default_set[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}
ntls=0
for name in "${default_set[@]}"; do
    grep -qE '"tls": *true' "$src/bench/scenarios/$name.json" || continue
    ntls=$((ntls + 1))
    [ -s "$out/$name/raw/skipped.txt" ] && continue
    fb_eq "$name: every valid point counted handshakes and no failed one" \
        "$(jq -r 'map(select(.valid)) | length > 0 and
                  all(.tls.per_run.handshakes > 0 and .tls.per_run.failed == 0)' "$out/$name/points.json")" true
done
fb_ok "the default set has an HTTPS scenario" test "$ntls" -gt 0
fb_ok "TLS: the table has the handshake columns" \
    grep -q '| TLS handshakes / resumed / failed per run (server) | client CPU s / wall s | status |' "$report"
if in_default HANDSHAKE; then
    fb_eq "HANDSHAKE: every valid point did one full handshake per request" \
        "$(jq -r --argjson n "$(jq .requests "$out/HANDSHAKE/raw/scenario.json")" \
            'map(select(.valid)) | length > 0 and
             all(.tls.per_run.handshakes == $n and .tls.per_run.resumed == 0)' "$out/HANDSHAKE/points.json")" true
fi
fb_eq "every TLS scenario's verdict says where the pool's second core wins" \
    "$(grep -c '^\*\*Verdict\.\*\* .*Second core: ' "$report")" "$ntls"
fb_eq "bench.sh left no flagserver running" \
    "$(grep -o 'flagserver pid [0-9]*' "$errlog" | awk '{ print $3 }' |
        while read -r pid; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done)" ""

# ---- SIGTERM in the middle of a sweep: exit 130, its flagserver gone
errlog2="$FB_TMP/bench-term.err"
bash "$src/scripts/bench.sh" --quick --scenario DELAY --concur 10 --out "$FB_TMP/out-term" \
    --build "$build" 2>"$errlog2" &
bench_pid=$!
server=""
for _ in $(seq 1 200); do
    server=$(grep -o 'flagserver pid [0-9]*' "$errlog2" | awk '{ print $3 }')
    [ -n "$server" ] && break
    sleep 0.05
done
fb_ok "bench.sh started a flagserver ($server)" test -n "$server"
sleep 1 # a point is running now
kill -TERM "$bench_pid"
wait "$bench_pid"
fb_eq "bench.sh exits 130 on SIGTERM" "$?" 130
if [ -n "$server" ]; then
    gone=yes
    for _ in $(seq 1 40); do kill -0 "$server" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$server" 2>/dev/null && gone=no
    fb_eq "its flagserver is gone" "$gone" yes
fi

fb_finish
