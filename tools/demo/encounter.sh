#!/usr/bin/env bash
# tools/demo/encounter.sh - the encounter demo that scripts/encounter-demo
# runs after the build, and ctest runs as a black box: one phasecast-serve
# hosting an encounter room with short timers on free TCP loopback ports,
# a game-master bot and three hero bots, each its own phasecast-play
# process, and a phasecast-watch process recording the public stream.
# Once the encounter ends in VICTORY or DEFEAT it prints what each bot
# saw at the end, then a late watcher's last changes of the room with
# their reasons (events marked EVENT), fetched over the network, and the
# wall time.
#
# The game master's credential is drawn at random into a file of mode
# 0600 in the demo's directory and given to the server and the game
# master as that file, never on a command line. It checks what it shows:
# it fails (exit 1) if a process fails, the encounter does not end, the
# watcher saw a checksum mismatch or did not print the events apart from
# the changes. Every process runs under timeout(1) in its own process
# group and is stopped on any exit, Ctrl-C included; its files live in one
# mktemp directory under PC_DEMO_TMPDIR (default: the system's) that is
# removed at exit. It builds nothing.
#
# usage: PC_SERVE=... PC_WATCH=... PC_PLAY=... tools/demo/encounter.sh
#            [--seed N]
#   --seed N  seed the room's PRNG (the dice) and the bots; default: clock
set -euo pipefail

: "${PC_SERVE:?path to phasecast-serve}" "${PC_WATCH:?path to phasecast-watch}"
: "${PC_PLAY:?path to phasecast-play}"
seed=()
bot_seed=$$
if [[ ${1:-} == --seed && ${2:-} =~ ^[0-9]+$ ]]; then
    seed=(--seed "$2")
    bot_seed=$2
elif [[ $# -ne 0 ]]; then
    echo "usage: $0 [--seed N]" >&2
    exit 2
fi

# Short timers so that an encounter takes seconds: the round timer fires
# only for a bot that stalls (then the hero defends, with a reason that
# says so); the resolution pause lets the stream be read as it happens.
enc_opts=(--round-ms 3000 --resolution-ms 150 --max-rounds 20 --max-heroes 3)
LIMIT=120    # seconds any one process may live
QUIET=30     # a bot gives up after this long without a change
STOP_WAIT=50 # tenths of a second a stopped process gets before SIGKILL
LAST=20      # changes the late watcher prints

start=$EPOCHREALTIME
tmp=$(mktemp -d "${PC_DEMO_TMPDIR:-${TMPDIR:-/tmp}}/phasecast-encounter.XXXXXX")
pids=()

# Every process runs as `timeout LIMIT CMD`, which puts itself and CMD in
# a new process group whose id is its pid: signalling the group reaches
# both.
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
cleanup() {
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "encounter-demo: interrupted" >&2; exit 130' INT TERM HUP

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
    echo "encounter-demo: FAILED: $*" >&2
    exit 1
}

# The game master's credential: 32 random hex digits, readable by us only.
(
    umask 077
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/gm.credential"
)

echo "== phasecast-serve: an encounter room =="
run serve "$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 \
    --room cave:encounter "${enc_opts[@]}" \
    --gm-credential-file "$tmp/gm.credential" "${seed[@]}"
serve=$last
wait_for "$tmp/serve.out" '^room cave' "$serve" ||
    fail "phasecast-serve did not start: $(cat "$tmp/serve.out")"
grep '^room \|^phasecast-serve [0-9]' "$tmp/serve.out"
pub=$(sed -n 's/^pub //p' "$tmp/serve.out")
rep=$(sed -n 's/^rep //p' "$tmp/serve.out")
net=(--pub "$pub" --req "$rep" --room cave)

# The watcher joins first, so that it sees the encounter from seq 1.
run watch "$PC_WATCH" "${net[@]}" --until VICTORY --until DEFEAT \
    --timeout "$LIMIT"
watch=$last
wait_for "$tmp/watch.out" '^watching' "$watch" || fail "the watcher did not join"

bots=()
run gm "$PC_PLAY" "${net[@]}" --name gm --gm --bot --heroes 3 \
    --gm-credential-file "$tmp/gm.credential" --seed "$bot_seed" \
    --timeout "$QUIET"
bots+=("$last")
n=0
for name in alice bob carol; do
    n=$((n + 1))
    run "hero-$name" "$PC_PLAY" "${net[@]}" --name "$name" --game encounter \
        --bot --seed "$((bot_seed + n))" --timeout "$QUIET"
    bots+=("$last")
done
echo "game master: gm; heroes: alice, bob, carol (every one a bot process)"

status=0
wait "$watch" || status=1
for p in "${bots[@]}"; do
    wait "$p" || status=1
done
[[ $status -eq 0 ]] || {
    tail -n 5 "$tmp"/*.out >&2
    fail "a bot or the watcher did not finish"
}
grep -q 'mismatches 0' "$tmp/watch.out" || fail "the watcher saw a mismatch"
# The watcher printed the events apart from the changes: the fallen
# announced by name, and each round's private events as their seq alone.
grep -q '^seq [0-9]* phase [A-Z]* EVENT \(monster_defeated\|hero_down\) data {' \
    "$tmp/watch.out" || fail "the watcher printed no announcement"
grep -q '^seq [0-9]* phase ROUND EVENT (private) sum ok' "$tmp/watch.out" ||
    fail "the watcher printed no private event"

echo
echo "== what each bot saw at the end (the game master sees hit points) =="
for f in "$tmp"/gm.out "$tmp"/hero-*.out; do
    name=${f##*/}
    sed -n '/^result: /,$p' "$f" | sed "s/^/${name%.out}: /"
done
races=$(cat "$tmp"/hero-*.out | grep -c 'lost a race' || true)

echo
echo "== the room's last $LAST changes, from a new watcher (public view) =="
run final "$PC_WATCH" "${net[@]}" --until VICTORY --until DEFEAT \
    --timeout 20 --history "$LAST"
wait "$last" || { cat "$tmp/final.out" >&2; fail "the final watcher failed"; }
sed -n '/^history: /,/^end: /p' "$tmp/final.out"
end=$(sed -n 's/^end: seq \([0-9]*\) phase \(VICTORY\|DEFEAT\)$/\2 at seq \1/p' \
    "$tmp/final.out")
[[ -n $end ]] || fail "the encounter did not end"

kill -TERM -- "-$serve"
serve_rc=0
wait "$serve" || serve_rc=$?
if ((serve_rc != 0)); then
    tail -n 30 "$tmp/serve.out" >&2
    fail "phasecast-serve did not stop cleanly (exit status $serve_rc)"
fi
stop_all
wall=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo
echo "encounter-demo: outcome $end; $races lost race(s) among the heroes;" \
    "wall time ${wall} s (start to clean stop)"
