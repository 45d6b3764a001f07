#!/usr/bin/env bash
# bench-report.sh -- plots and REPORT.md from the data of scripts/bench.sh.
#
# Usage: scripts/bench-report.sh OUT
# Reads OUT/meta.json, OUT/scenarios.txt and, per scenario, OUT/NAME/scenario.json
# and OUT/NAME/points.json (written by bench.sh); writes OUT/NAME/*.dat (jq),
# OUT/NAME/*.png (+ .svg for the elapsed-time and throughput plots) with
# gnuplot, and OUT/REPORT.md with tables and a verdict computed from the
# numbers. INVALID points appear in the tables and are never plotted. Can be
# rerun on its own to redraw without measuring again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERIES_ALL=(threadpool asyncloop curl)

log() { printf 'bench-report: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

[ $# -eq 1 ] || {
    echo "usage: scripts/bench-report.sh OUT" >&2
    exit 2
}
out=$1
if [ ! -f "$out/meta.json" ] || [ ! -f "$out/scenarios.txt" ]; then
    die "$out holds no bench.sh data"
fi

if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then term=pngcairo; else term=png; fi

# write_dat DIR METRIC JQ-PATH SCALE : DIR/METRIC-BACKEND.dat, "m median min
# max" for each valid point whose metric is known; removes empty files.
write_dat() {
    local dir=$1 metric=$2 path=$3 scale=$4 s f
    for s in "${SERIES_ALL[@]}"; do
        f="$dir/$metric-$s.dat"
        jq -r --arg s "$s" --argjson k "$scale" "
            .[] | select(.backend == \$s and .valid and $path.median != null)
            | [.m, $path.median * \$k, $path.min * \$k, $path.max * \$k] | @tsv" \
            "$dir/points.json" >"$f"
        if [ ! -s "$f" ]; then rm -f "$f"; fi
    done
}

# The series that have data for all of the given metrics.
series_with() {
    local dir=$1 s metric ok
    shift
    for s in "${SERIES_ALL[@]}"; do
        ok=1
        for metric in "$@"; do [ -f "$dir/$metric-$s.dat" ] || ok=0; done
        if [ "$ok" -eq 1 ]; then printf '%s ' "$s"; fi
    done
}

# plot DIR NAME TITLE YLABEL "METRICS" "MLABELS" SVG(0/1) : DIR/NAME.png.
plot() {
    local dir=$1 name=$2 title=$3 ylab=$4 metrics=$5 mlabels=$6 svg=$7
    local series ideal="" logy=0 range xmin xmax mlist
    # shellcheck disable=SC2086 # metrics is a word list
    series=$(series_with "$dir" $metrics)
    if [ -z "$series" ]; then
        log "$dir: no valid data for $name; not plotted"
        return 1
    fi
    range=$(cat "$dir"/"${metrics%% *}"-*.dat | awk '
        NR == 1 { lo = hi = $1; ylo = yhi = $2 }
        { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1
          if ($3 < ylo) ylo = $3; if ($4 > yhi) yhi = $4 }
        END { printf "%g %g %d", lo / 1.5, hi * 1.5, (ylo > 0 && yhi / ylo > 30) }')
    read -r xmin xmax logy <<<"$range"
    mlist=$(jq -r '[.[].m] | unique | map(tostring) | join(" ")' "$dir/points.json")
    # Elapsed against the ideal on log-log axes: ceil(N/m) x d is then a
    # straight line, and a backend leaving it shows at every m, not only at
    # the small m where the seconds are large.
    if [ "$name" = elapsed ] && [ -f "$dir/ideal.dat" ]; then
        ideal="$dir/ideal.dat"
        logy=1
    fi
    local term_out
    for term_out in "$term:$dir/$name.png" ${svg:+svg:$dir/$name.svg}; do
        if [ "$svg" -eq 0 ] && [ "${term_out%%:*}" = svg ]; then continue; fi
        gnuplot -e "term='${term_out%%:*}'; out='${term_out#*:}'; ttl='$title';
            ylab='$ylab'; dir='$dir'; series='$series'; metrics='$metrics';
            mlabels='$mlabels'; logy=$logy; xmin=$xmin; xmax=$xmax; ideal='$ideal';
            mlist='$mlist'" \
            "$ROOT/scripts/plot.gp" || die "gnuplot failed on $dir/$name"
    done
}

# The ideal bound ceil(N/m) x delay for every integer m in the plotted range.
write_ideal() {
    local dir=$1 n=$2 d=$3 lo=$4 hi=$5
    awk -v n="$n" -v d="$d" -v lo="$lo" -v hi="$hi" 'BEGIN {
        for (m = int(lo / 1.5); m <= hi * 1.5; m++) {
            if (m < 1) continue
            q = n / m; c = (q == int(q)) ? q : int(q) + 1
            printf "%d %g\n", m, c * d
        }
    }' >"$dir/ideal.dat"
}

plots_for() {
    local name=$1 dir="$out/$1" s="$out/$1/scenario.json" n d p what lo hi made=()
    n=$(jq .requests "$s")
    d=$(jq .delay_s "$s")
    what=$(jq -r '"\(.requests) requests, " +
        (if .delay_s > 0 then "\(.delay_s * 1000) ms delay" else "no delay" end) +
        "; median of \(.runs) run\(if .runs > 1 then "s" else "" end)"' "$s")
    write_dat "$dir" elapsed .elapsed 1
    write_dat "$dir" requests_per_s .requests_per_s 1
    write_dat "$dir" rss .rss_kb "$(awk 'BEGIN { print 1 / 1024 }')"
    write_dat "$dir" cpu .cpu_per_1k 1
    write_dat "$dir" p50 .p50_ms 1
    write_dat "$dir" p99 .p99_ms 1
    rm -f "$dir/ideal.dat"
    if awk -v d="$d" 'BEGIN { exit !(d > 0) }'; then
        read -r lo hi < <(jq -r '[.[].m] | "\(min) \(max)"' "$dir/points.json")
        write_ideal "$dir" "$n" "$d" "$lo" "$hi"
    fi
    for p in $(jq -r '.plots[]' "$s"); do
        case $p in
        elapsed)
            plot "$dir" elapsed "$name: elapsed time vs concur\\_req ($what)" \
                "elapsed time per run (s), median, bars min-max" elapsed "" 1 && made+=(elapsed)
            ;;
        requests_per_s)
            plot "$dir" requests_per_s "$name: throughput vs concur\\_req ($what)" \
                "requests per second (requests / elapsed s; 404s count)" requests_per_s "" 1 && made+=(requests_per_s)
            ;;
        rss)
            plot "$dir" rss "$name: peak memory vs concur\\_req ($what)" \
                "peak RSS of the client process (MiB)" rss "" 0 && made+=(rss)
            ;;
        cpu)
            plot "$dir" cpu "$name: CPU time vs concur\\_req ($what)" \
                "CPU s (user + sys) per 1,000 requests" cpu "" 0 && made+=(cpu)
            ;;
        latency)
            plot "$dir" latency "$name: request latency vs concur\\_req ($what)" \
                "latency per request (ms), p50 solid, p99 dashed" "p50 p99" "p50 p99" 0 &&
                made+=(latency)
            ;;
        *) log "$name: unknown plot '$p'" ;;
        esac
    done
    printf '%s\n' "${made[@]}" >"$dir/plots.txt"
}

