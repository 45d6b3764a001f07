#!/usr/bin/env bash
# bench.sh -- flagbench's benchmark: thread pool against event loop.
#
# For each scenario in bench/scenarios/ (bench/scenarios/NAME.json, resolved by scripts/report.py)
# it starts its own flagserver on 127.0.0.1 (port 0), or uses the one at
# --server-url, and sweeps concur_req (m) for flags_threadpool,
# flags_asyncloop, the reference `curl --parallel` and the book's Python
# programs when peers/python has them, timing each (line, m) point with
# hyperfine. This script only starts processes and copies files: it keeps the
# raw data (OUT/NAME/raw/: hyperfine's JSON, the programs' --json records and
# --latencies samples, flagserver's /stats per batch), and scripts/report.py
# does every check, reduction, statistic and verdict, writing OUT/REPORT.md
# and the plot scripts that gnuplot draws.
#
# Usage: scripts/bench.sh [--quick] [--scenario NAME[,NAME]] [--concur LIST]
#                         [--runs N] [--out DIR] [--build DIR] [--save-dir DIR]
#                         [--server-url URL [--cacert FILE]] [--libcurl DIR]
#                         [--consecutive] [--placement shared|split]
# A run writes into a staging folder inside OUT (OUT/.flagbench-partial.XXXXXX)
# and replaces the earlier results only when it completes: all of them, or with
# --scenario only those scenarios (the others are kept, in scenarios.txt and
# the report too). OUT/.flagbench-results lists every file a flagbench run
# wrote there; bench.sh replaces nothing else, and refuses an OUT holding
# anything else where it would write. An interrupted or failed run leaves the
# earlier results as they were and says where its partial data is.
#
# See docs/bench.md. Progress goes to stderr. Exits 0 when the report was
# written (INVALID points are reported, not fatal), 1 on a setup error (the
# --server-url does not answer, a tool or build fails), 2 on a usage error (a
# bad value, or an --out folder holding files no flagbench run wrote), 130
# when interrupted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

quick=0
only_scenarios=""
scenario_set="" # --set NAME; empty: the set "default"
concur_override=""
runs_override=""
# The schedule of the runs at one m: the lines' runs in batches of BATCH_RUNS,
# alternating line by line (A B C A B C ..., the order rotated each round), so
# that drift over a minute lands on every line alike. --consecutive: all runs
# of one line, then all of the next (the schedule before issue 24).
BATCH_RUNS=2
consecutive=0
# Where flagserver and the lines run (issue 24; docs/bench.md, "Placement"):
# --placement overrides every scenario's "placement" (shared or split). The
# CPUs this process may use (its Cpus_allowed_list: the affinity mask, which
# a cgroup cpuset narrows) and their split, set once by main (report.py
# cpu-split): CPUS_ALLOWED, SERVER_CPUS, CLIENT_CPUS, SPLIT_WHY.
placement_override=""
CPUS_ALLOWED=""
SERVER_CPUS=""
CLIENT_CPUS=""
SPLIT_WHY=""
# per scenario (prepare_placement): the prefixes that pin flagserver and
# hyperfine (with every line it runs) to their CPUs; empty when shared
PIN_SERVER=()
PIN_CLIENT=()
# --out, else results/ (the default set, --scenario, --quick) or, for
# --set NAME of another set, results-sets/NAME/: a named set's run never
# replaces the default run that README quotes (parse_args)
out_dir=""
out_given=0
# The benchmark's own build: Release, no sanitizer, no tests, whatever
# scripts/test.sh did to build/. --build DIR uses DIR as it is configured.
build_dir="$ROOT/build-bench"
own_build=1
server_url="" # --server-url: an already running flagserver
cacert_given="" # --cacert: the CA of an https --server-url
# The interpreter of the book's programs (peers/python): FLAGBENCH_PYTHON, else
# Debian's /usr/bin/python3 (where python3-aiohttp and python3-requests are
# installed), else python3 on PATH. The report program needs no module.
PEER_PYTHON=${FLAGBENCH_PYTHON:-}
libcurl_dir=""   # --libcurl: a folder holding another libcurl.so.4
python_unavailable="" # why the python lines cannot run here, if they cannot
libcurl8_pass=0       # 1 while the libcurl 8 pass runs (the "libcurl 7.88 vs 8.14" table)
scen=""       # the scenario being run, for the log

# The results folder (case 6 of issue 19): OUT/.flagbench-results, a format
# line and then one line per file or folder a flagbench run wrote in OUT
# ("TYPE PATH", TYPE as find's %y: f, d, l).
MARKER=.flagbench-results
MARKER_FORMAT="flagbench-results 1"
final_out=""  # OUT itself, once the run writes into its staging folder
stage_dir=""  # OUT/.flagbench-partial.XXXXXX: this run's results until it completes
committed=0   # 1 once the staging folder replaced the earlier results
committing=0  # 1 while it does (commit_stage)
old=""        # OUT/.flagbench-old.XXXXXX: the earlier results, while they are replaced
interrupted=0

work_dir=""   # scratch space, removed on exit
save_parent="" # --save-dir: where the downloaded flags are written
save_dir=""   # the directory the clients and curl save into, removed on exit
default_save_dir="" # the run's save_dir, for scenarios without "output_dir"
disk_dir=""   # BUILD/bench-disk, when a scenario saves on the build's file system
server_pid="" # the running flagserver, if any
child_pid=""  # the running hyperfine (under timeout), if any
# HTTPS (a scenario whose server says "tls": true, or an https --server-url),
# set per scenario by prepare_tls: the CA every client and curl trust, the
# flagserver's certificate options, and curl's options for /stats.
cacert=""
TLS_SERVER_ARGS=()
CURL_TLS=()
# The network lab of a scenario with "net" settings (issue 21; netlab/netlab.sh),
# set per scenario by net_up: the lab's id (bench.sh's pid), the address
# flagserver binds, and the command prefixes that run a process in the server
# and the client namespace (empty over loopback).
net_id=""
server_addr=127.0.0.1
IN_SERVER_NS=()
IN_CLIENT_NS=()

