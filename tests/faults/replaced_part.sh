#!/usr/bin/env bash
# replaced_part.sh -- a streaming body's temporary file replaced mid-transfer
# (issue 19, case 1).
#
# A body larger than the write-behind buffer streams into
# .CC.gif.PID.N.part. Someone who can write to the output folder replaces that
# name between two write callbacks: with a symlink to a file outside
# --output, or with a file of their own. The client must write only through
# the descriptor it created (nothing outside --output changes), must not
# rename what is not its own file to CC.gif, and must report the request as
# an error in the same words in every backend. Deterministic: hostile_server's
# /gated sends 64 KiB, then waits for the test's gate file before the rest.
#
# Environment: FLAGS_CLIENT, FB_LIB, FB_PYTHON (python3, for hostile_server.py).
# shellcheck source=../lib.sh
source "$FB_LIB"

CLIENT=$FLAGS_CLIENT
BACKEND=$(basename "$CLIENT")
HOSTILE=$(dirname "${BASH_SOURCE[0]}")/hostile_server.py
WORDS="BR error: cannot save BR.gif: its temporary file was replaced during the transfer"
fb_log "replaced temporary file for $BACKEND"

GATE=$FB_TMP/gate
out=$FB_TMP/hostile.out
"${FB_PYTHON:-python3}" "$HOSTILE" --gate "$GATE" >"$out" 2>"$out.err" &
FB_SERVER_PIDS+=($!)
for _ in $(seq 1 100); do
  grep -q listening "$out" 2>/dev/null && break
  sleep 0.05
done
URL=$(sed -n 's/^hostile_server listening on //p' "$out")
[ -n "$URL" ] || { fb_fail "hostile_server starts" "$(cat "$out.err")"; fb_finish; }

# attack NAME HOW : one run of BR from /gated; once its temporary file exists,
# HOW ('symlink' or 'file') replaces it, then the gate opens. Checks the
# outside file, the old BR.gif, the exit status and the words.
attack() {
  local name=$1 how=$2 dir=$FB_TMP/$1 pid part rc
  mkdir -p "$dir/o" "$dir/outside"
  printf 'precious\n' >"$dir/outside/victim.txt"
  printf 'old BR\n' >"$dir/o/BR.gif"
  rm -f "$GATE"
  timeout -k 5 60 "$CLIENT" -v --output "$dir/o" -s "$URL/gated" BR >"$dir/run.out" 2>&1 &
  pid=$!
  part=
  for _ in $(seq 1 500); do
    part=$(find "$dir/o" -maxdepth 1 -name '.BR.gif.*.part' | head -n 1)
    [ -n "$part" ] && [ -s "$part" ] && break
    sleep 0.02
  done
  if [ -z "$part" ]; then
    fb_fail "$name: the body streams to a temporary file" "$(ls -la "$dir/o")"
    touch "$GATE"
    wait "$pid"
    return
  fi
  rm -f "$part"
  case $how in
    symlink) ln -s "$dir/outside/victim.txt" "$part" ;;
    file) printf 'planted\n' >"$part" ;;
  esac
  touch "$GATE"
  wait "$pid"
  rc=$?
  fb_eq "$name: the file outside --output is untouched" "$(cat "$dir/outside/victim.txt")" "precious"
  fb_eq "$name: exit 1" "$rc" 1
  fb_eq "$name: the request is an error, in these words" \
    "$(grep -c -x -F "$WORDS" "$dir/run.out")" 1
  fb_eq "$name: the old BR.gif survives" "$(cat "$dir/o/BR.gif")" "old BR"
  # What took the name is not the client's to rename or delete.
  case $how in
    symlink) fb_ok "$name: the planted symlink is left as it was" test -L "$part" ;;
    file) fb_eq "$name: the planted file is left as it was" "$(cat "$part")" "planted" ;;
  esac
}

attack symlink symlink
attack planted file

