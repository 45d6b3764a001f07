#!/usr/bin/env bash
# netlab_teardown: the lab never touches the host and leaves nothing behind.
# The host's links, addresses, routes, qdiscs, firewall rules and mounts are
# the same while a lab is up and after it is down; `down` leaves no namespace,
# process or folder; a `run` ended by SIGTERM tears down at once; a `run`
# killed by SIGKILL leaves its lab, and the next `up` (or `down --stale`)
# removes it, delayers included; a lab whose owner is alive -- another run's --
# survives all of that. A killed delayer lets packets through
# (--queue-bypass) rather than black-holing the link. Without root: one line
# and exit 3; bad arguments (and the old `down --all`): exit 2.
#
# Other runs may have labs up while this test runs (CI beside a developer's
# bench): it counts only the labs it made itself.
# Usage: teardown.sh PATH/TO/tests/lib.sh PATH/TO/netlab_lib.sh
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"

# host_state: what the lab must never change, as text. Counters are removed.
host_state() {
  ip -br link
  ip -br addr
  ip route show table all
  tc qdisc show
  iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
  grep -c ' /run/netns ' /proc/self/mountinfo || true
}
# MINE: the ids of the labs this test made (its own pid, the runs it started).
MINE=" $$ "
# DELAYERS: the pids of the delayers of those labs, noted while they were up.
DELAYERS=""
note_delayers() { # ID
  local f
  for f in "/run/flagbench-netlab/$1"/delayer-*.pid; do
    [ ! -f "$f" ] || DELAYERS+=" $(cat "$f")"
  done
}
# leftovers: namespaces, folders and live delayers of this test's labs.
leftovers() {
  local ns id p
  for ns in $(ip netns list | awk '{ print $1 }'); do
    id=$(sed -n 's/^fbnl-\([0-9]*\)-[sc]$/\1/p' <<<"$ns")
    [[ -z $id || $MINE != *" $id "* ]] || echo "$ns"
  done
  for id in $MINE; do
    [ ! -e "/run/flagbench-netlab/$id" ] || echo "/run/flagbench-netlab/$id exists"
  done
  # A delayer that has exited but not yet been reaped by init (a zombie)
  # holds nothing but its pid: only live ones count.
  for p in $DELAYERS; do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = netlab-delayer ] || continue
    grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null || echo "delayer $p"
  done
  return 0
}
# settled: leftovers, once a process killed by the teardown has had up to 2 s
# to finish exiting (on a loaded machine a SIGKILLed delayer can still be
# running its exit a moment after `down` returns).
settled() {
  local _ left
  for _ in $(seq 1 40); do
    left=$(leftovers)
    [ -n "$left" ] || return 0
    sleep 0.05
  done
  printf '%s\n' "$left"
}
# wait_for_lab ID: until the lab of a `run` is built, its settings (the last
# thing build_lab writes) included, so both delayers run; up to 10 s.
wait_for_lab() {
  local _
  for _ in $(seq 1 200); do
    [ -e "/run/netns/fbnl-$1-c" ] && [ -s "/run/flagbench-netlab/$1/settings" ] && return 0
    sleep 0.05
  done
  return 1
}

before=$(host_state)
fb_eq "no lab before the test" "$(leftovers)" ""

# --- up, the host unchanged while it is up, down --------------------------
nl_up --rtt 10 --jitter 1 --loss 0.01 --rate 50 >/dev/null
note_delayers $$
fb_ok "both namespaces exist" test -e "/run/netns/fbnl-$$-s" -a -e "/run/netns/fbnl-$$-c"
fb_eq "two delayers run" "$(leftovers | grep -c '^delayer')" 2
if bash "$NETLAB" measure $$ --parts rtt --samples 3 >"$FB_TMP/m" 2>&1; then
  fb_pass "the client reaches the server: $(grep rtt_median "$FB_TMP/m")"
else
  fb_fail "the client reaches the server" "$(cat "$FB_TMP/m")"
