#!/usr/bin/env bash
# bench-server.sh -- flagserver's request rate next to nginx's, in one run.
#
# Both serve the same dataset (scripts/make-dataset.sh) on 127.0.0.1, each
# pinned to CPU 0, one worker / one thread; wrk runs pinned to CPU 1 and
# cycles through the 194 flag URLs (a Lua script), so both servers do the same
# work: keep-alive GETs of 1-90 kB GIFs. Then, unless --no-tls, the same over
# HTTPS (both servers with the same certificate from make-certs.sh, ECDSA P-256
# or --rsa BITS): keep-alive (record encryption), and with "Connection: close"
# on every request, so that each request is a new connection: once with
# session resumption (wrk resumes), once with it off in both servers (full
# handshakes); flagserver's /stats tls_handshakes/tls_resumed show which.
# Then, unless --no-h2 (or --no-tls), HTTP/2 over TLS: nginx (http2, the same
# certificate, 100 streams per connection) against flagserver --http2, both
# under h2load (10 connections x 10 streams, cycling through the flags).
# Then, unless --no-c10k, 10,000 connections each with one 1-second-delayed
# request in flight at once.
#
# usage: scripts/bench-server.sh [--duration S] [--connections N] [--no-tls] [--rsa BITS]
#                                [--no-h2] [--no-c10k] [DATASET_DIR]
# Writes the figures and the exact commands to results/server/README.md.
# Stops both servers on exit and on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10 conns=50 c10k=1 tls=1 h2=1 rsa_bits="" dataset=dataset
h2conns=10 h2streams=10
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --no-c10k) c10k=0; shift ;;
    --no-tls) tls=0; shift ;;
    --no-h2) h2=0; shift ;;
    --rsa) rsa_bits=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "bench-server.sh: unknown option $1" >&2; exit 2 ;;
    *) dataset=$1; shift ;;
  esac
done

bash "$(dirname "$0")/setup.sh" --server-bench >&2
[ "$tls" -eq 1 ] || h2=0 # HTTP/2 here is h2 over TLS, as browsers speak it
tools=(wrk nginx taskset curl jq openssl)
[ "$h2" -eq 0 ] || tools+=(h2load)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "bench-server.sh: $tool not found (scripts/setup.sh --server-bench)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
FLAGSERVER=${FLAGSERVER:-}
if [ -z "$FLAGSERVER" ]; then
  cmake -S . -B build -DFLAGBENCH_WERROR=ON >/dev/null
  cmake --build build --target flagserver >/dev/null
  FLAGSERVER=build/server/flagserver
