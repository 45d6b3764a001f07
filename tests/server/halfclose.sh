#!/usr/bin/env bash
# server_halfclose: a client that half-closes after sending its request
# (shutdown(SHUT_WR), then reads to EOF) gets every response whole (issue 15,
# failure 2: bodies were cut at the first 16 KiB write). Also with pipelined
# keep-alive requests before the half-close, with a delay, and a client that
# leaves without reading does not hurt the server.
# Usage: halfclose.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"
fb_need python3:python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR
# Bodies well past one 16 KiB write, and one just past the old cut (16,280).
mkdir -p "$DATA/flags/us" "$DATA/flags/fr"
{ printf 'GIF89a'; head -c 300000 /dev/urandom; } >"$DATA/flags/us/us.gif"
{ printf 'GIF89a'; head -c 16275 /dev/urandom; } >"$DATA/flags/fr/fr.gif"

# check DESC K CC : K pipelined GETs of CC's flag, half-close, read to EOF.
check() {
  local desc=$1 k=$2 cc=$3 got want
  got=$(timeout 30 python3 "$HERE/rawclient.py" halfclose "$FB_PORT" "/flags/$cc/$cc.gif" \
        "$DATA/flags/$cc/$cc.gif" "$k" 2>&1)
  want=$(yes ok | head -n "$k")
  fb_eq "$desc" "$got" "$want"
}

for delay in 0 100; do
  fb_start_server --dir "$DATA" --quiet --delay "$delay" \
    || { fb_fail "flagserver --delay $delay starts"; fb_finish; }
  check "delay $delay: half-closed GET of a 300 kB body is whole" 1 us
  check "delay $delay: half-closed GET of a 16,281-byte body is whole" 1 fr
  check "delay $delay: half-closed GET of a small body is whole" 1 br
  check "delay $delay: 2 pipelined keep-alive GETs, then half-close: both whole" 2 us
  check "delay $delay: 3 pipelined keep-alive GETs, then half-close: all whole" 3 us
  # A client that sends a request and leaves without reading.
  for _ in 1 2 3; do
    (exec 3<>"/dev/tcp/127.0.0.1/$FB_PORT"
     printf 'GET /flags/us/us.gif HTTP/1.1\r\nHost: x\r\n\r\n' >&3
     exec 3>&-)
  done
  sleep $((delay > 0 ? 1 : 0)).3
  fb_eq "delay $delay: in_flight back to 0 after clients left unread" "$(fb_stats .in_flight)" 0
  fb_eq "delay $delay: connections back to 0" "$(fb_stats .connections)" 0
  curl -s --max-time 5 -o "$FB_TMP/us.gif" "$FB_BASE/us/us.gif"
  fb_ok "delay $delay: an ordinary GET is still byte-identical" \
    cmp -s "$FB_TMP/us.gif" "$DATA/flags/us/us.gif"
  fb_stop_server; fb_eq "delay $delay: SIGTERM -> exit 0" "$?" 0
done

fb_finish
