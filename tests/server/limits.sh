#!/usr/bin/env bash
# server_limits: what real clients and attackers do to a server -- malformed
# requests, oversized headers, idle (slowloris) connections, many delayed
# requests at once -- and flagserver keeps serving everyone else.
# Usage: limits.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"
fb_need wrk:wrk

IDLE=${FB_IDLE_CONNECTIONS:-2000}
BURST=${FB_BURST:-1000}

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR CN

fb_start_server --dir "$DATA" --quiet || { fb_fail "flagserver starts"; fb_finish; }

# raw_request NAME PRINTF-FORMAT [ARGS]: sends the bytes, prints the status
# code of the answer, or "closed" if the server closed without one.
raw_request() {
  local fmt=$1; shift
  (
    trap '' PIPE # the server may answer and close before we finish writing
    exec 3<>"/dev/tcp/127.0.0.1/$FB_PORT" || exit 1
    # shellcheck disable=SC2059
    printf "$fmt" "$@" >&3 2>/dev/null
    line=$(timeout 5 head -n 1 <&3 | tr -d '\r')
    code=$(awk '{print $2}' <<<"$line")
    echo "${code:-closed}"
  )
}

still_serving() {
  fb_eq "after $1: still serving" \
    "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")" 200
}

# 501 is RFC 9110's answer to a method the server does not recognise.
check_refused() { # desc code
  case $2 in
    4[0-9][0-9]|501|closed) fb_pass "$1 -> $2" ;;
    *) fb_fail "$1 gets a 4xx, 501 or a close" "got '$2'" ;;
  esac
}

# --- malformed requests ------------------------------------------------------
check_refused "garbage request line" "$(raw_request 'GARBAGE\r\n\r\n')"
check_refused "method only" "$(raw_request 'GET\r\n\r\n')"
check_refused "unknown method" "$(raw_request 'BREW /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n')"
check_refused "HTTP/9.9" "$(raw_request 'GET /flags/br/br.gif HTTP/9.9\r\nHost: x\r\n\r\n')"
check_refused "header without a colon" "$(raw_request 'GET /flags/br/br.gif HTTP/1.1\r\nNoColonHere\r\n\r\n')"
check_refused "negative Content-Length" \
  "$(raw_request 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')"
check_refused "bad chunked body" \
  "$(raw_request 'POST /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n')"
check_refused "binary junk" "$(raw_request '\x00\x01\x02\xff\xfe\r\n\r\n')"
check_refused "NUL in the path" "$(raw_request 'GET /flags/br\x00/br.gif HTTP/1.1\r\nHost: x\r\n\r\n')"
big=$(head -c 20000 /dev/zero | tr '\0' a)
check_refused "20 kB header" "$(raw_request 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$big")"
check_refused "20 kB request line" "$(raw_request 'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n' "$big")"
many=$(for i in $(seq 1 2000); do printf 'X-H%d: v\r\n' "$i"; done)
check_refused "2000 header lines" "$(raw_request 'GET /flags/br/br.gif HTTP/1.1\r\n%s\r\n' "$many")"
check_refused "64 kB body on a GET" \
  "$(raw_request 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n%s' "$big")"
still_serving "malformed requests"
fb_ok "flagserver is alive" kill -0 "$FB_SERVER_PID"

# --- idle connections (slowloris) ------------------------------------------
# Half send nothing, half send an unfinished header block; none finish.
fds=()
opened=0
for i in $(seq 1 "$IDLE"); do
  if exec {fd}<>"/dev/tcp/127.0.0.1/$FB_PORT" 2>/dev/null; then
    fds+=("$fd"); opened=$((opened + 1))
    if ((i % 2)); then printf 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n' >&"$fd"; fi
  fi
done
fb_eq "opened $IDLE idle connections" "$opened" "$IDLE"
t0=$(fb_now)
fb_eq "with $IDLE idle connections: a GET is served" \
  "$(curl -s --max-time 5 -o "$FB_TMP/idle.gif" -w '%{http_code}' "$FB_BASE/cn/cn.gif")" 200
fb_le "... promptly ($(fb_elapsed "$t0") s)" "$(fb_elapsed "$t0")" 2
fb_ok "... byte-identical" cmp -s "$FB_TMP/idle.gif" "$DATA/flags/cn/cn.gif"
fb_eq "idle connections never count as requests" "$(fb_stats .requests)" 2
for fd in "${fds[@]}"; do exec {fd}>&-; done
still_serving "closing $IDLE idle connections"
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

# --- many delayed requests at once -------------------------------------------
fb_start_server --dir "$DATA" --quiet --delay 1000 || { fb_fail "delay server starts"; fb_finish; }
wrk -t2 -c"$BURST" -d3s --timeout 5s "$FB_BASE/br/br.gif" >"$FB_TMP/wrk.out" 2>&1
cat "$FB_TMP/wrk.out" | sed 's/^/# /'
fb_eq "$BURST delayed requests at once: peak_in_flight == $BURST" "$(fb_stats .peak_in_flight)" "$BURST"
fb_eq "... peak_connections == $BURST" "$(fb_stats .peak_connections)" "$BURST"
fb_ok "... no socket errors" bash -c "! grep -q 'Socket errors' '$FB_TMP/wrk.out'"
fb_ok "... no non-2xx" bash -c "! grep -q 'Non-2xx' '$FB_TMP/wrk.out'"
fb_le "... at least $BURST requests" "$BURST" "$(fb_stats .requests)"
sleep 1.2 # the requests wrk left behind finish their delay
fb_eq "... every request answered 200" "$(fb_stats '.by_status."200"')" "$(fb_stats .requests)"
fb_eq "in_flight back to 0 after wrk left" "$(fb_stats .in_flight)" 0
fb_eq "connections back to 0" "$(fb_stats .connections)" 0
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

fb_finish
