#!/usr/bin/env bash
# uring.sh -- what only flags_asyncloop --save-uring has (issue 23); the
# shared integration and fault lists run it too, as the variants
# flags_asyncloop-uring and -x2-uring.
#
#   refusal    io_uring unavailable (a seccomp filter, as Docker's default
#              profile): one line, exit 2, nothing run -- never a fallback
#   directory  a directory where CC.gif goes: every save an error in the
#              same words, the directory untouched, nothing reported OK
#   many       26 codes x 20, --loops 3 --multis 2: every file complete
#   recycle    the file a save replaced is rewritten by the next save of its
#              code, unless a hard link or an open descriptor holds it
#   swapped    a spare's name taken over mid-save: xfer.c's words, BR.gif
#              and the file that took the name left as they were
#   burst      SIGINT once, then twice, during a burst of saves: exit 130,
#              each request accounted once, no temporary file left
#
# Environment: FLAGS_CLIENT (flags_asyncloop), NO_URING (tests/asyncloop's
# seccomp wrapper), FLAGSERVER, FB_LIB, FB_SANITIZE (empty, address, thread).
# shellcheck source=tests/lib.sh
source "$FB_LIB"
fb_need jq:jq

CLIENT=$FLAGS_CLIENT
CODES=(AA AB AC AD AE AF AG AH AI AJ AK AL AM AN AO AP AQ AR AS AT AU AV AW AX AY AZ)
RUN_LIMIT=60
supp="$(cd "$(dirname "${BASH_SOURCE[0]}")/../faults" && pwd)/tsan-ring-close.supp"
DATA=$FB_TMP/data
fb_make_dataset "$DATA" BR "${CODES[@]}"
fb_start_server --dir "$DATA" --quiet || { fb_fail "flagserver starts"; fb_finish; }
# Under TSan an exit takes 1 s more (its atexit_sleep_ms; 1.23-1.34 s were
# measured here) and a loaded machine starves the loops that end the creations
# a second signal waits for (2.12 s seen once): TSan's bound is 3 s, and the
# plain and ASan runs hold 0.5 s (measured: 0.025-0.041 s).
if [ "${FB_SANITIZE:-}" = thread ]; then again_bound=3.0; else again_bound=0.5; fi

num() { local v; v=$(jq -r "$1" "$2" 2>/dev/null | tail -n 1); [[ $v =~ ^[0-9]+$ ]] || v=-1; printf '%s' "$v"; }
parts() { find "$1" -name '.*' | wc -l; }

# --- refusal ---------------------------------------------------------------
out=$FB_TMP/refused
"$NO_URING" "$CLIENT" --save-uring --output "$out" -s "$FB_BASE" BR >"$FB_TMP/r.out" 2>"$FB_TMP/r.err"
rc=$?
fb_eq "refusal: exit 2" "$rc" 2
fb_eq "refusal: one line says why" "$(cat "$FB_TMP/r.err")" \
  "--save-uring: io_uring is not available here: Operation not permitted"
fb_eq "refusal: nothing on stdout" "$(cat "$FB_TMP/r.out")" ""
fb_ok "refusal: nothing downloaded" test ! -e "$out/BR.gif"
# The filter takes io_uring only: the plain loop runs under it.
"$NO_URING" "$CLIENT" --output "$out" -s "$FB_BASE" --quiet BR >/dev/null 2>&1
fb_eq "refusal: the plain loop runs under the same filter" "$?" 0