fi
[ -d "$dataset/flags" ] || bash scripts/make-dataset.sh "$dataset"
dataset=$(cd "$dataset" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-server.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # [FROM]: first port from FROM (default 18080) nobody listens on
  local p
  for p in $(seq "${1:-18080}" 18200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

wait_http() { # url [curl options]: up to 5 s
  for _ in $(seq 1 100); do
    curl -s --max-time 1 -o /dev/null "${@:2}" "$1" && return 0
    sleep 0.05
  done
  echo "bench-server.sh: $1 did not come up" >&2
  return 1
}

# --- the wrk script: every flag in turn ---------------------------------------
{
  printf 'codes = {'
  tr -s ' \n' '\n\n' <data/country_codes.txt | tr 'A-Z' 'a-z' | grep . | sed 's/.*/"&",/' | tr -d '\n'
  printf '}\ni = 0\nrequest = function()\n  i = i %% #codes + 1\n'
  printf '  local cc = codes[i]\n  return wrk.format("GET", "/flags/" .. cc .. "/" .. cc .. ".gif")\nend\n'
} >"$tmp/cycle.lua"

# --- nginx ------------------------------------------------------------------
nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  types { image/gif gif; }
  sendfile on;
  tcp_nopush on;
  open_file_cache max=1000;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport backlog=4096;
    root $dataset;
  }
CONF
if [ "$tls" -eq 1 ]; then
  # The certificates go to the temporary directory and die with it.
  bash scripts/make-certs.sh "$tmp/certs" ${rsa_bits:+--rsa "$rsa_bits"}
  nsport=$(free_port $((nport + 1))) # nginx is not listening on nport yet
  nfport=$(free_port $((nsport + 1)))
  # nsport as flagserver by default: tickets, and a session cache (OpenSSL's
  # in memory, nginx's shared); nfport without either, as --no-tls-resume.
  cat >>"$tmp/nginx/nginx.conf" <<CONF
  server {
    listen 127.0.0.1:$nsport ssl backlog=4096;
    root $dataset;
    ssl_certificate $tmp/certs/server.pem;
    ssl_certificate_key $tmp/certs/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    ssl_session_cache shared:SSL:10m;
  }
  server {
    listen 127.0.0.1:$nfport ssl backlog=4096;
    root $dataset;
    ssl_certificate $tmp/certs/server.pem;
    ssl_certificate_key $tmp/certs/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache off;
  }
CONF
  if [ "$h2" -eq 1 ]; then
    nhport=$(free_port $((nfport + 1)))
    # As flagserver --http2: h2 by ALPN, 100 streams (nginx's default is 128).
    cat >>"$tmp/nginx/nginx.conf" <<CONF
  server {
    listen 127.0.0.1:$nhport ssl http2 backlog=4096;
    root $dataset;
    ssl_certificate $tmp/certs/server.pem;
    ssl_certificate_key $tmp/certs/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    ssl_session_cache shared:SSL:10m;
    http2_max_concurrent_streams 100;
  }
CONF
  fi
fi
echo "}" >>"$tmp/nginx/nginx.conf"
taskset -c 0 "$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" 2>"$tmp/nginx/stderr" &
pids+=($!)
nginx_master=$!
wait_http "http://127.0.0.1:$nport/flags/br/br.gif"
[ "$tls" -eq 0 ] || wait_http "https://127.0.0.1:$nsport/flags/br/br.gif" --cacert "$tmp/certs/ca.pem"

# --- flagserver ----------------------------------------------------------------
taskset -c 0 "$FLAGSERVER" --port 0 --dir "$dataset" --quiet >"$tmp/fs.out" 2>"$tmp/fs.err" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$tmp/fs.out" ] && break; sleep 0.05; done
fsurl=$(sed -n 's/^flagserver listening on \(http:[^ ]*\)\/flags$/\1/p' "$tmp/fs.out")
[ -n "$fsurl" ] || { echo "bench-server.sh: flagserver did not start: $(cat "$tmp/fs.err")" >&2; exit 1; }
wait_http "$fsurl/flags/br/br.gif"

# Same bytes from both?
curl -s -o "$tmp/a.gif" "http://127.0.0.1:$nport/flags/br/br.gif"
curl -s -o "$tmp/b.gif" "$fsurl/flags/br/br.gif"
cmp -s "$tmp/a.gif" "$tmp/b.gif" || { echo "bench-server.sh: nginx and flagserver disagree" >&2; exit 1; }

cpu_ticks() { # PID: its user + system CPU time in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
run_wrk() { # name url [wrk options]: NAME's server is nginx's worker or the last flagserver
  local cmd=(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency "${@:3}" -s "$tmp/cycle.lua" "$2")
  local pid t0
  case $1 in nginx*) pid=$(pgrep -P "$nginx_master" | head -n 1) ;; *) pid=${pids[-1]} ;; esac
  echo "== $1: ${cmd[*]}" >&2
  t0=$(cpu_ticks "$pid")
  "${cmd[@]}" >"$tmp/$1.wrk"
  # The server's CPU use during the run, in % of one core: below ~95 % the
  # client (wrk on the other CPU), not the server, set the rate.
  awk -v a="$t0" -v b="$(cpu_ticks "$pid")" -v hz="$(getconf CLK_TCK)" -v d="$duration" \
    'BEGIN { printf "%.0f%%", (b - a) / hz / d * 100 }' >"$tmp/$1.cpu"
  cat "$tmp/$1.wrk" >&2
  echo "server CPU: $(cat "$tmp/$1.cpu") of one core" >&2
}
# warm-up, then the measured runs
taskset -c 1 wrk -t1 -c"$conns" -d2s -s "$tmp/cycle.lua" "http://127.0.0.1:$nport" >/dev/null
taskset -c 1 wrk -t1 -c"$conns" -d2s -s "$tmp/cycle.lua" "$fsurl" >/dev/null
run_wrk nginx "http://127.0.0.1:$nport"
run_wrk flagserver "$fsurl"

