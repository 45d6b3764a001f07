#!/usr/bin/env bash
# bench.sh -- flagbench's benchmark: thread pool against event loop.
#
# For each scenario in bench/ it starts its own flagserver on 127.0.0.1 (port
# 0), sweeps concur_req (m) for flags_threadpool, flags_asyncloop and the
# reference `curl --parallel`, timing each (backend, m) point with one
# hyperfine invocation, and keeps the raw data: hyperfine's JSON, the client's
# own --json records (latency, CPU, RSS, connections) and flagserver's /stats
# read right after the point (peak_in_flight must not exceed m). Then
# scripts/bench-report.sh turns the raw data into plots and OUT/REPORT.md.
#
# Usage: scripts/bench.sh [--quick] [--scenario NAME[,NAME]] [--concur LIST]
#                         [--runs N] [--out DIR] [--build DIR]
# See docs/bench.md. Progress goes to stderr. Exits 0 when the report was
# written (INVALID points are reported, not fatal), 1 on a setup error, 2 on a
# usage error, 130 when interrupted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BACKENDS=(threadpool asyncloop)
CURL_MAX_PARALLEL=300 # curl's --parallel-max limit

quick=0
only_scenarios=""
concur_override=""
runs_override=""
out_dir="$ROOT/results"
build_dir="$ROOT/build"

work_dir=""   # scratch space, removed on exit
save_parent="" # --save-dir: where the downloaded flags are written
save_dir=""   # the directory the clients and curl save into, removed on exit
server_pid="" # the running flagserver, if any
child_pid=""  # the running hyperfine (under timeout), if any

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    cat <<'EOF'
usage: scripts/bench.sh [options]
  --quick            the short sweep of each scenario (about a minute in all)
  --scenario NAMES   only these scenarios (comma-separated; default: all in bench/)
  --concur LIST      override every scenario's m list (comma-separated, e.g. 1,10,100)
  --runs N           override every scenario's number of timed runs per point
  --out DIR          where the JSON, plots and REPORT.md go (default: results/)
  --build DIR        the CMake build directory holding the programs (default: build/)
  --save-dir DIR     where the downloads are saved (default: /dev/shm when it is a
                     tmpfs, else TMPDIR): on ext4, replacing a file by rename costs
                     ~0.35 ms (auto_da_alloc), which would turn LOCAL into a disk test
  -h, --help         this text
EOF
}

# ---------------------------------------------------------------- lifecycle

stop_child() {
    if [ -n "$child_pid" ]; then
        kill -TERM "$child_pid" 2>/dev/null || true
        wait "$child_pid" 2>/dev/null || true
        child_pid=""
    fi
}

stop_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

cleanup() {
    stop_child
    stop_server
    if [ -n "$save_dir" ]; then rm -rf "$save_dir"; fi
    if [ -n "$work_dir" ]; then rm -rf "$work_dir"; fi
}

on_signal() {
    log "interrupted; stopping"
    exit 130 # the EXIT trap stops what is running
}

trap cleanup EXIT
trap on_signal INT TERM

# ---------------------------------------------------------------- arguments

parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) quick=1 ;;
        --scenario | --concur | --runs | --out | --build | --save-dir)
            [ $# -ge 2 ] || {
                log "$1 needs a value"
                usage >&2
                exit 2
            }
            case $1 in
            --scenario) only_scenarios=$2 ;;
            --concur) concur_override=$2 ;;
            --runs) runs_override=$2 ;;
            --out) out_dir=$2 ;;
            --build) build_dir=$2 ;;
            --save-dir) save_parent=$2 ;;
            esac
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            log "unknown argument: $1"
            usage >&2
            exit 2
            ;;
        esac
        shift
    done
    if [ -n "$concur_override" ] && ! [[ $concur_override =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]]; then
        log "--concur wants positive integers separated by commas, not '$concur_override'"
        exit 2
    fi
    if [ -n "$runs_override" ] && ! [[ $runs_override =~ ^[1-9][0-9]*$ ]]; then
        log "--runs wants a positive integer, not '$runs_override'"
        exit 2
    fi
}

