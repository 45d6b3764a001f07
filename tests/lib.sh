# shellcheck shell=bash
# tests/lib.sh -- shared helpers for flagbench's shell tests. Source it.
#
# Every test gets its own temporary directory ($FB_TMP), removed on exit with
# every server it started. Checks count into $FB_PASS/$FB_FAIL; fb_finish prints
# the plain closing line "N passed, N failed" and exits 1 if anything failed.
# All traffic stays on 127.0.0.1.
#
# Environment (set by ctest): FLAGSERVER, the flagserver binary.

set -u
FB_PASS=0
FB_FAIL=0
FB_SERVER_PIDS=()
FB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/flagbench-test.XXXXXX")

# Failures first. A CI log may show only the first lines of a failed test's
# output, and a fault matrix prints hundreds of lines before the one that
# failed. So unless stdout is a terminal (or FB_STREAM=1), stdout and stderr go
# through a forwarder: it sends each FAIL line and its indented detail lines
# out at once, keeps every line, and when the test's output closes it sends
# "# the whole log of this test:" (if anything failed) and the whole log. A
# test killed from outside (ctest's timeout) thus still shows its failures.
# There is no other descriptor: a background process holds the test's output
# only through its own stdout and stderr, so one that may outlive its use
# (a guard's sleep) redirects them, or ctest waits for it. The forwarder reads
# a FIFO and is not the test shell's child, so a bare `wait` does not wait for
# it (it would for a process substitution, and never return).
if [ ! -t 1 ] && [ "${FB_STREAM:-0}" != 1 ]; then
  mkfifo "$FB_TMP/.out"
  (exec awk '
    /^FAIL - / { failed = 1; detail = 1; print; fflush() }
    !/^FAIL - / && detail && /^       / { print; fflush() }
    !/^FAIL - / && !/^       / { detail = 0 }
    { kept[++n] = $0 }
    END {
      if (failed) print "# the whole log of this test:"
      for (i = 1; i <= n; i++) print kept[i]
    }' <"$FB_TMP/.out" &)
  exec >"$FB_TMP/.out" 2>&1
fi

fb_cleanup() {
  local pid
  for pid in "${FB_SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$FB_TMP"
}
trap fb_cleanup EXIT

fb_log() { printf '# %s\n' "$*"; }

fb_pass() { FB_PASS=$((FB_PASS + 1)); printf 'ok   - %s\n' "$1"; }

fb_fail() {
  FB_FAIL=$((FB_FAIL + 1))
  printf 'FAIL - %s\n' "$1"
  if [ $# -gt 1 ]; then printf '       %s\n' "${@:2}"; fi
  return 0
}

# fb_eq DESC ACTUAL EXPECTED
fb_eq() {
  if [ "$2" == "$3" ]; then fb_pass "$1"; else fb_fail "$1" "expected: $3" "actual:   $2"; fi
}

# fb_ok DESC CMD... : passes when CMD exits 0.
fb_ok() {
  local desc=$1; shift
  if "$@"; then fb_pass "$desc"; else fb_fail "$desc" "command failed: $*"; fi
}

# fb_le DESC A B : passes when A <= B (numbers, may be decimals).
fb_le() {
  if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 <= b + 0) }'; then
    fb_pass "$1"
  else
    fb_fail "$1" "expected $2 <= $3"
  fi
}

# fb_need TOOL:PACKAGE... : a test calls this before using an external tool.
# When a tool is missing it ends the test at once, with one failed check per
# missing tool naming its Debian package, instead of a "command not found" in
# the middle of a case. scripts/setup.sh installs every one of them.
fb_need() {
  local spec missing=0
  for spec in "$@"; do
    if ! command -v "${spec%%:*}" >/dev/null 2>&1; then
      fb_fail "needs ${spec%%:*}: install the Debian package ${spec#*:} (scripts/setup.sh does)"
      missing=1
    fi
  done
  if [ "$missing" -ne 0 ]; then fb_finish; fi
}

fb_finish() {
  printf '%d passed, %d failed\n' "$FB_PASS" "$FB_FAIL"
  [ "$FB_FAIL" -eq 0 ] && [ "$FB_PASS" -gt 0 ]
  exit $?
}

# fb_now : seconds since the epoch with nanoseconds, for elapsed-time bounds.
fb_now() { date +%s.%N; }
fb_elapsed() { awk -v a="$1" -v b="$(fb_now)" 'BEGIN { printf "%.3f", b - a }'; }

# fb_make_dataset DIR CC... : writes DIR/flags/cc/cc.gif for each code, in the
# book's layout, each file distinct (its code and random bytes after a GIF
# header) and of a different size, so a mixed-up body is caught.
fb_make_dataset() {
  local dir=$1 cc lc i=0; shift
  for cc in "$@"; do
    lc=$(printf '%s' "$cc" | tr 'A-Z' 'a-z')
    mkdir -p "$dir/flags/$lc"
    { printf 'GIF89a%s' "$cc"; head -c $((512 + (i * 97) % 4096)) /dev/urandom; } \
      >"$dir/flags/$lc/$lc.gif"
    i=$((i + 1))
  done
}

# fb_start_server [FLAGSERVER ARGS...] : starts flagserver on a free port of
# 127.0.0.1 and waits for its "listening" line. Sets FB_PORT, FB_BASE (the
# /flags base URL), FB_URL (the server root) and FB_SERVER_PID. Returns 1 if it
# did not come up within 5 s.
fb_start_server() {
  local out="$FB_TMP/server.$RANDOM.out" line="" i
  "$FLAGSERVER" --bind 127.0.0.1 --port 0 "$@" >"$out" 2>"$out.err" &
  FB_SERVER_PID=$!
  FB_SERVER_PIDS+=("$FB_SERVER_PID")
  for i in $(seq 1 100); do
    line=$(head -n 1 "$out" 2>/dev/null)
    [ -n "$line" ] && break
    kill -0 "$FB_SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  case "$line" in
    "flagserver listening on http://127.0.0.1:"*/flags | "flagserver listening on https://127.0.0.1:"*/flags) ;;
    *) fb_log "flagserver did not start: ${line:-no output}; stderr: $(cat "$out.err")"; return 1 ;;
  esac
  FB_BASE=${line#flagserver listening on }
  FB_URL=${FB_BASE%/flags}
  # shellcheck disable=SC2034 # used by the tests that source this file
  FB_PORT=${FB_URL##*:}
}

# fb_stop_server : SIGTERM to the last started server; returns its exit status.
fb_stop_server() {
  kill -TERM "$FB_SERVER_PID" 2>/dev/null
  wait "$FB_SERVER_PID"
}

# fb_stats FIELD : one integer field of the last server's /stats (jq path).
fb_stats() { curl -s --max-time 5 "$FB_URL/stats" | jq -r "$1"; }
fb_stats_reset() { curl -s --max-time 5 -o /dev/null "$FB_URL/stats?reset=1"; }

# What this file's own helpers call.
fb_need curl:curl jq:jq timeout:coreutils
