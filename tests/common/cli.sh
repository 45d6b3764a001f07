#!/usr/bin/env bash
# The real client binary, no server needed: usage errors and their exit
# status, -h, the compiled-in code list from another directory, the fd limit,
# connection refused with a --json record read back by jq.
# Environment: FLAGS_CLIENT (a backend binary), FB_LIB (tests/lib.sh).
# shellcheck source=tests/lib.sh
source "$FB_LIB"
cd "$FB_TMP" || exit 1
refused=http://127.0.0.1:1/flags   # nothing listens on port 1

# usage ARGS... : expects exit 2, the message as the first stderr line, the
# usage line after it, and nothing on stdout.
usage() {
  local msg=$1 out rc; shift
  out=$("$FLAGS_CLIENT" "$@" 2>err.txt); rc=$?
  fb_eq "exit 2: $*" "$rc" 2
  fb_eq "message: $*" "$(head -n 1 err.txt)" "$msg"
  fb_eq "usage line: $*" "$(sed -n 2p err.txt | cut -c1-7)" "usage: "
  fb_eq "no stdout: $*" "$out" ""
}
usage "*** Usage error: --max_req CONCURRENT must be >= 1" -m 0
usage "*** Usage error: --limit N must be >= 1" -l 0
usage "*** Usage error: --server LABEL must be one of DELAY, ERROR, LOCAL, REMOTE" -s nope
usage "*** Usage error: each CC argument must be A to Z or AA to ZZ." BR USA
usage "*** Usage error: --max_req CONCURRENT must be an integer, not 'ten'" -m ten
usage "*** Usage error: --max_req CONCURRENT is out of range: '9223372036854775808'" \
  -m 9223372036854775808
usage "*** Usage error: --limit N must be an integer, not '5x'" --limit 5x
usage "*** Usage error: unrecognized option '--nope'" --nope
usage "*** Usage error: --server URL must start with http:// or https://: '127.0.0.1:80/flags'" \
  -s 127.0.0.1:80/flags
usage "*** Usage error: --server URL must have a host and no blanks: 'https://'" -s https://
usage "*** Usage error: --max-size BYTES must be 1 to 1099511627776, with an optional K, M or G suffix, not '2T'" \
  --max-size 2T
usage "*** Usage error: --cacert FILE cannot be read: '/nonexistent/ca.pem': No such file or directory" \
  --cacert /nonexistent/ca.pem -s https://127.0.0.1:1/flags BR
usage "*** Usage error: --cacert FILE cannot be read: '.': Is a directory" --cacert . BR
printf 'not a certificate\n' >notpem.txt
usage "*** Usage error: --cacert FILE holds no PEM certificate: 'notpem.txt'" --cacert notpem.txt BR
usage "*** Usage error: option '--cacert' needs an argument" --cacert
usage "*** Usage error: --loops N must be 1 to 256, not '0'" --loops 0
usage "*** Usage error: --save-threads K must be 0 to 256, not 'x'" --save-threads x
usage "*** Usage error: --multis K must be 1 to 256, not '257'" --multis 257
usage "*** Usage error: --save-uring and --save-threads K are two ways to save: choose one" \
  --save-uring --save-threads 2 BR
if [ "$(basename "$FLAGS_CLIENT")" = flags_threadpool ]; then
  only="*** Usage error: --loops, --save-threads, --multis and --save-uring are options of flags_asyncloop"
  usage "$only" --loops 2
  usage "$only" --save-threads 1
  usage "$only" --multis 2
  usage "$only" --save-uring
fi
fb_ok "usage errors create no output directory" test ! -e downloaded

out=$("$FLAGS_CLIENT" -h); rc=$?
fb_eq "-h exits 0" "$rc" 0
fb_eq "-h starts with usage" "$(printf '%s\n' "$out" | head -n 1 | cut -c1-7)" "usage: "
fb_ok "-h lists --max_req" grep -q -- '--max_req CONCURRENT' <<<"$out"
fb_ok "-h lists --max-size" grep -q -- '--max-size BYTES .*default=1M' <<<"$out"
fb_ok "-h lists --cacert" grep -q -- '--cacert FILE ' <<<"$out"
fb_ok "-h lists --loops" grep -q -- '--loops N .*flags_asyncloop only' <<<"$out"
fb_ok "-h lists --save-threads" grep -q -- '--save-threads K .*flags_asyncloop only' <<<"$out"
fb_ok "-h lists --multis" grep -q -- '--multis K .*flags_asyncloop only' <<<"$out"
fb_ok "-h lists --save-uring" grep -q -- '--save-uring .*flags_asyncloop only' <<<"$out"

