#!/usr/bin/env bash
# server_http: flagserver's HTTP behaviour on a generated dataset -- bodies
# byte-identical, 404, HEAD, 405, every traversal form refused, delays held
# without blocking, /stats counting exactly, clean exit on SIGTERM.
# Usage: http.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR CN IN US FR DE JP NG
# Something outside the served tree that traversal would reach.
printf 'SECRET' >"$FB_TMP/secret.gif"
mkdir -p "$DATA/flags/zz" && ln -s "$FB_TMP/secret.gif" "$DATA/flags/zz/zz.gif"

fb_start_server --dir "$DATA" --quiet || { fb_fail "flagserver starts"; fb_finish; }
fb_pass "flagserver starts on port 0 and prints its URL"

# --- bodies, 404, HEAD, 405 ------------------------------------------------
for cc in br cn in us fr de jp ng; do
  curl -s --max-time 5 -o "$FB_TMP/$cc.gif" "$FB_BASE/$cc/$cc.gif"
  fb_ok "GET $cc.gif is byte-identical" cmp -s "$FB_TMP/$cc.gif" "$DATA/flags/$cc/$cc.gif"
done
fb_eq "Content-Type is image/gif" \
  "$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$FB_BASE/br/br.gif")" "image/gif"
fb_eq "missing flag -> 404" \
  "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/xx/xx.gif")" 404
head_out=$(curl -s --max-time 5 -I "$FB_BASE/cn/cn.gif" | tr -d '\r')
size=$(stat -c %s "$DATA/flags/cn/cn.gif")
fb_ok "HEAD -> 200 with Content-Length $size" grep -qx "Content-Length: $size" <<<"$head_out"
fb_eq "HEAD has no body" \
  "$(curl -s --max-time 5 -I -o /dev/null -w '%{http_code} %{size_download}' "$FB_BASE/cn/cn.gif")" "200 0"
for m in POST PUT DELETE OPTIONS PATCH; do
  fb_eq "$m -> 405" \
    "$(curl -s --max-time 5 -X "$m" -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")" 405
done

# --- traversal: never a byte from outside the tree --------------------------
for p in '/flags/../../../etc/passwd' '/flags/br/../../secret.gif' '/../secret.gif' \
         '/flags/%2e%2e/%2e%2e/secret.gif' '/flags/%2E%2E/br/br.gif' '/flags/.%2e/br/br.gif' \
         '/flags/br%2f..%2f..%2fsecret.gif' '/flags/br/br.gif%00' '//etc/passwd' \
         '/flags//br/br.gif' '/flags/br/..%5c..%5csecret.gif' '/etc/passwd' \
         '/flags/%252e%252e/br.gif' '/flags/zz/zz.gif' '/flags/./br/br.gif'; do
  code=$(curl --path-as-is -s --max-time 5 -o "$FB_TMP/trav.out" -w '%{http_code}' "$FB_URL$p")
  case $code in
    400|404) if grep -q -e SECRET -e root: "$FB_TMP/trav.out"; then
               fb_fail "traversal $p leaked content"
             else fb_pass "traversal $p -> $code"; fi ;;
    *) fb_fail "traversal $p refused" "HTTP $code" ;;
  esac
done
# A raw request with an absolute-form and a relative request target.
for target in 'http://127.0.0.1/../secret.gif' '../secret.gif' 'flags/br/br.gif'; do
  code=$(exec 3<>"/dev/tcp/127.0.0.1/$FB_PORT"; printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$target" >&3
         timeout 5 head -n 1 <&3 | awk '{print $2}')
  case $code in 400|404) fb_pass "raw target $target -> $code" ;; *) fb_fail "raw target $target refused" "got '$code'" ;; esac
done
# Issue 19 case 9: an absolute-form target is never taken for our own path
# (it is a 400 whatever its authority, see docs/flagserver.md), and two
# different Content-Length headers are a 400, as the clients refuse them in a
# response. Each raw request is sent on a fresh connection.
raw_status() {
  (exec 3<>"/dev/tcp/127.0.0.1/$FB_PORT"; printf '%b' "$1" >&3
   timeout 5 head -n 1 <&3 | awk '{print $2}')
}
curl -s --max-time 5 -o /dev/null "$FB_BASE/br/br.gif"
before=$(fb_stats .requests)
fb_eq "GET http://evil/stats?reset=1 -> 400" \
  "$(raw_status 'GET http://evil/stats?reset=1 HTTP/1.1\r\nHost: evil\r\nConnection: close\r\n\r\n')" 400