# The control: nobody interferes, so the 200,000-byte body is saved whole.
dir=$FB_TMP/control
mkdir -p "$dir"
touch "$GATE"
timeout -k 5 60 "$CLIENT" --output "$dir" -s "$URL/gated" BR >"$dir.out" 2>&1
fb_eq "control: exit 0" "$?" 0
fb_eq "control: BR.gif is the whole body" "$(stat -c %s "$dir/BR.gif" 2>/dev/null)" 200000
fb_eq "control: no temporary file left" "$(find "$dir" -name '.*' | wc -l)" 0

# Concurrent streamed saves of one code: each is checked (name before the
# rename, CC.gif after it) in turn with the others, so none fails because
# another replaced CC.gif in between.
dir=$FB_TMP/concurrent
mkdir -p "$dir"
timeout -k 5 60 "$CLIENT" --output "$dir" -m 8 --repeat 16 -s "$URL/gated" BR >"$dir.out" 2>&1
fb_eq "16 concurrent streamed saves of BR: exit 0, all downloaded" \
  "$?|$(grep -c '^ *16 flags downloaded\.$' "$dir.out")" "0|1"
fb_eq "16 concurrent streamed saves of BR: BR.gif whole, nothing else left" \
  "$(stat -c %s "$dir/BR.gif" 2>/dev/null)|$(ls -A "$dir" | tr '\n' ' ')" "200000|BR.gif "

# A run killed by SIGKILL with this pid left .BR.gif.PID.0.part (the name
# this request's temporary file would have): the streamed body takes the
# next free name, is saved whole, and the planted file is left as it was.
dir=$FB_TMP/leftover
mkdir -p "$dir"
timeout -k 5 60 bash -c 'echo killed >"$1/.BR.gif.$$.0.part"; shift; exec "$@"' _ "$dir" \
  "$CLIENT" --output "$dir" -s "$URL/gated" BR >"$dir.out" 2>&1
fb_eq "leftover .part of this pid: exit 0" "$?" 0
fb_eq "leftover .part of this pid: BR.gif is the whole body" \
  "$(stat -c %s "$dir/BR.gif" 2>/dev/null)" 200000
fb_eq "leftover .part of this pid: it is left as it was" \
  "$(cat "$dir"/.BR.gif.*.part 2>/dev/null)" "killed"

# A second signal removes this run's temporary files at once (common/cancel.c),
# found by the ".PID." in their names: files an earlier run with this pid
# left are not this run's, and stay.
dir=$FB_TMP/sigint
mkdir -p "$dir"
rm -f "$GATE"
bash -c 'echo killed >"$1/.BR.gif.$$.7.part"; echo killed >"$1/.spare.$$.9.part"; shift
  exec "$@"' _ "$dir" "$CLIENT" --output "$dir" -s "$URL/gated" BR >"$dir.out" 2>&1 &
pid=$!
for _ in $(seq 1 500); do
  [ -n "$(find "$dir" -name '.BR.gif.*.0.part')" ] && break
  sleep 0.02
done
# SIGINT, then SIGTERM: a second SIGINT sent at once could merge with a
# first one still pending.
kill -INT "$pid"
sleep 0.05
kill -TERM "$pid"
# The guard holds none of the test's output (ctest waits until no process
# holds its pipe, so the guard's sleep made the test take its whole 20 s where
# the checks take about 1 s). It is stopped once the client is reaped, with
# SIGKILL (a SIGTERM made its shell run lib.sh's EXIT trap, which removed
# FB_TMP).
(
  sleep 20
  kill -KILL "$pid" 2>/dev/null
) >/dev/null 2>&1 &
guard=$!
wait "$pid"
rc=$?
kill -KILL "$guard" 2>/dev/null
wait "$guard" 2>/dev/null
fb_eq "a second signal mid-body: exit 130" "$rc" 130
touch "$GATE"
fb_eq "a second signal: this run's .part removed, the earlier run's two kept" \
  "$(find "$dir" -name '.*.part' | wc -l)|$(cat "$dir"/.BR.gif.*.7.part "$dir"/.spare.*.9.part)" \
  "2|killed"$'\n'"killed"

fb_finish