# The scenarios to run, the four of the book's experiment first, then any
# other bench/*.sh in name order.
list_scenarios() {
    local name f
    if [ -n "$only_scenarios" ]; then
        tr ',' '\n' <<<"$only_scenarios"
        return
    fi
    for name in LOCAL DELAY ERROR C10K; do
        if [ -f "$ROOT/bench/$name.sh" ]; then echo "$name"; fi
    done
    for f in "$ROOT"/bench/*.sh; do
        name=$(basename "$f" .sh)
        case $name in LOCAL | DELAY | ERROR | C10K) ;; *) echo "$name" ;; esac
    done
}

# ---------------------------------------------------------------- setup

# Configures build_dir if needed and brings the three programs up to date
# (incremental: nothing to do when the sources did not change, and a sweep
# never measures stale binaries); sets FLAGSERVER and BIN_*.
ensure_built() {
    # Configure every time: it is cheap, and a tree configured before a target
    # existed (or before a pull) would otherwise not know how to build it.
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
        log "configuring $build_dir (Release)"
        cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >&2
    else
        cmake -S "$ROOT" -B "$build_dir" >/dev/null
    fi
    log "building flagserver flags_threadpool flags_asyncloop in $build_dir"
    cmake --build "$build_dir" -j "$(nproc)" --target flagserver flags_threadpool \
        flags_asyncloop >&2
    FLAGSERVER=$(find_binary flagserver)
    BIN_threadpool=$(find_binary flags_threadpool)
    BIN_asyncloop=$(find_binary flags_asyncloop)
    if [ -z "$FLAGSERVER" ] || [ -z "$BIN_threadpool" ] || [ -z "$BIN_asyncloop" ]; then
        die "the programs are not in $build_dir after building"
    fi
    log "programs: $FLAGSERVER $BIN_threadpool $BIN_asyncloop"
}

find_binary() {
    find "$build_dir" -maxdepth 3 -type f -name "$1" -perm -u+x -print -quit 2>/dev/null
}

ensure_dataset() {
    dataset="$build_dir/dataset"
    log "dataset in $dataset"
    if [ -f "$ROOT/scripts/make-dataset.sh" ]; then
        bash "$ROOT/scripts/make-dataset.sh" "$dataset" >&2 || die "make-dataset.sh failed"
    else
        log "warning: scripts/make-dataset.sh is missing; using $dataset as it is"
    fi
    [ -f "$dataset/flags/br/br.gif" ] || die "no flags in $dataset after make-dataset.sh"
}

# Many transfers in flight need many descriptors: raise the soft limit.
raise_fd_limit() {
    local hard
    hard=$(ulimit -Hn)
    ulimit -Sn "$hard" 2>/dev/null || true
    log "open files limit: $(ulimit -Sn)"
}

write_meta() {
    local cpu kernel cores libcurl libevent build_type sanitize hf
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    cores=$(nproc)
    kernel=$(uname -sr)
    libcurl=$(pkg-config --modversion libcurl 2>/dev/null || echo unknown)
    libevent=$(pkg-config --modversion libevent 2>/dev/null || echo unknown)
    hf=$(hyperfine --version | awk '{ print $2 }')
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)
    sanitize=$(sed -n 's/^FLAGBENCH_SANITIZE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)
    jq -n --arg cpu "${cpu:-unknown}" --argjson cores "$cores" --arg kernel "$kernel" \
        --arg libcurl "$libcurl" --arg libevent "$libevent" --arg hyperfine "$hf" \
        --arg curl "$(curl --version | awk 'NR == 1 { print $2 }')" \
        --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --argjson quick "$quick" \
        --arg build_type "${build_type:-unknown}" --arg sanitize "${sanitize:-}" \
        --arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        --arg save_fs "$(stat -f -c %T "$save_dir")" \
        '{cpu: $cpu, cores: $cores, kernel: $kernel, libcurl: $libcurl,
          libevent: $libevent, hyperfine: $hyperfine, curl: $curl, date: $date,
          quick: ($quick == 1), build_type: $build_type, sanitize: $sanitize,
          commit: $commit, save_fs: $save_fs}' >"$out_dir/meta.json"
}

# ---------------------------------------------------------------- scenarios

# Sources bench/NAME.sh and applies --quick, --concur and --runs.
load_scenario() {
    local name=$1 file="$ROOT/bench/$1.sh"
    [ -f "$file" ] || die "no scenario $name (no $file)"
    unset SCEN_DESC SERVER_ARGS CODESET REPEAT DELAY_S CONCUR RUNS WARMUP OK_EXITS \
        TIMEOUT_S POINT_LIMIT_S PLOTS QUICK_REPEAT QUICK_CONCUR QUICK_RUNS QUICK_WARMUP
    # shellcheck source=/dev/null
    source "$file"
    if [ "$quick" -eq 1 ]; then
        REPEAT=$QUICK_REPEAT
        CONCUR=("${QUICK_CONCUR[@]}")
        RUNS=$QUICK_RUNS
        WARMUP=$QUICK_WARMUP
    fi
    if [ -n "$concur_override" ]; then IFS=',' read -r -a CONCUR <<<"$concur_override"; fi
    if [ -n "$runs_override" ]; then RUNS=$runs_override; fi
    case $CODESET in
    a) ncodes=$(grep -c '^[A-Z][A-Z]$' "$ROOT/data/country_codes.txt") ;;
    e) ncodes=676 ;;
    *) die "$name: CODESET must be a or e" ;;
    esac
    nrequests=$((ncodes * REPEAT))
}

# The codes of the scenario, one per line, upper case.
scenario_codes() {
    local a b
    if [ "$CODESET" = a ]; then
        grep '^[A-Z][A-Z]$' "$ROOT/data/country_codes.txt"
    else
        for a in {A..Z}; do for b in {A..Z}; do echo "$a$b"; done; done
    fi
}

# The curl config of the reference line: the same URLs as the clients, each
# saved to the same file name (DIR/CC.gif), --repeat times over.
write_curl_config() {
    local cfg=$1 dl=$2 i
    {
        echo "# flagbench reference: $nrequests transfers"
        for ((i = 0; i < REPEAT; i++)); do
            scenario_codes | awk -v base="$base_url" -v dl="$dl" '{
                lc = tolower($0)
                printf "url = \"%s/%s/%s.gif\"\noutput = \"%s/%s.gif\"\n", base, lc, lc, dl, $0
            }'
        done
    } >"$cfg"
}

write_scenario_json() {
    local name=$1
    jq -n --arg name "$name" --arg desc "$SCEN_DESC" --arg codeset "$CODESET" \
        --argjson repeat "$REPEAT" --argjson ncodes "$ncodes" --argjson requests "$nrequests" \
        --argjson delay_s "$DELAY_S" --argjson runs "$RUNS" --argjson warmup "$WARMUP" \
        --arg ok_exits "$OK_EXITS" --argjson timeout_s "$TIMEOUT_S" --arg plots "$PLOTS" \
        --arg server_args "${SERVER_ARGS[*]}" --arg concur "${CONCUR[*]}" \
        --argjson curl_max "$CURL_MAX_PARALLEL" \
        '{name: $name, desc: $desc, codeset: $codeset, repeat: $repeat, ncodes: $ncodes,
          requests: $requests, delay_s: $delay_s, runs: $runs, warmup: $warmup,
          ok_exits: ($ok_exits | split(" ") | map(tonumber)), timeout_s: $timeout_s,
          plots: ($plots | split(" ")), server_args: $server_args,
          concur: ($concur | split(" ") | map(tonumber)), curl_max_parallel: $curl_max}'
}

# Starts flagserver with the scenario's arguments; sets base_url and stats_url.
# Returns 1 if it did not print its listening line within 10 s.
start_server() {
    local out="$work_dir/server.out" line="" i
    "$FLAGSERVER" --bind 127.0.0.1 --port 0 --dir "$dataset" --quiet "${SERVER_ARGS[@]}" \
        >"$out" 2>"$work_dir/server.err" &
    server_pid=$!
    for ((i = 0; i < 200; i++)); do
        line=$(head -n 1 "$out" 2>/dev/null || true)
        [ -n "$line" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    case $line in
    "flagserver listening on http://127.0.0.1:"*/flags) ;;
    *)
        log "flagserver did not start: ${line:-no output}; $(head -c 500 "$work_dir/server.err")"
        stop_server
        return 1
        ;;
    esac
    base_url=${line#flagserver listening on }
    stats_url=${base_url%/flags}/stats
}

