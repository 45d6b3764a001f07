#!/usr/bin/env bash
# test_results_dir.sh -- what scripts/bench.sh does to its --out folder (issue
# 19, cases 5, 6 and 9), on copies of the committed results/:
#   - a bad value (a scenario name with a path in it, an --out that is a file,
#     an overflowing --concur, ...) is one line and exit 2, before anything runs;
#   - an unreachable --server-url is one line and exit 1;
#   - an --out holding the user's files (photos.json, holiday.png,
#     raw/keep.txt), without a flagbench marker or inside a marked folder, is
#     refused with one line and exit 2, and every file survives byte for byte;
#   - SIGINT or SIGTERM during the first point of --scenario DELAY leaves the
#     earlier results byte-identical (a sha256 manifest) and says, in one line,
#     where the partial data is;
#   - a completed --scenario LOCAL replaces LOCAL alone: every other scenario
#     stays in scenarios.txt, the report and on disk, and so do files the
#     marker does not list where the run does not write (results/server/);
#   - --set NAME of another set than "default", without --out, writes
#     results-sets/NAME/ and leaves results/ (the default run) alone: run
#     from a copy of the tree (links to the source, a copy of the committed
#     results/, a build of its own).
#
# Environment (set by ctest): FLAGBENCH_SOURCE, FLAGBENCH_BUILD (the build dir
# whose programs are benchmarked).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
source "$here/../lib.sh"
fb_need hyperfine:hyperfine gnuplot:gnuplot-nox sha256sum:coreutils

src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
build=${FLAGBENCH_BUILD:-$src/build}
bench() { bash "$src/scripts/bench.sh" "$@" --build "$build"; }
cd "$FB_TMP" || exit 1

# manifest DIR: every path's type and mode, every file's sha256, link targets;
# this run's staging folders (.flagbench-partial.*) left out.
manifest() {
    (
        cd "$1" || exit 1
        find . -name '.flagbench-partial.*' -prune -o -printf '%y %m %p -> %l\n' | LC_ALL=C sort
        find . -name '.flagbench-partial.*' -prune -o -type f -print0 | LC_ALL=C sort -z |
            xargs -0 -r sha256sum
    )
}
# errors FILE: bench.sh's own lines in FILE (not setup's or the build's).
errors() { grep -c '^bench: ' "$1"; }

# ---- bad values: one line, exit 2, nothing made (with --quick, so that a value
# that gets through runs about a minute, not a default sweep)
touch afile
for args in "--scenario ../scenarios/LOCAL" "--scenario LOCAL,LOCAL" "--concur 99999999999999999999" \
    "--runs 0" "--out afile" "--save-dir nowhere" "--server-url http://127.0.0.1:1/flags?reset=1" \
    "--set nope" "--set ../tls" "--set tls --scenario TLS"; do
    read -ra a <<<"$args"
    rm -rf new
    if [ "${a[0]}" != --out ]; then a+=(--out new); fi
    case $args in --scenario* | --set*) a=(--quick "${a[@]}") ;; *) a=(--quick --scenario LOCAL "${a[@]}") ;; esac
    bench "${a[@]}" 2>bad.err
    rc=$?
    fb_eq "$args: exit 2" "$rc" 2
    fb_eq "$args: one line" "$(grep -c . bad.err)" 1
    fb_ok "$args: no --out folder made" test ! -e new
done

# ---- case 9: an unreachable --server-url (nothing listens on port 1)
bench --quick --scenario LOCAL --server-url http://127.0.0.1:1/flags --out unreach 2>unreach.err
fb_eq "unreachable --server-url: exit 1" "$?" 1
fb_eq "with one line" "$(errors unreach.err)" 1
fb_ok "saying it does not answer" grep -q '^bench: error: --server-url http://127.0.0.1:1/flags does not answer' unreach.err
fb_eq "no scenario was run" "$(find unreach -name raw | wc -l)" 0

# ---- case 6: the user's files, in a folder no flagbench run wrote
mkdir -p mine/DELAY/raw
echo '{"album": "holiday"}' >mine/DELAY/photos.json
head -c 4096 /dev/urandom >mine/DELAY/holiday.png
echo keep >mine/DELAY/raw/keep.txt
manifest mine >mine.before
bench --quick --scenario DELAY --out mine 2>mine.err
fb_eq "an unmarked folder with the user's files: exit 2" "$?" 2
fb_eq "with one line" "$(errors mine.err)" 1
fb_ok "saying why" grep -q 'holds files no flagbench run wrote' mine.err
manifest mine >mine.after
fb_ok "photos.json, holiday.png, raw/keep.txt survive byte for byte" cmp -s mine.before mine.after

# ... and inside a folder a flagbench run wrote (the committed results/)
cp -a "$src/results" marked
fb_ok "the committed results/ carry the marker" grep -qx 'flagbench-results 1' <(head -n 1 marked/.flagbench-results)
echo '{"album": "holiday"}' >marked/DELAY/photos.json
head -c 4096 /dev/urandom >marked/DELAY/holiday.png
echo keep >marked/DELAY/raw/keep.txt
manifest marked >marked.before
bench --quick --scenario DELAY --out marked 2>marked.err
fb_eq "a marked folder holding the user's files: exit 2" "$?" 2
fb_eq "with one line" "$(errors marked.err)" 1
fb_ok "naming a file the run did not write" grep -qE 'holds the file DELAY/(photos.json|holiday.png|raw/keep.txt), which no flagbench run wrote' marked.err
manifest marked >marked.after
fb_ok "every file survives byte for byte" cmp -s marked.before marked.after
# a scenario folder swapped for a link elsewhere is not followed
rm -rf marked/DELAY/photos.json marked/DELAY/holiday.png marked/DELAY/raw/keep.txt
mkdir elsewhere && mv marked/LOCAL elsewhere/ && ln -s "$FB_TMP/elsewhere/LOCAL" marked/LOCAL
bench --quick --scenario DELAY --out marked 2>link.err
fb_eq "a scenario folder replaced by a link: exit 2" "$?" 2
fb_ok "naming the link" grep -q 'holds the symbolic link LOCAL, which no flagbench run wrote' link.err
rm marked/LOCAL && mv elsewhere/LOCAL marked/

