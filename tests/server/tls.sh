#!/usr/bin/env bash
# server_tls: flagserver over HTTPS (issue 10): byte-identical downloads with
# curl --cacert, TLS 1.2 and 1.3, /stats handshake counters (fresh
# connections, resumed sessions, --no-tls-resume), failed handshakes (plain
# HTTP, garbage, a reset mid-handshake, a client that sends nothing) counted
# and never stopping the server, delay / peak_in_flight / injected errors /
# half-close over TLS, and bad --tls-* options as one line and exit 2.
# Every /stats request is a TLS connection of its own, so it adds one
# handshake to what it reports.
# Usage: tls.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"
fb_need python3:python3 openssl:openssl
ROOT=$(cd "$(dirname "$1")/.." && pwd)
CLIENT="python3 $(dirname "$0")/tlsclient.py"

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR CN DE FR
CERTS=$FB_TMP/certs
"$ROOT/scripts/make-certs.sh" "$CERTS" || { fb_fail "make-certs.sh makes the test certificates"; fb_finish; }
CA=$CERTS/ca.pem
TLS=(--tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key")

get() { curl -s --max-time 10 --cacert "$CA" "$@"; }
st() { get "$FB_URL/stats" | jq -r "$1"; }
st_reset() { get -o /dev/null "$FB_URL/stats?reset=1"; }
# wait_st JQ WANT : polls /stats (up to 5 s) until JQ gives WANT; prints the last value.
wait_st() {
  local v i
  for i in $(seq 1 50); do
    v=$(st "$1")
    [ "$v" = "$2" ] && break
    sleep 0.1
  done
  printf '%s' "$v"
}

# --- downloads and settings ----------------------------------------------------
fb_start_server --dir "$DATA" --quiet "${TLS[@]}" || { fb_fail "flagserver starts with TLS"; fb_finish; }
case $FB_BASE in https://127.0.0.1:*) fb_pass "the listening line says https://" ;;
  *) fb_fail "the listening line says https://" "$FB_BASE" ;; esac
for cc in br cn de fr; do
  code=$(get -o "$FB_TMP/$cc.gif" -w '%{http_code}' "$FB_BASE/$cc/$cc.gif")
  fb_eq "HTTPS GET $cc: 200" "$code" 200
  fb_ok "... byte-identical to the store's file" cmp -s "$FB_TMP/$cc.gif" "$DATA/flags/$cc/$cc.gif"
done
fb_eq "HTTPS 404" "$(get -o /dev/null -w '%{http_code}' "$FB_BASE/xx/xx.gif")" 404
fb_eq "HTTPS HEAD: Content-Length" \
  "$(get -I "$FB_BASE/br/br.gif" | tr -d '\r' | sed -n 's/^Content-Length: //ip')" \
  "$(stat -c %s "$DATA/flags/br/br.gif")"
fb_eq "without --cacert curl refuses the test CA" \
  "$(curl -s --max-time 5 -o /dev/null "$FB_BASE/br/br.gif"; echo $?)" 60
fb_eq "settings: tls, tls_resume" "$(st '[.settings.tls, .settings.tls_resume] | @csv')" "true,true"

# --- handshake counters ----------------------------------------------------------
st_reset
for i in 1 2 3 4 5; do get -o /dev/null "$FB_BASE/br/br.gif"; done
fb_eq "5 fresh connections (+ this /stats): 6 handshakes, none resumed, none failed" \
  "$(st '[.tls_handshakes, .tls_resumed, .tls_failed] | @csv')" "6,0,0"
st_reset
get -o /dev/null "$FB_BASE/br/br.gif" -o /dev/null "$FB_BASE/cn/cn.gif" -o /dev/null "$FB_BASE/de/de.gif"
fb_eq "3 keep-alive requests on one connection: 1 handshake (+1), requests 3" \
  "$(st '[.tls_handshakes, .requests] | @csv')" "2,3"
for v in 1.3 1.2; do
  st_reset
  get --tlsv$v --tls-max $v -H 'Connection: close' -o /dev/null "$FB_BASE/br/br.gif" \
    -o /dev/null "$FB_BASE/cn/cn.gif" -o /dev/null "$FB_BASE/de/de.gif"
  fb_eq "TLS $v, 3 connections by one curl: 3 handshakes (+1), 2 resumed" \
    "$(st '[.tls_handshakes, .tls_resumed] | @csv')" "4,2"