fi
fb_eq "the host's links, routes, qdiscs and rules are untouched while the lab is up" \
  "$(host_state | head -n -1)" "$(head -n -1 <<<"$before")"
fb_eq "no 198.18 address on the host" "$(ip -br addr | grep -c '198\.1[89]\.')" 0
nl_down
fb_eq "down leaves no namespace, folder or delayer" "$(settled)" ""
fb_eq "the host is as before" "$(host_state)" "$before"

# --- a dead delayer does not black-hole the link (--queue-bypass) ----------
nl_up --rtt 40 >/dev/null
note_delayers $$
kill -KILL "$(cat "/run/flagbench-netlab/$$/delayer-c2s.pid")"
if bash "$NETLAB" measure $$ --parts rtt --samples 3 >"$FB_TMP/m" 2>&1; then
  fb_pass "the link still carries traffic with the c2s delayer killed"
  fb_le "and that direction is no longer delayed (RTT about 20 ms, not 40)" \
    "$(sed -n 's/^rtt_median_ms=//p' "$FB_TMP/m")" 35
else
  fb_fail "the link still carries traffic with the c2s delayer killed" "$(cat "$FB_TMP/m")"
fi
nl_down
fb_eq "down after a delayer was killed leaves nothing" "$(settled)" ""

# run_command RUN : the command a `netlab.sh run` (pid RUN) runs, its child
# `sleep` (its other children are the lab's delayers, which must stay).
run_command() {
  local p
  grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3 |
    while read -r p; do
      if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ]; then echo "$p"; fi
    done
}

# The runs below write to files, not to this test's output: a process left
# holding ctest's pipe keeps the test "running" until it ends (a leftover
# `sleep 60` made this test take 68 s instead of 14).

# --- a run ended by SIGTERM tears down at once -----------------------------
bash "$NETLAB" run --rtt 10 -- sleep 30 >"$FB_TMP/run-term.out" 2>&1 &
run=$!
MINE+="$run "
if wait_for_lab "$run"; then
  sleep 0.3
  note_delayers "$run"
  t0=$(fb_now)
  kill -TERM "$run"
  wait "$run"
  fb_eq "SIGTERM: run exits 143" "$?" 143
  fb_le "SIGTERM: run ends within 5 s" "$(fb_elapsed "$t0")" 5
  fb_eq "SIGTERM: nothing left" "$(settled)" ""
else
  fb_fail "run builds its lab"
  kill "$run"
fi

# --- a run killed by SIGKILL: its lab stays, the next up removes it --------
bash "$NETLAB" run --rtt 10 --loss 0.01 -- sleep 30 >"$FB_TMP/run-kill.out" 2>&1 &
run=$!
MINE+="$run "
if wait_for_lab "$run"; then
  sleep 0.3
  note_delayers "$run"
  cmd=$(run_command "$run")
  kill -KILL "$run"
  wait "$run" 2>/dev/null
  [ -z "$cmd" ] || kill "$cmd" 2>/dev/null
  fb_ok "SIGKILL: the lab is left behind" test -e "/run/netns/fbnl-$run-s"
  fb_eq "SIGKILL: its two delayers still run" "$(leftovers | grep -c '^delayer')" 2
  out=$(bash "$NETLAB" up --owner $$ 2>&1 >/dev/null)
  # shellcheck disable=SC2034 # read by nl_cleanup
  NL_ID=$$
  fb_eq "the next up says what it removes" "$out" "netlab: removing lab $run left by a run that is gone"
  fb_ok "the killed run's namespaces are gone" test ! -e "/run/netns/fbnl-$run-s" -a ! -e "/run/netns/fbnl-$run-c"
  fb_eq "only the new lab is left" "$(leftovers | grep '^fbnl-' | sort | tr '\n' ' ')" \
    "fbnl-$$-c fbnl-$$-s "
  fb_eq "the killed run's delayers are gone" "$(leftovers | grep -c '^delayer')" 0
  nl_down
