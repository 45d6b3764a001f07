#!/usr/bin/env bash
# lint.sh -- one linter over every file of its kind in a source tree, as a
# test: each finding is printed (file:line: message), and any finding fails.
#
#   mode shellcheck:   `shellcheck -S warning` on every bash file: *.sh, and
#                      every file whose first line is a bash or sh shebang
#   mode pyflakes:     `pyflakes3` on every Python file: *.py, and python shebangs
#   mode clang-format: `clang-format --dry-run -Werror` on every *.c and *.h,
#                      with the tree's .clang-format
#
# The files are git's (tracked, plus untracked ones not ignored) when ROOT is
# a git work tree, else every file under ROOT outside build*/ and .git/.
#
# Usage: lint.sh shellcheck|pyflakes|clang-format [ROOT]
# Exit status: 0 no finding; 1 findings (or a linter missing); 2 usage error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
source "$here/../lib.sh"

mode=${1:-}
root=${2:-${FLAGBENCH_SOURCE:-$(cd "$here/../.." && pwd)}}
case $mode in
shellcheck | pyflakes | clang-format) ;;
*)
    echo "usage: lint.sh shellcheck|pyflakes|clang-format [ROOT]" >&2
    exit 2
    ;;
esac
[ -d "$root" ] || {
    echo "lint.sh: no source tree at '$root'" >&2
    exit 2
}

# Every file of the tree, relative to ROOT, one per line.
tree_files() {
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files --cached --others --exclude-standard
    else
        (cd "$root" && find . \( -name '.git' -o -name 'build*' \) -prune -o -type f -print |
            sed 's|^\./||')
    fi
}

# The files of one kind: by name, or (when SHEBANG-REGEX is not empty) by
# their first line.
kind_files() { # name-regex shebang-regex
    (
        cd "$root" || exit 1
        tree_files | while IFS= read -r f; do
            [ -f "$f" ] || continue # deleted but still in the index
            if [[ $f =~ $1 ]]; then
                printf '%s\n' "$f"
            elif [ -n "$2" ]; then
                printf '%s\0' "$f" >&3
            fi
        done 3> >(xargs -0 -r awk -v re="$2" 'FNR == 1 { if ($0 ~ re) print FILENAME; nextfile }')
    ) | sort -u
}

case $mode in
shellcheck)
    fb_need shellcheck:shellcheck
    mapfile -t files < <(kind_files '\.sh$' '^#!.*[/ ](ba)?sh( |$)')
    lint() { shellcheck -S warning -f gcc "$@"; }
    ;;
pyflakes)
    fb_need pyflakes3:pyflakes3
    mapfile -t files < <(kind_files '\.py$' '^#!.*[/ ]python[0-9.]*( |$)')
    lint() { pyflakes3 "$@"; }
    ;;
clang-format)
    fb_need clang-format:clang-format
    mapfile -t files < <(kind_files '\.[ch]$' '')
    lint() { clang-format --dry-run -Werror "$@"; }
    ;;
esac

fb_ok "$mode: the tree has files to check (${#files[@]})" test "${#files[@]}" -gt 0
out=$(cd "$root" && lint "${files[@]}" 2>&1)
findings=$(grep -E '^[^ :]+:[0-9]+:' <<<"$out")
n=$(grep -c . <<<"$findings")
if [ -n "$out" ] && [ "$n" -eq 0 ]; then # the linter's own error, not a finding
    findings=$(head -n 20 <<<"$out")
    n=1
fi
if [ "$n" -gt 0 ]; then
    fb_log "$mode findings:"
    sed 's/^/#   /' <<<"$findings"
fi
fb_eq "$mode: no finding in ${#files[@]} file(s)" "$n" 0
fb_finish
