# shellcheck shell=bash disable=SC2034
# C10K -- a 1 s delay and thousands of transfers in flight: elapsed time, peak
# RSS and CPU time of a thread per transfer against one event loop.
# Sourced by scripts/bench.sh; every variable is described in docs/bench.md.

SCEN_DESC="a fixed 1 s delay; the 676 codes AA..ZZ (-e) repeated, over 20,000 requests per run in the full sweep"
SERVER_ARGS=(--delay 1000)
CODESET=e
REPEAT=30
DELAY_S=1
# Small m would take minutes per run (m = 100: 203 s): the sweep starts at 1,000.
# A pool worker holds 4 descriptors (docs/client.md): with a hard limit of
# 20,000 the pool tops out near m = 4,984, and its m = 10,000 point is reported
# "not run here" with the reason, while the loop (1 per transfer) runs it.
CONCUR=(1000 2000 4000 10000)
RUNS=1
WARMUP=0
OK_EXITS="0"
TIMEOUT_S=60
POINT_LIMIT_S=300
PLOTS="elapsed rss cpu latency"

QUICK_REPEAT=3
QUICK_CONCUR=(1000 2000)
QUICK_RUNS=1
QUICK_WARMUP=0