done
for v in 1.2 1.3; do
  fb_eq "TLS $v accepted" "$(get -v --tlsv$v --tls-max $v -o /dev/null "$FB_BASE/fr/fr.gif" 2>&1 |
    sed -n 's/^\* SSL connection using \(TLSv[0-9.]*\) .*/\1/p')" "TLSv$v"
done

# --- failed handshakes -------------------------------------------------------------
st_reset
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FB_PORT/flags/br/br.gif")
fb_eq "plain HTTP to the TLS port gets no HTTP answer" "$code" 000
fb_eq "... counted in tls_failed" "$(wait_st .tls_failed 1)" 1
fb_eq "... and the server keeps serving" "$(get -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")" 200
fb_eq "garbage: the server closes" "$($CLIENT garbage "$FB_PORT")" closed
fb_eq "... counted" "$(wait_st .tls_failed 2)" 2
fb_eq "reset mid-handshake" "$($CLIENT reset "$FB_PORT" "$CA")" reset
fb_eq "... counted" "$(wait_st .tls_failed 3)" 3
fb_eq "... and the server keeps serving" "$(get -o /dev/null -w '%{http_code}' "$FB_BASE/cn/cn.gif")" 200
# A client that sends nothing is closed 10 s after accept; meanwhile others are served.
$CLIENT stall "$FB_PORT" 20 >"$FB_TMP/stall.out" &
stall_pid=$!
sleep 0.5
fb_eq "during a stalled handshake a GET is served" \
  "$(get -o /dev/null -w '%{http_code}' "$FB_BASE/de/de.gif")" 200
wait "$stall_pid"
s=$(sed -n 's/^closed after //p' "$FB_TMP/stall.out")
fb_ok "a client that sends nothing is closed by the server ($(cat "$FB_TMP/stall.out"))" \
  awk -v s="${s:-99}" 'BEGIN { exit !(s >= 9 && s <= 15) }'
fb_eq "... counted" "$(wait_st .tls_failed 4)" 4
fb_eq "no failed handshake was a request" "$(st .requests)" 3
fb_stop_server
fb_eq "SIGTERM after all that: exit 0" "$?" 0

# --- --no-tls-resume ----------------------------------------------------------------
fb_start_server --dir "$DATA" --quiet "${TLS[@]}" --no-tls-resume || fb_fail "starts with --no-tls-resume"
fb_eq "--no-tls-resume: settings" "$(st '[.settings.tls, .settings.tls_resume] | @csv')" "true,false"
for v in 1.3 1.2; do
  st_reset
  get --tlsv$v --tls-max $v -H 'Connection: close' -o /dev/null "$FB_BASE/br/br.gif" \
    -o /dev/null "$FB_BASE/cn/cn.gif" -o /dev/null "$FB_BASE/de/de.gif"
  fb_eq "--no-tls-resume, TLS $v: 3 full handshakes (+1), none resumed" \
    "$(st '[.tls_handshakes, .tls_resumed] | @csv')" "4,0"
done
fb_stop_server

# --- the rest works the same over TLS ------------------------------------------------
fb_start_server --dir "$DATA" --quiet "${TLS[@]}" --delay 500 || fb_fail "starts with --delay"
urls=()
for i in $(seq 1 8); do urls+=(-o /dev/null "$FB_BASE/br/br.gif"); done
t0=$(fb_now)
curl -s --max-time 10 --cacert "$CA" --parallel --parallel-max 8 "${urls[@]}" 2>/dev/null
fb_le "8 parallel fresh HTTPS requests with --delay 500 take one delay" "$(fb_elapsed "$t0")" 1.5
fb_eq "... peak_in_flight 8, 8 answered" "$(st '[.peak_in_flight, .by_status["200"]] | @csv')" "8,8"
fb_eq "... 10 handshakes: 8 and two /stats" "$(st .tls_handshakes)" 10
fb_stop_server
fb_start_server --dir "$DATA" --quiet "${TLS[@]}" --error-rate 1 --error-kind status || fb_fail "ERROR status"
fb_ok "injected status error over TLS: 500 or 503" \
  bash -c "[[ \$(curl -s --cacert '$CA' -o /dev/null -w '%{http_code}' '$FB_BASE/br/br.gif') == 50[03] ]]"
