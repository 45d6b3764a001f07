#!/usr/bin/env bash
# fresh-check.sh -- the README's two commands on a freshly made, minimal
# Debian 12, so that a green run can no longer hide a missing install step.
#
# It builds a minimal Debian 12 root (debootstrap --variant=minbase bookworm,
# from the Debian mirror this machine's apt already uses), clones the committed
# HEAD into a copy of it, bind-mounts /proc, /sys, /dev and /dev/shm, and runs
# there, as root and with a clean environment:
#
#     scripts/test.sh
#     scripts/bench.sh --quick --out <scratch folder>
#
# printing each one's exit status and elapsed time. The pristine root is
# cached under the build directory (made once, ~30 s; later runs copy it in
# seconds) and is never run in; the copy is removed afterwards unless --keep.
# Downloaded .deb files are kept in the cache too, so a second run does not
# fetch them again; what gets installed is still decided by the scripts alone.
#
# The network lab (netlab/) runs in the root too: its namespaces and veth pair
# are made inside namespaces of their own, which die with this script's mount
# namespace at the latest; the host's network is never changed.
#
# Usage: scripts/fresh-check.sh [--cache DIR] [--mirror URL] [--keep] [--only test|bench|netlab]
# Exit status: 0 both commands passed; 1 a command failed; 2 usage error or
# not root; 3 the fresh root could not be made.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir="$ROOT/build/fresh"
mirror=""
keep=0
only=""

log() { printf 'fresh-check: %s\n' "$*" >&2; }
die() { # status message
    log "$2"
    exit "$1"
}

usage() {
    cat <<'EOF'
usage: scripts/fresh-check.sh [options]
  --cache DIR    where the pristine root and the .deb cache live (default: build/fresh)
  --mirror URL   the Debian mirror for debootstrap (default: the one this machine's apt uses)
  --keep         keep the used root afterwards, for a look inside
  --only WHICH   run only 'test' (scripts/test.sh), only 'bench' (bench.sh --quick),
                 or only 'netlab' (setup, the plain build, ctest -L netlab)
  -h, --help     this text
Needs root: debootstrap, chroot and bind mounts do.
EOF
}

pristine="" # the cached minimal root, never run in
debs=""     # the cached .deb files, mounted as the root's apt archive
work=""     # this run's folder: the used root and the logs
head=""     # the commit checked
mounts=()

results=()
passed=0
failed=0

parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
        --cache | --mirror | --only)
            [ $# -ge 2 ] || { log "$1 needs a value"; usage >&2; exit 2; }
            case $1 in
            --cache) cache_dir=$2 ;;
            --mirror) mirror=$2 ;;
            --only)
                case $2 in
                test | bench | netlab) only=$2 ;;
                *) die 2 "--only takes 'test', 'bench' or 'netlab', not '$2'" ;;
                esac
                ;;
            esac
            shift
            ;;
        --keep) keep=1 ;;
        -h | --help) usage; exit 0 ;;
        *) log "unknown argument: $1"; usage >&2; exit 2 ;;
        esac
        shift
    done
}

cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
    if [ -n "$work" ]; then
        if [ "$keep" -eq 1 ]; then
            log "kept the used root: $work/root"
        else
            rm -rf --one-file-system "$work"
        fi
    fi
}

bind() { # source target
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounts+=("$2")
}

# ---------------------------------------------------------------- the root

