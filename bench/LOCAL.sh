# shellcheck shell=bash disable=SC2034
# LOCAL -- no delay: how many flags per second can each backend fetch?
# Sourced by scripts/bench.sh; every variable is described in docs/bench.md.

SCEN_DESC="no server delay; the 194 flags (-a), repeated so that one run lasts well over 0.5 s"
SERVER_ARGS=()             # flagserver arguments besides --bind/--port/--dir/--quiet
CODESET=a                  # a: the 194 country codes (-a); e: AA..ZZ, 676 codes (-e)
REPEAT=40                  # --repeat: 7,760 requests, so a run lasts over 0.5 s (~13k requests/s at best)
DELAY_S=0                  # server delay per request, seconds (ideal bound; 0: none)
CONCUR=(1 2 5 10 20 50 100 200 500)
RUNS=3
WARMUP=1
OK_EXITS="0"               # client exit statuses that count as a good run
TIMEOUT_S=30               # client --timeout, per request
POINT_LIMIT_S=300          # wall-clock limit for one hyperfine invocation
PLOTS="requests_per_s elapsed cpu rss latency"

QUICK_REPEAT=5
QUICK_CONCUR=(1 10 100)
QUICK_RUNS=2
QUICK_WARMUP=0
