#!/usr/bin/env bash
# netlab_download: flagserver in the lab's server namespace, each backend's
# client in the client namespace, across 20 ms RTT, 2 ms jitter, 0.5% loss and
# 50 Mbit/s: every file byte-identical, every code accounted for, and the
# run no faster than the round trips it must pay.
# Usage: download.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# (FLAGSERVER, FLAGS_THREADPOOL, FLAGS_ASYNCLOOP in the environment)
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"

CODES=(BR CN IN US FR DE JP NG RU MX PH VN ET EG TR IR CD TH GB IT)
fb_make_dataset "$FB_TMP/data" "${CODES[@]}"

nl_up --rtt 20 --jitter 2 --loss 0.005 --rate 50 >/dev/null
ip netns exec "fbnl-$$-s" "$FLAGSERVER" --bind 198.18.0.1 --port 8001 --dir "$FB_TMP/data" --quiet \
  >"$FB_TMP/server.out" 2>&1 &
FB_SERVER_PIDS+=("$!")
for _ in $(seq 1 100); do
  grep -q listening "$FB_TMP/server.out" && break
  sleep 0.05
done
fb_eq "flagserver listens in the server namespace" "$(head -n 1 "$FB_TMP/server.out")" \
  "flagserver listening on http://198.18.0.1:8001/flags"

for client in "$FLAGS_THREADPOOL" "$FLAGS_ASYNCLOOP"; do
  name=$(basename "$client")
  out=$FB_TMP/$name
  t0=$(fb_now)
  ip netns exec "fbnl-$$-c" timeout -s KILL 120 "$client" -s http://198.18.0.1:8001/flags -m 5 \
    --timeout 20 --output "$out" "${CODES[@]}" XX >"$out.log" 2>&1
  rc=$?
  elapsed=$(fb_elapsed "$t0")
  fb_eq "$name: exit 0 across the lab" "$rc" 0
  same=0
  for cc in "${CODES[@]}"; do
    lc=$(printf '%s' "$cc" | tr 'A-Z' 'a-z')
    cmp -s "$out/$cc.gif" "$FB_TMP/data/flags/$lc/$lc.gif" 2>/dev/null ||
      cmp -s "$out/$lc.gif" "$FB_TMP/data/flags/$lc/$lc.gif" && same=$((same + 1))
  done
  fb_eq "$name: all 20 files byte-identical" "$same" 20
  fb_eq "$name: nothing else written (no partial file)" "$(find "$out" -type f | wc -l)" 20
  fb_ok "$name: says 20 downloaded" grep -q "20 flags downloaded" "$out.log"
  fb_ok "$name: says 1 not found" grep -q "1 not found" "$out.log"
  # 21 requests, 5 at a time: at least 5 rounds of request and response, and
  # the connects, at 20 ms each: a run on loopback would take a few ms.
  fb_le "$name: took at least 5 round trips ($elapsed s)" 0.1 "$elapsed"
  fb_log "$name: $(tail -n 1 "$out.log")"
done
fb_finish
