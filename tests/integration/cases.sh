#!/usr/bin/env bash
# cases.sh GROUP -- the integration cases, run against one backend.
#
# Environment (set by ctest): FLAGS_CLIENT (the backend: a binary, or a
# command line such as "/usr/bin/python3 peers/python/flags2_asyncio.py",
# split on blanks), FLAGS_BACKEND (its name, when not the binary's), FLAGSERVER,
# FAULT_SERVER (tests/faults), FB_LIB (tests/lib.sh), FB_CODES
# (data/country_codes.txt), FB_SRC (the source tree: scripts/make-certs.sh). Each group is a
# function case_GROUP below; tests/integration/CMakeLists.txt lists them.
# Every client run is bounded; all traffic is on 127.0.0.1. Every group
# applies to every backend, the Python programs included (docs/python.md).
# shellcheck source=tests/lib.sh
source "$FB_LIB"
source "$FB_SRC/tests/faults/fault_lib.sh"
cd "$FB_TMP" || exit 1
read -ra CLIENT <<<"$FLAGS_CLIENT"
BACKEND=${FLAGS_BACKEND:-$(basename "${CLIENT[0]}")}

# 40 real codes are on the server; ZX ZY ZZ never are.
mapfile -t PRESENT < <(head -n 40 "$FB_CODES")
MISSING=(ZX ZY ZZ)
fb_make_dataset "$FB_TMP/ds" "${PRESENT[@]}"
REFUSED=http://127.0.0.1:1/flags # nothing listens on port 1

# client OUT ARGS... : runs the client in $FB_TMP with stdout to OUT and
# stderr to OUT.err, bounded to 60 s; returns its exit status.
client() {
  local out=$1; shift
  timeout -s KILL 60 "${CLIENT[@]}" "$@" >"$out" 2>"$out.err"
}

# line N FILE : the Nth line of FILE.
line() { sed -n "${1}p" "$2"; }

# no_parts DIR : passes when DIR holds no temporary *.part file.
no_parts() {
  fb_eq "no *.part left in $1" "$(find "$1" -name '*.part' | wc -l)" 0
}

case_counts() {
  fb_start_server --dir ds --quiet || return
  client out -s "$FB_BASE" -m 4 "${PRESENT[@]:0:8}" "${MISSING[@]}"
  fb_eq "exit 0 with only OK and not found" "$?" 0
  fb_eq "site line" "$(line 1 out)" "CUSTOM site: $FB_BASE"
  fb_eq "search line" "$(line 2 out)" "Searching for 11 flags: from ${PRESENT[0]} to ZZ"
  fb_eq "connections line" "$(line 3 out)" "4 concurrent connections will be used."
  fb_eq "summary" "$(sed -n '4,6p' out)" $'--------------------\n  8 flags downloaded.\n  3 not found.'
  fb_ok "elapsed line" grep -Eq '^Elapsed time: [0-9]+\.[0-9]{2}s$' out
  fb_eq "nothing on stderr (not a tty)" "$(cat out.err)" ""
  client out1 -s "$FB_BASE" -m 1 "${PRESENT[0]}"
  fb_eq "one flag, one connection" "$?|$(sed -n '2,5p' out1)" \
    "0|Searching for 1 flag: ${PRESENT[0]}"$'\n1 connection will be used.\n--------------------\n  1 flag downloaded.'
}