fb_stop_server
fb_start_server --dir "$DATA" --quiet "${TLS[@]}" --error-rate 1 --error-kind reset || fb_fail "ERROR reset"
rc=0
get -o "$FB_TMP/reset.gif" "$FB_BASE/br/br.gif" || rc=$?
fb_ok "injected reset over TLS: curl fails (exit $rc)" test "$rc" -ne 0
fb_ok "... after part of the body" test "$(stat -c %s "$FB_TMP/reset.gif" 2>/dev/null || echo 0)" -lt \
  "$(stat -c %s "$DATA/flags/br/br.gif")"
fb_eq "... the server keeps serving /stats" "$(st '.by_status["200"]')" 1
fb_stop_server
fb_start_server --dir "$DATA" --quiet "${TLS[@]}" || fb_fail "starts again"
fb_eq "half-close over TLS: the whole response" \
  "$($CLIENT halfclose "$FB_PORT" "$CA" /flags/cn/cn.gif "$DATA/flags/cn/cn.gif")" ok
fb_stop_server

# --- out of descriptors over TLS (as tests/server/fds.sh over HTTP) -------------------
printf '#!/bin/sh\nulimit -n 64 || exit 1\nexec "%s" "$@"\n' "$FLAGSERVER" >"$FB_TMP/limited"
chmod +x "$FB_TMP/limited"
FLAGSERVER=$FB_TMP/limited fb_start_server --dir "$DATA" --quiet "${TLS[@]}" --delay 300 ||
  fb_fail "starts under ulimit -n 64"
urls=()
for _ in $(seq 1 150); do urls+=(-o /dev/null "$FB_BASE/br/br.gif"); done
ok=$(curl -s --max-time 60 --cacert "$CA" --parallel --parallel-max 150 -w '%{http_code}\n' "${urls[@]}" \
  2>/dev/null | grep -c '^200$')
fb_eq "ulimit -n 64: 150 HTTPS connections at once all get a 200" "$ok" 150
fb_le "... through EMFILE (accept_errors >= 1)" 1 "$(st .accept_errors)"
fb_ok "... and the server is alive" kill -0 "$FB_SERVER_PID"
fb_stop_server

# --- bad --tls-* options: one line, exit 2 -----------------------------------------------
bad() { # bad DESC WANT ARGS...
  local desc=$1 want=$2 out rc
  shift 2
  out=$(timeout 10 "$FLAGSERVER" --port 0 --quiet --dir "$DATA" "$@" 2>&1 >/dev/null)
  rc=$?
  fb_eq "$desc: exit 2" "$rc" 2
  fb_eq "$desc: one line" "$out" "$want"
}
bad "missing cert" "flagserver: --tls-cert '$FB_TMP/nope.pem': No such file or directory" \
  --tls-cert "$FB_TMP/nope.pem" --tls-key "$CERTS/server.key"
bad "missing key" "flagserver: --tls-key '$FB_TMP/nope.key': No such file or directory" \
  --tls-cert "$CERTS/server.pem" --tls-key "$FB_TMP/nope.key"
bad "a key given as the certificate" "flagserver: --tls-cert '$CERTS/server.key': not a PEM certificate" \
  --tls-cert "$CERTS/server.key" --tls-key "$CERTS/server.key"
bad "a certificate given as the key" \
  "flagserver: --tls-key '$CERTS/server.pem': not an unencrypted PEM private key" \
  --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.pem"
bad "a key of another certificate" \
  "flagserver: --tls-key '$CERTS/wrongname.key' does not match --tls-cert '$CERTS/server.pem'" \
  --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/wrongname.key"
openssl pkey -in "$CERTS/server.key" -aes128 -passout pass:secret -out "$FB_TMP/enc.key" 2>/dev/null
bad "an encrypted key (never a passphrase prompt)" \
  "flagserver: --tls-key '$FB_TMP/enc.key': not an unencrypted PEM private key" \
  --tls-cert "$CERTS/server.pem" --tls-key "$FB_TMP/enc.key" </dev/null
bad "--tls-cert alone" "flagserver: --tls-cert and --tls-key go together (see --help)" \
  --tls-cert "$CERTS/server.pem"
bad "--no-tls-resume alone" "flagserver: --no-tls-resume needs --tls-cert and --tls-key (see --help)" \
  --no-tls-resume

fb_finish