fb_ok "... and the counters were not reset" test "$(fb_stats .requests)" -ge "$before"
fb_ok "... nor counted as a zero" test "$(fb_stats .requests)" -gt 0
fb_eq "absolute-form with our own authority -> 400 too" \
  "$(raw_status "GET http://127.0.0.1:$FB_PORT/flags/br/br.gif HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n")" 400
fb_eq "OPTIONS * (asterisk-form) -> 400" \
  "$(raw_status 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')" 400
fb_eq "two different Content-Length headers -> 400" \
  "$(raw_status 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')" 400
fb_eq "a Content-Length list of different values -> 400" \
  "$(raw_status 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\nConnection: close\r\n\r\nabcd')" 400
fb_eq "two equal Content-Length headers are one length (RFC 9110 8.6) -> 200" \
  "$(raw_status 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab')" 200
fb_eq "a Content-Length that is not a number -> 400" \
  "$(raw_status 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 2x\r\nConnection: close\r\n\r\nab')" 400
fb_eq "/stats?reset=1 over a Content-Length conflict -> 400" \
  "$(raw_status 'GET /stats?reset=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx')" 400
fb_ok "... and the counters were not reset" test "$(fb_stats .requests)" -gt 0
fb_stop_server; fb_eq "SIGTERM -> exit 0" "$?" 0

# --- delays ----------------------------------------------------------------
fb_start_server --dir "$DATA" --quiet --delay 200 || { fb_fail "delay server starts"; fb_finish; }
t0=$(fb_now)
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")
el=$(fb_elapsed "$t0")
fb_eq "delayed GET -> 200" "$code" 200
fb_le "a 200 ms delay takes >= 200 ms ($el s)" 0.2 "$el"
t0=$(fb_now)
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/xx/xx.gif")
el=$(fb_elapsed "$t0")
fb_eq "delayed 404 -> 404" "$code" 404
fb_le "a 404 is delayed too ($el s)" 0.2 "$el"

# 100 concurrent delayed requests: about one delay, not a hundred (20 s).
fb_stats_reset
urls=()
for i in $(seq 1 100); do urls+=(-o /dev/null "$FB_BASE/br/br.gif"); done
t0=$(fb_now)
curl -s --max-time 10 --parallel --parallel-immediate --parallel-max 100 "${urls[@]}" 2>/dev/null
el=$(fb_elapsed "$t0")
fb_le "100 concurrent 200 ms requests finish in < 2 s ($el s)" "$el" 2
fb_eq "/stats requests == 100" "$(fb_stats .requests)" 100
fb_eq "/stats by_status 200 == 100" "$(fb_stats '.by_status."200"')" 100
fb_le "/stats peak_in_flight >= 50 when 100 went at once" 50 "$(fb_stats .peak_in_flight)"
fb_eq "/stats in_flight back to 0" "$(fb_stats .in_flight)" 0

# peak_in_flight equals the client's concurrency: 40 requests, 8 at a time.
fb_stats_reset
fb_eq "/stats?reset=1 zeroes requests" "$(fb_stats .requests)" 0
fb_eq "/stats?reset=1 zeroes the peak" "$(fb_stats .peak_in_flight)" 0
urls=()
for i in $(seq 1 40); do urls+=(-o /dev/null "$FB_BASE/cn/cn.gif"); done
curl -s --max-time 20 --parallel --parallel-immediate --parallel-max 8 "${urls[@]}" 2>/dev/null
fb_eq "peak_in_flight == 8 for curl --parallel-max 8" "$(fb_stats .peak_in_flight)" 8
fb_eq "peak_connections == 8" "$(fb_stats .peak_connections)" 8
fb_eq "requests == 40 (stats requests not counted)" "$(fb_stats .requests)" 40
fb_eq "by_status has only 200" "$(fb_stats '.by_status | keys | join(",")')" 200
fb_eq "errors_injected == 0" "$(fb_stats .errors_injected)" 0

# A client leaving during the delay: the request ends, nothing leaks.
curl -s --max-time 0.05 -o /dev/null "$FB_BASE/br/br.gif"
sleep 0.4
fb_eq "in_flight == 0 after a client left mid-delay" "$(fb_stats .in_flight)" 0
fb_eq "connections == 0 once clients are gone" "$(fb_stats .connections)" 0

# SIGTERM with requests in flight: exit 0 at once.
clients=()
for _ in 1 2 3; do curl -s --max-time 5 -o /dev/null "$FB_BASE/br/br.gif" & clients+=($!); done
sleep 0.1
t0=$(fb_now)
fb_stop_server; rc=$?
fb_eq "SIGTERM with requests in flight -> exit 0" "$rc" 0
fb_le "... promptly ($(fb_elapsed "$t0") s)" "$(fb_elapsed "$t0")" 1
wait "${clients[@]}"

fb_finish
