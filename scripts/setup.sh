#!/usr/bin/env bash
# Installs the Debian packages flagbench needs; does nothing when they are all
# present. Needs root (or sudo) only when something is missing.
#
# The default set is everything the two README commands (scripts/test.sh,
# scripts/bench.sh) call, tests included: scripts/fresh-check.sh proves it on
# a minimal Debian 12. A tool any test calls belongs here, and the test checks
# for it first (fb_need in tests/lib.sh).
#
# Usage: scripts/setup.sh [--server-bench]
#   --server-bench  also nginx-light, for scripts/bench-server.sh only. Kept
#                   out of the default set: Debian's nginx package starts a
#                   system nginx on port 80, which the tests and the main
#                   benchmark have no business doing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config      # toolchain
  libcurl4-openssl-dev                  # client HTTP (both backends)
  libevent-dev                          # the async loop and flagserver's HTTP
  clang libclang-rt-14-dev              # libFuzzer targets and sanitizer runtimes
  curl jq                               # tests and scripts talk HTTP and read JSON
  wrk                                   # tests/server/limits.sh: 1,000 connections at once
  python3 python3-requests python3-aiohttp  # the report program; the book's programs (peers/python)
  openssl                               # test certificates
  hyperfine gnuplot-nox                 # scripts/bench.sh: timing and plots
  imagemagick iso-flags-png-320x240     # scripts/make-dataset.sh: the real flags
)
case "${1:-}" in
  "") ;;
  --server-bench) packages+=(nginx-light) ;; # scripts/bench-server.sh: flagserver vs nginx
  *) echo "usage: scripts/setup.sh [--server-bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
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
