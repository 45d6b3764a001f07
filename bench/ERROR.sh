# shellcheck shell=bash disable=SC2034
# ERROR -- the DELAY server plus 25% injected errors (HTTP 500 or 503), as the book's
# ERROR server: every code must be accounted for as ok, not found or error.
# A client exits 1 when any request failed, which is the expected outcome here.
# Sourced by scripts/bench.sh; every variable is described in docs/bench.md.

SCEN_DESC="a 100 ms delay and 25% injected HTTP 500 and 503 errors (fixed seed); the 194 flags (-a)"
SERVER_ARGS=(--delay 100 --error-rate 0.25 --error-kind status --seed 42)
CODESET=a
REPEAT=2
DELAY_S=0.1
CONCUR=(10 20 50 100 200)
RUNS=3
WARMUP=1
OK_EXITS="0 1"
TIMEOUT_S=30
POINT_LIMIT_S=300
PLOTS="elapsed latency"

QUICK_REPEAT=1
QUICK_CONCUR=(20 200)
QUICK_RUNS=2
QUICK_WARMUP=0
