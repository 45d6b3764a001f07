#!/usr/bin/env bash
# measure.sh -- the figures of docs/asyncloop.md, reproducible in one command.
#
# Starts its own flagservers on 127.0.0.1 (port 0) and measures:
#   save   saving on the loop thread: LOCAL, -a --repeat 20, --output on tmpfs
#          (/dev/shm) against the disk, both backends, 5 runs each (hyperfine);
#   delay  --delay 100, -e (676 requests) at -m 10 50 100 676, both backends,
#          elapsed against the ideal ceil(676/m) x 0.1 s and the server's peak;
#   c10k   --delay 1000, -e --repeat 30 (20,280 requests) at -m 10000, both
#          backends: elapsed, peak RSS, CPU from the --json record;
#   local  LOCAL: flags/s of both backends and of curl --parallel
#          --parallel-max m on the same URLs saving the same files (hyperfine).
# Raw data goes to OUT (default: a new temporary directory), Markdown tables to
# stdout. Not a test: nothing is asserted; it is a benchmark and takes minutes.
#
# Usage: asyncloop/measure.sh [--build DIR] [--flagserver BIN] [--out DIR]
#                             [--c10k-m M] [save|delay|c10k|local ...]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$ROOT/build"
flagserver=""
c10k_m=10000
out=""
steps=()
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --flagserver) flagserver=$2; shift 2 ;;
    --c10k-m) c10k_m=$2; shift 2 ;;
    save | delay | c10k | local) steps+=("$1"); shift ;;
    *) echo "usage: $0 [--build DIR] [--flagserver BIN] [--out DIR] [--c10k-m M] [save|delay|c10k|local ...]" >&2; exit 2 ;;
    esac
