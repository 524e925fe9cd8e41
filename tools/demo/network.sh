#!/usr/bin/env bash
# tools/demo/network.sh - the network demo that scripts/demo runs after the
# build, and ctest runs as a black box: one phasecast-serve hosting a piles
# room and a tictactoe room on free TCP loopback ports; four piles bots and
# two tictactoe bots, each its own phasecast-play process; a
# phasecast-watch process printing the piles room's public stream as it
# happens. Once both games are over, a second watcher joins the finished
# piles room and prints the final scores and the last 10 changes with their
# reasons, fetched over the network. Then the server is stopped and the
# wall time and the number of changes the piles game made are printed.
#
# It checks what it shows: it fails (exit 1) if a process fails, a game
# does not end, or the watcher saw a checksum mismatch. Everything it
# starts runs under timeout(1), in its own process group (a client's close
# can hang in nng 1.5.2, docs/reference/client.md), and is stopped on any
# exit, Ctrl-C included; its files live in one mktemp directory under
# PC_DEMO_TMPDIR (default: the system's) that is removed at exit. It does
# not build anything.
#
# usage: PC_SERVE=... PC_WATCH=... PC_PLAY=... tools/demo/network.sh [--seed N]
#   --seed N  seed the rooms' PRNG (the deals); default: from the clock
set -euo pipefail

: "${PC_SERVE:?path to phasecast-serve}" "${PC_WATCH:?path to phasecast-watch}"
: "${PC_PLAY:?path to phasecast-play}"
seed=()
if [[ ${1:-} == --seed && -n ${2:-} ]]; then
    seed=(--seed "$2")
elif [[ $# -ne 0 ]]; then
    echo "usage: $0 [--seed N]" >&2
    exit 2
fi

# Short pauses so that a whole game takes seconds; the declare and play
# timeouts are far longer than a bot needs, so they fire only if a bot
# stalls (then the game plays for it, with a reason that says so).
piles_opts=(--deal-ms 100 --results-ms 30 --scoring-ms 200
    --declare-ms 3000 --play-ms 3000)
LIMIT=120  # seconds any one process may live
QUIET=30   # a bot gives up after this long without a change
STOP_WAIT=50 # tenths of a second a stopped process gets before SIGKILL

start=$EPOCHREALTIME
tmp=$(mktemp -d "${PC_DEMO_TMPDIR:-${TMPDIR:-/tmp}}/phasecast-demo.XXXXXX")
pids=()

# Every process runs as `timeout LIMIT CMD`, and timeout puts itself and
# CMD in a new process group whose id is its pid: signalling the group
# reaches both.
stop_all() {
    local p i
    for p in "${pids[@]}"; do
        kill -TERM -- "-$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for ((i = 0; i < STOP_WAIT; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pids=()
}
tailer=''
cleanup() {
    [[ -z $tailer ]] || kill "$tailer" 2>/dev/null || true
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM HUP

# run NAME CMD... - start CMD in the background under timeout, output in
# $tmp/NAME.out; its pid (timeout's) is left in $last.
run() {
    local name=$1
    shift
    : >"$tmp/$name.out"
    timeout "$LIMIT" "$@" >"$tmp/$name.out" 2>&1 &
    last=$!
    pids+=("$last")
}

# wait_for FILE PATTERN PID - until FILE has a line matching PATTERN;
# false if PID exits first or 10 s pass.
wait_for() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "$2" "$1"
}

fail() {
    echo "demo: FAILED: $*" >&2
    exit 1
}

echo "== phasecast-serve: a piles room and a tictactoe room =="
run serve "$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 \
    --room piles:piles --room ttt:tictactoe "${piles_opts[@]}" "${seed[@]}"
serve=$last
wait_for "$tmp/serve.out" '^room ttt' "$serve" ||
    fail "phasecast-serve did not start: $(cat "$tmp/serve.out")"
cat "$tmp/serve.out"
pub=$(sed -n 's/^pub //p' "$tmp/serve.out")
rep=$(sed -n 's/^rep //p' "$tmp/serve.out")
net=(--pub "$pub" --req "$rep")

# The watcher joins first, so that it sees the game from seq 1.
run watch "$PC_WATCH" "${net[@]}" --room piles --until GAME_OVER \
    --timeout "$LIMIT"
watch=$last
wait_for "$tmp/watch.out" '^watching' "$watch" || fail "the watcher did not join"

bots=()
n=0
for name in alice bob carol dave; do
    n=$((n + 1))
    run "piles-$name" "$PC_PLAY" "${net[@]}" --room piles --name "$name" \
        --game piles --bot --seed "$n" --timeout "$QUIET"
    bots+=("$last")
done
for name in xavier olivia; do
    n=$((n + 1))
    run "ttt-$name" "$PC_PLAY" "${net[@]}" --room ttt --name "$name" \
        --game tictactoe --bot --seed "$n" --timeout "$QUIET"
    bots+=("$last")
done

echo
echo "== phasecast-watch --room piles: the public stream, live =="
# -s 0.1: notice the watcher's exit within a tenth of a second. In the
# background, because bash runs a trap only once the foreground command
# returns, and wait returns at once on a signal.
tail -n +1 -s 0.1 -f --pid="$watch" "$tmp/watch.out" &
tailer=$!
wait "$tailer"
tailer=''
status=0
wait "$watch" || status=1
for p in "${bots[@]}"; do
    wait "$p" || status=1
done
[[ $status -eq 0 ]] || {
    tail -n 5 "$tmp"/*.out >&2
    fail "a bot or the watcher did not finish"
}

echo
echo "== the players =="
for f in "$tmp"/piles-*.out "$tmp"/ttt-*.out; do
    name=${f##*/}
    line=$(grep '^result: ' "$f") || fail "no result from ${name%.out}"
    printf '%-13s %s\n' "${name%.out}" "$line"
done

echo
echo "== the piles room after the game, from a new watcher =="
# Joining a finished room: it stops at once, prints the scores from its
# replica and asks the server for the last 10 changes.
run final "$PC_WATCH" "${net[@]}" --room piles --until GAME_OVER \
    --timeout 20 --show /data/scores --show /data/winners --history 10
wait "$last" || { cat "$tmp/final.out" >&2; fail "the final watcher failed"; }
grep -v '^watching\|^stats:' "$tmp/final.out"
changes=$(sed -n 's/^end: seq \([0-9]*\) phase GAME_OVER$/\1/p' \
    "$tmp/final.out")
[[ -n $changes ]] || fail "the piles room is not over"
grep -q 'mismatches 0' "$tmp/watch.out" || fail "the watcher saw a mismatch"

echo
echo "== stopping =="
kill -TERM -- "-$serve"
wait "$serve" || fail "phasecast-serve did not stop cleanly"
grep -v '^pub \|^rep \|^room \|^phasecast-serve [0-9]' "$tmp/serve.out" || true
stop_all
wall=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "demo: the piles game made $changes changes; wall time ${wall} s" \
    "(start to clean stop)"
echo "demo: done"
