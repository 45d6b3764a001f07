# shellcheck shell=bash
# tests/netlab/netlab_lib.sh -- shared by the netlab tests; sourced after
# tests/lib.sh. Environment (set by ctest): NETLAB (netlab/netlab.sh),
# NETLAB_DELAYER (the built delayer).
#
# The lab needs root and network namespaces. Where it cannot run, a test says
# "not run here: <why>" and exits 77, which ctest reports as skipped; nowhere
# else does a netlab test skip.

NL_SKIP=77
NL_ID=""

nl_skip() {
  printf 'not run here: %s\n' "$1"
  exit "$NL_SKIP"
}

[ "$(id -u)" -eq 0 ] || nl_skip "needs root for network namespaces"
fb_need ip:iproute2 tc:iproute2 nstat:iproute2 iptables:iptables iptables-save:iptables \
  python3:python3 setpriv:util-linux setsid:util-linux mountpoint:util-linux

# nl_up SHAPE...: builds a lab owned by this test (its id is our pid) and
# prints its settings; skips when this environment cannot make one.
nl_up() {
  local out rc=0
  out=$(bash "$NETLAB" up --owner $$ "$@" 2>&1) || rc=$?
  if [ "$rc" -eq 3 ]; then nl_skip "${out#netlab: not run here: }"; fi
  if [ "$rc" -ne 0 ]; then
    fb_fail "netlab up $*" "exit $rc: $out"
    fb_finish
  fi
  NL_ID=$$
}

nl_down() {
  [ -n "$NL_ID" ] || return 0
  bash "$NETLAB" down "$NL_ID"
  NL_ID=""
}

# Teardown on any exit, before lib.sh's own cleanup.
nl_cleanup() {
  nl_down
  fb_cleanup
}
trap nl_cleanup EXIT

# nl_measure ARGS...: measures the lab into $FB_TMP/measured (and prints it).
nl_measure() {
  if ! bash "$NETLAB" measure "$NL_ID" "$@" >"$FB_TMP/measured" 2>"$FB_TMP/measured.err"; then
    fb_fail "netlab measure $*" "$(cat "$FB_TMP/measured.err")"
    return 1
  fi
  sed 's/^/# /' "$FB_TMP/measured"
}

# nl_get KEY: a value of the last measurement.
nl_get() { sed -n "s/^$1=//p" "$FB_TMP/measured"; }

# nl_in_band MEASURED SET REL ABS: true when |MEASURED - SET| is at most REL
# times SET, or ABS, whichever is larger (and MEASURED is not empty).
nl_in_band() {
  awk -v m="$1" -v s="$2" -v r="$3" -v a="$4" \
    'BEGIN { d = m - s; if (d < 0) d = -d; t = s * r; if (a > t) t = a; exit !(m != "" && d <= t) }'
}

# nl_within DESC MEASURED SET REL ABS: passes when nl_in_band does.
nl_within() {
  if nl_in_band "$2" "$3" "$4" "$5"; then
    fb_pass "$1: $2 for $3"
  else
    fb_fail "$1" "measured '$2', set $3, allowed +-$(awk -v s="$3" -v r="$4" -v a="$5" 'BEGIN { t = s * r; if (a > t) t = a; print t }')"
  fi
}