rps() { awk '/^Requests\/sec/ {print $2}' "$tmp/$1.wrk"; }
lat() { awk -v p="$2" '$1 == p {print $2}' "$tmp/$1.wrk"; }
avg() { awk '$1 == "Latency" {print $2; exit}' "$tmp/$1.wrk"; }
n_rps=$(rps nginx) f_rps=$(rps flagserver)
ratio=$(awk -v a="$f_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", a / b }')
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# --- HTTPS: keep-alive, then a new connection per request ---------------------
# wrk offers the session of its previous connection (TLS 1.3 tickets), so with
# "Connection: close" every request is a new connection with a *resumed*
# handshake; the full-handshake run turns resumption off in both servers
# (flagserver --no-tls-resume; nginx tickets and cache off). flagserver's
# /stats proves which kind each run had.
tls_rows="" tls_line="(skipped: --no-tls)"
start_tls_flagserver() { # NAME [flagserver options]: sets fssurl
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
  taskset -c 0 "$FLAGSERVER" --port 0 --dir "$dataset" --quiet --tls-cert "$tmp/certs/server.pem" \
    --tls-key "$tmp/certs/server.key" "${@:2}" >"$tmp/$1.out" 2>"$tmp/$1.err" &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$tmp/$1.out" ] && break; sleep 0.05; done
  fssurl=$(sed -n 's/^flagserver listening on \(https:[^ ]*\)\/flags$/\1/p' "$tmp/$1.out")
  [ -n "$fssurl" ] || { echo "bench-server.sh: flagserver (TLS) did not start: $(cat "$tmp/$1.err")" >&2; exit 1; }
  wait_http "$fssurl/flags/br/br.gif" "${ca[@]}"
}
hs_counts() { # the handshake counters of flagserver's /stats since its last reset
  local st
  st=$(curl -s "${ca[@]}" "$fssurl/stats")
  echo "== /stats: $st" >&2
  jq -r '"\(.tls_handshakes) handshakes (\(.tls_resumed) resumed), \(.tls_failed) failed, \(.requests) requests"' <<<"$st"
}
if [ "$tls" -eq 1 ]; then
  ca=(--cacert "$tmp/certs/ca.pem")
  close=(-H "Connection: close")
  nsurl="https://127.0.0.1:$nsport" nfurl="https://127.0.0.1:$nfport"
  start_tls_flagserver fss
  for u in "$nsurl" "$nfurl" "$fssurl"; do
    curl -s "${ca[@]}" -o "$tmp/c.gif" "$u/flags/br/br.gif"
    cmp -s "$tmp/a.gif" "$tmp/c.gif" || { echo "bench-server.sh: $u does not serve the bytes nginx serves over HTTP" >&2; exit 1; }
  done
  for u in "$nsurl" "$fssurl"; do
    taskset -c 1 wrk -t1 -c"$conns" -d2s -s "$tmp/cycle.lua" "$u" >/dev/null
  done
  run_wrk nginx-ka "$nsurl"
  run_wrk flagserver-ka "$fssurl"
  run_wrk nginx-resumed "$nsurl" "${close[@]}"
  curl -s "${ca[@]}" -o /dev/null "$fssurl/stats?reset=1"
  run_wrk flagserver-resumed "$fssurl" "${close[@]}"
  resumed_counts=$(hs_counts)
  start_tls_flagserver fsf --no-tls-resume
  run_wrk nginx-full "$nfurl" "${close[@]}"
  run_wrk flagserver-full "$fssurl" "${close[@]}"
  full_counts=$(hs_counts)
  for n in nginx-ka flagserver-ka nginx-resumed flagserver-resumed nginx-full flagserver-full; do
    grep -q '^Requests/sec' "$tmp/$n.wrk" || { echo "bench-server.sh: wrk $n failed" >&2; exit 1; }
  done
  key_type=$(if [ -n "$rsa_bits" ]; then echo "RSA $rsa_bits"; else echo "ECDSA P-256"; fi)
  tls_rows=$(
    for n in nginx-ka flagserver-ka nginx-resumed flagserver-resumed nginx-full flagserver-full; do
      case $n in
        *-ka) what="keep-alive" ;;
        *-resumed) what="new connection per request, resumed session" ;;
        *) what="new connection per request, full handshake" ;;
      esac
      echo "| ${n%-*} | $what | $(rps "$n") | $(cat "$tmp/$n.cpu") | $(avg "$n") | $(lat "$n" 50%) | $(lat "$n" 99%) |"
    done)
  tls_line="HTTPS with the same $key_type certificate (make-certs.sh), TLS 1.3 as wrk negotiates it.
