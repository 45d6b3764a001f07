#!/usr/bin/env bash
# server_cli: bad arguments -> exactly one clear line on stderr and exit 2;
# --help -> exit 0; presets and explicit options overriding them.
# Usage: cli.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR

# bad DESC PATTERN ARGS...: flagserver ARGS exits 2 with one stderr line
# matching PATTERN (grep -E) and nothing on stdout.
bad() {
  local desc=$1 pattern=$2 rc lines; shift 2
  timeout 5 "$FLAGSERVER" "$@" >"$FB_TMP/out" 2>"$FB_TMP/err"; rc=$?
  lines=$(wc -l <"$FB_TMP/err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$FB_TMP/out" ] &&
     grep -Eq "^flagserver: .*$pattern" "$FB_TMP/err"; then
    fb_pass "$desc -> exit 2: $(cat "$FB_TMP/err")"
  else
    fb_fail "$desc -> one line and exit 2" "exit $rc, $lines stderr lines: $(head -c 300 "$FB_TMP/err")"
  fi
}

bad "port out of range"        "port"        --dir "$DATA" --port 65536
bad "negative port"            "port"        --dir "$DATA" --port -1
bad "non-numeric port"         "port"        --dir "$DATA" --port http
bad "overflowing port"         "port"        --dir "$DATA" --port 99999999999999999999999
bad "missing dir"              "No such file" --dir "$FB_TMP/nope"
bad "dir without flags/"       "flags/"      --dir "$FB_TMP"
bad "error rate above 1"       "error-rate"  --dir "$DATA" --error-rate 1.5
bad "negative error rate"      "error-rate"  --dir "$DATA" --error-rate -0.1
bad "non-numeric error rate"   "error-rate"  --dir "$DATA" --error-rate lots
bad "NaN error rate"           "error-rate"  --dir "$DATA" --error-rate nan
bad "delay MIN > MAX"          "MIN"         --dir "$DATA" --delay 500:100
bad "non-numeric delay"        "delay"       --dir "$DATA" --delay soon
bad "half a delay range"       "delay"       --dir "$DATA" --delay 100:
bad "delay too long"           "delay"       --dir "$DATA" --delay 99999999999
bad "bad error kind"           "error-kind"  --dir "$DATA" --error-kind teapot
bad "bad preset"               "preset"      --dir "$DATA" --preset FAST
bad "bad seed"                 "seed"        --dir "$DATA" --seed -3
bad "--h2-max-streams alone"   "needs --http2" --dir "$DATA" --h2-max-streams 10
bad "--h2-timeout alone"       "needs --http2" --dir "$DATA" --h2-timeout 10
bad "zero streams"             "h2-max-streams" --dir "$DATA" --http2 --h2-max-streams 0
bad "too many streams"         "h2-max-streams" --dir "$DATA" --http2 --h2-max-streams 100001
bad "h2 timeout too long"      "h2-timeout"  --dir "$DATA" --http2 --h2-timeout 3601
bad "--http2 with a value"     "http2"       --dir "$DATA" --http2=yes
bad "unknown option"           "unknown option" --dir "$DATA" --colour
bad "option without a value"   "needs a value" --dir "$DATA" --port
bad "bad bind address"         "bind"        --dir "$DATA" --bind not-an-address --port 0

"$FLAGSERVER" --help >"$FB_TMP/help" 2>&1; rc=$?
fb_eq "--help exits 0" "$rc" 0
fb_ok "--help prints the usage" grep -q '^usage: flagserver' "$FB_TMP/help"

# Presets: the preset's delay and rate apply, explicit options win whatever
# their order (--port 0 instead of the preset's port).
fb_start_server --dir "$DATA" --quiet --preset ERROR --error-rate 1 || fb_fail "ERROR preset starts"
t0=$(fb_now)
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")
el=$(fb_elapsed "$t0")
fb_ok "ERROR preset + --error-rate 1 (after it): an error ($code)" bash -c "[ $code = 500 ] || [ $code = 503 ]"
fb_le "ERROR preset: its 100 ms delay applies ($el s)" 0.1 "$el"
fb_stop_server
fb_start_server --error-rate 0 --delay 0 --quiet --preset ERROR --dir "$DATA" || fb_fail "ERROR preset starts"
# The server's own time (request sent -> first byte), not curl's start-up, so
# a loaded machine cannot push a 0 ms delay past the preset's 100 ms.
read -r code el < <(curl -s --max-time 5 -o /dev/null \
  -w '%{http_code} %{time_pretransfer} %{time_starttransfer}\n' "$FB_BASE/br/br.gif" |
  awk '{ printf "%s %.3f\n", $1, $3 - $2 }')
fb_eq "--error-rate 0 before --preset ERROR still wins" "$code" 200
fb_le "--delay 0 before --preset ERROR still wins (first byte after ${el} s)" "$el" 0.05
fb_stop_server
fb_start_server --preset DELAY --dir="$DATA" --delay=150:250 --seed=5 || fb_fail "DELAY preset starts"
t0=$(fb_now)
curl -s --max-time 5 -o /dev/null "$FB_BASE/br/br.gif"
el=$(fb_elapsed "$t0")
fb_le "--delay=150:250 (form with =): at least 150 ms ($el s)" 0.15 "$el"
fb_le "... and not much more than 250 ms" "$el" 1
fb_stop_server
fb_ok "the server logs its start on stderr without --quiet" \
  bash -c "grep -q 'flags loaded' $FB_TMP/server.*.out.err"

fb_finish