# ---------------------------------------------------------------- report

# Markdown table of one scenario's points.
table_for() {
    jq -r '
        def f($d): if . == null then "–" else (. * pow(10; $d) | round / pow(10; $d) | tostring) end;
        def int: if . == null then "–" else (round | tostring) end;
        "| m | backend | median elapsed (s) | min–max (s) | efficiency | requests/s | p50 / p99 (ms) | peak RSS (MiB) | CPU s / 1k req | connections | ok / 404 / err | peak in flight | valid |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        (sort_by(.m, ({threadpool: 0, asyncloop: 1, curl: 2}[.backend])) | .[] |
         "| \(.m)\(if .concur_req != null and .concur_req != .m then " (\(.concur_req))" else "" end)" +
         " | \(.backend) | \(.elapsed.median | f(3)) | \(.elapsed.min | f(3))–\(.elapsed.max | f(3))" +
         " | \(if .efficiency == null then "–" else "\(.efficiency * 100 | round)%" end)" +
         " | \(.requests_per_s.median | int) | \(.p50_ms.median | f(1)) / \(.p99_ms.median | f(1))" +
         " | \(if .rss_kb.median == null then "–" else (.rss_kb.median / 1024 | f(1)) end)" +
         " | \(.cpu_per_1k.median | f(3)) | \(.connections | int)" +
         " | \(.ok | int) / \(.not_found | int) / \(.errors | int) | \(.peak_in_flight | int)" +
         " | \(if .valid then "valid" elif .unsupported then "not run here: \(.reasons[0])"
               else "**INVALID**: \(.reasons | join("; "))" end) |")
    ' "$1"
}

