#!/usr/bin/env bash
# server_h2: flagserver --http2 (issue 20) as peers nobody here wrote see it
# (curl, nghttp, h2load) and as a misbehaving client sees it (h2client.py,
# hand-built frames): h2c and h2 downloads byte-identical, /stats over h2 with
# requests and connections by protocol, per-stream delays, each error kind
# per stream, the stream limit, 150+ streams and 200 connections under
# ulimit -n 64, and every defence counted.
# Usage: h2.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"
fb_need python3:python3 nghttp:nghttp2-client h2load:nghttp2-client openssl:openssl
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

CODES=(BR CN IN US FR DE JP NG)
DATA=$FB_TMP/data
fb_make_dataset "$DATA" "${CODES[@]}"
CERTS=$FB_TMP/certs
bash "$ROOT/scripts/make-certs.sh" "$CERTS" >/dev/null || { fb_fail "make-certs.sh"; fb_finish; }

# curl and /stats over HTTP/2: prior knowledge for http://, ALPN for https://.
h2curl() {
  case $FB_URL in
    https:*) curl -s --http2 --cacert "$CERTS/ca.pem" "$@" ;;
    *) curl -s --http2-prior-knowledge "$@" ;;
  esac
}
h2stats() { h2curl --max-time 5 "$FB_URL/stats" | jq -r "$1"; }
h2reset() { h2curl --max-time 5 -o /dev/null "$FB_URL/stats?reset=1"; }
# h2load's "N succeeded"
succeeded() { sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p'; }
# The flag URLs of the server started last.
flag_urls() { urls=(); for cc in "${CODES[@]}"; do urls+=("$FB_BASE/${cc,,}/${cc,,}.gif"); done; }
# nghttp -s on every flag at once, on one connection: prints how many
# distinct flag paths came back 200 (-s rounds sizes: "1.2K").
nghttp_all() {
  timeout 10 nghttp -n -s "${urls[@]}" | awk '$1 ~ /^[0-9]+$/ && $5 == 200 { print $7 }' | sort -u | wc -l
}

# --- h2c with prior knowledge -------------------------------------------------
fb_start_server --dir "$DATA" --quiet --http2 || { fb_fail "flagserver --http2 starts"; fb_finish; }
fb_pass "flagserver --http2 starts (h2c)"
for cc in "${CODES[@]}"; do
  lc=${cc,,}
  v=$(h2curl --max-time 5 -o "$FB_TMP/$lc.gif" -w '%{http_version}' "$FB_BASE/$lc/$lc.gif")
  fb_ok "h2c curl $lc.gif is byte-identical (HTTP/$v)" cmp -s "$FB_TMP/$lc.gif" "$DATA/flags/$lc/$lc.gif"
done
fb_eq "curl speaks HTTP/2 to it" "$v" 2
flag_urls
timeout 5 nghttp "$FB_BASE/jp/jp.gif" >"$FB_TMP/jp.nghttp"
fb_ok "h2c nghttp jp.gif is byte-identical" cmp -s "$FB_TMP/jp.nghttp" "$DATA/flags/jp/jp.gif"
fb_eq "nghttp: ${#CODES[@]} flags on one connection, each 200" "$(nghttp_all)" "${#CODES[@]}"
fb_eq "404 over h2c" "$(h2curl --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/xx/xx.gif")" 404
fb_eq "HEAD over h2c: 200, no body" \
  "$(h2curl --max-time 5 -I -o /dev/null -w '%{http_code} %{size_download}' "$FB_BASE/br/br.gif")" "200 0"
fb_eq "POST over h2c -> 405" \
  "$(h2curl --max-time 5 -X POST -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")" 405
fb_eq "traversal over h2c -> 400" \
  "$(h2curl --path-as-is --max-time 5 -o /dev/null -w '%{http_code}' "$FB_URL/flags/../../etc/passwd")" 400
fb_eq "/stats over h2c: requests by protocol" \
  "$(h2stats '.requests_by_protocol | tojson')" "{\"http/1.1\":0,\"h2\":0,\"h2c\":$((${#CODES[@]} * 2 + 5))}"