log() { printf 'bench: %s\n' "$*" >&2; }
report() { python3 "$ROOT/scripts/report.py" "$@"; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    cat <<'EOF'
usage: scripts/bench.sh [options]
  --quick            the short sweep of each scenario (about 3 minutes in all)
  --set NAME         the scenarios of one named set (each bench/scenarios/*.json
                     lists its sets under "sets"): default (the default run),
                     all, or a group such as book, tls, disk;
                     `scripts/report.py scenario-set bench/scenarios` lists them
  --scenario NAMES   only these scenarios (comma-separated), instead of a set
  --concur LIST      override every scenario's m list (comma-separated, e.g. 1,10,100)
  --runs N           override every scenario's number of timed runs per point
                     (and its adaptive maximum when that is lower)
  --out DIR          where the JSON, plots and REPORT.md go (default: results/,
                     the default run; with --set NAME of another set,
                     results-sets/NAME/)
  --build DIR        the CMake build directory holding the programs (default: build/)
  --save-dir DIR     where the downloads are saved (default: /dev/shm when it is a
                     tmpfs, else TMPDIR): on ext4, replacing a file by rename costs
                     0.5-1 ms (a new inode; docs/client.md), which would turn LOCAL into a disk test;
                     a scenario with "output_dir": "build" (DISK) saves under BUILD/bench-disk/
  --server-url URL   benchmark an already running flagserver (e.g. on another host,
                     started with `flagserver --bind ADDR --preset NAME`): URL as it
                     printed, http://HOST:PORT/flags; a scenario whose delay and
                     error settings differ from the server's /stats is skipped
  --cacert FILE      with an https --server-url: the CA (PEM) that signed the
                     server's certificate, given to every client and curl
  --libcurl DIR      load the libcurl.so.4 in DIR (e.g. libcurl 8 from
                     `scripts/setup.sh --libcurl8`) in both clients and curl; the
                     report names it, and a point whose client loaded another is INVALID
  --consecutive      at each m, all runs of one line and then all of the next,
                     instead of the lines' runs interleaved in batches of 2 (and
                     a scenario's -SPLIT twin after it, not interleaved with it)
  --placement P      override every scenario's placement: shared (flagserver and
                     the clients float over the same CPUs) or split (flagserver
                     pinned to its own CPUs, the clients to the rest)
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
    local rc=$?
    stop_child
    stop_server
    net_down
    if [ "$committing" -eq 1 ]; then
        log "replacing the results in $final_out failed half-way: the earlier ones are in $old, the rest of this run's in $stage_dir"
    elif [ -n "$stage_dir" ] && [ "$committed" -eq 0 ] && [ "$interrupted" -eq 0 ]; then
        log "the results in $final_out are as they were; this run's partial data is in $stage_dir"
    fi
    if [ -n "$save_dir" ]; then rm -rf "$save_dir"; fi
    if [ -n "$default_save_dir" ]; then rm -rf "$default_save_dir"; fi
    if [ -n "$disk_dir" ]; then rm -rf "$disk_dir"; fi
    if [ -n "$work_dir" ]; then rm -rf "$work_dir"; fi
    return "$rc"
}

on_signal() {
    interrupted=1
    if [ -n "$stage_dir" ]; then
        log "interrupted; the results in $final_out are as they were; this run's partial data is in $stage_dir"
    else
        log "interrupted; stopping (nothing in ${final_out:-$out_dir} was changed)"
    fi
    exit 130 # the EXIT trap stops what is running
}

trap cleanup EXIT
trap on_signal INT TERM

# ---------------------------------------------------------------- arguments

parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) quick=1 ;;
        --consecutive) consecutive=1 ;;
        --set | --scenario | --concur | --runs | --out | --build | --save-dir | --server-url | --libcurl | --cacert | --placement)
            [ $# -ge 2 ] || {
                log "$1 needs a value"
                usage >&2
                exit 2
            }
            case $1 in
            --set) scenario_set=$2 ;;
            --scenario) only_scenarios=$2 ;;
            --concur) concur_override=$2 ;;
            --runs) runs_override=$2 ;;
            --out)
                out_dir=$2
                out_given=1
                ;;
            --build)
                build_dir=$2
                own_build=0
                ;;
            --save-dir) save_parent=$2 ;;
            --server-url) server_url=$2 ;;
            --libcurl) libcurl_dir=$2 ;;
            --cacert) cacert_given=$2 ;;
            --placement) placement_override=$2 ;;
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
    # Up to 99,999 transfers at once and 1,000 runs a point: beyond that a
    # number is a typo (and would overflow the shell's arithmetic).
    if [ -n "$concur_override" ] && ! [[ $concur_override =~ ^[1-9][0-9]{0,4}(,[1-9][0-9]{0,4})*$ ]]; then
        log "--concur wants integers from 1 to 99999 separated by commas, not '$concur_override'"
        exit 2
    fi
    if [ -n "$runs_override" ] && ! [[ $runs_override =~ ^[1-9][0-9]{0,2}$|^1000$ ]]; then
        log "--runs wants an integer from 1 to 1000, not '$runs_override'"
        exit 2
    fi
    if [ -n "$only_scenarios" ] && ! [[ $only_scenarios =~ ^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$ ]]; then
        log "--scenario wants names from bench/scenarios/ separated by commas, not '$only_scenarios'"
        exit 2
    fi
    if [ -n "$scenario_set" ] && ! [[ $scenario_set =~ ^[a-z0-9-]+$ ]]; then
        log "--set wants a set name (lower-case letters, digits, '-'), not '$scenario_set'"
        exit 2
    fi
    if [ -n "$scenario_set" ] && [ -n "$only_scenarios" ]; then
        log "--set and --scenario both choose the scenarios: give one"
        exit 2
    fi
    if [ -n "$only_scenarios" ] && [ "$(tr ',' '\n' <<<"$only_scenarios" | sort | uniq -d)" ]; then
        log "--scenario names a scenario twice: '$only_scenarios'"
        exit 2
    fi
    case $placement_override in
    "" | shared | split) ;;
    *)
        log "--placement wants shared or split, not '$placement_override'"
        exit 2
        ;;
    esac
    if [ "$out_given" -eq 1 ] && [ -z "$out_dir" ]; then
        log "--out wants a folder, not ''"
        exit 2
    fi
    if [ "$out_given" -eq 0 ]; then
        case $scenario_set in
        "" | default) out_dir=$ROOT/results ;;
        *) out_dir=$ROOT/results-sets/$scenario_set ;;
        esac
    fi
    check_build_dir
    if [ -n "$save_parent" ] && { [ ! -d "$save_parent" ] || [ ! -w "$save_parent" ]; }; then
        log "--save-dir wants a folder this user can write in, not '$save_parent'"
        exit 2
    fi
    if [ -n "$libcurl_dir" ]; then
        [ -f "$libcurl_dir/libcurl.so.4" ] || {
            log "--libcurl wants a folder holding libcurl.so.4 (scripts/setup.sh --libcurl8 prints one), not '$libcurl_dir'"
            exit 2
        }
        libcurl_dir=$(cd "$libcurl_dir" && pwd)
        # Every libcurl user the sweep starts (both C clients and the curl
        # reference line) loads this one; the report checks each record.
        export LD_LIBRARY_PATH="$libcurl_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    if [ -n "$server_url" ]; then
        server_url=${server_url%/}
        # a host name, an IPv4 or a bracketed IPv6 address, a port, /flags:
        # nothing else (a query, a fragment, user:password@, a space)
        if ! [[ $server_url =~ ^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/flags)?$ ]]; then
            log "--server-url wants http://HOST:PORT/flags, not '$server_url'"
            exit 2
        fi
        case $server_url in */flags) ;; *) server_url+=/flags ;; esac
    fi
    check_tls_args
}

# --build DIR: a CMake build directory, or a folder that does not exist yet
# (bench.sh configures it Release). Any other folder is the user's: bench.sh
# writes its build, dataset and certificates there, so it refuses it.
check_build_dir() {
    if [ "$own_build" -eq 1 ]; then return 0; fi
    if [ -z "$build_dir" ] || { [ -e "$build_dir" ] && [ ! -d "$build_dir" ]; } ||
        { [ -d "$build_dir" ] && [ ! -f "$build_dir/CMakeCache.txt" ] &&
            [ -n "$(ls -A "$build_dir" 2>/dev/null)" ]; }; then
        log "--build wants a CMake build directory (holding CMakeCache.txt) or a new folder, not '$build_dir'"
        exit 2
    fi
}

# --cacert goes with an https --server-url, and an https one needs it (bench.sh
# makes its own certificates for the servers it starts).
check_tls_args() {
    if [ -n "$cacert_given" ]; then
        case $server_url in
        https://*) ;;
        *)
            log "--cacert is for an https --server-url; for its own servers bench.sh makes the certificates"
            exit 2
            ;;
        esac
        if [ ! -f "$cacert_given" ] || [ ! -r "$cacert_given" ]; then
            log "--cacert wants a readable PEM file, not '$cacert_given'"
            exit 2
        fi
        cacert_given=$(cd "$(dirname "$cacert_given")" && pwd)/$(basename "$cacert_given")
    elif [[ $server_url == https://* ]]; then
        log "--server-url $server_url needs --cacert FILE: the CA that signed its certificate"
        exit 2
    fi
}

# The scenarios to run: --scenario's, or those of the set (--set, else
# "default"), the four of the book's experiment first, then by name. The
# report program reads the sets from the scenario files.
list_scenarios() {
    if [ -n "$only_scenarios" ]; then
        tr ',' '\n' <<<"$only_scenarios"
        return
    fi
    report scenario-set "$ROOT/bench/scenarios" "${scenario_set:-default}"
}

# --------------------------------------------------------- the results folder

# The top-level names a run writes in OUT besides its scenarios' folders.
RUN_FILES=(meta.txt meta.json REPORT.md verdicts.json scenarios.txt libcurl8 libcurl8.skipped)

# marker_entries DIR: the "TYPE PATH" lines DIR's marker lists, sorted.
marker_entries() { tail -n +2 "$1/$MARKER" | LC_ALL=C sort -u; }

# marker_top DIR: the top-level names DIR's marker lists
# (never . or .., the marker itself, or a run's staging and set-aside folders).
marker_top() {
    marker_entries "$1" | awk '{ p = substr($0, 3) }
        p != "" && p != "." && p != ".." && p !~ /\// && p != ".flagbench-results" &&
        p !~ /^\.flagbench-(partial|old)\./ { print p }'
}

# listing DIR NAME...: "TYPE PATH" for every file and folder at and under the
# names that exist in DIR (a symbolic link is listed as one, not followed).
listing() {
    local dir=$1 name
    shift
    for name in "$@"; do
        if [ -e "$dir/$name" ] || [ -L "$dir/$name" ]; then
            (cd "$dir" && find "$name" -printf '%y %p\n')
        fi
    done | LC_ALL=C sort -u
}

# what TYPE PATH: "the file PATH" (a foreign_entry line, in words).
what() {
    case ${1:0:1} in
    f) echo "the file ${1:2}" ;;
    d) echo "the folder ${1:2}" ;;
    l) echo "the symbolic link ${1:2}" ;;
    *) echo "${1:2}" ;;
    esac
}

# foreign_entry SCENARIO...: the first file or folder of OUT that this run
# would replace, remove or read and that the marker does not list (of that
# type), or nothing.
foreign_entry() {
    local names
    mapfile -t names < <({ marker_top "$out_dir"; printf '%s\n' "${RUN_FILES[@]}" "$@"; } | sort -u)
    LC_ALL=C comm -23 <(listing "$out_dir" "${names[@]}") <(marker_entries "$out_dir") | head -n 1
}