# ---- case 5: interrupted during the first point
for sig in INT TERM; do
    rm -rf prev && cp -a "$src/results" prev
    manifest prev >prev.before
    # a background job of a script starts with SIGINT ignored: restore it
    env --default-signal=INT bash "$src/scripts/bench.sh" --quick --scenario DELAY --concur 10 \
        --out prev --build "$build" 2>"sig-$sig.err" &
    pid=$!
    for _ in $(seq 1 1200); do # setup, build and dataset first: up to 60 s
        grep -q 'flagserver pid' "sig-$sig.err" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fb_ok "SIG$sig: bench.sh reached the first point" grep -q 'flagserver pid' "sig-$sig.err"
    sleep 1
    kill -"$sig" "$pid"
    wait "$pid"
    fb_eq "SIG$sig: exit 130" "$?" 130
    manifest prev >prev.after
    fb_ok "SIG$sig: the earlier results are byte-identical" cmp -s prev.before prev.after
    if ! cmp -s prev.before prev.after; then diff prev.before prev.after | head -n 5 | sed 's/^/#   /'; fi
    partial=$(sed -n 's/.*this run.s partial data is in \(.*\)$/\1/p' "sig-$sig.err")
    fb_eq "SIG$sig: one line says where the partial data is" "$(grep -c 'partial data is in' "sig-$sig.err")" 1
    fb_ok "SIG$sig: there it is ($partial)" test -d "$partial/DELAY/raw"
done

# ---- a completed --scenario run replaces that scenario alone
rm -rf prev && cp -a "$src/results" prev
echo 'my notes' >prev/notes.txt
manifest prev/DELAY >delay.before
manifest prev/server >server.before
bench --quick --scenario LOCAL --concur 10 --runs 2 --out prev 2>done.err
rc=$?
fb_eq "--scenario LOCAL into the earlier results: exit 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 20 done.err | sed 's/^/#   /'; fi
fb_eq "scenarios.txt still lists every scenario" "$(cat prev/scenarios.txt)" "$(cat "$src/results/scenarios.txt")"
while read -r name; do
    fb_ok "REPORT.md still has $name" grep -q "^## $name\$" prev/REPORT.md
done <"$src/results/scenarios.txt"
fb_eq "verdicts.json keeps every scenario" "$(jq -r 'map(.name) | join(",")' prev/verdicts.json)" \
    "$(jq -r 'map(.name) | join(",")' "$src/results/verdicts.json")"
fb_eq "LOCAL is this run's (m = 10 only)" "$(jq -c .concur prev/LOCAL/raw/scenario.json)" "[10]"
manifest prev/DELAY >delay.after
fb_ok "DELAY's raw data is byte-identical" cmp -s <(grep '/raw' delay.before) <(grep '/raw' delay.after)
manifest prev/server >server.after
fb_ok "results/server/ (not the run's) is byte-identical" cmp -s server.before server.after
fb_eq "a file the marker does not list, where the run does not write, stays" "$(cat prev/notes.txt)" "my notes"
fb_eq "no staging folder is left" "$(find prev -maxdepth 1 -name '.flagbench-*.*' | wc -l)" 0
fb_eq "the marker lists exactly what the runs wrote" \
    "$(cd prev && find . -mindepth 1 \( -path ./server -o -name notes.txt \) -prune -o \
        ! -name .flagbench-results -printf '%y %P\n' | LC_ALL=C sort | sha256sum)" \
    "$(tail -n +2 prev/.flagbench-results | sha256sum)"

# ---- --set NAME without --out: results-sets/NAME/, never results/
mkdir tree
for entry in "$src"/*; do
    case ${entry##*/} in results | results-sets | build*) ;; *) ln -s "$entry" "tree/${entry##*/}" ;; esac
done
cp -a "$src/results" tree/results
manifest tree/results >tree.before
# A build of its own (bench.sh configures --build from its tree's
# CMakeLists.txt), configured here so that it can start with the dataset
# already made in $build (converting it again takes half a minute).
cmake -S tree -B tree-build -DCMAKE_BUILD_TYPE=Release -DFLAGBENCH_TESTS=OFF -DFLAGBENCH_FUZZ=OFF >/dev/null
if [ -d "$build/dataset/flags" ]; then cp -a "$build/dataset" tree-build/dataset; fi
bash tree/scripts/bench.sh --quick --set disk --concur 10 --runs 1 --build "$FB_TMP/tree-build" 2>set.err
rc=$?
fb_eq "--set disk without --out: exit 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 20 set.err | sed 's/^/#   /'; fi
fb_ok "it says where its results go" grep -q "results go to $FB_TMP/tree/results-sets/disk/" set.err
fb_eq "results-sets/disk/ holds the set's run" "$(cat tree/results-sets/disk/scenarios.txt 2>/dev/null)" DISK
fb_ok "with its report" grep -q '^## DISK$' tree/results-sets/disk/REPORT.md
manifest tree/results >tree.after
fb_ok "results/ (the default run) is byte-identical" cmp -s tree.before tree.after

fb_finish
