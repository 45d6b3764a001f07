#!/usr/bin/env bash
# faults.sh -- the fault matrix (issue 6) for one backend.
#
# Every case checks: each requested download accounted for exactly once (the
# --json record's ok + not_found + errors == requests), the documented exit
# status, nothing partial or foreign in the output directory, files that were
# there before untouched, no crash and no hang (every run is bounded by
# timeout). The ASan build runs this same script, so leaks fail it too.
#
# Environment: FLAGS_CLIENT (backend binary), FLAGSERVER, FAULT_SERVER, FB_LIB
# (tests/lib.sh), FB_SANITIZE (empty, address or thread).
# shellcheck source=tests/lib.sh
source "$FB_LIB"

CLIENT=$FLAGS_CLIENT
BACKEND=$(basename "$CLIENT")
CODES=(BR CN DE FR IN US)
N=${#CODES[@]}
RUN_LIMIT=60 # seconds any one client run may take before it counts as a hang

fb_log "fault matrix for $BACKEND"
DATA=$FB_TMP/data
fb_make_dataset "$DATA" "${CODES[@]}" A{A..Z} # BR..US plus AA..AZ
fb_start_server --dir "$DATA" --quiet || { fb_fail "flagserver starts"; fb_finish; }
FLAGS=$FB_BASE

source "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"
fault_start "$FLAGS"

# run NAME OUTDIR ARGS... : runs the client with --output OUTDIR and a --json
# record; sets RC, OUT (stdout), ERR (stderr), REC (the record's path).
run() {
  local name=$1 out=$2; shift 2
  REC=$FB_TMP/$name.json
  rm -f "$REC"
  timeout -k 5 "$RUN_LIMIT" "$CLIENT" --output "$out" --json "$REC" "$@" \
    >"$FB_TMP/$name.stdout" 2>"$FB_TMP/$name.stderr"
  RC=$?
  OUT=$(cat "$FB_TMP/$name.stdout")
  ERR=$(cat "$FB_TMP/$name.stderr")
}

rec() { jq -r "$1" "$REC" 2>/dev/null | tail -n 1; }
num() { local v; v=$(rec "$1"); [[ $v =~ ^[0-9]+$ ]] || v=-1; printf '%s' "$v"; }

# expect NAME OUTDIR RC OK NOT_FOUND ERRORS : the common checks.
expect() {
  local name=$1 out=$2 rc=$3 ok=$4 nf=$5 err=$6
  fb_eq "$name: exit status" "$RC" "$rc"
  [ "$RC" -ge 124 ] && [ "$RC" != 130 ] && fb_log "stderr: $ERR"
  local requests
  requests=$(rec .requests)
  fb_eq "$name: ok/not found/errors" "$(rec .ok)/$(rec .not_found)/$(rec .errors)" "$ok/$nf/$err"
  fb_eq "$name: every request accounted once" \
    "$(($(num .ok) + $(num .not_found) + $(num .errors)))" "$requests"
  no_debris "$name" "$out"
}

# no_debris NAME OUTDIR : no temporary or partial file, the foreign file intact,
# and BR.gif either the old one or the real flag, never anything else.
no_debris() {
  local name=$1 out=$2
  fb_eq "$name: no temporary files left" "$(find "$out" -name '.*' -o -name '*.part' | wc -l)" 0
  fb_eq "$name: foreign file untouched" "$(cat "$out/keep.txt")" "not ours"
  if cmp -s "$out/BR.gif" "$DATA/flags/br/br.gif" || [ "$(cat "$out/BR.gif")" == "old BR" ]; then
    fb_pass "$name: BR.gif old or complete"
  else
    fb_fail "$name: BR.gif old or complete" "it is neither"
  fi
}

# --- transport faults: all N requests fail, exit 1, old files untouched -------
for fault in close reset short silent; do
  out=$(new_outdir "$fault")
  run "$fault" "$out" -m "$N" --timeout 2 -s "$FAULT/$fault" "${CODES[@]}"
  expect "$fault" "$out" 1 0 0 "$N"
done

out=$(new_outdir refused)
run refused "$out" -s "http://127.0.0.1:1/flags" "${CODES[@]}"
expect refused "$out" 1 0 0 "$N"

# A name that cannot resolve: in a fresh network namespace the resolver fails
# at once, and no query ever leaves this machine.
if unshare -n true 2>/dev/null; then
  out=$(new_outdir unresolvable)
  REC=$FB_TMP/unresolvable.json
  timeout -k 5 "$RUN_LIMIT" unshare -n "$CLIENT" --output "$out" --json "$REC" -v \
    -s "http://flagbench.invalid/flags" "${CODES[@]}" >"$FB_TMP/unres.stdout" 2>&1
  RC=$?
  expect unresolvable "$out" 1 0 0 "$N"
  fb_ok "unresolvable: the error says so" grep -qi "resolve" "$FB_TMP/unres.stdout"
else
  fb_log "SKIP unresolvable host: unshare -n not permitted here"
fi

# The stall: headers, part of the body, then nothing. --timeout must fire
# within 0.5 s of its value (all N stall at once, so the run takes one timeout).
out=$(new_outdir stall)
run stall "$out" -m "$N" --timeout 1 -s "$FAULT/stall" "${CODES[@]}"
expect stall "$out" 1 0 0 "$N"
fb_le "stall: --timeout 1 fires by 1.5 s (elapsed $(rec .elapsed_s))" "$(rec .elapsed_s)" 1.5
fb_le "stall: and not before 1 s" 1.0 "$(rec .elapsed_s)"

# --- TLS handshakes that never finish -------------------------------------------
# fault_server's TLS listeners: one reads the ClientHello and never answers
# (the handshake ends at --timeout), one resets the connection after it. The
# certificate checks (unknown CA, name, expiry) are the integration list's.
fault_certs
out=$(new_outdir tls-stall)
run tls-stall "$out" -v -m "$N" --timeout 1 --cacert "$CERTS/ca.pem" -s "$FAULT_TLS_STALL" \
  "${CODES[@]}"
expect "TLS handshake stall" "$out" 1 0 0 "$N"
fb_eq "TLS handshake stall: one line per request says so" \
  "$(grep -c '^[A-Z][A-Z] error: TLS handshake timed out after 1000 milliseconds$' <<<"$OUT")" "$N"
fb_le "TLS handshake stall: --timeout 1 fires by 1.5 s (elapsed $(rec .elapsed_s))" \
  "$(rec .elapsed_s)" 1.5
fb_le "TLS handshake stall: and not before 1 s" 1.0 "$(rec .elapsed_s)"

out=$(new_outdir tls-reset)
run tls-reset "$out" -v -m 3 --cacert "$CERTS/ca.pem" -s "$FAULT_TLS_RESET" "${CODES[@]}"
expect "TLS reset mid-handshake" "$out" 1 0 0 "$N"
fb_eq "TLS reset mid-handshake: one line per request says so" \
  "$(grep -c '^[A-Z][A-Z] error: TLS handshake failed: connection reset by the server$' \
    <<<"$OUT")" "$N"

# --- HTTP statuses ------------------------------------------------------------
for status in 500 503 418; do
  out=$(new_outdir "s$status")
  run "s$status" "$out" -v -s "$FAULT/status/$status" "${CODES[@]}"
  expect "HTTP $status" "$out" 1 0 0 "$N"
  fb_ok "HTTP $status: -v names the status" grep -q "^BR error: HTTP error $status" <<<"$OUT"
done

# --- redirects ------------------------------------------------------------------
out=$(new_outdir moved)
run moved "$out" -s "$FAULT/moved" "${CODES[@]}"
expect "301 followed" "$out" 0 "$N" 0 0
for cc in "${CODES[@]}"; do
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  cmp -s "$out/$cc.gif" "$DATA/flags/$lc/$lc.gif" || fb_fail "301 followed: $cc.gif identical"
done
fb_pass "301 followed: files checked"

out=$(new_outdir loop)
run loop "$out" -v -s "$FAULT/loop" "${CODES[@]}"
expect "redirect loop" "$out" 1 0 0 "$N"
fb_ok "redirect loop: bounded, reported" grep -qi "redirect" <<<"$OUT"

# --- the file system says no --------------------------------------------------
# As root, permissions do not stop writes: use private mounts (unshare -m) of a
# read-only and of a tiny tmpfs. They vanish with the namespace.
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
  mnt=$FB_TMP/mnt
  mkdir -p "$mnt"
  # run_in_mount NAME MOUNT_OPTS RO: mounts, seeds, runs, copies the result out.
  run_in_mount() {
    local name=$1 opts=$2 ro=$3
    REC=$FB_TMP/$name.json
    timeout -k 5 "$RUN_LIMIT" unshare -m bash -c '
      set -e; mnt=$1 opts=$2 ro=$3 rec=$4 copy=$5; shift 5
      mount -t tmpfs -o "$opts" flagbench "$mnt"
      printf "not ours\n" >"$mnt/keep.txt"; printf "old BR\n" >"$mnt/BR.gif"
      [ "$ro" = ro ] && mount -o remount,ro "$mnt"
      set +e; "$@" --output "$mnt" --json "$rec" -v; rc=$?
      mkdir -p "$copy"; cp -a "$mnt/." "$copy/"; exit $rc' \
      _ "$mnt" "$opts" "$ro" "$REC" "$FB_TMP/out-$name" "$CLIENT" "${@:4}" \
      >"$FB_TMP/$name.stdout" 2>&1
    RC=$?
    OUT=$(cat "$FB_TMP/$name.stdout")
  }

  run_in_mount readonly size=1m ro -s "$FLAGS" "${CODES[@]}"
  expect "read-only output dir" "$FB_TMP/out-readonly" 1 0 0 "$N"
  fb_eq "read-only output dir: one clear error per file" \
    "$(grep -c 'error: cannot save ...gif: Read-only file system' <<<"$OUT")" "$N"

  # 26 flags of 0.5-3 KiB into 16 KiB: some fit, the rest fail cleanly.
  run_in_mount full size=16k rw -m 4 -s "$FLAGS" A
  okn=$(num .ok)
  errn=$(num .errors)
  fb_eq "full disk: exit status" "$RC" 1
  fb_eq "full disk: every request accounted once" "$((okn + errn))" 26
  fb_le "full disk: some flags fit" 1 "$okn"
  fb_le "full disk: some do not" 1 "$errn"
  fb_ok "full disk: the error says why" grep -q 'No space left on device' <<<"$OUT"
  no_debris "full disk" "$FB_TMP/out-full"
  bad=0
  for f in "$FB_TMP"/out-full/A?.gif; do
    [ -e "$f" ] || continue
    lc=$(basename "$f" .gif | tr 'A-Z' 'a-z')
    cmp -s "$f" "$DATA/flags/$lc/$lc.gif" || bad=$((bad + 1))
  done
  fb_eq "full disk: every saved flag is complete" "$bad" 0
else
  fb_log "SKIP read-only and full file system cases: need root and unshare -m"
fi

# --- limits -------------------------------------------------------------------
# Hard limit too low for -m: one clear line, exit 2, nothing downloaded.
out=$(new_outdir fdlow)
REC=$FB_TMP/fdlow.json
(ulimit -n 64 && exec timeout -k 5 "$RUN_LIMIT" "$CLIENT" --output "$out" -s "$FLAGS" -e -m 1000) \
  >"$FB_TMP/fdlow.stdout" 2>"$FB_TMP/fdlow.stderr"
RC=$?
fb_eq "-m above the hard fd limit: exit 2" "$RC" 2
fb_eq "-m above the hard fd limit: one line on stderr" "$(wc -l <"$FB_TMP/fdlow.stderr")" 1
fb_ok "-m above the hard fd limit: it says so" grep -qi 'file descriptor\|open files' \
  "$FB_TMP/fdlow.stderr"

# Soft limit low, hard limit high enough: raised, and the run works.
out=$(new_outdir fdsoft)
REC=$FB_TMP/fdsoft.json
(ulimit -Sn 64 && exec timeout -k 5 "$RUN_LIMIT" "$CLIENT" --output "$out" --json "$REC" \
  -s "$FLAGS" -e -m 200) >/dev/null 2>"$FB_TMP/fdsoft.stderr"
RC=$?
expect "-m above the soft fd limit: raised" "$out" 0 32 644 0

# --- interruption -------------------------------------------------------------
# TSan delivers a signal only at its own synchronisation points, so a main
# thread parked in pthread_cond_wait handles it when the next result arrives
# (up to the server's 1 s delay): under TSan the time bounds are TSan's, and
# they are held by the plain and ASan runs of this same script.
if [ "${FB_SANITIZE:-}" = thread ]; then stop_bound=2.5 again_bound=2.0; else stop_bound=1.0 again_bound=0.5; fi
# A slow server (1 s a request, -m 2, 26 codes: 13 s) interrupted after 1.5 s.
fb_start_server --dir "$DATA" --delay 1000 --quiet || fb_fail "slow flagserver starts"
SLOW=$FB_BASE
out=$(new_outdir sigint)
REC=$FB_TMP/sigint.json
"$CLIENT" --output "$out" --json "$REC" -m 2 -s "$SLOW" A >"$FB_TMP/sigint.stdout" 2>&1 &
pid=$!
sleep 1.5
t0=$(fb_now)
kill -INT "$pid"
wait "$pid"
RC=$?
took=$(fb_elapsed "$t0")
OUT=$(cat "$FB_TMP/sigint.stdout")
fb_eq "SIGINT: exit 130" "$RC" 130
fb_le "SIGINT: stops within a second (took ${took}s)" "$took" "$stop_bound"
fb_ok "SIGINT: prints the summary so far" grep -q 'Elapsed time:' <<<"$OUT"
counted=$(sed -nE 's/^ *([0-9]+) (flags? downloaded|not found|errors?|cancelled)\..*/\1/p' \
  <<<"$OUT" | awk '{ n += $1 } END { print n + 0 }')
fb_eq "SIGINT: every request accounted once in the summary" "${counted:-0}" 26
fb_eq "SIGINT: and in the --json record" \
  "$(($(num .ok) + $(num .not_found) + $(num .errors) + $(num .cancelled)))/$(num .requests)" 26/26
fb_le "SIGINT: queued requests were cancelled, not run" 20 "$(num .cancelled)"
no_debris SIGINT "$out"

out=$(new_outdir sigint2)
"$CLIENT" --output "$out" -m 2 -s "$SLOW" A >/dev/null 2>&1 &
pid=$!
sleep 0.5
t0=$(fb_now)
kill -INT "$pid"
sleep 0.05
kill -INT "$pid" 2>/dev/null
wait "$pid"
RC=$?
fb_eq "second SIGINT: exit 130" "$RC" 130
fb_le "second SIGINT: exits at once" "$(fb_elapsed "$t0")" "$again_bound"

# SIGPIPE: stdout closed under the client must not kill it.
out=$(new_outdir sigpipe)
timeout -k 5 "$RUN_LIMIT" "$CLIENT" --output "$out" -v -s "$FLAGS" -e | head -c 1 >/dev/null
RC=${PIPESTATUS[0]}
fb_ok "SIGPIPE: not killed by it (exit $RC)" test "$RC" -ne 141 -a "$RC" -lt 124

# --- issue 15: signals, blocked output, output files, hygiene ------------------
source "$(dirname "${BASH_SOURCE[0]}")/signals.sh"

# --- c10k: -m 10000 works, or says clearly why not ----------------------------
# 10,140 requests held 6 s each by flagserver: the cap is reached exactly.
# Skipped under sanitizers, whose per-thread shadow memory makes 10,000
# threads a test of the sanitizer rather than of the program. This case checks
# completeness and the cap, not speed (bench/scenarios/C10K.json measures that), so it
# leaves room for a loaded 2-core machine (ctest -j plus other work): the
# server's peak reaches 10,000 only if the last connection is open before the
# first response goes out. With a 0.5 s delay the peak was 9,158; with 2 s it
# was 4,928 with three matrices at once here, and one CI run (ctest -j2) failed
# there too; reaching the peak of 10,000 took 3.5 s with /stats polled every
# 50 ms beside it, and under 2 s where the old case passed. With the default
# 3.1 s timeout 4,381 requests timed out while the connections were opened.
if [ -z "${FB_SANITIZE:-}" ]; then
  fb_start_server --dir "$DATA" --delay 6000 --quiet || fb_fail "c10k flagserver starts"
  out=$(new_outdir c10k)
  t0=$(fb_now)
  run c10k "$out" --quiet -s "$FB_BASE" -e --repeat 15 -m 10000 --timeout 60
  fb_log "c10k: took $(fb_elapsed "$t0") s"
  if [ "$RC" -eq 2 ]; then
    fb_log "c10k: refused with: $ERR"
    fb_eq "-m 10000: refused in one line" "$(wc -l <<<"$ERR")" 1
  else
    expect "-m 10000" "$out" 0 $((32 * 15)) $((644 * 15)) 0
    fb_eq "-m 10000: peak in flight is 10000" "$(fb_stats .peak_in_flight)" 10000
  fi
fi

# --- bad command lines: one clear line, exit 2, nothing written ---------------
bad_cli=(
  "-m abc" "-m 0" "-m -3" "-m 99999999999999999999" "-l 0" "-l x" "--timeout abc"
  "--timeout -1" "--repeat 0" "--bogus" "-s FTP" "-s ftp://example/flags"
  "-s 127.0.0.1:8000/flags" "-s http://" "QQQ" "1" "B2" "''" "--cacert /nonexistent/ca.pem"
  "--cacert ." "--cacert ''"
)
for args in "${bad_cli[@]}"; do
  out=$FB_TMP/out-badcli
  eval "set -- $args"
  timeout -k 5 10 "$CLIENT" --output "$out" "$@" >"$FB_TMP/bad.stdout" 2>"$FB_TMP/bad.stderr"
  RC=$?
  fb_eq "bad CLI '$args': exit 2" "$RC" 2
  fb_ok "bad CLI '$args': says what is wrong" grep -q 'rror' "$FB_TMP/bad.stderr"
  fb_ok "bad CLI '$args': writes nothing" test ! -e "$out"
done

fb_finish
