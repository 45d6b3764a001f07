# shellcheck shell=bash
# fault_lib.sh -- what the fault case files share. Source it after tests/lib.sh.
# Environment: FAULT_SERVER (the fault_server binary).

# fault_start [UPSTREAM] : starts fault_server on 127.0.0.1 (forwarding its
# plain paths to UPSTREAM, a flagserver base URL, when given) and sets FAULT,
# its base URL, and FAULT_TLS_STALL and FAULT_TLS_RESET, the https:// base
# URLs of its listeners that stall or reset the TLS handshake; ends the test
# with one failed check if it does not come up.
fault_start() {
  local out=$FB_TMP/fault.$RANDOM.out
  "$FAULT_SERVER" "$@" >"$out" 2>"$out.err" &
  FB_SERVER_PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q tls-reset "$out" 2>/dev/null && break
    sleep 0.05
  done
  FAULT=$(sed -n 's/^fault_server listening on //p' "$out")
  # shellcheck disable=SC2034 # used by the case files that source this one
  FAULT_TLS_STALL=$(sed -n 's/^fault_server tls-stall on //p' "$out")/flags
  FAULT_TLS_RESET=$(sed -n 's/^fault_server tls-reset on //p' "$out")/flags
  [ -n "$FAULT" ] && [ "$FAULT_TLS_RESET" != /flags ] ||
    { fb_fail "fault_server starts" "$(cat "$out.err")"; fb_finish; }
}

# fault_certs : makes the test certificates (scripts/make-certs.sh, interface
# T1) in $FB_TMP/certs and sets CERTS to that directory.
fault_certs() {
  CERTS=$FB_TMP/certs
  bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/make-certs.sh" "$CERTS" >"$FB_TMP/certs.log" 2>&1 ||
    { fb_fail "make-certs.sh makes the test certificates" "$(cat "$FB_TMP/certs.log")"; fb_finish; }
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
