#!/usr/bin/env bash
# xfer_cases.sh -- what a response body may do to one backend (issue 15 #5, #6).
#
# Ambiguous framing (two different Content-Lengths; Content-Length with
# Transfer-Encoding), bodies over --max-size (known length, and close-delimited
# so only the write callback can stop them), bounded memory with 17 MiB bodies,
# bodies larger than the write-behind buffer saved byte for byte, a file that
# only ever appears complete, and a 404 body never saved. Every case checks the
# accounting, the exit status and that no temporary file is left and an old
# file survives.
#
# Environment: FLAGS_CLIENT, FLAGSERVER, FAULT_SERVER, FB_LIB, FB_SANITIZE
# (as for faults.sh).
# shellcheck source=tests/lib.sh
source "$FB_LIB"

CLIENT=$FLAGS_CLIENT
BACKEND=$(basename "$CLIENT")
CODES=(BR CN DE FR IN US)
N=${#CODES[@]}
RUN_LIMIT=60
BIG=$((17 * 1024 * 1024)) # fault_server's /big and /bigclose body

fb_log "transfer cases for $BACKEND"
source "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"
fault_start

# run NAME OUTDIR ARGS... : the client with -v, --output and --json; sets RC,
# OUT (stdout+stderr), REC.
run() {
  local name=$1 out=$2; shift 2
  REC=$FB_TMP/$name.json
  rm -f "$REC"
  timeout -k 5 "$RUN_LIMIT" "$CLIENT" -v --output "$out" --json "$REC" "$@" \
    >"$FB_TMP/$name.out" 2>&1
  RC=$?
  OUT=$(cat "$FB_TMP/$name.out")
}

rec() { jq -r "$1" "$REC" 2>/dev/null | tail -n 1; }

# expect NAME OUTDIR RC OK NOT_FOUND ERRORS
expect() {
  local name=$1 out=$2
  fb_eq "$name: exit status" "$RC" "$3"
  # A surprise exit (a sanitizer's report is 66 under TSan) shows its cause.
  [ "$RC" == "$3" ] || sed -n '1,60s/^/       | /p' <<<"$OUT"
  fb_eq "$name: ok/not found/errors of requests" \
    "$(rec .ok)/$(rec .not_found)/$(rec .errors) of $(rec .requests)" "$4/$5/$6 of $(($4 + $5 + $6))"
  fb_eq "$name: no temporary files left" "$(find "$out" -name '.*' -o -name '*.part' | wc -l)" 0
  fb_eq "$name: foreign file untouched" "$(cat "$out/keep.txt")" "not ours"
}

# old_br NAME OUTDIR : the failed download left the old BR.gif as it was.
old_br() { fb_eq "$1: the old BR.gif survives" "$(cat "$2/BR.gif")" "old BR"; }

# lines NAME PATTERN COUNT : -v printed COUNT lines matching PATTERN.
lines() { fb_eq "$1: $COUNT_DESC" "$(grep -c -- "$2" <<<"$OUT")" "$3"; }

# --- ambiguous framing (issue 15 #5) ------------------------------------------
# libcurl 7.88 saves the 50-byte prefix for /dupcl and the 50-byte chunked body
# for /clte, and calls it a success.
for fault in dupcl clte; do
  out=$(new_outdir "$fault")
  run "$fault" "$out" -m "$N" -s "$FAULT/$fault" "${CODES[@]}"
  expect "$fault" "$out" 1 0 0 "$N"
  old_br "$fault" "$out"
  fb_eq "$fault: only BR.gif and keep.txt" "$(ls "$out" | tr '\n' ' ')" "BR.gif keep.txt "
  COUNT_DESC="one 'ambiguous response framing' error per request"
  lines "$fault" "^[A-Z][A-Z] error: ambiguous response framing: " "$N"
done

# --- bodies over --max-size (issue 15 #6) -------------------------------------
# /big announces 17 MiB: CURLOPT_MAXFILESIZE_LARGE refuses it before the body.
# /bigclose sends 17 MiB without a length: the write callback must stop it.
for fault in big bigclose; do
  out=$(new_outdir "$fault")
  run "$fault" "$out" -m "$N" --timeout 20 -s "$FAULT/$fault" "${CODES[@]}"
  expect "$fault over the default cap" "$out" 1 0 0 "$N"
  old_br "$fault over the default cap" "$out"
  COUNT_DESC="one 'larger than --max-size' error per request"
  lines "$fault" "^[A-Z][A-Z] error: response larger than --max-size 1048576 bytes$" "$N"
done

# One byte under the body: refused; exactly the body: saved whole.
out=$(new_outdir cap-1)
run cap-1 "$out" --timeout 20 --max-size $((BIG - 1)) -s "$FAULT/bigclose" BR
expect "--max-size body-1" "$out" 1 0 0 1
old_br "--max-size body-1" "$out"
out=$(new_outdir cap0)
run cap0 "$out" --timeout 20 --max-size 17M -s "$FAULT/bigclose" BR
expect "--max-size 17M, a 17 MiB body" "$out" 0 1 0 0
{ printf 'GIF89a'; head -c $((BIG - 6)) /dev/zero; } >"$FB_TMP/big.gif"
fb_ok "--max-size 17M: BR.gif is the whole 17 MiB body" cmp -s "$out/BR.gif" "$FB_TMP/big.gif"

# Bounded memory: 60 transfers of 17 MiB bodies, 50 at a time, each streamed up
# to a 16 MiB cap (the old code buffered it all: 0.5 GB at -m 30, 1.65 GB at
# -m 100; here it would be 50 x 16 MiB = 800 MB). Measured: 13 MB plain, 36 MB
# under ASan, 116 MB for the pool under TSan, whose per-thread state is large:
# TSan gets 400 MB, still half of what buffering would need.
out=$(new_outdir rss)
run rss "$out" --quiet -m 50 --repeat 10 --timeout 30 --max-size 16M \
  -s "$FAULT/bigclose" "${CODES[@]}"
expect "-m 50, 17 MiB bodies, --max-size 16M" "$out" 1 0 0 60
rss_bound=200000
[ "${FB_SANITIZE:-}" = thread ] && rss_bound=400000
fb_le "-m 50, 17 MiB bodies: peak RSS $(rec .max_rss_kb) kB <= $rss_bound kB" \
  "$(rec .max_rss_kb)" "$rss_bound"

# --- --max-size against real flags ----------------------------------------------
# flagserver sends a Content-Length; flags of 800 bytes or less are saved,
# larger ones are errors (the test data's flags are 520 to 1005 bytes).
DATA=$FB_TMP/data
fb_make_dataset "$DATA" "${CODES[@]}"
fb_start_server --dir "$DATA" --quiet || { fb_fail "flagserver starts"; fb_finish; }
small=0
for cc in "${CODES[@]}"; do
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  [ "$(stat -c %s "$DATA/flags/$lc/$lc.gif")" -le 800 ] && small=$((small + 1))
done
fb_le "the data has flags on both sides of 800 bytes" 1 "$small"
fb_le "the data has flags on both sides of 800 bytes" "$small" $((N - 1))
out=$(new_outdir cap800)
run cap800 "$out" --max-size 800 -s "$FB_BASE" "${CODES[@]}"
expect "--max-size 800" "$out" 1 "$small" 0 $((N - small))
bad=0
for cc in "${CODES[@]}"; do
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  if [ "$(stat -c %s "$DATA/flags/$lc/$lc.gif")" -le 800 ]; then
    cmp -s "$out/$cc.gif" "$DATA/flags/$lc/$lc.gif" || bad=$((bad + 1))
  else
    grep -q "^$cc error: response larger than --max-size 800 bytes$" <<<"$OUT" || bad=$((bad + 1))
    [ "$cc" != BR ] && [ -e "$out/$cc.gif" ] && bad=$((bad + 1))
  fi
done
fb_eq "--max-size 800: small flags saved whole, large ones refused and absent" "$bad" 0

# --- bodies larger than the write-behind buffer are saved byte for byte -------
BIGDATA=$FB_TMP/bigdata
mkdir -p "$BIGDATA"
sizes=(32767 32768 32769 65536 100000 1048576) # around 32 KiB, and the default cap
i=0
for cc in "${CODES[@]}"; do
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  mkdir -p "$BIGDATA/flags/$lc"
  { printf 'GIF89a%s' "$cc"; head -c $((sizes[i] - 8)) /dev/urandom; } >"$BIGDATA/flags/$lc/$lc.gif"
  i=$((i + 1))
done
fb_start_server --dir "$BIGDATA" --quiet || fb_fail "flagserver (large flags) starts"
out=$(new_outdir large)
run large "$out" -m 3 --repeat 4 -s "$FB_BASE" "${CODES[@]}"
expect "flags of 32 KiB - 1 B to 1 MiB" "$out" 0 $((N * 4)) 0 0
bad=0
for cc in "${CODES[@]}"; do
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  cmp -s "$out/$cc.gif" "$BIGDATA/flags/$lc/$lc.gif" || bad=$((bad + 1))
done
fb_eq "flags of 32 KiB - 1 B to 1 MiB: every file identical" "$bad" 0

# --- a file appears only complete ---------------------------------------------
# While a 17 MiB body streams into its temporary file, BR.gif is only ever the
# old file or the whole new one.
out=$(new_outdir atomic)
REC=$FB_TMP/atomic.json
timeout -k 5 "$RUN_LIMIT" "$CLIENT" --quiet --output "$out" --json "$REC" --timeout 20 \
  --max-size 17M -s "$FAULT/bigclose" --repeat 5 BR >/dev/null 2>&1 &
pid=$!
seen=""
while kill -0 "$pid" 2>/dev/null; do
  seen+="$(stat -c %s "$out/BR.gif" 2>/dev/null || echo missing) "
done
wait "$pid"
RC=$?
fb_eq "atomic: exit 0" "$RC" 0
odd=$(tr ' ' '\n' <<<"$seen" | grep -v -e '^$' -e "^$BIG\$" -e '^7$' | sort -u | tr '\n' ' ')
fb_eq "atomic: BR.gif was only ever old (7 B) or whole ($BIG B) ($(wc -w <<<"$seen") looks)" \
  "$odd" ""
fb_ok "atomic: BR.gif is the whole body" cmp -s "$out/BR.gif" "$FB_TMP/big.gif"

# --- the recycling save keeps what others hold of an old file (issue 12) -------
# A flag fits the write-behind buffer, so it is swapped in by RENAME_EXCHANGE
# and the file it replaces is rewritten by a later save -- unless someone
# else still has it (common/save.c). 20 rounds of 6 codes on 3 transfers:
# every old file is recycled many times over.
fb_start_server --dir "$DATA" --quiet || fb_fail "flagserver (recycling) starts"
out=$(new_outdir recycle)
ln "$out/BR.gif" "$FB_TMP/br-link"
printf 'old CN\n' >"$out/CN.gif"
exec {cn_fd}<"$out/CN.gif"
run recycle "$out" -m 3 --repeat 20 -s "$FB_BASE" "${CODES[@]}"
expect "recycling save" "$out" 0 $((N * 20)) 0 0
fb_eq "recycling save: a hard link to the old BR.gif still holds it" \
  "$(cat "$FB_TMP/br-link")" "old BR"
fb_eq "recycling save: a reader of the old CN.gif still reads it" "$(cat <&"$cn_fd")" "old CN"
exec {cn_fd}<&-
bad=0
for cc in "${CODES[@]}"; do
  lc=$(tr 'A-Z' 'a-z' <<<"$cc")
  cmp -s "$out/$cc.gif" "$DATA/flags/$lc/$lc.gif" || bad=$((bad + 1))
done
fb_eq "recycling save: every file is the server's" "$bad" 0

# --- a 404 body is not saved --------------------------------------------------
out=$(new_outdir s404)
run s404 "$out" -m "$N" -s "$FAULT/status/404" "${CODES[@]}"
expect "HTTP 404 with a body" "$out" 0 0 "$N" 0
old_br "HTTP 404 with a body" "$out"
fb_eq "HTTP 404 with a body: nothing saved" "$(ls "$out" | tr '\n' ' ')" "BR.gif keep.txt "

fb_finish