# -a from a directory with no data/ nearby: the codes are compiled in.
mkdir elsewhere && cd elsewhere || exit 1
out=$("$FLAGS_CLIENT" -a -s "$refused" -m 4 --timeout 2 --json run.json); rc=$?
fb_eq "connection refused exits 1" "$rc" 1
fb_eq "-a header" "$(sed -n 2p <<<"$out")" "Searching for 194 flags: from AD to ZW"
fb_eq "-m 4 header" "$(sed -n 3p <<<"$out")" "4 concurrent connections will be used."
fb_eq "194 errors" "$(grep -c '^194 errors\.$' <<<"$out")" 1
fb_eq "no flags downloaded" "$(grep -c '^  0 flags downloaded\.$' <<<"$out")" 1
fb_ok "JSON parses" jq -e . run.json >/dev/null
fb_eq "JSON counts" "$(jq -r '[.requests,.ok,.not_found,.errors,.cancelled,.concur_req] | @csv' run.json)" \
  "194,0,0,194,0,4"
fb_eq "JSON backend/server" "$(jq -r '[.server,.url,(.libcurl|length>0)] | @csv' run.json)" \
  "\"CUSTOM\",\"$refused\",true"
fb_eq "no files saved" "$(ls -A downloaded | wc -l)" 0
"$FLAGS_CLIENT" BR -s "$refused" --quiet --json run.json >quiet.out; rc=$?
fb_eq "second run appends a line" "$(wc -l <run.json)" 2
fb_eq "--quiet prints the summary only" "$(head -n 1 quiet.out)" "--------------------"
fb_eq "--quiet: one error, exit 1" "$(sed -n 3p quiet.out) $rc" "  1 error. 1"
cd ..

# -v error line for a refused connection.
out=$("$FLAGS_CLIENT" -v BR -s "$refused"); rc=$?
fb_ok "-v error line" grep -Eq '^BR error: .*(refused|Failed to connect)' <<<"$out"

# The fd limit: -m 1000 with a hard limit of 200 is one clear line and exit 2;
# with a hard limit of 2000 the soft limit is raised and it runs.
out=$(ulimit -n 200; "$FLAGS_CLIENT" -e --repeat 2 -m 1000 -s "$refused" 2>&1); rc=$?
fb_eq "fd hard limit too low exits 2" "$rc" 2
# The cost per transfer is the backend's own (1 for the loop; for a pool
# worker its connection, the file and the wakeup of the libcurl loaded,
# counted at start-up: 4 with 7.88's socketpair, 3 with 8.x's eventfd); the
# advice must fit: (200 - 64) / cost.
if [ "$(basename "$FLAGS_CLIENT")" = flags_threadpool ]; then
  fb_ok "fd limit message" grep -Eqx \
    '\*\*\* 1000 concurrent transfers need [0-9]+ file descriptors \((4 each: its connection, libcurl [^ ]+.s wakeup socketpair \(2\)|3 each: its connection, libcurl [^ ]+.s wakeup eventfd \(1\)), the file it saves\), but the hard limit is 200 \(ulimit -Hn\); use -m (34|45) or less' <<<"$out"
else
  fb_ok "fd limit message" grep -Eqx \
    '\*\*\* 1000 concurrent transfers need [0-9]+ file descriptors \(1 each\), but the hard limit is 200 \(ulimit -Hn\); use -m 136 or less' <<<"$out"
fi
out=$(ulimit -Sn 100; ulimit -Hn 4000; "$FLAGS_CLIENT" -e -m 600 -s "$refused" --quiet 2>&1); rc=$?
fb_eq "soft limit raised: runs, all refused" "$rc $(grep -c '^676 errors\.$' <<<"$out")" "1 1"

# An output directory that cannot be created is a clear error, exit 1.
touch afile
out=$("$FLAGS_CLIENT" BR -s "$refused" --output afile/sub 2>&1); rc=$?
fb_eq "bad output dir exits 1" "$rc" 1
fb_ok "bad output dir message" grep -q 'cannot use output directory afile/sub' <<<"$out"

fb_finish
