#!/usr/bin/env bash
# test_server_url.sh -- scripts/bench.sh --server-url against a flagserver this
# test started itself on 127.0.0.1 (as a user would on host B): the LOCAL
# quick sweep runs against it, bench.sh starts no server of its own, and the
# report names the external server. Then a server whose settings differ from
# LOCAL's (a 100 ms delay): the scenario is skipped with one clear line.
#
# Environment (set by ctest): FLAGBENCH_SOURCE, FLAGBENCH_BUILD; FLAGSERVER
# (the flagserver binary to run as the external server).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../lib.sh"

src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
build=${FLAGBENCH_BUILD:-$src/build}
FLAGSERVER=${FLAGSERVER:-$build/server/flagserver}
cd "$FB_TMP" || exit 1

mapfile -t codes < <(grep '^[A-Z][A-Z]$' "$src/data/country_codes.txt")
fb_make_dataset ds "${codes[@]}"

# ---- a matching server: LOCAL (no delay, no errors)
fb_start_server --dir ds --quiet || { fb_fail "flagserver did not start"; fb_finish; exit 1; }
has_settings=$(curl -s --max-time 5 "$FB_URL/stats" | jq 'has("settings")')
fb_log "external flagserver at $FB_BASE; /stats has settings: $has_settings"
bash "$src/scripts/bench.sh" --quick --scenario LOCAL --server-url "$FB_BASE" --out out \
    --build "$build" 2>bench.err
rc=$?
fb_eq "bench.sh --server-url exits 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 20 bench.err | sed 's/^/#   /'; fi
fb_eq "bench.sh started no flagserver of its own" "$(grep -c 'flagserver pid' bench.err)" 0
fb_ok "REPORT.md names the external server" grep -qF "(an external server at $FB_BASE)" out/REPORT.md
fb_eq "every LOCAL point is valid or not run here" \
    "$(jq -r '[.[] | select((.valid or .not_run) | not)] | length' out/LOCAL/points.json)" 0
fb_ok "the C points ran against it" \
    test "$(jq '[.[] | select(.valid and (.line == "threadpool" or .line == "asyncloop"))] | length' \
        out/LOCAL/points.json)" -ge 6
fb_ok "its /stats saw the last batch" test "$(curl -s "$FB_URL/stats" | jq .requests)" -gt 0
if [ "$has_settings" = true ]; then
    fb_eq "settings checked: no 'could not be checked' note" \
        "$(grep -c 'could not be checked' out/REPORT.md)" 0
else
    fb_ok "an older server without settings is reported as such" \
        grep -q 'could not be checked' out/REPORT.md
fi
fb_stop_server

# ---- a server with other settings than LOCAL's: skipped, one clear line
if [ "$has_settings" = true ]; then
    fb_start_server --dir ds --quiet --delay 100 || fb_fail "flagserver --delay 100 did not start"
    bash "$src/scripts/bench.sh" --quick --scenario LOCAL --server-url "$FB_URL" --out out2 \
        --build "$build" 2>bench2.err
    fb_eq "bench.sh exits 0 when a scenario does not match the server" "$?" 0
    fb_ok "the log says LOCAL was skipped and why" \
        grep -q 'LOCAL\] skipped: .*delay 100 ms (scenario: 0 ms)' bench2.err
    fb_ok "REPORT.md says LOCAL was not run here and why" \
        grep -q '^\*\*Not run here\*\*: the server at .* does not match: .*delay 100 ms' out2/REPORT.md
    fb_eq "no point was measured" "$(find out2/LOCAL/raw -name 'hf-*.json' | wc -l)" 0
    fb_stop_server
else
    fb_log "this flagserver's /stats has no settings: the mismatch case needs the newer server"
fi

# ---- an https server (issue 10): the TLS scenario with --cacert; LOCAL (plain)
# is skipped against it; an https URL without --cacert is a usage error
bash "$src/scripts/make-certs.sh" certs >/dev/null || fb_fail "make-certs.sh certs failed"
"$FLAGSERVER" --bind 127.0.0.1 --port 0 --dir ds --quiet --tls-cert certs/server.pem \
    --tls-key certs/server.key >tls.out 2>tls.err &
tls_pid=$!
tls_line=""
for _ in $(seq 1 100); do
    tls_line=$(head -n 1 tls.out 2>/dev/null)
    [ -n "$tls_line" ] && break
    sleep 0.05
done
tls_base=${tls_line#flagserver listening on }
fb_ok "a TLS flagserver started ($tls_line)" grep -q '^https://127.0.0.1:[0-9]*/flags$' <<<"$tls_base"
bash "$src/scripts/bench.sh" --quick --scenario TLS,LOCAL --concur 10 --runs 2 --server-url "$tls_base" \
    --cacert certs/ca.pem --out out4 --build "$build" 2>bench4.err
rc=$?
fb_eq "bench.sh --server-url https://... --cacert exits 0" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 20 bench4.err | sed 's/^/#   /'; fi
fb_eq "every TLS point against it is valid" \
    "$(jq -r '[.[] | select(.valid | not) | "\(.line) m=\(.m): \(.reasons)"] | join("; ") | if . == "" then "none" else . end' \
        out4/TLS/points.json)" none
fb_ok "the C points counted handshakes" \
    test "$(jq '[.[] | select(.line == "asyncloop" and .tls.per_run.handshakes > 0)] | length' \
        out4/TLS/points.json)" -eq 1
fb_ok "LOCAL (plain HTTP) was skipped against the TLS server" \
    grep -q 'LOCAL\] skipped: .*TLS on (scenario: off)' bench4.err
bash "$src/scripts/bench.sh" --scenario TLS --server-url "$tls_base" --out out5 --build "$build" 2>bad5.err
fb_eq "an https --server-url without --cacert exits 2" "$?" 2
fb_ok "with one clear line" grep -q "needs --cacert FILE" bad5.err
kill -TERM "$tls_pid" 2>/dev/null
wait "$tls_pid"

# ---- a bad URL is a usage error
bash "$src/scripts/bench.sh" --server-url localhost:8001 --out out3 --build "$build" 2>bad.err
fb_eq "--server-url without http:// exits 2" "$?" 2
fb_ok "with one clear line" grep -q "server-url wants http://HOST:PORT/flags" bad.err

fb_finish
