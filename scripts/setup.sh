#!/usr/bin/env bash
# Installs the Debian packages flagbench needs; does nothing when they are all
# present. Needs root (or sudo) only when something is missing.
#
# The default set is everything the two README commands (scripts/test.sh,
# scripts/bench.sh) call, tests included: scripts/fresh-check.sh proves it on
# a minimal Debian 12. A tool any test calls belongs here, and the test checks
# for it first (fb_need in tests/lib.sh).
#
# Usage: scripts/setup.sh [--server-bench] [--libcurl8 [DIR]]
#   --server-bench  also nginx-light, for scripts/bench-server.sh only. Kept
#                   out of the default set: Debian's nginx package starts a
#                   system nginx on port 80, which the tests and the main
#                   benchmark have no business doing.
#   --libcurl8 DIR  also fetch libcurl 8 (Debian's bookworm-backports libcurl4
#                   package) with `apt-get download` and unpack it with
#                   `dpkg-deb -x` under DIR (default: build/libcurl8). Its own
#                   apt lists live there too: the system's apt sources and its
#                   libcurl are never touched. Prints the library directory
#                   for LD_LIBRARY_PATH (scripts/bench.sh --libcurl DIR).
set -euo pipefail

packages=(
  build-essential cmake pkg-config      # toolchain
  libcurl4-openssl-dev                  # client HTTP (both backends)
  libevent-dev                          # the async loop; flagserver's HTTP(S) (libevent_openssl)
  libssl-dev                            # flagserver's TLS (OpenSSL 3)
  libnghttp2-dev                        # flagserver's HTTP/2 (--http2)
  nghttp2-client                        # nghttp, h2load: HTTP/2 test peers (tests/server/h2.sh)
  nghttp2-server                        # nghttpd: an HTTP/2 server nobody here wrote (client tests)
  clang libclang-rt-14-dev              # libFuzzer targets and sanitizer runtimes
  curl jq                               # tests and scripts talk HTTP and read JSON
  wrk                                   # tests/server/limits.sh: 1,000 connections at once
  python3 python3-requests python3-aiohttp  # the report program; the book's programs (peers/python)
  iproute2                              # ss: what a server listens on (tests/server); ip, tc: netlab/
  iptables                              # netlab/: the NFQUEUE and loss rules, inside the lab's namespaces
  libnetfilter-queue-dev                # netlab/: the delayer (netlab-delayer)
  openssl                               # test certificates
  hyperfine gnuplot-nox                 # scripts/bench.sh: timing and plots
  imagemagick iso-flags-png-320x240     # scripts/make-dataset.sh: the real flags
  shellcheck pyflakes3 clang-format     # tests/lint (label lint): bash, Python and C lint
  python3-httpx python3-h2              # the Python HTTP/2 line; tests/faults/h2_fault_server.py
  liburing-dev                          # flags_asyncloop --save-uring: the saves through io_uring
  strace                                # tests/asyncloop/uring.sh "swapped": holds the loop mid-save (inject delay)
)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
libcurl8_dir=""
usage() { echo "usage: scripts/setup.sh [--server-bench] [--libcurl8 [DIR]]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --server-bench) packages+=(nginx-light) ;; # scripts/bench-server.sh: flagserver vs nginx
    --libcurl8)
      libcurl8_dir=$ROOT/build/libcurl8
      if [ $# -ge 2 ] && [ "${2#-}" = "$2" ]; then libcurl8_dir=$2; shift; fi
      ;;
    *) usage ;;
  esac
  shift
done

# fetch_libcurl8 DIR: bookworm-backports' libcurl4 (libcurl 8) unpacked under
# DIR/root, through a private apt configuration in DIR/apt.
fetch_libcurl8() {
  local dir=$1 mirror apt_opts deb libdir
  mirror=$(bash "$ROOT/scripts/debian-mirror.sh") || {
    echo "setup: no bookworm mirror in /etc/apt/sources.list*" >&2
    return 1
  }
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs"
  dir=$(cd "$dir" && pwd)
  printf 'deb %s bookworm-backports main\n' "$mirror" >"$dir/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
    -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update
  (cd "$dir/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" -qq download libcurl4/bookworm-backports)
  deb=$(ls "$dir"/debs/libcurl4_*.deb)
  rm -rf "$dir/root"
  dpkg-deb -x "$deb" "$dir/root"
  libdir=$(dirname "$(find "$dir/root" -name 'libcurl.so.4' | head -n 1)")
  [ -e "$libdir/libcurl.so.4" ] || { echo "setup: no libcurl.so.4 in $deb" >&2; return 1; }
  echo "setup: libcurl4 $(dpkg-deb -f "$deb" Version) unpacked in $libdir" >&2
  echo "$libdir"
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  if [ -n "$libcurl8_dir" ]; then fetch_libcurl8 "$libcurl8_dir"; fi
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install packages" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ -n "$libcurl8_dir" ]; then fetch_libcurl8 "$libcurl8_dir"; fi