# check_out_dir SCENARIO...: before anything runs. OUT is new, empty, or a
# flagbench results folder (its marker) where every file under a name this run
# replaces or reads is one a flagbench run wrote; else one line and exit 2.
# Makes OUT, with an empty marker, when it is new or empty.
check_out_dir() {
    local foreign
    if [ -e "$out_dir" ] && [ ! -d "$out_dir" ]; then
        log "--out wants a folder, not '$out_dir'"
        exit 2
    fi
    if [ -L "$out_dir/$MARKER" ] || { [ -e "$out_dir/$MARKER" ] && [ ! -f "$out_dir/$MARKER" ]; }; then
        log "--out $out_dir: its $MARKER is not a file a flagbench run wrote; give an empty or new folder"
        exit 2
    fi
    if [ ! -e "$out_dir/$MARKER" ]; then
        if [ -d "$out_dir" ] && [ -n "$(ls -A "$out_dir" 2>/dev/null)" ]; then
            log "--out $out_dir holds files no flagbench run wrote (it has no $MARKER); give an empty or new folder"
            exit 2
        fi
        if ! mkdir -p "$out_dir" 2>/dev/null || ! printf '%s\n' "$MARKER_FORMAT" 2>/dev/null >"$out_dir/$MARKER"; then
            log "--out wants a folder this user can write in, not '$out_dir'"
            exit 2
        fi
    fi
    if [ "$(head -n 1 "$out_dir/$MARKER")" != "$MARKER_FORMAT" ]; then
        log "--out $out_dir: its $MARKER does not start with '$MARKER_FORMAT'; give an empty or new folder"
        exit 2
    fi
    if [ ! -w "$out_dir" ]; then
        log "--out wants a folder this user can write in, not '$out_dir'"
        exit 2
    fi
    out_dir=$(cd "$out_dir" && pwd)
    foreign=$(foreign_entry "$@")
    if [ -n "$foreign" ]; then
        log "--out $out_dir holds $(what "$foreign"), which no flagbench run wrote; bench.sh replaces only its own files: move it away or give another folder"
        exit 2
    fi
}

# merged_list LIST DIR NAME...: the scenario list of a --scenario run. LIST
# (an earlier run's, when it exists) in its order, keeping the names that
# still have a folder in DIR or are rerun now, then the NAMEs not yet listed.
merged_list() {
    local list=$1 dir=$2 name
    shift 2
    {
        if [ -f "$list" ]; then
            while IFS= read -r name; do
                if [[ $name =~ ^[A-Za-z0-9_-]+$ ]] &&
                    { [ -d "$dir/$name" ] || [[ " $* " == *" $name "* ]]; }; then echo "$name"; fi
            done <"$list"
        fi
        printf '%s\n' "$@"
    } | awk '!seen[$0]++'
}

# start_stage SCENARIO...: the staging folder the run writes into, inside OUT
# (so that the results move in by rename). With --scenario it starts as a copy
# of every other entry the marker lists (the other scenarios, libcurl8/), and
# its scenarios.txt names the earlier scenarios and these.
start_stage() {
    local name
    final_out=$out_dir
    stage_dir=$(mktemp -d "$final_out/.flagbench-partial.XXXXXX") || die "cannot write in $final_out"
    log "this run's results go to $stage_dir until it completes"
    if [ -z "$only_scenarios" ]; then
        printf '%s\n' "$@" >"$stage_dir/scenarios.txt"
    else
        while IFS= read -r name; do
            case " $* meta.txt meta.json REPORT.md verdicts.json scenarios.txt " in *" $name "*) continue ;; esac
            if [ -e "$final_out/$name" ]; then
                cp -a "$final_out/$name" "$stage_dir/" || die "cannot copy $final_out/$name into $stage_dir"
            fi
        done < <(marker_top "$final_out")
        merged_list "$final_out/scenarios.txt" "$stage_dir" "$@" >"$stage_dir/scenarios.txt"
    fi
    out_dir=$stage_dir
}

# commit_stage SCENARIO...: the staging folder replaces the earlier results,
# with SIGINT and SIGTERM held off. The marker first lists both (a run killed
# in between still owns every file it names), the earlier entries move aside
# into a folder of their own, the new ones move in, the marker then lists the
# new ones alone, and the earlier ones are removed. Anything foreign that
# appeared in OUT since the run started stops it with the results kept in the
# staging folder.
commit_stage() {
    local name new_list foreign
    trap '' INT TERM
    out_dir=$final_out
    foreign=$(foreign_entry "$@")
    if [ -n "$foreign" ]; then
        die "$final_out now holds $(what "$foreign"), which no flagbench run wrote; not replacing anything"
    fi
    new_list=$(cd "$stage_dir" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort)
    old=$(mktemp -d "$final_out/.flagbench-old.XXXXXX") || die "cannot write in $final_out"
    committing=1
    {
        echo "$MARKER_FORMAT"
        { marker_entries "$final_out"; printf '%s\n' "$new_list"; } | LC_ALL=C sort -u
    } >"$old/$MARKER"
    mv -f "$old/$MARKER" "$final_out/$MARKER"
    while IFS= read -r name; do
        if [ -e "$final_out/$name" ] || [ -L "$final_out/$name" ]; then mv -T "$final_out/$name" "$old/$name"; fi
    done < <(marker_top "$final_out")
    while IFS= read -r name; do
        mv -T "$stage_dir/$name" "$final_out/$name"
    done < <(find "$stage_dir" -mindepth 1 -maxdepth 1 -printf '%f\n')
    printf '%s\n%s\n' "$MARKER_FORMAT" "$new_list" >"$old/$MARKER"
    mv -f "$old/$MARKER" "$final_out/$MARKER"
    rmdir "$stage_dir"
    stage_dir=""
    committed=1
    committing=0
    rm -rf "$old"
    old=""
    trap on_signal INT TERM
}

# check_server_url: an --server-url must answer (its /stats) before the run
# starts; an unreachable one would otherwise skip every scenario and exit 0.
check_server_url() {
    local stats=${server_url%/flags}/stats why tls=()
    if [ -z "$server_url" ]; then return 0; fi
    if [ -n "$cacert_given" ]; then tls=(--cacert "$cacert_given"); fi
    if ! why=$(curl -sS --max-time 5 "${tls[@]}" -o /dev/null "$stats" 2>&1); then
        die "--server-url $server_url does not answer: ${why:-curl failed} (GET $stats)"
    fi
}

# ---------------------------------------------------------------- setup

