#!/usr/bin/env bash
# bench-report.sh -- REPORT.md and the plots from the raw data of scripts/bench.sh.
#
# Usage: scripts/bench-report.sh OUT
# scripts/report.py reads OUT/*/raw/ (or an old OUT/*/raw.json) and writes
# OUT/REPORT.md, OUT/verdicts.json and per scenario points.json, the .dat files
# and plots.gp; gnuplot then draws each scenario's plots.gp in its directory.
# Rerun it on its own to redraw without measuring again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf 'bench-report: %s\n' "$*" >&2; }

[ $# -eq 1 ] || {
    echo "usage: scripts/bench-report.sh OUT" >&2
    exit 2
}
out=$1
python3 "$ROOT/scripts/report.py" report "$out" || exit 1
pngterm="set terminal png size 900,560"
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then
    pngterm="set terminal pngcairo size 900,560 enhanced font 'sans,11'"
fi
# the main run's scenarios, and those of the libcurl 8 pass that have a
# section of their own (report.py wrote their plots.gp)
while read -r name; do
    [ -f "$out/$name/plots.gp" ] || continue
    (cd "$out/$name" && gnuplot -e "PNGTERM=\"$pngterm\"" plots.gp) ||
        { log "gnuplot failed on $out/$name/plots.gp"; exit 1; }
done < <(cat "$out/scenarios.txt"; if [ -f "$out/libcurl8/scenarios.txt" ]; then sed 's|^|libcurl8/|' "$out/libcurl8/scenarios.txt"; fi)
log "wrote $out/REPORT.md"