fb_eq "/stats over h2c: settings.http2" "$(h2stats .settings.http2)" true
out=$(timeout 20 h2load -n 800 -c 4 -m 25 "${urls[@]}" 2>&1)
fb_eq "h2load h2c: 800 of 800 succeeded" "$(succeeded <<<"$out")" 800
fb_ok "... all of them 2xx" grep -q 'status codes: 800 2xx' <<<"$out"
fb_eq "HTTP/1.1 on the h2c port: closed" "$(timeout 25 python3 "$HERE/h2client.py" garbage "$FB_PORT")" closed
fb_eq "... counted as a protocol error" "$(h2stats .h2_defences.protocol_error)" 1
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

# --- h2 over TLS (ALPN) --------------------------------------------------------
fb_start_server --dir "$DATA" --quiet --http2 --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
  || { fb_fail "flagserver --http2 --tls-cert starts"; fb_finish; }
flag_urls
for cc in BR CN US; do
  lc=${cc,,}
  v=$(h2curl --max-time 5 -o "$FB_TMP/$lc.gif" -w '%{http_version}' "$FB_BASE/$lc/$lc.gif")
  fb_ok "h2 curl $lc.gif is byte-identical" cmp -s "$FB_TMP/$lc.gif" "$DATA/flags/$lc/$lc.gif"
  fb_eq "... over HTTP/2" "$v" 2
done
curl -s --http1.1 --cacert "$CERTS/ca.pem" --max-time 5 -o /dev/null "$FB_BASE/br/br.gif"
fb_eq "an HTTP/1.1-only client fails at the handshake (no_application_protocol): curl exit" "$?" 35
out=$(timeout 20 h2load -n 2000 -c 10 -m 20 "${urls[@]}" 2>&1)
fb_eq "h2load h2: 2000 of 2000 succeeded" "$(succeeded <<<"$out")" 2000
fb_ok "... negotiated h2" grep -q 'Application protocol: h2' <<<"$out"
fb_eq "/stats over h2: h2 requests" "$(h2stats '.requests_by_protocol.h2')" 2003
fb_eq "... no other protocol" "$(h2stats '[.requests_by_protocol."http/1.1", .requests_by_protocol.h2c] | add')" 0
fb_eq "... h2 connections: 3 curl + 10 h2load (/stats ones are not counted)" \
  "$(h2stats '.connections_by_protocol.h2')" 13
fb_le "... tls_handshakes counted" 14 "$(h2stats .tls_handshakes)"
fb_stop_server

# --- delays and streams --------------------------------------------------------
fb_start_server --dir "$DATA" --quiet --http2 --delay 300 || fb_fail "delay server starts"
flag_urls
t0=$(fb_now)
fb_eq "8 delayed streams on one connection: each 200" "$(nghttp_all)" 8
el=$(fb_elapsed "$t0")
fb_le "8 streams delayed 300 ms on one connection take one delay, not eight ($el s)" "$el" 1.5
fb_le "... and at least the delay" 0.3 "$el"
fb_eq "peak_in_flight counts streams: 8" "$(h2stats .peak_in_flight)" 8
fb_eq "peak_streams_per_connection 8" "$(h2stats .peak_streams_per_connection)" 8
fb_eq "peak_connections 1" "$(h2stats .peak_connections)" 1
fb_stop_server

fb_start_server --dir "$DATA" --quiet --http2 --delay 300 --h2-max-streams 2 || fb_fail "--h2-max-streams 2 starts"
t0=$(fb_now)
out=$(timeout 20 h2load -n 10 -c 1 -m 2 "$FB_BASE/br/br.gif" 2>&1)
el=$(fb_elapsed "$t0")
fb_eq "--h2-max-streams 2, a client that keeps to it: 10 of 10 succeeded" "$(succeeded <<<"$out")" 10
fb_le "... in 5 rounds of 300 ms ($el s)" 1.4 "$el"
h2reset
# h2load -m 10 sends 10 streams before it reads the server's SETTINGS: those
# over the limit are refused (RST_STREAM REFUSED_STREAM, never processed).
out=$(timeout 20 h2load -n 10 -c 1 -m 10 "$FB_BASE/br/br.gif" 2>&1)
ok=$(succeeded <<<"$out")
fb_eq "... a client that opens 10 at once: never more than 2 streams on the connection" \
  "$(h2stats .peak_streams_per_connection)" 2
