#!/usr/bin/env bash
# selftest.sh -- lint.sh can fail: on a small tree with one planted finding per
# linter (a bash script found by its shebang alone, a Python file, a C file)
# each mode exits 1 and names the file and line; on the same tree without the
# findings each mode exits 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
source "$here/../lib.sh"
src=${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}
fb_need shellcheck:shellcheck pyflakes3:pyflakes3 clang-format:clang-format

tree=$FB_TMP/tree
mkdir -p "$tree/tools" "$tree/build"
cp "$src/.clang-format" "$tree/"
clean() {
    printf '#!/usr/bin/env bash\ncd /tmp || exit 1\necho "$PWD"\n' >"$tree/tools/run"
    printf 'import os\n\nprint(os.getcwd())\n' >"$tree/tools/show.py"
    printf 'int lint_one(void);\n\nint lint_one(void)\n{\n    return 1;\n}\n' >"$tree/one.c"
    # a build directory is never linted
    printf '#!/bin/sh\ncd /tmp\n' >"$tree/build/gen"
}
clean
for mode in shellcheck pyflakes clang-format; do
    bash "$here/lint.sh" "$mode" "$tree" >"$FB_TMP/$mode.out" 2>&1
    fb_eq "$mode: a clean tree passes" "$?" 0
done

# One finding each: cd without a check (SC2164), an unused import, a
# function laid out against the committed style.
printf '#!/usr/bin/env bash\ncd /tmp\necho "$PWD"\n' >"$tree/tools/run"
printf 'import os\nimport sys\n\nprint(os.getcwd())\n' >"$tree/tools/show.py"
printf 'int lint_one(void);\n\nint   lint_one(void) { return 1; }\n' >"$tree/one.c"
declare -A expect=([shellcheck]='tools/run:2:' [pyflakes]='tools/show.py:2:' [clang-format]='one.c:3:')
for mode in shellcheck pyflakes clang-format; do
    bash "$here/lint.sh" "$mode" "$tree" >"$FB_TMP/$mode.out" 2>&1
    fb_eq "$mode: a planted finding fails" "$?" 1
    fb_ok "$mode: the finding is listed (${expect[$mode]})" grep -qF "#   ${expect[$mode]}" "$FB_TMP/$mode.out"
done
fb_finish