# --- directory -------------------------------------------------------------
for variant in "" "--loops 2"; do
  name="directory${variant:+ $variant}"
  out=$FB_TMP/dir-${variant// /}
  mkdir -p "$out/BR.gif"
  touch "$out/BR.gif/inside"
  # shellcheck disable=SC2086 # $variant is one or two words
  timeout -k 5 "$RUN_LIMIT" "$CLIENT" --save-uring $variant -m 20 --repeat 100 -v --output "$out" \
    --json "$FB_TMP/dir.json" -s "$FB_BASE" BR >"$FB_TMP/dir.out" 2>&1
  rc=$?
  fb_eq "$name: exit 1" "$rc" 1
  fb_eq "$name: nothing reported OK" "$(num '.ok' "$FB_TMP/dir.json")" 0
  fb_eq "$name: 100 errors" "$(num '.errors' "$FB_TMP/dir.json")" 100
  fb_eq "$name: each in the words of every backend" \
    "$(grep -c 'error: cannot save BR.gif: Is a directory' "$FB_TMP/dir.out")" 100
  fb_ok "$name: BR.gif is still the directory" test -d "$out/BR.gif" -a -e "$out/BR.gif/inside"
  fb_eq "$name: no temporary file left" "$(parts "$out")" 0
done

# --- many ------------------------------------------------------------------
out=$FB_TMP/many
timeout -k 5 "$RUN_LIMIT" "$CLIENT" --save-uring --loops 3 --multis 2 -m 30 --repeat 20 --quiet \
  --output "$out" --json "$FB_TMP/many.json" -s "$FB_BASE" "${CODES[@]}" >/dev/null 2>&1
fb_eq "many: exit 0" "$?" 0
fb_eq "many: 520 OK" "$(num '.ok' "$FB_TMP/many.json")" 520
# The rings' setup is in the record: COOP_TASKRUN from Linux 5.19 on.
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
want_setup=default
if ((kmaj > 5 || (kmaj == 5 && ${kmin%%[!0-9]*} >= 19))); then want_setup=coop_taskrun; fi
fb_eq "many: the record says how the rings were set up" \
  "$(jq -r '.uring_setup' "$FB_TMP/many.json" | tail -n 1)" "$want_setup"
bad=0
for cc in "${CODES[@]}"; do
  lc=$(printf '%s' "$cc" | tr 'A-Z' 'a-z')
  cmp -s "$out/$cc.gif" "$DATA/flags/$lc/$lc.gif" || bad=$((bad + 1))
done
fb_eq "many: every file complete and right" "$bad" 0
fb_eq "many: no temporary file left" "$(parts "$out")" 0

# --- recycle ---------------------------------------------------------------
# BR.gif exists; --repeat 2: the first save's exchange leaves the old file at
# its temporary name, and the second save rewrites it (save.h's rules), so
# BR.gif ends as the same file with the new content: the same inode number and
# birth time (a number alone could be a freed inode's, reused). A hard link to the old
# file, or a descriptor open on it, forbids the rewrite: the old content stays.
BR_FLAG=$DATA/flags/br/br.gif
recycle() { # NAME HOW: HOW is 'none', 'link' or 'open'
  local name="recycle, $1" how=$2 out=$FB_TMP/recycle-$2 ino rc
  mkdir -p "$out"
  printf 'old BR\n' >"$out/BR.gif"
  ino=$(stat -c '%i %w' "$out/BR.gif")
  case $how in
    link) ln "$out/BR.gif" "$FB_TMP/old-br.link" ;;
    open) exec 7<"$out/BR.gif" ;;
  esac
  timeout -k 5 "$RUN_LIMIT" "$CLIENT" --save-uring -m 1 --repeat 2 --quiet --output "$out" \
    -s "$FB_BASE" BR >/dev/null 2>&1
  rc=$?
  fb_eq "$name: exit 0" "$rc" 0
  fb_ok "$name: BR.gif is complete and right" cmp -s "$out/BR.gif" "$BR_FLAG"
  fb_eq "$name: no temporary file left" "$(parts "$out")" 0
  case $how in
    none)
      fb_ok "$name: the file system records birth times" test "${ino##* }" != "-"
      fb_eq "$name: the replaced file was rewritten, not a new one made" \
        "$(stat -c '%i %w' "$out/BR.gif")" "$ino" ;;
    link) fb_eq "$name: the hard link keeps the old content" \
      "$(cat "$FB_TMP/old-br.link")" "old BR" ;;
    open)
      fb_eq "$name: the open descriptor reads the old content" "$(cat <&7)" "old BR"
      exec 7<&- ;;
  esac
}
recycle "a file nobody else holds" none
recycle "a hard link to the old file" link
recycle "the old file open elsewhere" open