flagserver / nginx: keep-alive **$(div "$(rps flagserver-ka)" "$(rps nginx-ka)")**, resumed handshakes
**$(div "$(rps flagserver-resumed)" "$(rps nginx-resumed)")**, full handshakes **$(div "$(rps flagserver-full)" "$(rps nginx-full)")**.
flagserver's /stats over its resumed run: $resumed_counts; over its full run (--no-tls-resume):
$full_counts. (The /stats request itself is one more handshake; failed ones are the
connections wrk abandons mid-handshake when its time is up. Server CPU is the server's user +
system time over the run, in % of one core: well below 100 %, the client set the rate.)"
fi

# --- HTTP/2 over TLS: h2load against nginx and flagserver --http2 --------------
h2_rows="" h2_line="(skipped: --no-h2 or --no-tls)"
run_h2load() { # name url: like run_wrk, with h2load cycling through every flag
  local urls=() cc pid t0 cmd
  for cc in $(tr -s ' \n' '\n\n' <data/country_codes.txt | tr 'A-Z' 'a-z' | grep .); do
    urls+=("$2/flags/$cc/$cc.gif")
  done
  cmd=(taskset -c 1 h2load -t1 -c"$h2conns" -m"$h2streams" --warm-up-time=2 -D"$duration")
  case $1 in nginx*) pid=$(pgrep -P "$nginx_master" | head -n 1) ;; *) pid=${pids[-1]} ;; esac
  echo "== $1: ${cmd[*]} URL/flags/{cc}/{cc}.gif x ${#urls[@]}" >&2
  t0=$(cpu_ticks "$pid")
  "${cmd[@]}" "${urls[@]}" >"$tmp/$1.h2load"
  awk -v a="$t0" -v b="$(cpu_ticks "$pid")" -v hz="$(getconf CLK_TCK)" -v d="$((duration + 2))" \
    'BEGIN { printf "%.0f%%", (b - a) / hz / d * 100 }' >"$tmp/$1.cpu"
  cat "$tmp/$1.h2load" >&2
  grep -q '^finished in .* req/s' "$tmp/$1.h2load" || { echo "bench-server.sh: h2load $1 failed" >&2; exit 1; }
}
h2rps() { sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$tmp/$1.h2load"; }
h2ok() { sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$tmp/$1.h2load"; }
h2lat() { awk '$1 == "time" && $2 == "for" && $3 == "request:" { print $6; exit }' "$tmp/$1.h2load"; }
if [ "$h2" -eq 1 ]; then
  start_tls_flagserver fsh --http2
  fshurl=$fssurl
  curl -s --http2 "${ca[@]}" -o "$tmp/h.gif" "$fshurl/flags/br/br.gif"
  cmp -s "$tmp/a.gif" "$tmp/h.gif" || { echo "bench-server.sh: flagserver --http2 serves other bytes" >&2; exit 1; }
  run_h2load nginx-h2 "https://127.0.0.1:$nhport"
  curl -s --http2 "${ca[@]}" -o /dev/null "$fshurl/stats?reset=1"
  run_h2load flagserver-h2 "$fshurl"
  h2stats=$(curl -s --http2 "${ca[@]}" "$fshurl/stats")
  echo "== /stats: $h2stats" >&2
  h2_rows=$(for n in nginx-h2 flagserver-h2; do
    echo "| ${n%-h2} | $(h2rps "$n") | $(h2ok "$n") | $(cat "$tmp/$n.cpu") | $(h2lat "$n") |"
  done)
  h2_line="HTTP/2 over TLS (ALPN h2, the same certificate): flagserver / nginx = **$(div "$(h2rps flagserver-h2)" "$(h2rps nginx-h2)")**.
flagserver's /stats over its run: $(jq -r '"\(.requests_by_protocol.h2) h2 requests on \(.connections_by_protocol.h2) connections, peak \(.peak_streams_per_connection) streams on one, \(.tls_handshakes) handshakes"' <<<"$h2stats").
Each: \`taskset -c 1 h2load -t1 -c$h2conns -m$h2streams --warm-up-time=2 -D$duration\` over the 194 flag URLs."
fi

# --- 10,000 delayed requests in flight at once -------------------------------
c10k_line="(skipped: --no-c10k)"
if [ "$c10k" -eq 1 ]; then
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
  taskset -c 0 "$FLAGSERVER" --port 0 --dir "$dataset" --quiet --delay 1000 >"$tmp/fs2.out" 2>"$tmp/fs2.err" &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$tmp/fs2.out" ] && break; sleep 0.05; done
  fsurl2=$(sed -n 's/^flagserver listening on \(http:[^ ]*\)\/flags$/\1/p' "$tmp/fs2.out")
  c10k_cmd=(taskset -c 1 wrk -t1 -c10000 -d5s --timeout 10s "$fsurl2/flags/br/br.gif")
  echo "== c10k: flagserver --delay 1000; ${c10k_cmd[*]}" >&2
  ( ulimit -n 20000 2>/dev/null || true; "${c10k_cmd[@]}" ) >"$tmp/c10k.wrk" 2>&1 || true
  cat "$tmp/c10k.wrk" >&2
  sleep 1.5
  stats=$(curl -s --max-time 5 "$fsurl2/stats")
  echo "== /stats after: $stats" >&2
  c10k_line="peak_in_flight $(jq .peak_in_flight <<<"$stats"), peak_connections $(jq .peak_connections <<<"$stats"), $(jq .requests <<<"$stats") requests, by_status $(jq -c .by_status <<<"$stats"); wrk: $(grep -E 'requests in|Socket errors|Latency' "$tmp/c10k.wrk" | tr -s ' ' | tr '\n' ';')"
fi

mkdir -p results/server
{
  echo "# flagserver vs nginx (scripts/bench-server.sh)"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
  echo "$($NGINX -v 2>&1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), libevent $(pkg-config --modversion libevent)."
  echo "Both servers pinned to CPU 0 (nginx: 1 worker, access_log off, sendfile;"
  echo "flagserver: one thread, files in memory), wrk pinned to CPU 1, cycling through"
  echo "the 194 flags of the dataset (make-dataset.sh, 4 MB of GIFs) over $conns keep-alive connections."
  echo
  echo "| server | requests/s | server CPU | avg latency | p50 | p99 |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| nginx | $n_rps | $(cat "$tmp/nginx.cpu") | $(avg nginx) | $(lat nginx 50%) | $(lat nginx 99%) |"
  echo "| flagserver | $f_rps | $(cat "$tmp/flagserver.cpu") | $(avg flagserver) | $(lat flagserver 50%) | $(lat flagserver 99%) |"
  echo
  echo "flagserver / nginx = **$ratio**."
  echo
  if [ -n "$tls_rows" ]; then
    echo "| server | HTTPS | requests/s | server CPU | avg latency | p50 | p99 |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    echo "$tls_rows"
    echo
  fi
  echo "$tls_line"
  echo
  if [ -n "$h2_rows" ]; then
    echo "| server | HTTP/2 (h2) requests/s | succeeded | server CPU | mean time per request |"
    echo "|---|---:|---:|---:|---:|"
    echo "$h2_rows"
    echo
  fi
  echo "$h2_line"
  echo
  echo "10,000 connections, each with one request delayed 1 s in flight (flagserver --delay 1000):"
  echo "$c10k_line"
  echo
  echo "Command: \`scripts/bench-server.sh --duration $duration --connections $conns${rsa_bits:+ --rsa $rsa_bits}\`; each measurement is"
  echo "\`taskset -c 1 wrk -t1 -c$conns -d${duration}s --latency -s cycle.lua URL\` after a 2 s warm-up;"
  echo "the new-connection runs add \`-H 'Connection: close'\` (the server closes after each response"
  echo "and wrk reconnects: requests/s = handshakes/s)."
} >results/server/README.md
cat results/server/README.md