# make_root: the pristine minimal root, made once and cached; never run in.
make_root() {
    local t
    mkdir -p "$cache_dir" "$debs"
    if [ ! -f "$pristine/.flagbench-pristine" ]; then
        command -v debootstrap >/dev/null || {
            log "installing debootstrap (Debian package debootstrap)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
                die 3 "could not install debootstrap"
        }
        log "making a minimal Debian 12 root in $pristine (debootstrap --variant=minbase bookworm)"
        rm -rf --one-file-system "$pristine"
        t=$SECONDS
        debootstrap --variant=minbase bookworm "$pristine" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 ||
            die 3 "debootstrap failed; see $cache_dir/debootstrap.log"
        # Reach Debian's registry the way this machine does: its apt sources and
        # its Acquire settings. Nothing else of the host goes in.
        rm -f "$pristine"/etc/apt/sources.list
        cp /etc/apt/sources.list "$pristine/etc/apt/" 2>/dev/null || true
        find /etc/apt/sources.list.d -maxdepth 1 \( -name '*.sources' -o -name '*.list' \) \
            -exec cp -t "$pristine/etc/apt/sources.list.d/" {} +
        grep -l '^ *Acquire::' /etc/apt/apt.conf.d/* 2>/dev/null |
            xargs -r cp -t "$pristine/etc/apt/apt.conf.d/"
        date -u '+%Y-%m-%d %H:%M UTC' >"$pristine/.flagbench-pristine"
        log "root made in $((SECONDS - t)) s ($(du -sh "$pristine" | cut -f1))"
    else
        log "using the cached minimal root made $(cat "$pristine/.flagbench-pristine")"
    fi
}

# prepare_run: a copy of the pristine root with the committed HEAD cloned
# into /src/flagbench and the kernel file systems mounted.
prepare_run() {
    local t
    work=$(mktemp -d "$cache_dir/run.XXXXXX")
    t=$SECONDS
    cp -a "$pristine" "$work/root"
    rm -f "$work/root/.flagbench-pristine"
    cp -L /etc/resolv.conf "$work/root/etc/resolv.conf"
    log "copied the root in $((SECONDS - t)) s"

    # The committed HEAD, as a clone does it: nothing uncommitted, nothing ignored.
    head=$(git -C "$ROOT" rev-parse HEAD)
    if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
        log "note: the work tree has uncommitted changes; they are NOT checked (HEAD is $head)"
    fi
    git clone -q --no-hardlinks "$ROOT" "$work/root/src/flagbench"
    git -C "$work/root/src/flagbench" checkout -q --detach "$head"
    log "cloned $(git -C "$ROOT" log -1 --format='%h %s' "$head")"

    # The root is a mount point of its own, as / is on a real machine: `ip
    # netns exec` and `ip -n` make / a slave mount (mount --make-rslave /) in
    # the mount namespace they enter, which the kernel refuses (EINVAL) for a
    # plain folder, so the network lab could not run in the root. The bind
    # lives only in this script's private mount namespace.
    bind "$work/root" "$work/root"
    mount -t proc proc "$work/root/proc"
    mounts+=("$work/root/proc")
    bind /sys "$work/root/sys"
    bind /dev "$work/root/dev"
    bind /dev/shm "$work/root/dev/shm"
    bind /dev/pts "$work/root/dev/pts"
    bind "$debs" "$work/root/var/cache/apt/archives"
}

# ---------------------------------------------------------------- the commands

# in_root COMMAND : runs COMMAND with bash in the clone, inside the fresh root,
# with nothing of this shell's environment.
in_root() {
    chroot "$work/root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        bash -c "cd /src/flagbench && $1"
}

run() { # label command
    local rc t0=$SECONDS
    log "running: $2"
    set +e
    in_root "$2" 2>&1 | tee "$work/$1.log"
    rc=${PIPESTATUS[0]}
    set -e
    results+=("$(printf '%-40s exit %d in %d s' "$2" "$rc" $((SECONDS - t0)))")
    if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

main() {
    parse_args "$@"
    [ "$(id -u)" -eq 0 ] || die 2 "must run as root: debootstrap, chroot and bind mounts need it (try: sudo $0)"
    for tool in git chroot mount umount unshare; do
        command -v "$tool" >/dev/null || die 2 "$tool is not installed"
    done

    # Neither the mounts nor the processes started below may outlive this
    # script, even if it is killed: run the rest in private mount and PID
    # namespaces of its own (when the script ends, the kernel ends every process
    # the tests left). The EXIT trap still unmounts and removes everything on any
    # ordinary exit.
    if [ -z "${FRESH_CHECK_IN_NS:-}" ]; then
        export FRESH_CHECK_IN_NS=1
        exec unshare --mount --propagation private --pid --fork -- bash "$0" "$@"
    fi

    if [ -z "$mirror" ]; then
        mirror=$(bash "$ROOT/scripts/debian-mirror.sh") ||
            die 2 "no bookworm mirror in /etc/apt/sources.list*; give one with --mirror URL"
    fi

    cache_dir=$(mkdir -p "$cache_dir" && cd "$cache_dir" && pwd)
    pristine="$cache_dir/root"
    debs="$cache_dir/debs"
    trap cleanup EXIT
    trap 'log "interrupted"; exit 130' INT TERM HUP

    make_root
    prepare_run

    case $only in
    "" | test) run test "scripts/test.sh" ;;
    esac
    case $only in
    "" | bench) run bench "scripts/bench.sh --quick --out /tmp/fresh-bench" ;;
    esac
    # Only the network lab's tests, on the fresh root (scripts/test.sh runs
    # them as part of every test, this is for working on the lab).
    if [ "$only" = netlab ]; then
        run netlab "bash scripts/setup.sh && cmake -S . -B build -DFLAGBENCH_WERROR=ON >/dev/null && cmake --build build -j $(nproc) >/dev/null && ctest --test-dir build -L netlab --output-on-failure"
    fi

    printf '\n==== fresh-check on a minimal Debian 12 (HEAD %s) ====\n' "${head:0:7}"
    printf '%s\n' "${results[@]}"
    printf 'fresh-check: %d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" -eq 0 ]
}

main "$@"; exit
