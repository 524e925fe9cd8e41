# shellcheck shell=bash
# tests/cli/lib.sh - start phasecast-serve on free loopback ports for the
# black-box tests. Sourced; needs PC_SERVE. Sets PC_PUB, PC_REQ, PC_TMP and
# a trap that stops every process the test started (PC_KEEP=1 keeps
# PC_TMP for a post mortem), and defines fail.

set -euo pipefail
PC_TMP=$(mktemp -d)
pc_pids=()
pc_cleanup() {
    local p
    for p in "${pc_pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pc_pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    [[ -n ${PC_KEEP:-} ]] && echo "kept $PC_TMP" || rm -rf "$PC_TMP"
}
trap pc_cleanup EXIT

# pc_serve [ARG...] - start the server on port 0 and read back its URLs.
pc_serve() {
    # Create the files first: the shell opens the redirections in the
    # background child, which may not have run yet when sed reads them.
    : >"$PC_TMP/serve.out"
    : >"$PC_TMP/serve.err"
    "$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 "$@" \
        >"$PC_TMP/serve.out" 2>"$PC_TMP/serve.err" &
    pc_pids+=($!)
    local i
    for ((i = 0; i < 100; i++)); do
        PC_PUB=$(sed -n 's/^pub //p' "$PC_TMP/serve.out")
        PC_REQ=$(sed -n 's/^rep //p' "$PC_TMP/serve.out")
        if [[ -n $PC_PUB && -n $PC_REQ ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "phasecast-serve did not print its URLs" >&2
    cat "$PC_TMP/serve.err" >&2
    return 1
}

# fail MESSAGE - print it and the tail of every output the test kept in
# PC_TMP, then exit 1 (the trap stops what the test started).
fail() {
    echo "FAIL: $*"
    local f
    for f in "$PC_TMP"/*.out "$PC_TMP"/*.err; do
        [[ -f $f ]] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    exit 1
}
