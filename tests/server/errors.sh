#!/usr/bin/env bash
# server_errors: each injected error kind as a client sees it, the error
# counters, the seeded generator's reproducibility and the rate.
# Usage: errors.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR CN

# status: every GET gets a 500 or a 503.
fb_start_server --dir "$DATA" --quiet --error-rate 1 --error-kind status || { fb_fail "status server starts"; fb_finish; }
codes=""
for i in 1 2 3 4 5 6 7 8; do
  codes+=" $(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")"
done
bad=$(tr ' ' '\n' <<<"$codes" | grep -v -e '^$' -e '^500$' -e '^503$' | wc -l)
fb_eq "error-kind status: every response is 500 or 503 ($codes)" "$bad" 0
fb_ok "both 500 and 503 occur" bash -c "grep -q 500 <<<'$codes' && grep -q 503 <<<'$codes'"
fb_eq "errors_injected == 8" "$(fb_stats .errors_injected)" 8
fb_eq "by_status counts 500 + 503 == 8" "$(fb_stats '(.by_status."500" // 0) + (.by_status."503" // 0)')" 8
fb_eq "HEAD never gets an injected error" \
  "$(curl -s --max-time 5 -I -o /dev/null -w '%{http_code}' "$FB_BASE/br/br.gif")" 200
fb_stop_server

# reset: headers with the full Content-Length, part of the body, then an abort.
fb_start_server --dir "$DATA" --quiet --error-rate 1 --error-kind reset || { fb_fail "reset server starts"; fb_finish; }
size=$(stat -c %s "$DATA/flags/br/br.gif")
for i in 1 2 3; do
  out=$(curl -s --max-time 5 -o "$FB_TMP/reset.out" -w '%{http_code} %{size_download}' "$FB_BASE/br/br.gif")
  rc=$?
  case $rc in 18|56) fb_pass "reset #$i: curl exit $rc (partial file / recv failure)" ;;
              *) fb_fail "reset #$i: curl exit 18 or 56" "got exit $rc ($out)" ;; esac
  got=${out#* }
  fb_ok "reset #$i: body cut short ($got of $size bytes)" test "$got" -lt "$size"
done
fb_eq "reset: in_flight back to 0" "$(fb_stats .in_flight)" 0
fb_eq "reset: connections back to 0" "$(fb_stats .connections)" 0
fb_eq "reset: errors_injected == 3" "$(fb_stats .errors_injected)" 3
fb_stop_server; fb_eq "reset server: SIGTERM -> exit 0" "$?" 0

# stall: headers sent, the body never finishes; the client's timeout fires.
fb_start_server --dir "$DATA" --quiet --error-rate 1 --error-kind stall || { fb_fail "stall server starts"; fb_finish; }
t0=$(fb_now)
curl -s --max-time 1 -o /dev/null "$FB_BASE/br/br.gif"; rc=$?
el=$(fb_elapsed "$t0")
fb_eq "stall: curl exit 28 (timeout)" "$rc" 28
fb_le "stall: the client waited its 1 s timeout ($el s)" 0.9 "$el"
fb_le "stall: ... and not much longer" "$el" 3
# While a stall is held, others are still served (a HEAD gets no error).
curl -s --max-time 3 -o /dev/null "$FB_BASE/cn/cn.gif" 2>/dev/null &
client=$!
sleep 0.3
fb_eq "stall: in_flight == 1 while held" "$(fb_stats .in_flight)" 1
fb_eq "stall: others served meanwhile" \
  "$(curl -s --max-time 2 -I -o /dev/null -w '%{http_code}' "$FB_BASE/cn/cn.gif")" 200
wait "$client"
sleep 0.2
fb_eq "stall: released when the client left (in_flight 0)" "$(fb_stats .in_flight)" 0
fb_eq "stall: connections back to 0" "$(fb_stats .connections)" 0
# SIGTERM while a stall is held: exit 0.
curl -s --max-time 5 -o /dev/null "$FB_BASE/br/br.gif" &
client=$!
sleep 0.3
fb_stop_server; fb_eq "stall server: SIGTERM with a stall held -> exit 0" "$?" 0
wait "$client"

# Rate and reproducibility: 200 GETs at P = 0.25, seed 7, twice.
count_errors() {
  for _ in $(seq 1 200); do printf -- '-o /dev/null\nurl = "%s"\n' "$FB_BASE/br/br.gif"; done >"$FB_TMP/cfg"
  curl -s --max-time 30 -K "$FB_TMP/cfg" -w '%{http_code}\n' | sort | uniq -c | awk '$2 != 200 {n += $1} END {print n + 0}'
}
fb_start_server --dir "$DATA" --quiet --error-rate 0.25 --seed 7 || { fb_fail "rate server starts"; fb_finish; }
e1=$(count_errors); s1=$(fb_stats .errors_injected)
fb_stop_server
fb_start_server --dir "$DATA" --quiet --error-rate 0.25 --seed 7 || { fb_fail "rate server restarts"; fb_finish; }
e2=$(count_errors)
fb_stop_server
fb_eq "errors seen == errors_injected ($e1)" "$e1" "$s1"
fb_eq "same seed, same number of errors" "$e2" "$e1"
fb_le "rate 0.25 of 200: at least 25 errors ($e1)" 25 "$e1"
fb_le "rate 0.25 of 200: at most 75 errors ($e1)" "$e1" 75

fb_finish
