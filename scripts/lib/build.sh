# shellcheck shell=bash disable=SC2034
# scripts/lib/build.sh - where the repository is and how to build it.
#
# Sourced by the scripts in scripts/. Build directories live in the
# repository root (./build, ./build-asan, ...; ignored by git) and are
# configured incrementally: options given once stay in the CMake cache.

PC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PC_JOBS=$(nproc 2>/dev/null || echo 2)

# pc_build DIR [CMAKE_ARG...] - configure DIR (relative to the root) from
# the repository root with the given cache settings, then build everything.
pc_build() {
    local dir=$1
    shift
    cmake -S "$PC_ROOT" -B "$PC_ROOT/$dir" "$@"
    cmake --build "$PC_ROOT/$dir" --parallel "$PC_JOBS"
}

# pc_raise_fd_limit - raise this shell's soft descriptor limit to the hard
# one, so the tests it starts inherit it. Some tests hold both ends of a
# thousand connections in one process (about 2,300 descriptors), and many
# machines start processes with a soft limit of 1,024. The tests raise
# their own limit too, but under valgrind they cannot: valgrind fixes its
# client's limits at the soft limit it was started with.
pc_raise_fd_limit() {
    local hard
    hard=$(ulimit -H -n)
    ulimit -S -n "$hard" 2>/dev/null || true
}
