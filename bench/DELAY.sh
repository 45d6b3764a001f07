# shellcheck shell=bash disable=SC2034
# DELAY -- every response waits 100 ms: elapsed time against concur_req, next to
# the ideal bound ceil(N / m) x 100 ms. The 676 codes AA..ZZ (-e); 482 are 404.
# Sourced by scripts/bench.sh; every variable is described in docs/bench.md.

SCEN_DESC="a fixed 100 ms delay per response; the 676 codes AA..ZZ (-e), 482 of them 404"
SERVER_ARGS=(--delay 100)
CODESET=e
REPEAT=1
DELAY_S=0.1
# m = 1..5 would take 68 s..14 s per run: the sweep starts at 10 to fit the budget.
CONCUR=(10 20 50 100 200 500)
RUNS=3
WARMUP=1
OK_EXITS="0"
TIMEOUT_S=30
POINT_LIMIT_S=300
PLOTS="elapsed requests_per_s latency cpu rss"

QUICK_REPEAT=1
QUICK_CONCUR=(50 500)
QUICK_RUNS=2
QUICK_WARMUP=0