# Configures build_dir if needed and brings the three programs up to date
# (incremental: nothing to do when the sources did not change, and a sweep
# never measures stale binaries); sets FLAGSERVER and BIN_*.
ensure_built() {
    # Configure every time: it is cheap, and a tree configured before a target
    # existed (or before a pull) would otherwise not know how to build it.
    if [ "$own_build" -eq 1 ]; then
        # the same kind of binaries every run, whatever was done to the folder
        log "configuring $build_dir (Release, bench.sh's own build)"
        cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DFLAGBENCH_SANITIZE= \
            -DFLAGBENCH_WERROR=OFF -DFLAGBENCH_FUZZ=OFF -DFLAGBENCH_TESTS=OFF >/dev/null ||
            die "cmake could not configure $build_dir"
    elif [ ! -f "$build_dir/CMakeCache.txt" ]; then
        log "configuring $build_dir (Release)"
        cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >&2 || die "cmake could not configure $build_dir"
    else
        cmake -S "$ROOT" -B "$build_dir" >/dev/null || die "cmake could not configure $build_dir"
    fi
    log "building flagserver flags_threadpool flags_asyncloop in $build_dir"
    cmake --build "$build_dir" -j "$(nproc)" --target flagserver flags_threadpool \
        flags_asyncloop >&2 || die "the programs did not build in $build_dir"
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

# Picks PEER_PYTHON and checks it can import what the book's programs need.
find_peer_python() {
    if [ -z "$PEER_PYTHON" ]; then
        PEER_PYTHON=python3
        if [ -x /usr/bin/python3 ]; then PEER_PYTHON=/usr/bin/python3; fi
    fi
    if ! "$PEER_PYTHON" -c 'import aiohttp, requests' 2>/dev/null; then
        python_unavailable="$PEER_PYTHON cannot import aiohttp and requests"
        log "python lines: $python_unavailable"
    fi
}

# Many transfers in flight need many descriptors: raise the soft limit.
raise_fd_limit() {
    local hard
    hard=$(ulimit -Hn)
    ulimit -Sn "$hard" 2>/dev/null || true
    log "open files limit: $(ulimit -Sn)"
}

# The file system DIR is on, by its type's name (ext4, tmpfs, ...; stat -f
# says "ext2/ext3" for ext4).
# The file system type of PATH: findmnt's name (ext4), else statfs's
# (ext2/ext3: its magic number is shared), e.g. in a chroot whose root is not
# a mount point, where findmnt finds no mount for PATH.
fs_type() {
    local t
    t=$(findmnt -n -o FSTYPE -T "$1" 2>/dev/null | head -n 1) || t="" # stacked mounts: a line each
    [ -n "$t" ] || t=$(stat -f -c %T "$1" 2>/dev/null) || t=""
    echo "${t:-unknown}"
}

# Sets save_dir for scenario NAME: the run's folder (tmpfs unless --save-dir),
# or, when bench/scenarios/NAME.json says "output_dir": "build", BUILD/bench-disk/NAME on
# the build directory's real file system (DISK). Writes RAW/save.txt ("dir",
# "fs"), which the report prints in the scenario's header.
scenario_save_dir() {
    local name=$1 raw=$2
    save_dir=$default_save_dir
    if [ "$OUTPUT_DIR" = build ]; then
        disk_dir="$build_dir/bench-disk"
        save_dir="$disk_dir/$name"
        mkdir -p "$save_dir" || die "cannot write in $save_dir"
    fi
    local fs
    fs=$(fs_type "$save_dir")
    printf 'dir %s\nfs %s\n' "$save_dir" "$fs" >"$raw/save.txt"
    log "[$name] downloads are saved in $save_dir ($fs)"
}

# The machine and versions, as key=value lines in OUT/meta.txt; report.py
# turns them into OUT/meta.json.
write_meta() {
    local build_type sanitize
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)
    sanitize=$(sed -n 's/^FLAGBENCH_SANITIZE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)
    {
        echo "cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
        echo "cores=$(nproc)"
        echo "cpus_allowed=$CPUS_ALLOWED"
        echo "kernel=$(uname -sr)"
        # the libcurl the programs load (not the headers'): curl's own line says it
        echo "libcurl=$(curl --version | sed -n '1s|.* libcurl/\([^ ]*\).*|\1|p')"
        echo "libcurl_dir=${libcurl_dir:-system default}"
        echo "libevent=$(pkg-config --modversion libevent 2>/dev/null || echo unknown)"
        echo "hyperfine=$(hyperfine --version | awk '{ print $2 }')"
        echo "curl=$(curl --version | awk 'NR == 1 { print $2 }')"
        echo "python=$PEER_PYTHON $("$PEER_PYTHON" --version 2>&1 | awk '{ print $2 }')"
        echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "quick=$quick"
        echo "schedule=$([ "$consecutive" -eq 1 ] && echo consecutive || echo "interleaved $BATCH_RUNS")"
        echo "build_type=${build_type:-unknown}"
        echo "sanitize=${sanitize:-}"
        echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "save_fs=$(fs_type "$save_dir")"
        echo "server_url=${server_url:-flagserver on 127.0.0.1, started per scenario}"
        echo "external_server=$([ -n "$server_url" ] && echo 1 || echo 0)"
    } >"$out_dir/meta.txt"
    report meta "$out_dir" || die "report.py meta failed"
}

# Sets cacert, TLS_SERVER_ARGS and CURL_TLS for the scenario just loaded:
# for a server bench.sh starts, a TLS scenario gets certificates made by
# scripts/make-certs.sh into BUILD/certs (idempotent; never committed); an
# https --server-url uses --cacert's CA. A plain scenario on a TLS server (or
# the reverse) is caught by the settings check, not here.
prepare_tls() {
    cacert=""
    TLS_SERVER_ARGS=()
    CURL_TLS=()
    if [ -n "$server_url" ]; then
        if [[ $server_url == https://* ]]; then cacert=$cacert_given; fi
    elif [ "$TLS" -eq 1 ]; then
        local dir="$build_dir/certs"
        bash "$ROOT/scripts/make-certs.sh" "$dir" >&2 || die "scripts/make-certs.sh $dir failed"
        cacert="$dir/ca.pem"
        TLS_SERVER_ARGS=(--tls-cert "$dir/server.pem" --tls-key "$dir/server.key")
    fi
    if [ -n "$cacert" ]; then CURL_TLS=(--cacert "$cacert"); fi
}

# The options a client line (C or Python) gets for HTTPS and --fresh-connect;
# with a leading space, quoted for the command hyperfine runs.
client_tls_args() {
    local q="'"
    if [ -n "$cacert" ]; then printf ' --cacert %s' "$q$cacert$q"; fi
    if [ "$FRESH_CONNECT" -eq 1 ]; then printf ' --fresh-connect'; fi
}

# The same for the curl reference line: curl has no per-transfer fresh
# connect, so it asks the server to close after each response.
curl_tls_args() {
    local q="'"
    if [ -n "$cacert" ]; then printf ' --cacert %s' "$q$cacert$q"; fi
    if [ "$FRESH_CONNECT" -eq 1 ]; then printf " -H %s" "${q}Connection: close$q"; fi
}

# ---------------------------------------------------------------- HTTP/2

# For an HTTP/2 scenario (PROTOCOL h2 or h2c, issue 20): flagserver speaks one
# protocol per instance (--http2, from the scenario's server settings), so
# bench.sh's own /stats requests speak it too: curl's option joins CURL_TLS.
prepare_http2() {
    case $PROTOCOL in
    h2) CURL_TLS+=(--http2) ;;
    h2c) CURL_TLS+=(--http2-prior-knowledge) ;;
    esac
}

# The h2load reference line at M (the rig's ceiling: it saves nothing): the
# run's requests from the URI list, over the clients and streams report.py
# chose for M (H2LOAD_SHAPE: the fewest connections that carry m streams).
h2load_command() {
    local m=$1 q="'"
    [ -n "${H2LOAD_SHAPE[$m]:-}" ] || die "h2load: no shape for m = $m"
    echo "h2load -n $NREQUESTS ${H2LOAD_SHAPE[$m]} --input-file $q$work_dir/h2load.uris$q"
}

# Writes the URI list of h2load_command for an HTTP/2 scenario's server.
write_h2load_uris() {
    if [ "$PROTOCOL" = http/1.1 ]; then return 0; fi
    command -v h2load >/dev/null || die "h2load is not installed (scripts/setup.sh: nghttp2-client)"
    report h2load-uris "$1/scenario.json" "$base_url" >"$work_dir/h2load.uris" ||
        die "report.py h2load-uris failed"
}

# ---------------------------------------------------------------- scenarios

# Resolves bench/scenarios/NAME.json with scripts/report.py (--quick, --concur, --runs
# applied; the one place a setting is declared) into RAW/scenario.json and the
# shell variables SCEN_DESC SERVER_ARGS CODESET REPEAT NREQUESTS TIMEOUT_S
# POINT_LIMIT_S IGNORE_FAILURE TLS FRESH_CONNECT CONCUR POINTS ("line m runs warmup" each)
# LINE_PROG LINE_ARGS LINE_FILE (each line's program, options and Python file, by line:
# bench/lines.json).
load_scenario() {
    local name=$1 raw=$2 args=()
    if [ "$quick" -eq 1 ]; then args+=(--quick); fi
    if [ -n "$concur_override" ]; then args+=(--concur "$concur_override"); fi
    if [ -n "$runs_override" ]; then args+=(--runs "$runs_override"); fi
    if [ -n "$python_unavailable" ]; then args+=(--python-unavailable "$python_unavailable"); fi
    if [ "$libcurl8_pass" -eq 1 ]; then args+=(--libcurl8); fi
    if [ -n "$placement_override" ]; then args+=(--placement "$placement_override"); fi
    # the libcurl every line loads (h2c needs 8.0: a scenario's "libcurl_not_run")
    args+=(--libcurl-version "$(curl --version | sed -n '1s|.* libcurl/\([^ ]*\).*|\1|p')")
    local assignments
    assignments=$(report resolve "$ROOT/bench/scenarios/$name.json" --out "$raw/scenario.json" "${args[@]}") ||
        die "$name: bench/scenarios/$name.json does not resolve"
    eval "$assignments"
}

# Starts flagserver with the scenario's arguments; sets base_url and stats_url.
# Returns 1 if it did not print its listening line within 10 s. The files are
# removed first: the redirections happen in the child, after the fork, so a
# previous scenario's server.out could otherwise be read here, listening line
# and port included, before the new server truncates it (seen in CI: DISK ran
# against C10K's stopped server, every request refused).
start_server() {
    local out="$work_dir/server.out" line="" i
    rm -f "$out" "$work_dir/server.err"
    "${IN_SERVER_NS[@]}" "${PIN_SERVER[@]}" "$FLAGSERVER" --bind "$server_addr" --port 0 --dir "$dataset" --quiet \
        "${SERVER_ARGS[@]}" "${TLS_SERVER_ARGS[@]}" >"$out" 2>"$work_dir/server.err" &
    server_pid=$!
    for ((i = 0; i < 200; i++)); do
        line=$(head -n 1 "$out" 2>/dev/null || true)
        [ -n "$line" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    case $line in
    "flagserver listening on http://$server_addr:"*/flags | "flagserver listening on https://$server_addr:"*/flags) ;;
    *)
        log "flagserver did not start: ${line:-no output}; $(head -c 500 "$work_dir/server.err")"
        stop_server
        return 1
        ;;
    esac
    base_url=${line#flagserver listening on }
    stats_url=${base_url%/flags}/stats
}

# server_answers RAW: the server just started answers its /stats (kept as
# RAW/server-stats.json): the listening line alone does not prove that the
# server bench.sh reaches is the one it started.
server_answers() {
    local raw=$1
    if "${IN_SERVER_NS[@]}" curl -s --max-time 5 "${CURL_TLS[@]}" -o "$raw/server-stats.json" "$stats_url"; then
        return 0
    fi
    rm -f "$raw/server-stats.json"
    log "flagserver pid $server_pid printed $base_url but its /stats does not answer; $(head -c 500 "$work_dir/server.err")"
    return 1
}

# The command hyperfine runs for LINE at M, with {m} for hyperfine's parameter.
line_command() {
    local line=$1 pdir=$2 m=$3 q="'"
    case ${LINE_PROG[$line]:-} in
    curl)
        echo "curl --parallel --parallel-immediate --parallel-max {m} --silent${LINE_ARGS[$line]:+ ${LINE_ARGS[$line]}}$(curl_tls_args) --config $q$work_dir/curl.cfg$q"
        ;;
    h2load) h2load_command "$m" ;;
    *)
        # the program and options of the line, declared in bench/lines.json
        local prog
        case ${LINE_PROG[$line]:-} in
        threadpool) prog="$q$BIN_threadpool$q" ;;
        asyncloop) prog="$q$BIN_asyncloop$q" ;;
        python) prog="$q$PEER_PYTHON$q $q$ROOT/peers/python/${LINE_FILE[$line]}$q" ;;
        *) die "line $line: no program in bench/lines.json" ;;
        esac
        prog+=${LINE_ARGS[$line]:+ ${LINE_ARGS[$line]}}
        echo "$prog -m {m} -$CODESET --repeat $REPEAT -s $base_url --output $q$save_dir$q" \
            "--timeout $TIMEOUT_S --json $q$pdir/records.jsonl$q" \
            "--latencies $q$pdir/latencies.txt$q --quiet$(client_tls_args)"
        ;;
    esac
}