# --- swapped ---------------------------------------------------------------
# The spare's name is taken over between the loop's open of it and the ring's
# exchange (strace holds the loop in the fcntl after the lease is granted,
# F_SETFL, and logs a call when it returns; the lease is held, but a rename
# does not wait for leases): the
# save is an error in xfer.c's words, BR.gif keeps what it had, and what took
# the name keeps it. Under ASan, LeakSanitizer cannot run under ptrace.
if command -v strace >/dev/null 2>&1; then
  out=$FB_TMP/swapped
  mkdir -p "$out"
  printf 'old BR\n' >"$out/BR.gif"
  log=$FB_TMP/swapped.strace
  : >"$log"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout -k 5 "$RUN_LIMIT" strace -f -qq -o "$log" -e trace=fcntl \
    -e inject=fcntl:delay_enter=300000 "$CLIENT" --save-uring -v -m 1 --repeat 2 --timeout 30 \
    --output "$out" -s "$FB_BASE" BR >"$FB_TMP/swapped.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 500); do
    grep -q 'F_SETLEASE, F_WRLCK) *= 0' "$log" && break
    sleep 0.01
  done
  spare=$(find "$out" -maxdepth 1 -name '.BR.gif.*.part' | head -n 1)
  if [ -n "$spare" ]; then
    printf 'planted\n' >"$FB_TMP/planted"
    mv "$FB_TMP/planted" "$spare"
  fi
  wait "$pid"
  rc=$?
  fb_ok "swapped: the spare was open when its name was taken" test -n "$spare"
  fb_eq "swapped: exit 1" "$rc" 1
  fb_eq "swapped: the request is an error, in xfer.c's words" \
    "$(grep -c -x -F "BR error: cannot save BR.gif: its temporary file was replaced during the transfer" \
      "$FB_TMP/swapped.out")" 1
  fb_ok "swapped: BR.gif is the first save's, complete" cmp -s "$out/BR.gif" "$BR_FLAG"
  fb_eq "swapped: what took the name keeps it" "$(cat "$spare" 2>/dev/null)" "planted"
else
  fb_fail "swapped: needs strace (the Debian package strace; scripts/setup.sh installs it)"
fi

# --- burst -----------------------------------------------------------------
# 26 codes x 2,000 at -m 50: saves are in the ring all the time, and the burst
# cannot end before the signal (52,000 requests take 2.6 s at the fastest rate
# measured here; 26 x 400 once ended inside the 0.5 s a quiet CI machine gave
# it, and the signal found no process).
BURST_REPEAT=2000
for round in 1 2 3; do
  for variant in "" "--loops 2"; do
    name="burst $round${variant:+ $variant}"
    out=$FB_TMP/burst-$round-${variant// /}
    mkdir -p "$out"
    # shellcheck disable=SC2086
    "$CLIENT" --save-uring $variant -m 50 --repeat "$BURST_REPEAT" --quiet --output "$out" \
      --json "$FB_TMP/burst.json" -s "$FB_BASE" "${CODES[@]}" >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((2 + round))"
    fb_ok "$name, SIGINT: the burst was still running" kill -INT "$pid"
    wait "$pid"
    fb_eq "$name, SIGINT: exit 130" "$?" 130
    sum=$(jq -r '.ok + .not_found + .errors + .cancelled' "$FB_TMP/burst.json" | tail -n 1)
    fb_eq "$name, SIGINT: each request accounted once" "$sum" $((26 * BURST_REPEAT))
    fb_eq "$name, SIGINT: no temporary file left" "$(parts "$out")" 0
    bad=0
    for f in "$out"/*.gif; do
      [ -e "$f" ] || continue
      lc=$(basename "$f" .gif | tr 'A-Z' 'a-z')
      cmp -s "$f" "$DATA/flags/$lc/$lc.gif" || bad=$((bad + 1))
    done
    fb_eq "$name, SIGINT: every file complete" "$bad" 0

    rm -rf "$out" && mkdir -p "$out"
    # The second signal _exits from the handler by design, and a loop thread
    # that has already ended is not joined: TSan calls that a "thread leak"
    # and exits 66 (as in tests/faults/signals.sh). Off for this run only,
    # with the suppression of the false race a ring-closed descriptor number
    # draws in the handler's cleanup (tests/faults/tsan-ring-close.supp).
    # shellcheck disable=SC2086
    TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}report_thread_leaks=0:suppressions=$supp" \
      "$CLIENT" --save-uring $variant -m 50 --repeat "$BURST_REPEAT" --quiet --output "$out" \
      -s "$FB_BASE" "${CODES[@]}" >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((2 + round))"
    t0=$(fb_now)
    fb_ok "$name, SIGINT twice: the burst was still running" kill -INT "$pid"
    sleep 0.01
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    fb_eq "$name, SIGINT twice: exit 130" "$?" 130
    took=$(fb_elapsed "$t0")
    fb_le "$name, SIGINT twice: exits at once (took ${took}s)" "$took" "$again_bound"
    fb_eq "$name, SIGINT twice: no temporary file left" "$(parts "$out")" 0
  done
done

fb_finish