fb_eq "... nor in flight" "$(h2stats .peak_in_flight)" 2
fb_eq "... and only the $ok served counted as requests" "$(h2stats .requests)" "$ok"
fb_eq "settings.h2_max_streams" "$(h2stats .settings.h2_max_streams)" 2
fb_stop_server

# --- injected errors, per stream -------------------------------------------------
size=$(stat -c %s "$DATA/flags/br/br.gif")
fb_start_server --dir "$DATA" --quiet --http2 --error-rate 1 --error-kind status || fb_fail "status server"
code=$(h2curl --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")
case $code in 500|503) fb_pass "status: $code" ;; *) fb_fail "status: 500 or 503" "got $code" ;; esac
fb_eq "... errors_injected 1" "$(h2stats .errors_injected)" 1
fb_stop_server
fb_start_server --dir "$DATA" --quiet --http2 --error-rate 1 --error-kind reset || fb_fail "reset server"
h2curl --max-time 5 -o /dev/null "$FB_BASE/br/br.gif"
fb_eq "reset: curl sees the stream reset (exit 92)" "$?" 92
frames=$(timeout 5 nghttp -v "$FB_BASE/br/br.gif" |
  grep -a -o -e 'recv DATA frame <length=[0-9]*' -e 'recv RST_STREAM' -e 'error_code=[A-Z_]*' | head -3 | tr '\n' ' ')
fb_eq "reset: half the body, then RST_STREAM (nghttp -v)" "$frames" \
  "recv DATA frame <length=$((size / 2)) recv RST_STREAM error_code=INTERNAL_ERROR "
fb_stop_server
fb_start_server --dir "$DATA" --quiet --http2 --error-rate 0.5 --error-kind reset --seed 3 \
  || fb_fail "half-reset server"
out=$(timeout 20 h2load -n 100 -c 1 -m 10 "$FB_BASE/br/br.gif" 2>&1)
ok=$(succeeded <<<"$out")
fb_eq "reset is per stream: one connection carries all 100 (ok + errors_injected = 100)" \
  "$((ok + $(h2stats .errors_injected)))" 100
fb_eq "... over 1 connection" "$(h2stats .connections_by_protocol.h2c)" 1
fb_stop_server
fb_start_server --dir "$DATA" --quiet --http2 --error-rate 1 --error-kind stall || fb_fail "stall server"
t0=$(fb_now)
got=$(h2curl --max-time 1 -o /dev/null -w '%{size_download}' "$FB_BASE/br/br.gif"); rc=$?
fb_eq "stall: half the body, then the client's timeout (curl exit 28, bytes)" "$rc $got" "28 $((size / 2))"
fb_stop_server
fb_start_server --dir "$DATA" --quiet --http2 --error-rate 1 --error-kind stall --h2-timeout 1 \
  || fb_fail "stall server with --h2-timeout 1"
t0=$(fb_now)
h2curl --max-time 10 -o /dev/null "$FB_BASE/br/br.gif"; rc=$?
el=$(fb_elapsed "$t0")
fb_eq "stall: the server ends the stalled stream after --h2-timeout (curl exit 92)" "$rc" 92
fb_le "... within a few timeouts ($el s)" "$el" 5
fb_eq "... not counted as a defence (it is ours)" "$(h2stats .h2_defences.stream_timeout)" 0
fb_stop_server

# One decision for both protocols: the same --seed gives the same statuses in
# request order over HTTP/1.1 and over h2c (decide.c draws them).
seq_of() { # PROTO: 20 sequential GETs' statuses against a fresh ERROR-like server
  local out=""
  if [ "$1" = h2c ]; then fb_start_server --dir "$DATA" --quiet --http2 --error-rate 0.5 --seed 5 || return
  else fb_start_server --dir "$DATA" --quiet --error-rate 0.5 --seed 5 || return; fi
  for _ in $(seq 1 20); do
    if [ "$1" = h2c ]; then out+=$(h2curl --max-time 5 -o /dev/null -w '%{http_code} ' "$FB_BASE/br/br.gif")
    else out+=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} ' "$FB_BASE/br/br.gif"); fi
  done
  fb_stop_server
  echo "$out"
}
h1seq=$(seq_of http1) h2seq=$(seq_of h2c)
fb_ok "--seed 5 --error-rate 0.5: some errors and some 200s ($h1seq)" \
  bash -c "grep -q 200 <<<'$h1seq' && grep -q -E '500|503' <<<'$h1seq'"