# ---------------------------------------------------------------- placement

# find_cpus: the CPUs this process may use, from its own Cpus_allowed_list
# (the affinity mask, already narrowed by a cgroup cpuset: not nproc's count
# of the machine), and their split (report.py cpu-split; docs/bench.md).
find_cpus() {
    local allowed assignments
    allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$$/status 2>/dev/null) || allowed=""
    [ -n "$allowed" ] || die "cannot read the CPUs this process may use (Cpus_allowed_list in /proc/$$/status)"
    assignments=$(report cpu-split "$allowed") || die "report.py cpu-split '$allowed' failed"
    eval "$assignments"
    log "CPUs this run may use: $CPUS_ALLOWED; split: ${SPLIT_WHY:-flagserver on $SERVER_CPUS, the clients on $CLIENT_CPUS}"
}

# prepare_placement RAW: the scenario's placement (PLACEMENT, resolved):
# sets PIN_SERVER and PIN_CLIENT and writes RAW/placement.txt (the placement
# and the CPU sets every point is checked against). Split pins with taskset;
# where it cannot (fewer than 2 CPUs, no taskset, sched_setaffinity refused,
# a --server-url's server) sets placement_why and returns 1: the scenario is
# not run, never run shared under the name of split.
placement_why=""
prepare_placement() {
    local raw=$1 err
    PIN_SERVER=()
    PIN_CLIENT=()
    placement_why=""
    if [ "$PLACEMENT" = split ]; then
        if [ -n "$SPLIT_WHY" ]; then
            placement_why="placement split $SPLIT_WHY"
        elif [ -n "$server_url" ]; then
            placement_why="placement split pins the flagserver bench.sh starts, not a --server-url"
        elif ! command -v taskset >/dev/null; then
            placement_why="placement split needs taskset (Debian package util-linux)"
        elif ! err=$(taskset -c "$SERVER_CPUS" true 2>&1) || ! err=$(taskset -c "$CLIENT_CPUS" true 2>&1); then
            placement_why="placement split: taskset could not pin to CPU $SERVER_CPUS and CPU $CLIENT_CPUS: $(head -n 1 <<<"$err")"
        fi
        if [ -n "$placement_why" ]; then return 1; fi
        PIN_SERVER=(taskset -c "$SERVER_CPUS")
        PIN_CLIENT=(taskset -c "$CLIENT_CPUS")
    fi
    {
        printf 'placement %s\nallowed %s\n' "$PLACEMENT" "$CPUS_ALLOWED"
        if [ "$PLACEMENT" = split ]; then printf 'server %s\nclient %s\n' "$SERVER_CPUS" "$CLIENT_CPUS"; fi
        if [ -n "$server_url" ]; then printf 'external 1\n'; fi
    } >"$raw/placement.txt"
}

# server_cpus PDIR K WHEN: appends "batch K WHEN LIST..." to PDIR/server-cpus.txt,
# the Cpus_allowed_list of each distinct value over flagserver's threads as
# it runs (measured, not taken from the setting; none when it is gone).
server_cpus() {
    local pdir=$1 k=$2 when=$3 lists=""
    if [ -z "$server_pid" ]; then return 0; fi # an external server: not ours to see
    lists=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/"$server_pid"/task/*/status 2>/dev/null |
        sort -u | tr '\n' ' ') || lists=""
    printf 'batch %d %s %s\n' "$k" "$when" "${lists% }" >>"$pdir/server-cpus.txt"
}

# cpu_recorder PDIR: the prefix of every timed command: a shell that appends
# its own Cpus_allowed_list to PDIR/client-cpus.txt (builtins only: about
# 3 ms a run here) and then execs the line's program, which keeps its pid
# and that CPU set. One line per run, warmup included.
cpu_recorder() {
    local q="'"
    # shellcheck disable=SC2016 # expanded by the recording shell, not here
    printf '%s' 'sh -c '"$q"'while read -r k v; do if [ "$k" = Cpus_allowed_list: ]; then printf "%s\n" "$v" >>"$0"; fi; done </proc/$$/status; exec "$@"'"$q"
    printf ' %s' "$q$1/client-cpus.txt$q"
}

# run_batch RAW LINE M RUNS WARMUP K EXTRA: hyperfine batch K of the point
# (LINE, M) into RAW/LINE-mM/, with the server's counters reset before it and
# read after it, so its peak belongs to this batch alone. Appends a "batch"
# line to facts.txt (EXTRA 1: an adaptive extra batch) and to
# RAW/schedule.txt (every batch of the scenario, in order); on batch 1's failure
# reruns a client once to keep its stderr. Returns 1 when the batch failed
# (stopped at the point limit, or hyperfine failed without --ignore-failure):
# the point is INVALID, and its later batches would only fail again.
run_batch() {
    local raw=$1 line=$2 m=$3 runs=$4 warmup=$5 k=$6 extra=${7:-0}
    local pdir="$raw/$line-m$m" cmd rc=0 timed_out=0
    mkdir -p "$pdir"
    apply_placement "$raw"
    cmd=$(line_command "$line" "$pdir" "$m")
    # what hyperfine runs: the line's command behind the CPU recorder
    local timed
    timed="$(cpu_recorder "$pdir") $cmd"
    if [ "$k" -eq 1 ]; then printf 'command %s\n' "$timed" >>"$pdir/facts.txt"; fi
    local hf_args=(-N --style none --warmup "$warmup" --runs "$runs" --parameter-list m "$m"
        --export-json "$pdir/hf-$k.json" --command-name "$line m={m}")
    if [ "$IGNORE_FAILURE" -eq 1 ]; then hf_args+=(--ignore-failure); fi
    rm -rf "$save_dir" && mkdir -p "$save_dir"
    "${IN_SERVER_NS[@]}" curl -s --max-time 5 "${CURL_TLS[@]}" -o /dev/null "$stats_url?reset=1" ||
        log "could not reset /stats"
    server_cpus "$pdir" "$k" start
    timeout "$POINT_LIMIT_S" "${IN_CLIENT_NS[@]}" "${PIN_CLIENT[@]}" hyperfine "${hf_args[@]}" "$timed" \
        >"$pdir/hf-$k.log" 2>&1 &
    child_pid=$!
    wait "$child_pid" || rc=$?
    child_pid=""
    server_cpus "$pdir" "$k" end
    if [ "$rc" -eq 124 ]; then timed_out=1; fi
    "${IN_SERVER_NS[@]}" curl -s --max-time 5 "${CURL_TLS[@]}" -o "$pdir/stats-$k.json" "$stats_url" ||
        rm -f "$pdir/stats-$k.json"
    printf 'batch %d rc %d timed_out %d runs %d warmup %d extra %d\n' "$k" "$rc" "$timed_out" "$runs" \
        "$warmup" "$extra" >>"$pdir/facts.txt"
    # the order the batches ran in, over the whole scenario (docs/bench.md)
    printf 'm %d line %s batch %d runs %d warmup %d extra %d\n' "$m" "$line" "$k" "$runs" "$warmup" \
        "$extra" >>"$raw/schedule.txt"
    if [ -n "$pair_schedule" ]; then
        printf 'scenario %s m %d line %s batch %d runs %d warmup %d extra %d\n' "$(raw_scen "$raw")" "$m" "$line" \
            "$k" "$runs" "$warmup" "$extra" >>"$pair_schedule"
    fi
    # hyperfine hides the program's stderr: learn why a client failed (exit 2
    # with "file descriptors" is "not run here", not broken).
    if [ "$rc" -ne 0 ] && [ "$timed_out" -eq 0 ] && [ "${LINE_PROG[$line]:-}" != curl ] &&
        [ "${LINE_PROG[$line]:-}" != h2load ] && [ "$k" -eq 1 ]; then
        local prc=0
        timeout "$POINT_LIMIT_S" "${IN_CLIENT_NS[@]}" bash -c "${cmd//\{m\}/$m} --json /dev/null --latencies /dev/null" \
            >/dev/null 2>"$pdir/probe.err" || prc=$?
        printf 'probe_rc %d\n' "$prc" >>"$pdir/facts.txt"
    fi
    [ "$timed_out" -eq 0 ] && { [ "$rc" -eq 0 ] || [ "$IGNORE_FAILURE" -eq 1 ]; }
}

# The points run together at one m: the scenario's own, or a scenario's and
# its -SPLIT twin's (run_pair). RAW_POINTS[RAW]: RAW's points ("line m runs
# warmup" per line). RAW_SERVER_CPUS[RAW], RAW_CLIENT_CPUS[RAW]: for a pair
# only, the CPUs flagserver is re-pinned to before each of RAW's batches and
# those the lines are pinned to (empty: they float over every CPU).
declare -A RAW_POINTS=() RAW_SERVER_CPUS=() RAW_CLIENT_CPUS=()
pair_schedule="" # a pair's joint schedule file (every batch of both, in order)

# raw_scen RAW: the scenario of RAW (OUT/NAME/raw), for the log.
raw_scen() {
    local d=${1%/raw}
    printf '%s' "${d##*/}"
}