# Runs one point: hyperfine over `backend` at concur_req m, with the server's
# counters reset before and read after, so its peak belongs to this point
# alone. Prints the raw point as one JSON object.
run_point() {
    local backend=$1 m=$2 tag="$1-m$2" dir="$work_dir/points"
    local hf="$dir/hf-$tag.json" recs="$dir/runs-$tag.jsonl" stats="$dir/stats-$tag.json"
    local hflog="$dir/hf-$tag.log" cmd rc=0 timed_out=false
    local hf_args=(-N --style none --warmup "$WARMUP" --runs "$RUNS"
        --parameter-list m "$m" --export-json "$hf" --command-name "$backend m={m}")
    mkdir -p "$dir"
    rm -f "$hf" "$recs" "$stats"
    : >"$recs"
    rm -rf "$save_dir" && mkdir -p "$save_dir"

    if [ "$OK_EXITS" != "0" ]; then hf_args+=(--ignore-failure); fi
    if [ "$backend" = curl ]; then
        cmd="curl --parallel --parallel-immediate --parallel-max {m} --silent"
        cmd+=" --config '$work_dir/curl.cfg'"
    else
        local bin_var="BIN_$backend"
        cmd="'${!bin_var}' -m {m} -$CODESET --repeat $REPEAT -s $base_url"
        cmd+=" --output '$save_dir' --timeout $TIMEOUT_S --json '$recs' --quiet"
    fi

    curl -s --max-time 5 -o /dev/null "$stats_url?reset=1" || log "could not reset /stats"
    timeout "$POINT_LIMIT_S" hyperfine "${hf_args[@]}" "$cmd" >"$hflog" 2>&1 &
    child_pid=$!
    wait "$child_pid" || rc=$?
    child_pid=""
    if [ "$rc" -eq 124 ]; then timed_out=true; fi
    curl -s --max-time 5 "$stats_url" >"$stats" || : >"$stats"
    # hyperfine hides the program's stderr: when a client point failed, run it
    # once more to learn why. A client that refuses this m on this machine
    # (exit 2: too few file descriptors) is reported as such, not as broken.
    local client_rc=null client_err=""
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$backend" != curl ]; then
        client_rc=0
        timeout "$POINT_LIMIT_S" bash -c "${cmd//\{m\}/$m}" >/dev/null 2>"$dir/probe-$tag.err" ||
            client_rc=$?
        client_err=$(head -n 1 "$dir/probe-$tag.err")
    fi
    jq empty "$stats" 2>/dev/null || : >"$stats"
    if ! jq empty "$recs" 2>/dev/null; then : >"$recs"; fi
    [ -s "$hf" ] && jq empty "$hf" 2>/dev/null || hf=/dev/null

    jq -n --arg backend "$backend" --argjson m "$m" --argjson rc "$rc" \
        --argjson timed_out "$timed_out" --arg command "$cmd" \
        --argjson client_rc "$client_rc" --arg client_err "$client_err" \
        --arg log "$(tail -n 5 "$hflog" | tr -s '\n' ' ')" \
        --slurpfile hf "$hf" --slurpfile recs "$recs" --slurpfile stats "$stats" \
        '{backend: $backend, m: $m, server_started: true, command: $command,
          hyperfine_rc: $rc, timed_out: $timed_out,
          client_rc: $client_rc, client_err: $client_err,
          hyperfine_log: (if $rc == 0 then "" else $log end),
          hyperfine: ($hf[0].results[0] // null), records: $recs,
          stats: ($stats[0] // null)}'
}

# A point that could not run because the server did not start.
dead_point() {
    jq -n --arg backend "$1" --argjson m "$2" \
        '{backend: $backend, m: $m, server_started: false, hyperfine_rc: null,
          timed_out: false, hyperfine: null, records: [], stats: null}'
}

# One line of progress for a finished point, from its summary.
log_point() {
    local name=$1
    jq -r --arg s "$name" '"bench: [\($s)] \(.backend) m=\(.m): " +
        (if .valid then "median \(.elapsed.median * 1000 | round / 1000) s" +
           " (\(.elapsed.min * 1000 | round / 1000)-\(.elapsed.max * 1000 | round / 1000))," +
           " peak in flight \(.peak_in_flight)"
         elif .unsupported then "not run here: \(.reasons[0])"
         else "INVALID: \(.reasons | join("; "))" end)' >&2
}

run_scenario() {
    local name=$1 sdir="$out_dir/$1" m backend ok=1 points="$work_dir/$1.points"
    load_scenario "$name"
    mkdir -p "$sdir"
    rm -f "$sdir"/*.json "$sdir"/*.dat "$sdir"/*.png "$sdir"/*.svg
    write_scenario_json "$name" >"$sdir/scenario.json"
    : >"$points"
    log "[$name] $SCEN_DESC; m = ${CONCUR[*]}; $RUNS run(s) + $WARMUP warmup per point"
    start_server || ok=0
    if [ "$ok" -eq 1 ]; then
        log "[$name] flagserver pid $server_pid at $base_url, options: ${SERVER_ARGS[*]:-none}"
        write_curl_config "$work_dir/curl.cfg" "$save_dir"
    fi
    for m in "${CONCUR[@]}"; do
        for backend in "${BACKENDS[@]}" curl; do
            if [ "$backend" = curl ] && [ "$m" -gt "$CURL_MAX_PARALLEL" ]; then continue; fi
            if [ "$ok" -eq 1 ]; then
                run_point "$backend" "$m" >"$work_dir/point.json"
            else
                dead_point "$backend" "$m" >"$work_dir/point.json"
            fi
            jq --slurpfile scen "$sdir/scenario.json" \
                -f "$ROOT/scripts/bench-summary.jq" "$work_dir/point.json" | log_point "$name"
            cat "$work_dir/point.json" >>"$points"
        done
    done
    stop_server
    jq -s '.' "$points" >"$sdir/raw.json"
    jq --slurpfile scen "$sdir/scenario.json" -f "$ROOT/scripts/bench-summary.jq" \
        "$points" | jq -s '.' >"$sdir/points.json"
}

main() {
    local name scenarios t0
    parse_args "$@"
    # The Debian packages (a no-op when present), so that a fresh machine
    # needs nothing but this command.
    bash "$ROOT/scripts/setup.sh" >&2 || die "scripts/setup.sh could not install the packages"
    for tool in cmake hyperfine jq curl gnuplot timeout; do
        command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh)"
    done
    mapfile -t scenarios < <(list_scenarios)
    for name in "${scenarios[@]}"; do
        [ -f "$ROOT/bench/$name.sh" ] || {
            log "no scenario '$name'; see bench/*.sh"
            exit 2
        }
    done
    t0=$SECONDS
    mkdir -p "$out_dir"
    out_dir=$(cd "$out_dir" && pwd)
    build_dir=$(mkdir -p "$build_dir" && cd "$build_dir" && pwd)
    work_dir=$(mktemp -d "${TMPDIR:-/tmp}/flagbench-bench.XXXXXX")
    if [ -z "$save_parent" ]; then
        save_parent=${TMPDIR:-/tmp}
        if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
            save_parent=/dev/shm
        fi
    fi
    save_dir=$(mktemp -d "$save_parent/flagbench-save.XXXXXX") || die "cannot write in $save_parent"
    log "downloads are saved in $save_dir ($(stat -f -c %T "$save_dir"))"
    ensure_built
    ensure_dataset
    raise_fd_limit
    write_meta
    printf '%s\n' "${scenarios[@]}" >"$out_dir/scenarios.txt"
    for name in "${scenarios[@]}"; do
        run_scenario "$name"
    done
    log "sweeps done in $((SECONDS - t0)) s; plotting and writing the report"
    bash "$ROOT/scripts/bench-report.sh" "$out_dir"
    log "done in $((SECONDS - t0)) s: $out_dir/REPORT.md"
}

main "$@"
