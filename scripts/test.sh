#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs the
# whole ctest suite three times over —
#   build/        release-like build, warnings as errors, every test;
#   build-asan/   ASan+UBSan, every test that runs our C code (not lint,
#                 report, nor those labelled nosan);
#   build-tsan/   TSan, the tests labelled 'threaded';
# and finally, with clang, the libFuzzer targets for a bounded time (label 'fuzz').
# This full matrix is what CI runs (inside scripts/fresh-check.sh).
#
# Usage: scripts/test.sh [--quick]
#   --quick   for development: build/ and its plain ctest stage only (every
#             test once, lint included; no sanitizer or fuzz builds)
# Exits non-zero on the first failure (2 on a usage error).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case ${1:-} in
  "") ;;
  --quick) quick=1 ;;
  -h | --help) echo "usage: scripts/test.sh [--quick]"; exit 0 ;;
  *) echo "test.sh: unknown argument '$1'; usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "test.sh: one argument at most; usage: scripts/test.sh [--quick]" >&2; exit 2; }

bash scripts/setup.sh
# libcurl 8 (Debian's bookworm-backports package, unpacked under build/, never
# installed) for the tests that need it: h2c multiplexing is broken in 7.88.
# Without it those tests say "not run here" instead of failing.
libcurl8=""
if ! libcurl8=$(bash scripts/setup.sh --libcurl8 build/libcurl8); then
  echo "test.sh: libcurl 8 could not be fetched; its tests will say 'not run here'" >&2
  libcurl8=""
fi

jobs=$(nproc 2>/dev/null || echo 2)
ctest_args=(--output-on-failure --timeout 600)

step() { printf '\n==== %s ====\n' "$*"; }

build() { # dir, cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DFLAGBENCH_WERROR=ON -DFLAGBENCH_LIBCURL8_DIR="$libcurl8" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

step "build (warnings are errors)"
build build
step "ctest: all tests"
ctest --test-dir build "${ctest_args[@]}" -j "$jobs"
if [ "$quick" -eq 1 ]; then
  step "quick: the plain stage passed (the full matrix: scripts/test.sh)"
  exit 0
fi

step "build with ASan+UBSan"
build build-asan -DFLAGBENCH_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug
step "ctest under ASan+UBSan"
# Every test that runs our C code, so not lint and report (shell and Python)
# nor those labelled nosan: they take minutes and no path of our C code that
# the sanitized tests do not (the lab's teardown and bench_net; the Python
# peers' HTTP/1.1 groups, where flagserver is the only C code).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan "${ctest_args[@]}" -LE '^(lint|report|nosan)$' -j "$jobs"

step "build with TSan"
build build-tsan -DFLAGBENCH_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug
step "ctest under TSan (threaded tests)"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan "${ctest_args[@]}" -L threaded -j "$jobs"

step "fuzz targets (clang libFuzzer, bounded)"
build build-fuzz -DCMAKE_C_COMPILER=clang -DFLAGBENCH_FUZZ=ON
ctest --test-dir build-fuzz "${ctest_args[@]}" -L fuzz