fb_eq "... the same statuses in the same order over h2c as over HTTP/1.1" "$h2seq" "$h1seq"

# --- defences ------------------------------------------------------------------
fb_start_server --dir "$DATA" --quiet --http2 --delay 100 --h2-timeout 2 || fb_fail "defence server"
c() { timeout 60 python3 "$HERE/h2client.py" "$1" "$FB_PORT"; }
fb_eq "rapid reset: 3,000 HEADERS+RST_STREAM -> GOAWAY ENHANCE_YOUR_CALM (11)" "$(c rapid-reset)" "goaway 11"
fb_eq "... counted" "$(h2stats .h2_defences.rapid_reset)" 1
fb_eq "PING flood without reading -> connection closed" "$(c ping-flood)" closed
fb_eq "SETTINGS flood without reading -> connection closed" "$(c settings-flood)" closed
fb_eq "... both counted as floods" "$(h2stats .h2_defences.flood)" 2
fb_eq "40 SETTINGS entries in one frame -> GOAWAY (11)" "$(c many-settings)" "goaway 11"
fb_eq "... counted as a protocol error" "$(h2stats .h2_defences.protocol_error)" 1
fb_eq "a 9,000-byte header -> that stream reset, the next one served" "$(c big-header)" "reset 2 then 200"
fb_eq "HPACK bomb (3 bytes decoding to 12 KB) -> reset, the next one served" "$(c hpack-bomb)" "reset 2 then 200"
fb_eq "... both counted" "$(h2stats .h2_defences.header_limit)" 2
fb_eq "window held at zero -> RST_STREAM CANCEL after --h2-timeout" "$(c zero-window)" "headers, reset 8 after the timeout"
fb_eq "... counted" "$(h2stats .h2_defences.stream_timeout)" 1
fb_eq "a request that never ends (HEADERS without END_STREAM) -> RST_STREAM CANCEL after --h2-timeout" \
  "$(c slow-request)" "reset 8 after the timeout"
fb_eq "... counted" "$(h2stats .h2_defences.stream_timeout)" 2
fb_eq "in_flight back to 0 after all of it" "$(h2stats .in_flight)" 0
v=$(h2curl --max-time 5 -o "$FB_TMP/br.gif" -w '%{http_code}' "$FB_BASE/br/br.gif")
fb_eq "still serving afterwards" "$v" 200
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

# --- many streams and connections under ulimit -n 64 ----------------------------
printf '#!/bin/sh\nulimit -n 64 || exit 1\nexec "%s" "$@"\n' "$FLAGSERVER" >"$FB_TMP/limited"
chmod +x "$FB_TMP/limited"
FLAGSERVER=$FB_TMP/limited fb_start_server --dir "$DATA" --quiet --http2 --delay 300 \
  || { fb_fail "flagserver --http2 starts under ulimit -n 64"; fb_finish; }
out=$(timeout 60 h2load -n 400 -c 2 -m 100 "$FB_BASE/br/br.gif" 2>&1)
fb_eq "400 streams, 100 at a time on each of 2 connections: 400 succeeded" "$(succeeded <<<"$out")" 400
fb_eq "... peak_in_flight 200 (streams, with 2 descriptors)" "$(h2stats .peak_in_flight)" 200
fb_eq "... peak_streams_per_connection 100 (the default limit)" "$(h2stats .peak_streams_per_connection)" 100
h2reset
out=$(timeout 60 h2load -n 200 -c 200 -m 1 "$FB_BASE/br/br.gif" 2>&1)
fb_eq "200 connections at once against 64 descriptors: 200 succeeded" "$(succeeded <<<"$out")" 200
fb_le "... accept() ran out of descriptors and paused" 1 "$(h2stats .accept_errors)"
fb_ok "... flagserver is alive" kill -0 "$FB_SERVER_PID"
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

fb_finish