done
[ ${#steps[@]} -gt 0 ] || steps=(save delay c10k local)
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/flagbench-measure.XXXXXX")
mkdir -p "$out"

FLAGSERVER=${flagserver:-$build/server/flagserver}
BACKENDS=(threadpool asyncloop)
bin() { echo "$build/$1/flags_$1"; }
for b in "${BACKENDS[@]}"; do [ -x "$(bin "$b")" ] || { echo "missing $(bin "$b")" >&2; exit 1; }; done
[ -x "$FLAGSERVER" ] || { echo "missing $FLAGSERVER" >&2; exit 1; }

server_pid=""
cleanup() {
    [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$out/files" /dev/shm/flagbench-measure.$$
}
trap cleanup EXIT

# The real flag images, once.
data="$out/data"
if [ ! -d "$data/flags" ]; then
    if [ -x "$ROOT/scripts/make-dataset.sh" ] || [ -f "$ROOT/scripts/make-dataset.sh" ]; then
        bash "$ROOT/scripts/make-dataset.sh" "$data" >&2
    else # the same thing by hand: the 320x240 PNGs as GIFs (ImageMagick 6)
        while read -r cc; do
            [ -n "$cc" ] || continue
            lc=$(printf '%s' "$cc" | tr 'A-Z' 'a-z')
            png=/usr/share/iso-flags-png-320x240/$lc.png
            [ -f "$png" ] || continue
            mkdir -p "$data/flags/$lc"
            /usr/bin/convert "$png" "$data/flags/$lc/$lc.gif"
        done <"$ROOT/data/country_codes.txt"
    fi
fi

# start_server ARGS... : sets BASE (the /flags URL) and URL (the root).
start_server() {
    [ -z "$server_pid" ] || { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; }
    "$FLAGSERVER" --bind 127.0.0.1 --port 0 --dir "$data" --quiet "$@" >"$out/server.out" 2>&1 &
    server_pid=$!
    local line="" i
    for i in $(seq 1 100); do
        line=$(head -n 1 "$out/server.out")
        [ -n "$line" ] && break
        sleep 0.05
    done
    case "$line" in
    "flagserver listening on http://127.0.0.1:"*/flags) ;;
    *) echo "flagserver did not start: $line" >&2; exit 1 ;;
    esac
    BASE=${line#flagserver listening on }
    URL=${BASE%/flags}
}
stats() { curl -s --max-time 5 "$URL/stats" | jq -r "$1"; }
stats_reset() { curl -s --max-time 5 -o /dev/null "$URL/stats?reset=1"; }

disk_dir="$out/files"
shm_dir=/dev/shm/flagbench-measure.$$
mkdir -p "$disk_dir" "$shm_dir"

step_save() {
    start_server --preset LOCAL
    echo "### Saving on the loop thread (LOCAL, -a --repeat 20 = 3,880 requests, -m 10)"
    echo
    echo '```'
    for b in "${BACKENDS[@]}"; do
        for where in disk tmpfs; do
            local dir=$disk_dir
            [ $where = tmpfs ] && dir=$shm_dir
            echo "hyperfine -N --warmup 1 --runs 5 '$(bin "$b") -s $BASE -a --repeat 20 -m 10 --quiet --output $dir'"
        done
    done
    echo '```'
    echo
    echo "| backend | output | mean s | flags/s | user s | sys s |"
    echo "|---|---|---|---|---|---|"
    for b in "${BACKENDS[@]}"; do
        for where in disk tmpfs; do
            local dir=$disk_dir
            [ $where = tmpfs ] && dir=$shm_dir
            local j="$out/save-$b-$where.json" rec="$out/save-$b-$where.rec.json"
            rm -f "$rec"
            hyperfine -N --warmup 1 --runs 5 --export-json "$j" \
                "$(bin "$b") -s $BASE -a --repeat 20 -m 10 --quiet --output $dir --json $rec" >/dev/null
            jq -r --arg b "$b" --arg w "$where" --slurpfile r "$rec" \
                '.results[0] | "| \($b) | \($w) | \(.mean*1000|round/1000) | \(3880/.mean|round) | \(.user*1000|round/1000) | \(.system*1000|round/1000) |"' "$j"
        done
    done
    echo
}

step_delay() {
    start_server --delay 100
    echo "### 100 ms delay, -e (676 requests)"
    echo
    echo '```'
    echo "flagserver --bind 127.0.0.1 --port 0 --dir DATA --delay 100 --quiet"
    echo "flags_BACKEND -s \$BASE -e -m M --quiet --output DIR --json REC   # M in 10 50 100 676"
    echo '```'
    echo
    echo "| backend | m | elapsed s | ideal s | over ideal | server peak in flight | connections |"
    echo "|---|---|---|---|---|---|---|"
    for m in 10 50 100 676; do
        for b in "${BACKENDS[@]}"; do
            local rec="$out/delay-$b-$m.json"
            rm -f "$rec"
            stats_reset
            "$(bin "$b")" -s "$BASE" -e -m "$m" --quiet --output "$shm_dir" --json "$rec" >/dev/null || true
            local peak ideal
            peak=$(stats .peak_in_flight)
            ideal=$(awk -v m="$m" 'BEGIN { printf "%.1f", int((676 + m - 1) / m) * 0.1 }')
            jq -r --arg b "$b" --arg m "$m" --arg i "$ideal" --arg p "$peak" \
                '"| \($b) | \($m) | \(.elapsed_s*1000|round/1000) | \($i) | \((.elapsed_s/($i|tonumber)-1)*1000|round/10)% | \($p) | \(.connections) |"' "$rec"
        done
    done
    echo
}

step_c10k() {
    start_server --delay 1000
    echo "### $c10k_m in flight: 1 s delay, -e --repeat 30 (20,280 requests), -m $c10k_m"
    echo
    echo '```'
    echo "flagserver --bind 127.0.0.1 --port 0 --dir DATA --delay 1000 --quiet"
    echo "flags_BACKEND -s \$BASE -e --repeat 30 -m $c10k_m --quiet --output DIR --timeout 30 --json REC"
    echo '```'
    echo
    echo "| backend | elapsed s | ideal s | ok+404 | errors | peak RSS MiB | user s | sys s | server peak |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for b in "${BACKENDS[@]}"; do
        local rec="$out/c10k-$b.json"
        rm -f "$rec"
        stats_reset
        "$(bin "$b")" -s "$BASE" -e --repeat 30 -m "$c10k_m" --quiet --output "$shm_dir" \
            --timeout 30 --json "$rec" >/dev/null || true
        local peak
        peak=$(stats .peak_in_flight)
        local ideal
        ideal=$(awk -v m="$c10k_m" 'BEGIN { printf "%.1f", int((20280 + m - 1) / m) }')
        jq -r --arg b "$b" --arg p "$peak" --arg i "$ideal" \
            '"| \($b) | \(.elapsed_s*1000|round/1000) | \($i) | \(.ok + .not_found) | \(.errors) | \(.max_rss_kb/1024|round) | \(.cpu_user_s*100|round/100) | \(.cpu_sys_s*100|round/100) | \($p) |"' "$rec"
    done
    echo
}

# curl config: one url/output pair per request of "-a --repeat 20", the same
# URLs (BASE/cc/cc.gif) and the same files (DIR/CC.gif) as the backends.
curl_config() { # base dir
    local cc lc k
    for k in $(seq 1 20); do
        while read -r cc; do
            [ -n "$cc" ] || continue
            lc=$(printf '%s' "$cc" | tr 'A-Z' 'a-z')
            printf 'url = "%s/%s/%s.gif"\noutput = "%s/%s.gif"\n' "$1" "$lc" "$lc" "$2" "$cc"
        done <"$ROOT/data/country_codes.txt"
    done
}

step_local() {
    start_server --preset LOCAL
    local n
    n=$(($(grep -c . "$ROOT/data/country_codes.txt") * 20))
    curl_config "$BASE" "$shm_dir" >"$out/curl.cfg"
    echo "### LOCAL (no delay): -a --repeat 20 ($n requests), output on tmpfs"
    echo
    echo '```'
    echo "hyperfine -N --warmup 1 --runs 5 \\"
    echo "  'flags_threadpool -s \$BASE -a --repeat 20 -m M --quiet --output DIR' \\"
    echo "  'flags_asyncloop -s \$BASE -a --repeat 20 -m M --quiet --output DIR' \\"
    echo "  'curl -s -K curl.cfg --parallel --parallel-max M'"
    echo "# curl.cfg: 'url = \"\$BASE/cc/cc.gif\"' + 'output = \"DIR/CC.gif\"' per request"
    echo '```'
    echo
    echo "| m | threadpool flags/s | asyncloop flags/s | curl --parallel flags/s |"
    echo "|---|---|---|---|"
    for m in 10 100 300; do
        local j="$out/local-$m.json"
        hyperfine -N --warmup 1 --runs 5 --export-json "$j" \
            "$(bin threadpool) -s $BASE -a --repeat 20 -m $m --quiet --output $shm_dir" \
            "$(bin asyncloop) -s $BASE -a --repeat 20 -m $m --quiet --output $shm_dir" \
            "curl -s -K $out/curl.cfg --parallel --parallel-max $m" >/dev/null
        jq -r --arg m "$m" --argjson n "$n" \
            '[.results[] | ($n / .mean | round | tostring) + " (±" + ((.stddev / .mean * 100) | round | tostring) + "%)"] | "| \($m) | \(.[0]) | \(.[1]) | \(.[2]) |"' "$j"
    done
    echo
}

echo "Raw data: $out" >&2
for s in "${steps[@]}"; do
    "step_$s"
done
