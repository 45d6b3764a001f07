# fault_lib.sh -- what the fault case files share. Source it after tests/lib.sh.
# Environment: FAULT_SERVER (the fault_server binary).

# fault_start [UPSTREAM] : starts fault_server on 127.0.0.1 (forwarding its
# plain paths to UPSTREAM, a flagserver base URL, when given) and sets FAULT,
# its base URL; ends the test with one failed check if it does not come up.
fault_start() {
  local out=$FB_TMP/fault.out
  "$FAULT_SERVER" "$@" >"$out" 2>"$out.err" &
  FB_SERVER_PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q listening "$out" 2>/dev/null && break
    sleep 0.05
  done
  FAULT=$(sed -n 's/^fault_server listening on //p' "$out")
  [ -n "$FAULT" ] || { fb_fail "fault_server starts" "$(cat "$out.err")"; fb_finish; }
}

# new_outdir NAME : an output directory holding a foreign file and an old
# BR.gif, both of which must survive any failure untouched.
new_outdir() {
  local d=$FB_TMP/out-$1
  mkdir -p "$d"
  printf 'not ours\n' >"$d/keep.txt"
  printf 'old BR\n' >"$d/BR.gif"
  printf '%s' "$d"
}