else
  fb_fail "run builds its lab"
  kill "$run"
fi
fb_eq "nothing left at the end" "$(settled)" ""
fb_eq "the host is as before at the end" "$(host_state)" "$before"

# --- another run's lab survives this one's teardown --------------------------
# Lab A belongs to a live run; lab B (this test's) is torn down, and a killed
# run's lab C is swept by `down --stale`: A stays up and keeps working.
bash "$NETLAB" run --rtt 10 -- sleep 60 >"$FB_TMP/run-other.out" 2>&1 &
other=$!
MINE+="$other "
bash "$NETLAB" run --rtt 10 -- sleep 60 >"$FB_TMP/run-killed.out" 2>&1 &
killed=$!
MINE+="$killed "
if wait_for_lab "$other" && wait_for_lab "$killed"; then
  sleep 0.3
  note_delayers "$other"
  note_delayers "$killed"
  nl_up --rtt 10 >/dev/null
  note_delayers $$
  nl_down
  # Killed after this test's up, so that only `down --stale` can sweep it.
  cmd=$(run_command "$killed")
  kill -KILL "$killed"
  wait "$killed" 2>/dev/null
  [ -z "$cmd" ] || kill "$cmd" 2>/dev/null
  fb_ok "the killed run's lab is left until down --stale" test -e "/run/netns/fbnl-$killed-s"
  out=$(bash "$NETLAB" down --stale 2>&1)
  fb_eq "down --stale: exit 0" "$?" 0
  fb_eq "down --stale says what it removes, and only that" "$out" \
    "netlab: removing lab $killed left by a run that is gone"
  fb_ok "down --stale: the killed run's namespaces are gone" \
    test ! -e "/run/netns/fbnl-$killed-s" -a ! -e "/run/netns/fbnl-$killed-c"
  fb_ok "another run's lab is still up after this one's down and down --stale" \
    test -e "/run/netns/fbnl-$other-s" -a -e "/run/netns/fbnl-$other-c"
  fb_eq "and its two delayers still run" "$(leftovers | grep -c '^delayer')" 2
  if bash "$NETLAB" measure "$other" --parts rtt --samples 3 >"$FB_TMP/m" 2>&1; then
    fb_pass "and it still carries traffic: $(grep rtt_median "$FB_TMP/m")"
  else
    fb_fail "and it still carries traffic" "$(cat "$FB_TMP/m")"
  fi
  kill -TERM "$other"
  wait "$other"
  fb_eq "the other run tears its own lab down: exit 143" "$?" 143
else
  fb_fail "the runs build their labs"
  kill "$other" "$killed" 2>/dev/null
fi
fb_eq "nothing of this test's labs left" "$(settled)" ""
out=$(bash "$NETLAB" down --all 2>&1)
fb_eq "down --all (which removed every run's labs) is refused: exit 2" "$?" 2
fb_eq "with a pointer to what replaces it" "$out" \
  "netlab: down --all is gone (it removed other runs' labs): use down ID, or down --stale"

# --- refusals -----------------------------------------------------------------
if command -v setpriv >/dev/null; then
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups bash "$NETLAB" up 2>&1)
  fb_eq "not root: exit 3" "$?" 3
  fb_eq "not root: one line" "$out" "netlab: not run here: needs root for network namespaces"
else
  fb_fail "needs setpriv: install the Debian package util-linux"
fi
for bad in "up --rtt abc" "up --loss 2" "up --rate" "up --bogus" "bogus" "exec 1 middle -- true" \
           "measure 1 --parts speed" "down x"; do
  # shellcheck disable=SC2086 # the words of a command line
  out=$(bash "$NETLAB" $bad 2>&1)
  fb_eq "netlab.sh $bad: exit 2" "$?" 2
done
fb_eq "the refusals left nothing" "$(settled)" ""
fb_finish