# apply_placement RAW: before a batch of a pair's RAW, flagserver (every
# thread: taskset -a) and the next lines go to RAW's CPUs. A scenario run
# alone was pinned once, at its start. A failed re-pin is not fatal here:
# the CPU records of the batch then break the placement rule (INVALID).
apply_placement() {
    local raw=$1 err
    [ -n "${RAW_SERVER_CPUS[$raw]:-}" ] || return 0
    PIN_CLIENT=()
    if [ -n "${RAW_CLIENT_CPUS[$raw]}" ]; then PIN_CLIENT=(taskset -c "${RAW_CLIENT_CPUS[$raw]}"); fi
    if ! err=$(taskset -a -p -c "${RAW_SERVER_CPUS[$raw]}" "$server_pid" 2>&1 >/dev/null); then
        log "[$(raw_scen "$raw")] could not pin flagserver to CPU ${RAW_SERVER_CPUS[$raw]}: $(head -n 1 <<<"$err")"
    fi
}

# run_m M RAW...: every point of the RAWs at M. Interleaved (the default):
# round r runs a batch of at most BATCH_RUNS runs of each (RAW, line) that
# has runs left, in the scenario's order (for a pair: each line shared, then
# split) rotated by r; a line's warm-up runs open its first batch, as they
# opened its only batch before. --consecutive: each line's runs in one
# batch, one line after the other. A line whose batch failed runs no more
# batches. Sets next_batch["RAW LINE"] for adapt, and done_lines[RAW]: the
# lines whose runs at M are over, in that order, for adapt to log.
declare -A next_batch=() done_lines=()
run_m() {
    local m=$1 raw line pm runs warmup i j n r=0 b key
    shift
    local raws=() lines=() left=() warm=() fl
    # a pair's points interleave line by line: threadpool shared, threadpool
    # split, asyncloop shared, ... (the first raw's line order)
    local order=()
    for raw in "$@"; do
        while read -r line pm runs warmup; do
            if [ -n "$line" ] && [ "$pm" -eq "$m" ] && [[ " ${order[*]} " != *" $line "* ]]; then order+=("$line"); fi
        done <<<"${RAW_POINTS[$raw]}"
    done
    for fl in "${order[@]}"; do
        for raw in "$@"; do
            while read -r line pm runs warmup; do
                if [ "$line" = "$fl" ] && [ "$pm" -eq "$m" ]; then
                    raws+=("$raw")
                    lines+=("$line")
                    left+=("$runs")
                    warm+=("$warmup")
                    next_batch["$raw $line"]=1
                fi
            done <<<"${RAW_POINTS[$raw]}"
        done
    done
    n=${#lines[@]}
    for raw in "$@"; do done_lines[$raw]=""; done
    while :; do
        local ran=0
        for ((j = 0; j < n; j++)); do
            i=$(((j + r) % n))
            [ "${left[i]}" -gt 0 ] || continue
            raw=${raws[i]}
            line=${lines[i]}
            key="$raw $line"
            b=${left[i]}
            if [ "$consecutive" -eq 0 ] && [ "$b" -gt "$BATCH_RUNS" ]; then b=$BATCH_RUNS; fi
            ran=1
            if run_batch "$raw" "$line" "$m" "$b" "${warm[i]}" "${next_batch[$key]}" 0; then
                left[i]=$((left[i] - b))
            else
                left[i]=0
            fi
            warm[i]=0
            next_batch[$key]=$((next_batch[$key] + 1))
            if [ "${left[i]}" -eq 0 ]; then done_lines[$raw]+=" $line"; fi
        done
        [ "$ran" -eq 1 ] || break
        r=$((r + 1))
    done
}

# adapt M RAW...: logs each RAW's points at M, and when the (threadpool,
# asyncloop) pair of a RAW at M is undecided, report.py asks for more runs of
# both (up to the scenario's max_runs and adaptive budget); a pair's RAWs take
# turns. One report.py call per RAW and round (m-done: the progress lines of
# the points just run, then how many more runs): a Python start costs about
# 0.3 s here, a call per point was a sixth of --quick's time.
adapt() {
    local m=$1 k=0 more line order raw i any out
    shift
    local raws=("$@")
    while :; do
        any=0
        for ((i = 0; i < ${#raws[@]}; i++)); do
            raw=${raws[(i + k) % ${#raws[@]}]}
            # shellcheck disable=SC2086 # done_lines is a list of line names
            out=$(report m-done "$raw" "$m" ${done_lines[$raw]:-}) || out=0
            done_lines[$raw]=""
            more=${out##*$'\n'}
            if [ "$out" != "$more" ]; then
                while read -r line; do log "[$(raw_scen "$raw")] $line"; done <<<"${out%$'\n'*}"
            fi
            [ "$more" -gt 0 ] 2>/dev/null || continue
            any=1
            log "[$(raw_scen "$raw")] m=$m undecided: $more more run(s) of threadpool and asyncloop"
            order=(threadpool asyncloop) # taking turns going first, batch by batch
            if ((k % 2 == 1)); then order=(asyncloop threadpool); fi
            for line in "${order[@]}"; do
                run_batch "$raw" "$line" "$m" "$more" 0 "${next_batch[$raw $line]}" 1 || true
                next_batch["$raw $line"]=$((${next_batch[$raw $line]} + 1))
                done_lines[$raw]+=" $line"
            done
        done
        [ "$any" -eq 1 ] || break
        k=$((k + 1))
    done
}

# sweep RAW...: the scenario's m list (CONCUR), each m run then adapted, and
# the Python lines at an m outside it.
sweep() {
    local m raw line pm runs warmup extra_ms=()
    for m in "${CONCUR[@]}"; do
        run_m "$m" "$@"
        adapt "$m" "$@"
    done
    for raw in "$@"; do
        while read -r line pm runs warmup; do
            [ -n "$line" ] || continue
            if [[ " ${CONCUR[*]} " != *" $pm "* ]] && [[ " ${extra_ms[*]} " != *" $pm "* ]]; then
                extra_ms+=("$pm")
            fi
        done <<<"${RAW_POINTS[$raw]}"
    done
    for m in "${extra_ms[@]}"; do
        run_m "$m" "$@"
        adapt "$m" "$@" # logs the points: no pair at these m asks for more
    done
}

# setup_scenario NAME RAW: resolves the scenario into RAW (its settings,
# the dataset's sizes, where it saves, TLS, HTTP/2, placement). Returns 1
# when placement makes it not run here (RAW/skipped.txt says why).
setup_scenario() {
    local name=$1 raw=$2
    mkdir -p "$raw"
    load_scenario "$name" "$raw"
    if [ -z "$server_url" ]; then # the dataset's sizes, for the report's bytes rule
        report dataset "$dataset" --out "$raw/dataset.json" || die "$name: report.py dataset failed"
    fi
    scenario_save_dir "$name" "$raw"
    log "[$name] $SCEN_DESC"
    log "[$name] m = ${CONCUR[*]}; ${#POINTS[@]} point(s) to run"
    prepare_tls
    prepare_http2
    if ! prepare_placement "$raw"; then
        log "[$name] not run here: $placement_why"
        printf '%s\n' "$placement_why" >"$raw/skipped.txt"
        return 1
    fi
    if [ "$PLACEMENT" = split ]; then
        log "[$name] placement split: flagserver on CPU $SERVER_CPUS, hyperfine and the lines on CPU $CLIENT_CPUS"
    else
        log "[$name] placement shared: flagserver and the lines float over CPU $CPUS_ALLOWED"
    fi
}

# timed run_scenario NAME | timed run_pair NAME TWIN: runs it and writes the
# seconds it took, server, lab and adaptive runs included, into RAW/wall.txt
# of each folder it made ("seconds N", and "together NAME TWIN" for a pair,
# whose time is joint). report.py budget shows it beside its estimate.
timed() {
    local t=$SECONDS n
    "$@"
    shift
    for n in "$@"; do
        [ -d "$out_dir/$n/raw" ] || continue
        {
            printf 'seconds %d\n' "$((SECONDS - t))"
            if [ $# -gt 1 ]; then printf 'together %s\n' "$*"; fi
        } >"$out_dir/$n/raw/wall.txt"
    done
    log "[$*] took $((SECONDS - t)) s"
}

run_scenario() {
    # a new folder in the staging folder: nothing of an earlier run to clear
    local name=$1 raw="$out_dir/$1/raw" ok=1
    next_batch=()
    RAW_POINTS=()
    RAW_SERVER_CPUS=()
    RAW_CLIENT_CPUS=()
    pair_schedule=""
    scen=$name
    setup_scenario "$name" "$raw" || return 0
    RAW_POINTS[$raw]=$(printf '%s\n' "${POINTS[@]}")
    if [ "$NET" -eq 1 ]; then
        if ! net_up "$raw"; then
            log "[$name] not run here: $net_why"
            printf '%s\n' "$net_why" >"$raw/skipped.txt"
            net_down
            return 0
        fi
        net_enter "$raw"
        log "[$name] network lab $net_id: $(grep -E '^(set_rtt_ms|rtt_median_ms|c2s_lost|s2c_lost|wire_mbit)=' "$raw/netlab.txt" | tr '\n' ' ')"
    fi
    if [ -n "$server_url" ]; then
        base_url=$server_url
        stats_url=${base_url%/flags}/stats
        printf 'started 1\nurl %s\nexternal 1\n' "$base_url" >"$raw/server.txt"
        curl -s --max-time 5 "${CURL_TLS[@]}" -o "$raw/server-stats.json" "$stats_url" || rm -f "$raw/server-stats.json"
        local why
        if ! why=$(report check-server "$raw/scenario.json" "$raw/server-stats.json"); then
            log "[$name] skipped: $why"
            printf 'the server at %s does not match: %s\n' "$base_url" "$why" >"$raw/skipped.txt"
            return 0
        fi
        if [ -n "$why" ]; then log "[$name] $why"; fi
    elif start_server && server_answers "$raw"; then
        log "[$name] flagserver pid $server_pid at $base_url, options: ${SERVER_ARGS[*]:-none} ${TLS_SERVER_ARGS[*]:-}"
        printf 'started 1\nurl %s\nexternal 0\n' "$base_url" >"$raw/server.txt"
    else
        stop_server
        ok=0
        printf 'started 0\n' >"$raw/server.txt"
    fi
    if [ "$ok" -eq 1 ]; then
        report curl-config "$raw/scenario.json" "$base_url" "$save_dir" >"$work_dir/curl.cfg"
        write_h2load_uris "$raw"
        sweep "$raw"
    fi
    stop_server
    net_down
    find "$raw" -name latencies.txt -exec gzip -9 -f {} +
}

# same_settings RAW_A RAW_B: the two resolved scenarios differ in nothing a
# run measures but placement (their points may differ: --quick runs no
# Python line in a -SPLIT twin).
same_settings() {
    local f='del(.name, .desc, .sets, .placement, .points, .python, .libcurl8, .quick)'
    [ "$(jq -S "$f" "$1/scenario.json")" = "$(jq -S "$f" "$2/scenario.json")" ]
}

# pairing: whether a scenario and its -SPLIT twin in one run are run
# together (run_pair): not with --consecutive (the old schedule, kept for
# before/after comparisons), --placement (which makes the two alike) or
# --server-url (not a server bench.sh can pin).
pairing() {
    [ "$consecutive" -eq 0 ] && [ -z "$placement_override" ] && [ -z "$server_url" ]
}

# run_pair NAME TWIN: a scenario (placement shared) and its -SPLIT twin
# (split) measured together, so that what drifts on the machine lands on
# both placements alike (issue 24; two scenarios run one after the other
# measured the drift between them here, not placement: docs/bench.md). One
# flagserver serves both: before every batch it is re-pinned (taskset -a -p)
# to the CPUs of the batch's placement and the batch's lines are pinned to
# theirs; at each m the batches go line by line, shared then split, the
# order rotated each round. Each scenario's folder holds its own points, as
# if run alone, and raw/paired.txt naming the other. Falls back to one after
# the other when they cannot share a server (settings that differ, a
# network lab, a save folder of their own) or the twin is not run here.
run_pair() {
    local name=$1 twin=$2 raw_a="$out_dir/$1/raw" raw_b="$out_dir/$2/raw" save_b why=""
    next_batch=()
    RAW_POINTS=()
    RAW_SERVER_CPUS=()
    RAW_CLIENT_CPUS=()
    scen=$twin
    if ! setup_scenario "$twin" "$raw_b"; then
        run_scenario "$name"
        return 0
    fi
    RAW_POINTS[$raw_b]=$(printf '%s\n' "${POINTS[@]}")
    RAW_SERVER_CPUS[$raw_b]=$SERVER_CPUS
    RAW_CLIENT_CPUS[$raw_b]=$CLIENT_CPUS
    save_b=$save_dir
    scen=$name
    setup_scenario "$name" "$raw_a" || why="$name is not run here"
    if [ -z "$why" ]; then
        if [ "$PLACEMENT" != shared ]; then
            why="$name is placement $PLACEMENT, not shared"
        elif [ "$NET" -eq 1 ]; then
            why="a network lab is built per scenario"
        elif [ "$save_b" != "$save_dir" ]; then
            why="each saves in a folder of its own"
        elif ! same_settings "$raw_a" "$raw_b"; then
            why="their settings differ in more than placement"
        fi
    fi
    if [ -n "$why" ]; then
        log "[$name] not interleaved with $twin ($why): one after the other"
        rm -rf "$raw_a" "$raw_b" # set up above, in this run's staging folder: run_scenario starts afresh
        run_scenario "$name"
        run_scenario "$twin"
        return 0
    fi
    RAW_POINTS[$raw_a]=$(printf '%s\n' "${POINTS[@]}")
    RAW_SERVER_CPUS[$raw_a]=$CPUS_ALLOWED
    RAW_CLIENT_CPUS[$raw_a]=""
    PIN_SERVER=() # started on every CPU, then re-pinned before every batch
    PIN_CLIENT=()
    printf 'with %s\n' "$twin" >"$raw_a/paired.txt"
    printf 'with %s\n' "$name" >"$raw_b/paired.txt"
    pair_schedule="$raw_a/pair-schedule.txt"
    if start_server && server_answers "$raw_a"; then
        log "[$name] flagserver pid $server_pid at $base_url, options: ${SERVER_ARGS[*]:-none} ${TLS_SERVER_ARGS[*]:-};" \
            "shared with $twin, re-pinned before every batch (interleaved: $name on CPU $CPUS_ALLOWED, $twin on CPU $SERVER_CPUS)"
        printf 'started 1\nurl %s\nexternal 0\n' "$base_url" | tee "$raw_b/server.txt" >"$raw_a/server.txt"
        cp "$raw_a/server-stats.json" "$raw_b/server-stats.json"
        report curl-config "$raw_a/scenario.json" "$base_url" "$save_dir" >"$work_dir/curl.cfg"
        write_h2load_uris "$raw_a"
        sweep "$raw_a" "$raw_b"
    else
        stop_server
        printf 'started 0\n' | tee "$raw_b/server.txt" >"$raw_a/server.txt"
    fi
    stop_server
    pair_schedule=""
    find "$raw_a" "$raw_b" -name latencies.txt -exec gzip -9 -f {} +
}

# ------------------------------------------------------------ the network lab

# net_up RAW: builds the scenario's network lab (netlab/netlab.sh up, owned by
# this process, so that a later run removes it if this one is killed) and
# measures it into RAW/netlab.txt (key=value: the settings, RTT, loss, rate,
# the delayers' cost; report.py checks them against the settings). On failure
# sets net_why (one line) and returns 1.
net_why=""
net_up() {
    local raw=$1 rc=0
    net_why=""
    if [ -n "$server_url" ]; then
        net_why="a networked scenario needs the flagserver bench.sh starts in the lab, not --server-url"
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        net_why="needs root for network namespaces"
        return 1
    fi
    if ! cmake --build "$build_dir" -j "$(nproc)" --target netlab-delayer >&2; then
        net_why="netlab-delayer did not build (Debian package libnetfilter-queue-dev)"
        return 1
    fi
    export NETLAB_DELAYER="$build_dir/netlab/netlab-delayer"
    net_id=$$ # before it exists: an interrupt from here on tears it down
    bash "$ROOT/netlab/netlab.sh" up --owner "$net_id" "${NET_ARGS[@]}" >"$raw/netlab-up.txt" \
        2>"$raw/netlab-up.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        # exit 3 is the lab's own "not run here: why"; 1 a lab that did not build
        net_why=$(tail -n 1 "$raw/netlab-up.err")
        net_why=${net_why#netlab: }
        net_why=${net_why#not run here: }
        return 1
    fi
    log "[$scen] measuring the network lab (RTT, loss, rate)"
    # 5 s of bulk transfer (the lab's default is 3): over 50 ms of round trip,
    # TCP's start-up alone took 10% off a 3 s measurement of 100 Mbit/s.
    if ! bash "$ROOT/netlab/netlab.sh" measure "$net_id" --seconds 5 >"$raw/netlab.txt" \
        2>"$raw/netlab-measure.err"; then
        net_why="the network lab's measurement failed: $(tail -n 1 "$raw/netlab-measure.err")"
        return 1
    fi
}

# net_enter RAW: flagserver and every line from now on run inside the lab:
# the server bound to its lab address in the server namespace, the clients,
# curl and hyperfine itself in the client namespace (so its timing covers
# the client alone). bench.sh's own /stats reads run in the server namespace,
# beside flagserver, so they cross no shaped link.
net_enter() {
    local raw=$1
    server_addr=$(sed -n 's/^server_addr=//p' "$raw/netlab-up.txt")
    IN_SERVER_NS=(ip netns exec "$(sed -n 's/^server_ns=//p' "$raw/netlab-up.txt")")
    IN_CLIENT_NS=(ip netns exec "$(sed -n 's/^client_ns=//p' "$raw/netlab-up.txt")")
}

# net_down: tears the lab down (after its scenario, and on any exit) and runs
# what follows over loopback again.
net_down() {
    server_addr=127.0.0.1
    IN_SERVER_NS=()
    IN_CLIENT_NS=()
    if [ -n "$net_id" ]; then
        bash "$ROOT/netlab/netlab.sh" down "$net_id" >&2 || log "could not tear down network lab $net_id"
        net_id=""
    fi
}

# The "libcurl 7.88 vs 8.14" table of a run (and the only libcurl lines of
# H2C, whose h2c needs libcurl 8): the run's scenarios with a "libcurl8"
# section (LOCAL, C10K, H2-DELAY, C10K-H2, H2C: a reduced set of points) once
# more, with Debian's bookworm-backports libcurl 8 loaded by every client and
# curl, into OUT/libcurl8/. With --scenario the other scenarios' earlier
# results there stay (start_stage copied them) and are listed with these.
# The library is unpacked under the build directory by scripts/setup.sh
# --libcurl8 (fetched once; never installed over the system's). When it
# cannot be had, OUT/libcurl8.skipped says why and the report says so.
# run_libcurl8_pass SCENARIO...: the run's scenarios that declare a
# "libcurl8" section, again with libcurl 8.
run_libcurl8_pass() {
    local main_out=$out_dir lib="" names name saved_ld=${LD_LIBRARY_PATH:-}
    # the run's own scenarios that have a "libcurl8" section, in their order;
    # none (--scenario WAN): nothing to fetch, run or say
    local all=" $* "
    names=()
    while IFS= read -r name; do
        if [[ $all == *" $name "* ]]; then names+=("$name"); fi
    done < <(report libcurl8-scenarios "$ROOT/bench/scenarios")
    if [ "${#names[@]}" -eq 0 ]; then return 0; fi
    if [ ! -e "$build_dir/libcurl8/root" ]; then
        log "libcurl 8: fetching it (scripts/setup.sh --libcurl8)"
        bash "$ROOT/scripts/setup.sh" --libcurl8 "$build_dir/libcurl8" >&2 || true
    fi
    lib=$(find "$build_dir/libcurl8/root" -name libcurl.so.4 -print -quit 2>/dev/null || true)
    if [ -z "$lib" ]; then
        log "libcurl 8: not available; no libcurl 7.88 vs 8.14 table"
        echo "libcurl 8 could not be fetched (scripts/setup.sh --libcurl8 failed)" \
            >"$main_out/libcurl8.skipped"
        return 0
    fi
    libcurl_dir=$(dirname "$lib")
    export LD_LIBRARY_PATH="$libcurl_dir${saved_ld:+:$saved_ld}"
    libcurl8_pass=1
    out_dir=$main_out/libcurl8
    mkdir -p "$out_dir"
    log "libcurl 8 pass: ${names[*]} with $(curl --version | sed -n '1s|.* libcurl/\([^ ]*\).*|\1|p') from $libcurl_dir"
    write_meta
    if [ -n "$only_scenarios" ]; then
        merged_list "$out_dir/scenarios.txt" "$out_dir" "${names[@]}" >"$out_dir/scenarios.txt.new"
    else
        printf '%s\n' "${names[@]}" >"$out_dir/scenarios.txt.new"
    fi
    mv -f "$out_dir/scenarios.txt.new" "$out_dir/scenarios.txt"
    for name in "${names[@]}"; do
        # the staging folder's copy of an earlier run of it: replaced whole
        rm -rf "${out_dir:?}/$name"
        timed run_scenario "$name"
    done
    out_dir=$main_out
    libcurl8_pass=0
    libcurl_dir=""
    if [ -n "$saved_ld" ]; then export LD_LIBRARY_PATH=$saved_ld; else unset LD_LIBRARY_PATH; fi
}

main() {
    local name scenarios scenarios_text t0 tool
    parse_args "$@"
    scenarios_text=$(list_scenarios) || exit 2
    mapfile -t scenarios <<<"$scenarios_text"
    for name in "${scenarios[@]}"; do
        [ -f "$ROOT/bench/scenarios/$name.json" ] || {
            log "no scenario '$name'; see bench/scenarios/*.json"
            exit 2
        }
    done
    check_out_dir "${scenarios[@]}"
    # The Debian packages (a no-op when present), so that a fresh machine
    # needs nothing but this command.
    bash "$ROOT/scripts/setup.sh" >&2 || die "scripts/setup.sh could not install the packages"
    for tool in cmake hyperfine curl gnuplot timeout python3 gzip; do
        command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh)"
    done
    check_server_url
    find_cpus
    t0=$SECONDS
    build_dir=$(mkdir -p "$build_dir" && cd "$build_dir" && pwd)
    work_dir=$(mktemp -d "${TMPDIR:-/tmp}/flagbench-bench.XXXXXX")
    if [ -z "$save_parent" ]; then
        save_parent=${TMPDIR:-/tmp}
        if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
            save_parent=/dev/shm
        fi
    fi
    save_dir=$(mktemp -d "$save_parent/flagbench-save.XXXXXX") || die "cannot write in $save_parent"
    default_save_dir=$save_dir
    log "downloads are saved in $save_dir ($(fs_type "$save_dir"))"
    ensure_built
    if [ -z "$server_url" ]; then ensure_dataset; fi
    raise_fd_limit
    find_peer_python
    start_stage "${scenarios[@]}"
    write_meta
    for name in "${scenarios[@]}"; do
        if pairing; then
            # a -SPLIT twin runs with its scenario when both are in the run
            if [[ $name == *-SPLIT ]] && [[ " ${scenarios[*]} " == *" ${name%-SPLIT} "* ]]; then continue; fi
            if [[ " ${scenarios[*]} " == *" $name-SPLIT "* ]]; then
                timed run_pair "$name" "$name-SPLIT"
                continue
            fi
        fi
        timed run_scenario "$name"
    done
    # A full run of a set or of --scenario NAMES (no option that changes the
    # points or the library) adds the libcurl 8 pass of its scenarios.
    if [ "$quick" -eq 0 ] && [ -z "$concur_override$runs_override$libcurl_dir$server_url" ]; then
        run_libcurl8_pass "${scenarios[@]}"
    fi
    log "sweeps done in $((SECONDS - t0)) s; the report and plots"
    bash "$ROOT/scripts/bench-report.sh" "$out_dir" || die "scripts/bench-report.sh $out_dir failed"
    commit_stage "${scenarios[@]}"
    log "done in $((SECONDS - t0)) s: $final_out/REPORT.md"
}

main "$@"
