#!/usr/bin/env bash
# tests/cli/durlog_crashloop.sh - the crash loop of docs/durability.md:
# phasecast-serve runs with --fsync always (PC_CRASH_FSYNC picks another)
# while several client processes play; at a random moment in their burst
# of actions it is killed with SIGKILL and restarted on the same log
# directory and ports, again and again (PC_CRASH_ITERATIONS times, 20 by
# default; scripts/crashloop runs a longer loop). Each round opens new rooms and a new driver process, so
# early drivers ride through many restarts. After every 20 rounds (the end
# of the CI run) the server stays up and:
#   - every action the server acknowledged is in its room at the seq it
#     was acknowledged with (nothing acknowledged lost, no seq reused),
#   - every room recovered at every restart (none missing),
#   - every player's replica converged by itself,
#   - every log verifies clean;
# then those rooms' logs leave the log directory and the loop goes on.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

iterations=${PC_CRASH_ITERATIONS:-20}
per=3 # rooms per round, each played by its own pair of clients
logs=$PC_TMP/logs
mkdir "$logs"
# PC_CRASH_FSYNC picks the policy: a process crash must lose nothing
# acknowledged under every policy, since each record is written (to the
# kernel) before its change commits; only an OS crash tells them apart.
fsync=${PC_CRASH_FSYNC:-always}
serve_args=(--log-dir "$logs" --fsync "$fsync" --keyframe-every 7
    --heartbeat 200 --history 200)
seed=${PC_CRASH_SEED:-$$}
RANDOM=$seed
echo "crash loop: $iterations kills, --fsync $fsync, seed $seed"

acks_total() {
    cat "$PC_TMP"/acks* 2>/dev/null | grep -vc '^doubt' || true
}

# start_server ROUND ARG... - (re)start phasecast-serve on the ports of the
# first start; a killed server's port can take a moment to be free again.
start_server() {
    local round=$1 try
    shift
    for ((try = 0; try < 50; try++)); do
        : >"$PC_TMP/serve$round.out"
        : >"$PC_TMP/serve$round.err"
        "$PC_SERVE" --pub "$PC_PUB" --rep "$PC_REQ" "${serve_args[@]}" "$@" \
            >"$PC_TMP/serve$round.out" 2>"$PC_TMP/serve$round.err" &
        serve_pid=$!
        local i
        for ((i = 0; i < 50; i++)); do
            grep -q '^rep ' "$PC_TMP/serve$round.out" && {
                pc_pids+=("$serve_pid")
                return 0
            }
            kill -0 "$serve_pid" 2>/dev/null || break
            sleep 0.05
        done
        wait "$serve_pid" 2>/dev/null || true
        grep -q 'Address in use' "$PC_TMP/serve$round.err" ||
            fail "round $round: the server did not start"
        sleep 0.1
    done
    fail "round $round: the ports stayed busy"
}

rooms_of() { # rooms_of ROUND
    local i
    for ((i = 1; i <= per; i++)); do
        echo "c$1-$i"
    done
}

room_flags() { # room_flags ROUND
    local r
    for r in $(rooms_of "$1"); do
        printf -- '--room\n%s\n' "$r"
    done
}

# settle FIRST LAST - let the server stay up: the drivers of rounds
# FIRST..LAST check that their replicas converge and exit, every action
# they were acknowledged is checked, and their rooms' logs are verified and
# moved out of the log directory (so the next start does not host them).
# A long loop runs in epochs of 20 rounds this way: the rooms of finished
# games would otherwise pile up, and nng's PUB sends every room's
# heartbeats to every subscriber, until the server drowns.
settle() {
    local first=$1 last=$2 p r room status=0 acks=()
    touch "$PC_TMP/settled"
    for p in "${driver_pids[@]}"; do
        wait "$p" || status=1
    done
    driver_pids=()
    ((status == 0)) || {
        for ((r = first; r <= last; r++)); do
            cat "$PC_TMP/driver$r.out"
        done
        fail "a driver of rounds $first..$last failed"
    }
    for ((r = first; r <= last; r++)); do
        acks+=("$PC_TMP/acks$r")
    done
    "$PC_DRIVER" check --pub "$PC_PUB" --req "$PC_REQ" --acks "${acks[@]}" ||
        fail "rounds $first..$last: an acknowledged action is missing or its seq was reused"
    for ((r = first; r <= last; r++)); do
        for room in $(rooms_of "$r"); do
            "$PC_SERVE" --verify "$logs/$room.pclog" >"$PC_TMP/verify.out" ||
                fail "$room does not verify: $(cat "$PC_TMP/verify.out")"
            mv "$logs/$room".* "$PC_TMP/done/"
        done
    done
    rm "$PC_TMP/settled"
}

mkdir "$PC_TMP/done"
epoch=20
mapfile -t flags < <(room_flags 1)
pc_serve "${serve_args[@]}" "${flags[@]}"
serve_pid=${pc_pids[-1]}
driver_pids=()
live_from=1 # the first round whose rooms are still in the log directory
for ((round = 1; round <= iterations; round++)); do
    # shellcheck disable=SC2046
    "$PC_DRIVER" play --pub "$PC_PUB" --req "$PC_REQ" --pace 5 \
        --settled "$PC_TMP/settled" \
        --acks "$PC_TMP/acks$round" $(rooms_of "$round") \
        >"$PC_TMP/driver$round.out" 2>&1 &
    driver_pids+=($!)
    pc_pids+=($!)

    # Kill at a random point of the burst: after 1..20 more acknowledged
    # actions (or 3 s, if the drivers are all done).
    start=$(acks_total)
    want=$((start + 1 + RANDOM % 20))
    for ((i = 0; i < 300; i++)); do
        (($(acks_total) >= want)) && break
        sleep 0.01
    done
    kill -9 "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true

    # Every room in the log directory must come back, plus the next
    # round's.
    mapfile -t flags < <(room_flags $((round + 1)))
    start_server $((round + 1)) "${flags[@]}"
    got=$(grep -c 'recovered room' "$PC_TMP/serve$((round + 1)).err" || true)
    want_rooms=$(((round - live_from + 1) * per))
    ((got == want_rooms)) ||
        fail "round $round: $got of $want_rooms rooms recovered"
    if ((round % epoch == 0 || round == iterations)); then
        settle "$live_from" "$round"
        live_from=$((round + 1))
    fi
done
echo "killed phasecast-serve $iterations times; $(acks_total) acknowledged actions checked"
echo PASS
