#!/usr/bin/env bash
# server_settings: /stats reports the server's settings (issue 14) exactly as
# docs/flagserver.md says, so a client on another host can check the delay and
# error settings it benchmarks against; and flagserver binds 127.0.0.1 when
# no --bind is given.
# Usage: settings.sh PATH/TO/tests/lib.sh   (FLAGSERVER in the environment)
# shellcheck source=tests/lib.sh
source "$1"
fb_need python3:python3 ss:iproute2

DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR

settings() { curl -s --max-time 5 "$1/stats" | jq -c .settings; }

# --- no --bind: 127.0.0.1 ------------------------------------------------------
# fb_start_server passes "--bind 127.0.0.1" first; this wrapper drops it.
REAL=$FLAGSERVER
printf '#!/bin/sh\nshift 2\nexec "%s" "$@"\n' "$REAL" >"$FB_TMP/nobind"
chmod +x "$FB_TMP/nobind"
FLAGSERVER=$FB_TMP/nobind fb_start_server --dir "$DATA" --quiet \
  || { fb_fail "flagserver without --bind starts on 127.0.0.1"; fb_finish; }
fb_pass "flagserver without --bind listens on 127.0.0.1 (its listening line)"
fb_ok "... and the kernel agrees: 127.0.0.1:$FB_PORT, not a wildcard address" \
  bash -c "ss -Hltn 'sport = :$FB_PORT' | awk '{ print \$4 }' | grep -qx '127.0.0.1:$FB_PORT'"
fb_eq "no options: settings" "$(settings "$FB_URL")" \
  "{\"bind\":\"127.0.0.1\",\"port\":$FB_PORT,\"delay_ms\":{\"min\":0,\"max\":0},\"error_rate\":0,\"error_kind\":\"status\",\"seed\":1,\"preset\":null,\"tls\":false,\"tls_resume\":false,\"http2\":false,\"h2_max_streams\":100,\"h2_timeout_s\":30}"
fb_stop_server

# --- presets and explicit options --------------------------------------------
fb_start_server --dir "$DATA" --quiet --preset DELAY --seed 42 || fb_fail "DELAY starts"
fb_eq "--preset DELAY --seed 42: settings" "$(settings "$FB_URL")" \
  "{\"bind\":\"127.0.0.1\",\"port\":$FB_PORT,\"delay_ms\":{\"min\":100,\"max\":100},\"error_rate\":0,\"error_kind\":\"status\",\"seed\":42,\"preset\":\"DELAY\",\"tls\":false,\"tls_resume\":false,\"http2\":false,\"h2_max_streams\":100,\"h2_timeout_s\":30}"
fb_stop_server
fb_start_server --dir "$DATA" --quiet --preset ERROR || fb_fail "ERROR starts"
fb_eq "--preset ERROR: settings" "$(settings "$FB_URL")" \
  "{\"bind\":\"127.0.0.1\",\"port\":$FB_PORT,\"delay_ms\":{\"min\":100,\"max\":100},\"error_rate\":0.25,\"error_kind\":\"status\",\"seed\":1,\"preset\":\"ERROR\",\"tls\":false,\"tls_resume\":false,\"http2\":false,\"h2_max_streams\":100,\"h2_timeout_s\":30}"
fb_stop_server
fb_start_server --dir "$DATA" --quiet --delay 50:150 --error-rate 0.1 --error-kind reset \
  --preset ERROR --seed 7 || fb_fail "ERROR with options starts"
fb_eq "--preset ERROR with explicit delay, rate, kind, seed: settings" "$(settings "$FB_URL")" \
  "{\"bind\":\"127.0.0.1\",\"port\":$FB_PORT,\"delay_ms\":{\"min\":50,\"max\":150},\"error_rate\":0.1,\"error_kind\":\"reset\",\"seed\":7,\"preset\":\"ERROR\",\"tls\":false,\"tls_resume\":false,\"http2\":false,\"h2_max_streams\":100,\"h2_timeout_s\":30}"
fb_stats_reset
fb_eq "/stats?reset=1 keeps the settings" "$(settings "$FB_URL" | jq -r .error_kind)" reset
fb_stop_server

# --- --bind ::1 (IPv6 loopback), when this machine has it --------------------
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  "$REAL" --bind ::1 --port 0 --quiet --dir "$DATA" >"$FB_TMP/v6.out" 2>&1 &
  pid=$!
  FB_SERVER_PIDS+=("$pid")
  for _ in $(seq 1 100); do
    line=$(head -n 1 "$FB_TMP/v6.out"); [ -n "$line" ] && break; sleep 0.05
  done
  case $line in
    "flagserver listening on http://[::1]:"*/flags)
      url=${line#flagserver listening on }; url=${url%/flags}; port=${url##*:}
      fb_eq "--bind ::1: settings.bind and port" "$(settings "$url" | jq -c '[.bind, .port]')" "[\"::1\",$port]" ;;
    *) fb_fail "--bind ::1 starts" "$line" ;;
  esac
  kill "$pid"; wait "$pid"
else
  fb_log "no IPv6 loopback here: --bind ::1 not tested"
fi

fb_finish