# The verdict of one scenario, computed from its points.
verdict_for() {
    jq -r --slurpfile scen "$2" -f "$ROOT/scripts/bench-verdict.jq" "$1"
}

write_report() {
    local report="$out/REPORT.md" name dir s p
    {
        jq -r '"# flagbench results\n",
            "Thread pool (`flags_threadpool`) against event loop (`flags_asyncloop`), with",
            "`curl --parallel` as a reference, downloading flags from a local `flagserver`",
            "over loopback. Generated by `scripts/bench.sh\(if .quick then " --quick" else "" end)`",
            "on \(.date) at commit \(.commit).\n",
            "| | |", "|---|---|",
            "| CPU | \(.cpu) |", "| cores | \(.cores) |", "| kernel | \(.kernel) |",
            "| libcurl | \(.libcurl) |", "| libevent | \(.libevent) |",
            "| curl (reference) | \(.curl) |", "| hyperfine | \(.hyperfine) |",
            "| downloads saved on | \(.save_fs // "unknown") |",
            "| build | \(.build_type)\(if .sanitize != "" then ", sanitizer \(.sanitize) (timings not representative)" else "" end) |",
            "",
            "Each point is one hyperfine invocation (`-N`, whole-process wall time) of one",
            "program at one concur_req m, with flagserver'"'"'s counters reset before it and its",
            "`peak_in_flight` read after it. Elapsed is the median of the timed runs, with",
            "min–max; latency, RSS, CPU and connections are medians of the programs'"'"' own",
            "`--json` records. Efficiency = ideal / median elapsed, where ideal = ceil(N / m)",
            "× delay. A point is **INVALID** (never plotted) when the server did not start, a",
            "run failed or timed out, ok + not found + errors ≠ requests, the server counted",
            "a different number of requests, or peak_in_flight > m. `m (k)` means the",
            "program capped concur_req at k. curl is limited to m ≤ 300.\n"' "$out/meta.json"
        while read -r name; do
            dir="$out/$name"
            s="$dir/scenario.json"
            [ -f "$dir/points.json" ] || continue
            jq -r '"## \(.name)\n",
                "\(.desc).\n",
                "- flagserver arguments: `\(if .server_args == "" then "(none)" else .server_args end)`",
                "- client arguments: `-\(.codeset) --repeat \(.repeat) --timeout \(.timeout_s)`: \(.requests) requests per run (\(.ncodes) codes × \(.repeat))",
                "- m: \(.concur | map(tostring) | join(", "))",
                "- hyperfine: \(.warmup) warmup + \(.runs) timed run(s) per point\(if .ok_exits != [0] then "; exit statuses \(.ok_exits | map(tostring) | join(", ")) accepted (errors are the point here)" else "" end)",
                (if .delay_s > 0 then "- ideal bound: ceil(\(.requests) / m) × \(.delay_s) s" else "- ideal bound: none (no delay)" end),
                ""' "$s"
            echo "**Verdict.** $(verdict_for "$dir/points.json" "$s")"
            echo
            table_for "$dir/points.json"
            echo
            if [ -s "$dir/plots.txt" ]; then
                while read -r p; do echo "![$name $p]($name/$p.png)"; done <"$dir/plots.txt"
                echo
            fi
            echo "Raw data: [$name/raw.json]($name/raw.json) (hyperfine, --json records,"
            echo "/stats per point), summary: [$name/points.json]($name/points.json)."
            echo
        done <"$out/scenarios.txt"
    } >"$report"
}

while read -r name; do
    [ -f "$out/$name/points.json" ] || {
        log "$name: no points.json; skipped"
        continue
    }
    plots_for "$name"
done <"$out/scenarios.txt"
write_report
log "wrote $out/REPORT.md"