case_files() {
  fb_start_server --dir ds --quiet || return
  mkdir -p got && printf 'keep me\n' >got/unrelated.txt && printf 'old\n' >got/ZZ.gif
  client out -s "$FB_BASE" -m 8 --output got "${PRESENT[@]}" "${MISSING[@]}"
  fb_eq "exit 0" "$?" 0
  local cc lc same=0
  for cc in "${PRESENT[@]}"; do
    lc=$(tr 'A-Z' 'a-z' <<<"$cc")
    cmp -s "got/$cc.gif" "ds/flags/$lc/$lc.gif" && same=$((same + 1))
  done
  fb_eq "all ${#PRESENT[@]} files byte-identical" "$same" "${#PRESENT[@]}"
  fb_eq "no file for missing codes" "$(find got -maxdepth 1 -name 'Z[XY].gif' | wc -l)" 0
  fb_eq "unrelated file untouched" "$(cat got/unrelated.txt)" "keep me"
  fb_eq "a 404 leaves an existing file alone" "$(cat got/ZZ.gif)" "old"
  fb_eq "nothing else in the directory" "$(ls -A got | wc -l)" $((${#PRESENT[@]} + 2))
  no_parts got
  client out2 -s "$FB_BASE" --output deep/er/dir "${PRESENT[0]}"
  fb_eq "--output creates parents" "$?|$(ls deep/er/dir)" "0|${PRESENT[0]}.gif"
}

case_verbose() {
  fb_start_server --dir ds --quiet || return
  local a=${PRESENT[0]} b=${PRESENT[1]}
  client out -v -s "$FB_BASE" -m 3 "$a" "$b" ZZ
  fb_eq "exit 0" "$?" 0
  fb_eq "-v lines (any order)" "$(sed -n '4,6p' out | sort)" \
    "$(printf '%s\n' "$a OK" "$b OK" "ZZ not found: $FB_BASE/zz/zz.gif" | sort)"
  fb_eq "-v then the summary" "$(line 7 out)" "--------------------"
  client out2 -v -s "$REFUSED" "$a"
  fb_eq "-v error line, exit 1" "$?|$(line 4 out2 | cut -d: -f1)" "1|$a error"
}

case_errors() {
  fb_start_server --dir ds --quiet --error-rate 1 --error-kind status || return
  mkdir -p got && printf 'keep\n' >got/mine.txt
  client out -v -s "$FB_BASE" -m 5 --output got "${PRESENT[@]:0:10}"
  fb_eq "all errors: exit 1" "$?" 1
  fb_eq "summary" "$(sed -n '14,16p' out)" $'--------------------\n  0 flags downloaded.\n 10 errors.'
  fb_eq "every -v line is an HTTP error" "$(grep -c ' error: HTTP error 5[0-9][0-9]' out)" 10
  fb_eq "no flag saved, own file kept" "$(ls -A got)" "mine.txt"
  no_parts got
  fb_stop_server
  fb_start_server --dir ds --quiet --error-rate 1 --error-kind reset || return
  client out2 -s "$FB_BASE" -m 5 --output got "${PRESENT[@]:0:10}"
  fb_eq "resets: exit 1, 10 errors" "$?|$(grep -c '^ 10 errors\.$' out2)" "1|1"
  fb_eq "no flag saved after resets" "$(ls -A got)" "mine.txt"
  no_parts got
}

case_timeout() {
  fb_start_server --dir ds --quiet --error-rate 1 --error-kind stall || return
  local t0 el
  t0=$(fb_now)
  client out -v -s "$FB_BASE" -m 3 --timeout 1 --output got "${PRESENT[@]:0:3}"
  local rc=$?
  el=$(fb_elapsed "$t0")
  fb_eq "stalls: exit 1, 3 errors" "$rc|$(grep -c '^  3 errors\.$' out)" "1|1"
  fb_eq "timeout messages" "$(grep -ci 'error: .*timed out' out)" 3
  fb_le "timeout fires after about 1 s (>= 0.9)" 0.9 "$el"
  fb_le "timeout fires after about 1 s (<= 3)" "$el" 3
  fb_eq "nothing saved" "$(ls -A got | wc -l)" 0
}

case_cap() {
  fb_start_server --dir ds --quiet --delay 200 || return
  client out -s "$FB_BASE" -m 7 --json run.json "${PRESENT[@]:0:10}" --repeat 5
  fb_eq "exit 0" "$?" 0
  fb_eq "peak in flight == -m" "$(fb_stats .peak_in_flight)" 7
  local conns
  conns=$(jq -r .connections run.json)
  fb_le "keep-alive: at least 7 connections" 7 "$conns"
  fb_le "keep-alive: far fewer connections than 50 requests" "$conns" 14
  fb_stats_reset
  client out2 -s "$FB_BASE" -m 3 --fresh-connect --json run2.json "${PRESENT[@]:0:12}"
  fb_eq "fresh-connect: exit 0" "$?" 0
  fb_eq "fresh-connect: peak in flight == 3" "$(fb_stats .peak_in_flight)" 3
  fb_eq "fresh-connect: a connection per request" "$(jq -r .connections run2.json)" 12
}

case_repeat() {
  fb_start_server --dir ds --quiet || return
  local a=${PRESENT[0]} b=${PRESENT[1]} c=${PRESENT[2]}
  client out -s "$FB_BASE" -m 4 --repeat 3 --json run.json --latencies lat.txt \
    "$a" "$b" "$c" ZY ZZ
  fb_eq "exit 0" "$?" 0
  fb_eq "repeat line" "$(line 3 out)" "Each 3 times over: 15 requests."
  fb_eq "counts" "$(sed -n '6,7p' out)" $'  9 flags downloaded.\n  6 not found.'
  fb_ok "record parses" jq -e . run.json >/dev/null
  fb_eq "record counts" \
    "$(jq -r '[.requests,.ok,.not_found,.errors,.cancelled,.concur_req]|@csv' run.json)" \
    "15,9,6,0,0,4"
  fb_eq "record types" "$(jq -r '[(.backend|type),(.elapsed_s|type),(.bytes>0),
    (.latency_ms.p50<=.latency_ms.p90 and .latency_ms.p90<=.latency_ms.p99 and
     .latency_ms.p99<=.latency_ms.max),(.max_rss_kb>0),(.libcurl|length>0)]|@csv' run.json)" \
    '"string","number",true,true,true,true'
  fb_eq "server requests == 15" "$(fb_stats .requests)" 15
  # --latencies: one "%.3f" line per OK or not-found request; its largest is
  # the record's max (both printed "%.3f" from the same double).
  fb_eq "latencies: a line per ok/404 request" "$(wc -l <lat.txt)" 15
  fb_eq "latencies: every line is ms with 3 decimals" \
    "$(grep -cvE '^[0-9]+\.[0-9]{3}$' lat.txt)" 0
  fb_eq "latencies: max == the record's max" "$(sort -g lat.txt | tail -n 1)" \
    "$(jq -r '.latency_ms.max | . * 1000 | round | . / 1000 | tostring' run.json |
       awk '{ printf "%.3f", $1 }')"
  client out -s "$FB_BASE" -m 2 --latencies lat.txt "$a" ZZ
  fb_eq "latencies: a second run appends" "$(wc -l <lat.txt)" 17
  client out -s "$FB_BASE" -m 2 --latencies /nonexistent-dir/lat.txt "$a"
  fb_eq "latencies: unwritable file exits 1" "$?" 1
  fb_ok "latencies: unwritable file says so" \
    grep -q "cannot append to /nonexistent-dir/lat.txt: No such file or directory" out.err
}

case_timing() {
  fb_start_server --dir ds --quiet --delay 100 || return
  local t0 el
  t0=$(fb_now)
  client out -s "$FB_BASE" -m 100 "${PRESENT[@]:0:20}" --repeat 5
  fb_eq "100 requests: exit 0, 100 flags" "$?|$(grep -c '^100 flags downloaded\.$' out)" "0|1"
  el=$(fb_elapsed "$t0")
  fb_log "100 x 100 ms at -m 100: ${el}s"
  fb_le "far below 100 x 100 ms" "$el" 4
}

case_interrupt() {
  fb_start_server --dir ds --quiet --delay 1000 || return
  mkdir -p got && printf 'keep\n' >got/mine.txt
  # 26 requests of 1 s at -m 2 take 13 s; interrupted once the first two
  # are answered and the next two are being held by the server.
  "${CLIENT[@]}" -s "$FB_BASE" -m 2 --output got --json run.json "${PRESENT[@]:0:26}" \
    >out 2>out.err &
  local pid=$! t0 rc
  for _ in $(seq 1 200); do
    [ "$(fb_stats .requests)" -ge 4 ] 2>/dev/null && break
    sleep 0.05
  done
  t0=$(fb_now)
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  fb_eq "SIGINT: exit 130" "$rc" 130
  # 3 s, not faults.sh's 1 s: under TSan (label threaded) a signal reaches the
  # pool's main thread only with the next result, up to one 1 s response
  # later; still far below the 11 s a client ignoring it would run on.
  local took
  took=$(fb_elapsed "$t0")
  fb_le "SIGINT: stops long before the 11 s left (took $took s)" "$took" 3
  fb_eq "SIGINT: the summary so far" "$(grep -c '^Elapsed time:' out)" 1
  local counted
  counted=$(sed -nE 's/^ *([0-9]+) (flags? downloaded|not found|errors?|cancelled)\.$/\1/p' out |
    awk '{ n += $1 } END { print n + 0 }')
  fb_eq "SIGINT: every request counted once in the summary" "$counted" 26
  fb_eq "SIGINT: and in the record" \
    "$(jq -r '[.ok+.not_found+.errors+.cancelled, .requests]|@csv' run.json)" "26,26"
  fb_le "SIGINT: queued requests cancelled, not run" 20 "$(jq -r .cancelled run.json)"
  fb_eq "SIGINT: no temporary or partial file" "$(find got -name '.*' -o -name '*.part' | wc -l)" 0
  fb_eq "SIGINT: own file kept" "$(cat got/mine.txt)" "keep"
  local f lc bad=0
  for f in got/*.gif; do
    [ -e "$f" ] || continue
    lc=$(basename "$f" .gif | tr 'A-Z' 'a-z')
    cmp -s "$f" "ds/flags/$lc/$lc.gif" || bad=$((bad + 1))
  done
  fb_eq "SIGINT: every saved file complete" "$bad" 0
  fb_eq "SIGINT: saved files == ok in the record" "$(ls got/*.gif 2>/dev/null | wc -l)" \
    "$(jq -r .ok run.json)"
}

# tls_certs : makes the test certificates (scripts/make-certs.sh, interface
# T1) in $FB_TMP/certs once and sets CERTS.
tls_certs() {
  CERTS=$FB_TMP/certs
  [ -f "$CERTS/server.pem" ] && return 0
  bash "$FB_SRC/scripts/make-certs.sh" "$CERTS" >certs.log 2>&1 ||
    { fb_fail "make-certs.sh makes the test certificates" "$(cat certs.log)"; fb_finish; }
}

# tls_server NAME [FLAGSERVER ARGS...] : starts flagserver serving ds/ over
# HTTPS with the certificate NAME.pem of $CERTS; sets TLS_BASE, its https://
# /flags base URL, TLS_URL (the root) and TLS_PORT.
tls_server() {
  local name=$1; shift
  fb_start_server --dir ds --quiet --tls-cert "$CERTS/$name.pem" --tls-key "$CERTS/$name.key" "$@" ||
    { fb_fail "flagserver serves HTTPS with $name.pem"; fb_finish; }
  TLS_BASE=$FB_BASE TLS_URL=$FB_URL TLS_PORT=$FB_PORT
}

# tls_stats FIELD : a field of the TLS server's /stats (curl verifies it too).
tls_stats() { curl -s --max-time 5 --cacert "$CERTS/ca.pem" "$TLS_URL/stats" | jq -r "$1"; }
tls_stats_reset() { curl -s --max-time 5 --cacert "$CERTS/ca.pem" -o /dev/null "$TLS_URL/stats?reset=1"; }

# tls_refused NAME WORDS ARGS... : every one of 4 requests fails with the -v
# line "CC error: WORDS" (WORDS empty: any error), exit 1, 4 errors, no file.
tls_refused() {
  local name=$1 words=$2 n=4 f; shift 2
  f=tls-$(tr -c 'A-Za-z0-9\n' _ <<<"$name").out
  rm -rf got && mkdir -p got && printf 'keep\n' >got/mine.txt
  client "$f" -v -m 2 --output got "$@" "${PRESENT[@]:0:$n}"
  fb_eq "$name: exit 1, $n errors" "$?|$(grep -c "^  $n errors\.$" "$f")" "1|1"
  if [ -n "$words" ]; then
    fb_eq "$name: every -v line says '$words'" \
      "$(sed -n 's/^[A-Z][A-Z] error: //p' "$f" | grep -cxF -- "$words")" "$n"
  else
    fb_eq "$name: an error line per request" "$(grep -c '^[A-Z][A-Z] error: ' "$f")" "$n"
  fi
  fb_eq "$name: no flag saved, own file kept" "$(ls -A got)" "mine.txt"
  no_parts got
}

# HTTPS: files byte-identical with --cacert (keep-alive and --fresh-connect);
# every certificate failure, a stalled or reset handshake, and each side
# speaking the wrong protocol are one error per request in the same words
# in every backend (common/xfer.c's flags_tls_reason).
case_tls() {
  fb_need openssl:openssl
  tls_certs
  # --cacert is checked before anything runs, in the same words everywhere.
  client bad1 -s https://127.0.0.1:1/flags --cacert /nonexistent/ca.pem BR
  fb_eq "--cacert missing: exit 2, one line" "$?|$(head -n 1 bad1.err)" \
    "2|*** Usage error: --cacert FILE cannot be read: '/nonexistent/ca.pem': No such file or directory"
  client bad2 -s https://127.0.0.1:1/flags --cacert "$CERTS/server.key" BR
  fb_eq "--cacert without a certificate: exit 2, one line" "$?|$(head -n 1 bad2.err)" \
    "2|*** Usage error: --cacert FILE holds no PEM certificate: '$CERTS/server.key'"
  tls_server server
  client out -s "$TLS_BASE" -m 4 --cacert "$CERTS/ca.pem" --json ka.json --output got \
    "${PRESENT[@]:0:12}"
  fb_eq "https: exit 0, 12 flags" "$?|$(grep -c '^ 12 flags downloaded\.$' out)" "0|1"
  local cc lc same=0
  for cc in "${PRESENT[@]:0:12}"; do
    lc=$(tr 'A-Z' 'a-z' <<<"$cc")
    cmp -s "got/$cc.gif" "ds/flags/$lc/$lc.gif" && same=$((same + 1))
  done
  fb_eq "https: all 12 files byte-identical" "$same" 12
  no_parts got
  rm -rf got
  # Keep-alive: a full handshake per connection, none per request. (How many
  # connections the pool opens depends on how soon its workers start; each
  # /stats read is a handshake of its own, counted before it answers: +1.)
  local conns
  conns=$(jq -r .connections ka.json)
  fb_le "https keep-alive: at most 4 connections ($conns)" "$conns" 4
  fb_eq "https keep-alive: a full handshake per connection (+1 for /stats)" \
    "$(tls_stats '[.tls_handshakes, .tls_resumed, .requests]|@csv')" "$((conns + 1)),0,12"
  rm -rf got
  client out2 -s "$TLS_BASE" -m 3 --fresh-connect --repeat 2 --cacert "$CERTS/ca.pem" \
    --json run.json --output got "${PRESENT[@]:0:6}"
  fb_eq "https --fresh-connect: exit 0, a connection per request" \
    "$?|$(jq -r '[.ok, .connections]|@csv' run.json)" "0|12,12"
  # Sessions: one request at a time, every handshake after the first resumes
  # in the C clients (one session cache for the run, docs/client.md "HTTPS");
  # the Python libraries resume none.
  tls_stats_reset
  client out3 -s "$TLS_BASE" -m 1 --fresh-connect --repeat 2 --cacert "$CERTS/ca.pem" \
    --output got "${PRESENT[@]:0:4}"
  local want=7
  case $BACKEND in py-*) want=0 ;; esac
  fb_eq "https --fresh-connect -m 1: 8 handshakes (+1 for /stats), $want resumed" \
    "$?|$(tls_stats '[.tls_handshakes, .tls_resumed]|@csv')" "0|9,$want"

  tls_refused "unknown CA" "TLS handshake failed: certificate signed by an unknown CA" \
    -s "$TLS_BASE" --cacert "$CERTS/other-ca.pem"
  tls_refused "no --cacert: the system's CAs do not know ours" \
    "TLS handshake failed: certificate signed by an unknown CA" -s "$TLS_BASE"
  tls_refused "http:// to the TLS port" "" -s "http://127.0.0.1:$TLS_PORT/flags" \
    --cacert "$CERTS/ca.pem"
  tls_server wrongname
  tls_refused "wrong name" "TLS handshake failed: certificate does not match the host name" \
    -s "$TLS_BASE" --cacert "$CERTS/ca.pem"
  tls_server expired
  tls_refused "expired" "TLS handshake failed: certificate expired" \
    -s "$TLS_BASE" --cacert "$CERTS/ca.pem"

  fb_start_server --dir ds --quiet || return
  tls_refused "https:// to a plain HTTP port" "TLS handshake failed: the server does not speak TLS" \
    -s "https://127.0.0.1:$FB_PORT/flags" --cacert "$CERTS/ca.pem"

  fault_start
  local t0 el
  t0=$(fb_now)
  tls_refused "handshake stall" "TLS handshake timed out after 1000 milliseconds" \
    -s "$FAULT_TLS_STALL" --timeout 1 --cacert "$CERTS/ca.pem"
  el=$(fb_elapsed "$t0")
  fb_le "handshake stall: 2 rounds of --timeout 1 at -m 2 (>= 1.8 s, took $el s)" 1.8 "$el"
  fb_le "handshake stall: ends at --timeout (<= 5 s)" "$el" 5
  tls_refused "reset mid-handshake" "TLS handshake failed: connection reset by the server" \
    -s "$FAULT_TLS_RESET" --cacert "$CERTS/ca.pem"
}

# h2_peer [--no-tls] : starts Debian's nghttpd (nghttp2-server), a server
# nobody here wrote, serving ds/ over h2 (TLS with ALPN; --no-tls: h2c with
# prior knowledge) on a free port of 127.0.0.1; sets H2_BASE to its /flags
# base URL. It binds 127.0.0.1 only (-a).
h2_peer() {
  local port scheme=https
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [ "${1:-}" = --no-tls ]; then
    scheme=http
    nghttpd -a 127.0.0.1 --no-tls -d ds "$port" >nghttpd.out 2>&1 &
  else
    nghttpd -a 127.0.0.1 -d ds "$port" "$CERTS/server.key" "$CERTS/server.pem" >nghttpd.out 2>&1 &
  fi
  FB_SERVER_PIDS+=($!)
  H2_BASE=$scheme://127.0.0.1:$port/flags
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 2 --cacert "$CERTS/ca.pem" --http2-prior-knowledge "$H2_BASE/" &&
      return 0
    sleep 0.05
  done
  fb_fail "nghttpd serves $H2_BASE" "$(cat nghttpd.out)"
  fb_finish
}

# The libcurl the C clients load: the system's, or FB_LIBCURL8's with it.
libcurl_vernum() {
  local v
  v=$(curl-config --vernum 2>/dev/null) || v=0
  printf '%d' "$((16#${v:-0}))"
}

# HTTP/2 against nghttpd: the same files and -v lines as over HTTP/1.1, the
# protocol measured in the record; the loop multiplexes its streams onto at
# most one connection per multi handle at this -m (ceil(share / 100)), the
# pool gives each worker a connection of its own; py-threadpool refuses
# --http2 (requests has no HTTP/2); h2c is refused before libcurl 8.0 and,
# with FB_LIBCURL8 (scripts/setup.sh --libcurl8), works with libcurl 8.
case_h2() {
  fb_need nghttpd:nghttp2-server openssl:openssl
  tls_certs
  if [ "$BACKEND" = py-threadpool ]; then
    client out --http2 -s https://127.0.0.1:1/flags BR
    fb_eq "py-threadpool: --http2 is a usage error in one line" "$?|$(cat out.err)" \
      "2|*** Usage error: --http2: requests has no HTTP/2 (py-threadpool is not run over HTTP/2)"
    return
  fi
  h2_peer
  local a=${PRESENT[0]}
  client out -v --http2 -s "$H2_BASE" --cacert "$CERTS/ca.pem" -m 8 --repeat 2 --json run.json \
    --output got "${PRESENT[@]}" ZY ZZ
  fb_eq "h2: exit 0, 80 flags, 4 not found" \
    "$?|$(grep -c '^ 80 flags downloaded\.$' out)|$(grep -c '^  4 not found\.$' out)" "0|1|1"
  local cc lc same=0
  for cc in "${PRESENT[@]}"; do
    lc=$(tr 'A-Z' 'a-z' <<<"$cc")
    cmp -s "got/$cc.gif" "ds/flags/$lc/$lc.gif" && same=$((same + 1))
  done
  fb_eq "h2: all ${#PRESENT[@]} files byte-identical" "$same" "${#PRESENT[@]}"
  no_parts got
  fb_eq "h2: -v lines as over HTTP/1.1" "$(grep -c "^$a OK\$" out)|$(grep -cx "ZZ not found: $H2_BASE/zz/zz.gif" out)" "2|2"
  fb_eq "h2: the record says h2 was asked for and used" "$(jq -r '[.http2, .protocol]|@csv' run.json)" 'true,"h2"'
  local conns streams bound
  conns=$(jq -r .connections run.json)
  streams=$(jq -r .streams run.json)
  case $BACKEND in
    flags_threadpool)
      fb_le "pool: a connection per worker at most ($conns)" "$conns" 8
      fb_eq "pool: one stream per connection" "$streams" 1
      ;;
    py-*)
      fb_le "httpx: a connection per request in flight at most ($conns)" "$conns" 8
      fb_le "httpx: at least one connection" 1 "$conns"
      ;;
    *)
      bound=$(jq -r '.loops * .multis' run.json)
      fb_le "loop: at most one connection per multi handle ($conns <= $bound)" "$conns" "$bound"
      fb_le "loop: streams multiplexed ($streams on one connection)" 2 "$streams"
      fb_le "loop: never more than -m streams ($streams)" "$streams" 8
      ;;
  esac

  # Above 100 in flight the loop's cap is ceil(m / 100) connections per
  # handle; without it libcurl 7.88 opens one per transfer that finds the
  # others full (nghttpd allows 100 streams).
  case $BACKEND in
    flags_asyncloop*)
      client out2 --http2 -s "$H2_BASE" --cacert "$CERTS/ca.pem" -m 250 --repeat 10 --json big.json \
        --output got2 "${PRESENT[@]}"
      fb_eq "h2 -m 250: exit 0, 400 flags" "$?|$(jq -r .ok big.json)" "0|400"
      bound=$(jq -r '.loops * .multis * 3' big.json)
      conns=$(jq -r .connections big.json)
      fb_le "h2 -m 250: at most 3 connections per multi handle ($conns <= $bound)" "$conns" "$bound"
      ;;
  esac

  # h2c: refused before libcurl 8.0 (curl issue #10634), in one line.
  case $BACKEND in
    py-*) ;;
    *)
      if [ "$(libcurl_vernum)" -lt $((0x080000)) ]; then
        client out3 --http2 -s http://127.0.0.1:1/flags "$a"
        fb_eq "h2c with libcurl < 8: exit 2, one line naming the cause" \
          "$?|$(wc -l <out3.err)|$(grep -c 'needs libcurl 8.0 or later: .*curl issue #10634' out3.err)" "2|1|1"
      fi
      ;;
  esac
  h2_peer --no-tls
  local env=()
  case $BACKEND in
    py-*) ;;
    *)
      if [ -z "${FB_LIBCURL8:-}" ] || [ ! -e "$FB_LIBCURL8/libcurl.so.4" ]; then
        fb_log "h2c: no libcurl 8 (FB_LIBCURL8; scripts/setup.sh --libcurl8): not run here"
        return
      fi
      env=(env "LD_LIBRARY_PATH=$FB_LIBCURL8")
      ;;
  esac
  timeout -s KILL 60 "${env[@]}" "${CLIENT[@]}" --http2 -s "$H2_BASE" -m 8 --json h2c.json \
    --output got3 "${PRESENT[@]:0:20}" >out4 2>out4.err
  fb_eq "h2c: exit 0, 20 flags over h2c" "$?|$(jq -r '[.ok, .protocol]|@csv' h2c.json)" '0|20,"h2c"'
}

# The loop over h2 with a delay, H2-DELAY's shape: every code AA..ZZ six
# times (4,056 requests, 194 found) at -m 1000, so 10 connections of 100
# streams, from flagserver --http2 --delay 100 whose bodies (16.5 to 24.5 KiB)
# exceed libcurl's 16 KiB receive buffer. libcurl 7.88.0 to 8.0.1 can leave
# the last frames it read unparsed until the socket is readable again, which
# at the end of a run is flagserver closing the idle connection 30 s later
# (docs/http2.md, "The 30 s stall"; it hit about 2 runs in 3): the loop's idle
# kick must end each of 4 runs far below that, every request accounted for
# and no connection closed for idleness. Many streams on one connection are
# the loop's design; the pool (a connection per worker) and httpx make one
# run of AA..ZZ at -m 100 under the same bounds; py-threadpool refuses --http2.
case_h2delay() {
  fb_need openssl:openssl
  tls_certs
  if [ "$BACKEND" = py-threadpool ]; then
    client out --http2 -s https://127.0.0.1:1/flags BR
    fb_eq "py-threadpool: --http2 is a usage error in one line" "$?|$(wc -l <out.err)" "2|1"
    return
  fi
  local m=100 repeat=1 runs=1
  case $BACKEND in
    flags_asyncloop*) m=1000 repeat=6 runs=4 ;;
  esac
  python3 - "$FB_CODES" big <<'PY' || { fb_fail "the big-body dataset is written"; return; }
import os, sys
codes = [c.strip().lower() for c in open(sys.argv[1]) if c.strip()]
for i, cc in enumerate(codes):
    os.makedirs(f"{sys.argv[2]}/flags/{cc}", exist_ok=True)
    with open(f"{sys.argv[2]}/flags/{cc}/{cc}.gif", "wb") as f:
        f.write(b"GIF89a" + os.urandom(16896 + (i * 97) % 8192))
PY
  fb_start_server --dir big --quiet --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    --http2 --delay 100 || { fb_fail "flagserver serves h2 with a delay"; return; }
  local run start took max=0 ok=0 want
  want="0|$((194 * repeat)),$((482 * repeat))"
  for run in $(seq 1 "$runs"); do
    start=$(fb_now)
    client "out$run" --http2 -s "$FB_BASE" --cacert "$CERTS/ca.pem" -e --repeat "$repeat" -m "$m" \
      --timeout 60 --quiet --json "run$run.json" --output "got$run"
    fb_eq "h2delay run $run (-m $m, $((676 * repeat)) requests): exit 0, every one found or not" \
      "$?|$(jq -r '[.ok, .not_found]|@csv' "run$run.json")" "$want"
    took=$(fb_elapsed "$start")
    awk -v t="$took" 'BEGIN { exit !(t < 10) }' && ok=$((ok + 1))
    awk -v t="$took" -v m="$max" 'BEGIN { exit !(t > m) }' && max=$took
    no_parts "got$run"
  done
  fb_eq "h2delay: all $runs runs under 10 s (slowest ${max} s; a stall is 30 s)" "$ok" "$runs"
  fb_eq "h2delay: no connection closed by the 30 s idle timeout" \
    "$(curl -s --max-time 5 --cacert "$CERTS/ca.pem" "$FB_URL/stats" | jq -r .h2_defences.idle_timeout)" 0

  # The loop's warm-up (docs/asyncloop.md, "The warm-up"): 8,112 requests at
  # -m 8112, one wave. Each multi handle's first ceil(share / 100) transfers
  # open its connections side by side and the rest fill them, so the run
  # opens exactly that many. Without the warm-up libcurl 8.14.1 (curl issue
  # #18017) opened 11 of the 82 and handed 200 streams to one connection;
  # 7.88 opens them all either way, so the check bites with libcurl 8.
  case $BACKEND in
    flags_asyncloop*) ;;
    *) return ;;
  esac
  local lib env caps rc ver
  for lib in system "${FB_LIBCURL8:-}"; do
    env=()
    if [ "$lib" != system ]; then
      [ -n "$lib" ] && [ -e "$lib/libcurl.so.4" ] || {
        fb_log "warm-up with libcurl 8: no libcurl 8 (FB_LIBCURL8): not run here"
        continue
      }
      env=(env "LD_LIBRARY_PATH=$lib")
    fi
    rm -f warm.json # --json appends
    timeout -s KILL 60 "${env[@]}" "${CLIENT[@]}" --http2 -s "$FB_BASE" --cacert "$CERTS/ca.pem" \
      -e --repeat 12 -m 8112 --timeout 60 --quiet --json warm.json --output warm >warm.out 2>&1
    rc=$?
    ver=$(jq -r .libcurl warm.json 2>/dev/null)
    fb_eq "warm-up (libcurl ${ver:-$lib}): exit 0, every request found or not" \
      "$rc|$(jq -r '[.ok, .not_found]|@csv' warm.json)" "0|$((194 * 12)),$((482 * 12))"
    caps=$(h2_caps 8112 "$(jq -r .loops warm.json)" "$(jq -r .multis warm.json)")
    fb_eq "warm-up (libcurl $ver): exactly the capped connections" \
      "$(jq -r .connections warm.json)" "$caps"
    fb_le "warm-up (libcurl $ver): about 100 streams on one connection, not 200" \
      "$(jq -r .streams warm.json)" 150
    no_parts warm
    rm -rf warm
  done
}

# h2_caps M LOOPS MULTIS : the connections the loop may open over HTTP/2 at
# -m M: the permits dealt out to the loops, then to each loop's multi
# handles (no more handles than permits), ceil(share / 100) per handle.
h2_caps() {
  local m=$1 n=$2 k=$3 i j share kk sub total=0
  for ((i = 0; i < n; i++)); do
    share=$((m / n + (i < m % n ? 1 : 0)))
    kk=$((k < share ? k : share))
    for ((j = 0; j < kk; j++)); do
      sub=$((share / kk + (j < share % kk ? 1 : 0)))
      total=$((total + (sub + 99) / 100))
    done
  done
  printf '%d' "$total"
}

# A directory where a flag goes (issue 19, case 2): 300 concurrent saves of
# one code must all fail, in one wording, and leave the directory; none may
# be counted OK (the recycling save's exchange used to swap the directory
# back over a file it had just reported saved). Then, with the way clear,
# all 300 are OK and the file is the server's.
case_inway() {
  fb_start_server --dir ds --quiet || return
  local cc=${PRESENT[0]} lc
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  mkdir -p got/"$cc".gif && printf 'keep\n' >got/mine.txt
  client out -v -m 20 --repeat 300 --output got --json in.json -s "$FB_BASE" "$cc"
  fb_eq "directory in the way: exit 1" "$?" 1
  fb_eq "directory in the way: 0 ok, 300 errors" \
    "$(jq -r '[.ok,.errors]|@csv' in.json)" "0,300"
  fb_eq "directory in the way: every -v line says so" \
    "$(grep -cxF "$cc error: cannot save $cc.gif: Is a directory" out)" 300
  fb_ok "directory in the way: $cc.gif is still the directory" test -d "got/$cc.gif"
  fb_eq "directory in the way: nothing else left" "$(ls -A got | tr '\n' ' ')" "$cc.gif mine.txt "
  rmdir "got/$cc.gif"
  client out2 -m 20 --repeat 300 --output got --json clear.json -s "$FB_BASE" "$cc"
  fb_eq "way clear: exit 0, 300 ok" "$?|$(jq -r .ok clear.json)" "0|300"
  fb_ok "way clear: $cc.gif is the server's" cmp -s "got/$cc.gif" "ds/flags/$lc/$lc.gif"
  fb_eq "way clear: nothing else left" "$(ls -A got | tr '\n' ' ')" "$cc.gif mine.txt "
}

# HTTPS bodies that only the connection's close ends (no Content-Length, not
# chunked; issue 19, case 3): cut without a TLS close_notify, each is an
# error in one wording and nothing is saved; with a close_notify (the
# control), each is saved whole. tests/faults/hostile_server.py serves both.
case_tlscut() {
  tls_certs
  local out=$FB_TMP/hostile.out url words
  python3 "$FB_SRC/tests/faults/hostile_server.py" --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" >"$out" 2>"$out.err" &
  FB_SERVER_PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q listening "$out" 2>/dev/null && break
    sleep 0.05
  done
  url=$(sed -n 's/^hostile_server listening on //p' "$out")
  [ -n "$url" ] || { fb_fail "hostile_server starts" "$(cat "$out.err")"; return; }
  words="response body cut short: the TLS connection closed without close_notify"

  mkdir -p cut && printf 'old BR\n' >cut/BR.gif
  client cut.out -v -m 2 --cacert "$CERTS/ca.pem" --output cut -s "$url/cut" BR CN AR
  fb_eq "cut without close_notify: exit 1" "$?" 1
  fb_eq "cut without close_notify: every -v line says so" \
    "$(sed -n 's/^[A-Z][A-Z] error: //p' cut.out | grep -cxF -- "$words")" 3
  fb_eq "cut without close_notify: 3 errors" "$(grep -c '^  3 errors\.$' cut.out)" 1
  fb_eq "cut without close_notify: nothing saved, the old BR.gif kept" \
    "$(ls -A cut | tr '\n' ' ')|$(cat cut/BR.gif)" "BR.gif |old BR"

  mkdir -p clean
  client clean.out -v -m 2 --cacert "$CERTS/ca.pem" --output clean -s "$url/clean" BR CN AR
  fb_eq "with close_notify: exit 0, 3 downloaded" \
    "$?|$(grep -c '^  3 flags downloaded\.$' clean.out)" "0|1"
  fb_eq "with close_notify: each file is the whole 10,000-byte body" \
    "$(stat -c %s clean/AR.gif clean/BR.gif clean/CN.gif 2>/dev/null | tr '\n' ' ')" \
    "10000 10000 10000 "
  no_parts clean
}

# A base URL that cannot mean "BASE/cc/cc.gif" (issue 19, case 8): a query
# or a fragment (it used to land mid-URL: /flags?x=1/ae/ae.gif, every code
# "not found", exit 0), a port out of range (credentials are used, and
# masked: tests/faults/signals.sh). Each is a usage
# error before anything runs: exit 2, one line in the same words in every
# program, nothing on stdout, no output folder made. The server is up, so a
# client that took the URL would be seen to request it.
case_baseurl() {
  fb_start_server --dir ds --quiet || return
  local cc=${PRESENT[0]} url msg
  while IFS='|' read -r url msg; do
    client bad.out -s "$url" --output got "$cc"
    fb_eq "-s '$url': exit 2, one line, nothing on stdout" \
      "$?|$(head -n 1 bad.out.err)|$(cat bad.out)" \
      "2|*** Usage error: --server URL $msg: '$url'|"
  done <<EOF2
$FB_BASE?x=1|must not have a query or a fragment
$FB_BASE/#top|must not have a query or a fragment
http://user:secret@127.0.0.1:0/flags|must have a port from 1 to 65535
http://127.0.0.1:0/flags|must have a port from 1 to 65535
http://127.0.0.1:99999/flags|must have a port from 1 to 65535
http://127.0.0.1:/flags|must have a port from 1 to 65535
EOF2
  fb_ok "no output folder made" test ! -e got
  fb_eq "the server saw no request" "$(fb_stats .requests)" 0
  # The control: the same base without the query, with trailing slashes.
  client ok.out -s "$FB_BASE//" --output got "$cc"
  fb_eq "-s BASE//: exit 0, the flag saved" "$?|$(ls got)" "0|$cc.gif"
  # Credentials are used as meant, and shown nowhere: the header, the -v
  # not-found line and the record say ***.
  client cred.out -v -s "http://alice:s3cr3t@127.0.0.1:$FB_PORT/flags" --json cred.json \
    --output got "$cc" ZZ
  fb_eq "-s with user:password: exit 0, header redacted" "$?|$(line 1 cred.out)" \
    "0|CUSTOM site: http://***@127.0.0.1:$FB_PORT/flags"
  fb_eq "-s with user:password: not-found line redacted" "$(grep '^ZZ ' cred.out)" \
    "ZZ not found: http://***@127.0.0.1:$FB_PORT/flags/zz/zz.gif"
  fb_eq "-s with user:password: the record's url redacted" "$(jq -r .url cred.json)" \
    "http://***@127.0.0.1:$FB_PORT/flags"
  fb_ok "-s with user:password: the password appears nowhere" \
    bash -c '! grep -q s3cr3t "$@"' _ cred.out cred.out.err cred.json
}

# What a run killed by SIGKILL leaves in the output folder must not make a
# later run fail (issue 19, closing paragraph). pids repeat (in containers,
# every run may get the same one), so the worst case is a run with the dead
# run's pid: made here by a shell that plants .CC.gif.PID.N.part and
# .spare.PID.N.part files under its own pid, then execs the client. Every
# download must be OK and every planted file left as it was.
case_leftover() {
  fb_start_server --dir ds --quiet || return
  local codes=("${PRESENT[@]:0:4}") cc lc same=0 planted
  mkdir -p got
  # bash -c CODES... -- CLIENT ARGS...: plants under its own pid, then execs.
  timeout -s KILL 60 bash -c '
    for cc in "$@"; do
      [ "$cc" = -- ] && break
      for i in 0 1 2 3 4 5 6 7; do echo killed >"got/.$cc.gif.$$.$i.part"; done
    done
    for i in $(seq 0 70); do echo killed >"got/.spare.$$.$i.part"; done
    while [ "$1" != -- ]; do shift; done; shift
    exec "$@"' _ "${codes[@]}" -- "${CLIENT[@]}" -v -m 4 --repeat 2 --output got \
    -s "$FB_BASE" "${codes[@]}" >left.out 2>left.out.err
  fb_eq "leftovers of a killed run with this pid: exit 0, 8 downloaded" \
    "$?|$(grep -c '^  8 flags downloaded\.$' left.out)" "0|1"
  for cc in "${codes[@]}"; do
    lc=$(tr 'A-Z' 'a-z' <<<"$cc")
    cmp -s "got/$cc.gif" "ds/flags/$lc/$lc.gif" && same=$((same + 1))
  done
  fb_eq "leftovers: every file is the server's" "$same" 4
  planted=$(find got -name '.*.part' | wc -l)
  fb_eq "leftovers: every planted file is still there" "$planted" $((4 * 8 + 71))
  fb_eq "leftovers: ... unchanged" \
    "$(find got -name '.*.part' -exec cat {} + | grep -cx killed)" "$planted"
}

# What the user hands over is checked before anything runs, in the same
# words in every program (issue 19, closing paragraph): --output that is a
# file, --json or --latencies that is a folder or a FIFO nobody reads. Each
# is one line "PROGRAM: ...", exit 1, nothing on stdout, no request made.
case_handover() {
  fb_start_server --dir ds --quiet || return
  local cc=${PRESENT[0]} args want
  printf 'x\n' >afile && mkdir -p adir && mkfifo fifo
  while IFS='|' read -r args want; do
    # shellcheck disable=SC2086 # ARGS are words
    client bad.out -s "$FB_BASE" $args "$cc"
    fb_eq "$args: exit 1, one line, nothing on stdout" \
      "$?|$(sed 's/^[^:]*: //' bad.out.err)|$(cat bad.out)" "1|$want|"
  done <<EOF2
--output afile|cannot use output directory afile: Not a directory
--json adir --output got|cannot append to adir: Is a directory
--latencies adir --output got|cannot append to adir: Is a directory
--json fifo --output got|cannot append to fifo: no process is reading this FIFO
--latencies fifo --output got|cannot append to fifo: no process is reading this FIFO
EOF2
  fb_ok "no output folder made" test ! -e got
  fb_eq "the server saw no request" "$(fb_stats .requests)" 0
}

group=${1:?usage: cases.sh GROUP}
if ! declare -F "case_$group" >/dev/null; then
  fb_fail "no such case group: $group"
  fb_finish
fi
fb_log "backend $BACKEND, group $group"
"case_$group"
fb_finish
