# shellcheck shell=bash disable=SC2034
# scripts/lib/deps.sh - install the Debian packages the scripts need.
#
# Sourced by the scripts in scripts/, never run on its own. pc_deps_ensure
# asks dpkg which of the named packages are not installed and installs only
# those, so a machine that has everything never touches the network. It
# assumes Debian 12 (bookworm) or a derivative with the same package names;
# elsewhere it installs nothing and the build reports what is missing.
#
# Environment:
#   PHASECAST_NO_DEPS=1  skip the package step entirely.

# What building, the demo and the ctest suite need. build-essential brings
# gcc with its ASan/UBSan runtimes, make and libc6-dev.
PC_DEPS_BUILD=(build-essential cmake pkg-config libnng-dev nng-utils
    libevent-dev libcjson-dev libcmocka-dev)
# What the checks need on top: valgrind runs, the format check, clang
# with its sanitizer/libFuzzer runtimes (only a Recommends of clang, so it
# is named explicitly because we install without recommends), and
# prometheus for promtool, which lints the server's /metrics text, and
# curl, the HTTP client of the bridge's black-box test.
# chromium, nodejs and npm run the pages' browser tests (tests/web, which
# fetch playwright-core from npm). npm is asked for only when no npm
# command exists: a nodejs build that bundles npm conflicts with Debian's.
PC_DEPS_CHECK=(valgrind clang-format clang libclang-rt-14-dev prometheus curl
    chromium nodejs)
if ! command -v npm >/dev/null 2>&1; then
    PC_DEPS_CHECK+=(npm)
fi

pc_log() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# pc_deps_missing PKG... - print the packages that are not installed.
pc_deps_missing() {
    local pkg status
    for pkg in "$@"; do
        # "ii " means installed; unknown packages make dpkg-query fail.
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) ||
            status=""
        if [[ $status != ii* ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# pc_deps_ensure PKG... - install whichever of PKG... are missing.
pc_deps_ensure() {
    if [[ ${PHASECAST_NO_DEPS:-0} == 1 ]]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        pc_log "not a Debian system: install these yourself: $*"
        return 0
    fi
    local missing
    mapfile -t missing < <(pc_deps_missing "$@")
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    pc_log "installing missing packages: ${missing[*]}"
    # sudo drops the environment, so the frontend is set through env(1).
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q)
    if ((EUID != 0)); then
        if ! command -v sudo >/dev/null 2>&1; then
            pc_log "not root and no sudo: run as root, or install: ${missing[*]}"
            return 1
        fi
        apt=(sudo "${apt[@]}")
    fi
    # Refresh the package lists once per run, only when something is missing:
    # a fresh image has none, and old ones may name files no longer served.
    if [[ -z ${PC_DEPS_UPDATED:-} ]]; then
        "${apt[@]}" update
        export PC_DEPS_UPDATED=1
    fi
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
    mapfile -t missing < <(pc_deps_missing "$@")
    if ((${#missing[@]} != 0)); then
        pc_log "still missing after apt-get install: ${missing[*]}"
        return 1
    fi
}
