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
