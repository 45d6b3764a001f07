#!/usr/bin/env bash
# server_fds: flagserver out of descriptors (issue 15, failure 1). Under
# `ulimit -n 64` it gets 200 concurrent connections: accept() fails with
# EMFILE, the server pauses accepting instead of crashing or spinning, resumes
# as connections close, and answers every request in full; /stats counts the
# accept errors.
# Usage: fds.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"
fb_need python3:python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR CN
FILE=$DATA/flags/br/br.gif
N=200
LIMIT=64

# The limit applies to flagserver only (the client needs N descriptors): a
# wrapper sets it and execs, so FB_SERVER_PID is flagserver's own pid.
printf '#!/bin/sh\nulimit -n %d || exit 1\nexec "%s" "$@"\n' "$LIMIT" "$FLAGSERVER" >"$FB_TMP/limited"
chmod +x "$FB_TMP/limited"
FLAGSERVER=$FB_TMP/limited fb_start_server --dir "$DATA" --delay 300 \
  || { fb_fail "flagserver starts under ulimit -n $LIMIT"; fb_finish; }
fb_pass "flagserver starts under ulimit -n $LIMIT"

t0=$(fb_now)
ok=$(timeout 90 python3 "$HERE/rawclient.py" burst "$FB_PORT" /flags/br/br.gif "$FILE" "$N")
el=$(fb_elapsed "$t0")
fb_ok "flagserver is alive after $N connections at once" kill -0 "$FB_SERVER_PID"
fb_eq "every one of $N requests got the whole file (${el} s)" "$ok" "$N"
errors=$(fb_stats .accept_errors)
fb_le "/stats accept_errors counts the EMFILE failures ($errors)" 1 "$errors"
# Spinning would fail accept() millions of times: at most one error per
# resume, and resumes come from a connection closing or the 100 ms timer.
fb_le "... and accept() did not spin ($errors <= $N + 10 * $el s + 10)" "$errors" \
  "$(awk -v n="$N" -v t="$el" 'BEGIN { print n + 10 * t + 10 }')"
fb_eq "/stats by_status 200 == $N" "$(fb_stats '.by_status."200"')" "$N"
fb_ok "the pause is logged on stderr" \
  grep -q 'accept: Too many open files; pausing' "$FB_TMP"/server.*.out.err

# Short of descriptors, a response closes its connection so that those
# waiting in the listen queue get a turn: 100 silent connections hold every
# descriptor, then the first of them (surely accepted) sends a keep-alive GET.
fb_eq "out of descriptors: a keep-alive GET is answered with Connection: close" \
  "$(timeout 30 python3 "$HERE/rawclient.py" hold "$FB_PORT" /flags/br/br.gif "$FILE" 100)" "close ok"
sleep 1.2 # FS_FD_PRESSURE_MS (1 s) after the last EMFILE
fb_eq "... and keep-alive again once descriptors are free" \
  "$(curl -s --max-time 5 -o /dev/null -D - "$FB_BASE/br/br.gif" | tr -d '\r' | grep -ci '^connection: close')" 0

# A normal request afterwards is served correctly.
curl -s --max-time 5 -o "$FB_TMP/cn.gif" "$FB_BASE/cn/cn.gif"
fb_ok "a GET afterwards is byte-identical" cmp -s "$FB_TMP/cn.gif" "$DATA/flags/cn/cn.gif"
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

fb_finish
