#!/usr/bin/env bash
# lib_selftest.sh -- tests/lib.sh's output rules hold: when stdout is not a
# terminal a failed check's lines come first and the whole log follows; a test
# that passes prints its log alone; FB_STREAM=1 streams it in order; a bare
# `wait` in a test returns; a background process with its output redirected
# does not hold the test's output open; a test killed mid-way still shows its
# failure and its log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
source "$here/lib.sh"

# A scratch test: one log line, one pass, then what $1 says.
cat >"$FB_TMP/t.sh" <<'EOF'
set -u
source "$1"
fb_log "starting"
fb_pass "first"
case $2 in
fail) fb_fail "second" "expected: 1" "actual:   2"; fb_pass "third" ;;
pass) fb_pass "second" ;;
wait) sleep 0.1 & wait; fb_pass "waited" ;;
guard) (sleep 5) >/dev/null 2>&1 & fb_pass "guard started" ;;
killed) fb_fail "second" "expected: 1"; kill -KILL $$ ;;
esac
fb_finish
EOF
# Through a pipe, as under ctest: the forwarder writes the log after the test
# shell exits, and cat ends only when nobody holds the pipe.
run() {
  timeout 20 bash "$FB_TMP/t.sh" "$here/lib.sh" "$@" 2>&1 | cat
  return "${PIPESTATUS[0]}"
}

run fail >"$FB_TMP/fail.out"
fb_eq "a failed check: exit 1" "$?" 1
fb_eq "a failed check: its lines first, then the whole log" "$(cat "$FB_TMP/fail.out")" \
  "FAIL - second
       expected: 1
       actual:   2
# the whole log of this test:
# starting
ok   - first
FAIL - second
       expected: 1
       actual:   2
ok   - third
2 passed, 1 failed"

run pass >"$FB_TMP/pass.out"
fb_eq "all passed: exit 0" "$?" 0
fb_eq "all passed: the log alone, in order" "$(cat "$FB_TMP/pass.out")" \
  "# starting
ok   - first
ok   - second
2 passed, 0 failed"

FB_STREAM=1 run fail >"$FB_TMP/stream.out"
fb_eq "FB_STREAM=1: the log in order, no copy" "$(cat "$FB_TMP/stream.out")" \
  "# starting
ok   - first
FAIL - second
       expected: 1
       actual:   2
ok   - third
2 passed, 1 failed"

run wait >"$FB_TMP/wait.out"
fb_eq "a bare wait returns (no process substitution to wait for)" \
  "$?|$(tail -n 1 "$FB_TMP/wait.out")" "0|2 passed, 0 failed"

start=$(fb_now)
run guard >"$FB_TMP/guard.out"
fb_le "a background sleep with its output redirected: the pipe closes at once" \
  "$(fb_elapsed "$start")" 3
fb_eq "a background sleep: the test's log is whole" \
  "$(tail -n 1 "$FB_TMP/guard.out")" "2 passed, 0 failed"

run killed >"$FB_TMP/killed.out"
fb_eq "a test killed mid-way: SIGKILL's status" "$?" 137
fb_eq "a test killed mid-way: its failure and its log still reach the output" \
  "$(cat "$FB_TMP/killed.out")" \
  "FAIL - second
       expected: 1
# the whole log of this test:
# starting
ok   - first
FAIL - second
       expected: 1"

fb_finish
