#!/usr/bin/env bash
# tests/cli/durlog_serve.sh - what an operator sees of the change log, with
# real phasecast-serve processes (docs/durability.md, "Operator commands"):
#   1. a torn tail (garbage after the last record, as a crash during a
#      write leaves) is cut at start-up, logged, and the original kept as
#      .broken; nothing acknowledged is lost;
#   2. damage in the middle of a log stops start-up, naming the file and
#      the offset, every time; --verify reports it; --repair cuts it;
#   3. a crash at each step of compaction (PHASECAST_FAILPOINTS) loses no
#      acknowledged action and leaves no temporary file;
#   4. a failed fsync under --fsync always stops the room: the action gets
#      a clear error, so does every later one, and a restart recovers the
#      room at its last acknowledged seq;
#   5. a piles game (whose timers the game arms itself) killed mid-game
#      goes on to its end after the restart;
#   6. a piles game crashed (PHASECAST_FAILPOINTS) right after its
#      transition into TURN_RESULTS is logged and before the timer that
#      TURN_RESULTS' enter callback arms is: the restored room runs the
#      enter callback again and the game goes on to its end.
# Needs PC_SERVE, PC_PLAY and PC_INSPECT.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

# serve_at NAME ARG... - start phasecast-serve on the ports of the first
# server (pc_serve) and wait for its URLs or its exit; sets serve_pid.
serve_at() {
    local name=$1 i
    shift
    for ((i = 0; i < 50; i++)); do
        : >"$PC_TMP/$name.out"
        : >"$PC_TMP/$name.err"
        "$PC_SERVE" --pub "$PC_PUB" --rep "$PC_REQ" "$@" \
            >"$PC_TMP/$name.out" 2>"$PC_TMP/$name.err" &
        serve_pid=$!
        pc_pids+=("$serve_pid")
        local j
        for ((j = 0; j < 100; j++)); do
            grep -q '^rep ' "$PC_TMP/$name.out" && return 0
            kill -0 "$serve_pid" 2>/dev/null || break
            sleep 0.05
        done
        grep -q 'Address in use' "$PC_TMP/$name.err" || return 0
        sleep 0.1
    done
    fail "$name: the ports stayed busy"
}

stop_server() { # SIGTERM, a clean stop
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
}

logs=$PC_TMP/logs
mkdir "$logs"

# ---- 1. A torn tail is cut and kept aside --------------------------------
pc_serve --log-dir "$logs" --fsync always --room t1
serve_pid=${pc_pids[-1]}
"$PC_DRIVER" play --pub "$PC_PUB" --req "$PC_REQ" --acks "$PC_TMP/acks1" t1 \
    >"$PC_TMP/driver1.out" 2>&1 || fail "the first game did not finish"
kill -9 "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
good=$(stat -c %s "$logs/t1.pclog")
head -c 300 /dev/urandom >>"$logs/t1.pclog"
serve_at torn --log-dir "$logs" --fsync always
grep -q "^rep " "$PC_TMP/torn.out" || fail "no start after a torn tail"
grep -q "cut at offset $good" "$PC_TMP/torn.err" ||
    fail "the torn tail was not cut at $good"
[[ -f $logs/t1.pclog.broken ]] || fail "no .broken copy"
(($(stat -c %s "$logs/t1.pclog.broken") == good + 300)) ||
    fail "the .broken copy is not the original"
(($(stat -c %s "$logs/t1.pclog") == good)) || fail "the log was not cut"
"$PC_DRIVER" check --pub "$PC_PUB" --req "$PC_REQ" --acks "$PC_TMP/acks1" ||
    fail "an acknowledged action was lost with the torn tail"
stop_server
echo "ok 1 - a torn tail is cut at $good and kept as t1.pclog.broken"

# ---- 2. Damage in the middle stops start-up, unless --repair ------------
size=$(stat -c %s "$logs/t1.pclog")
for trial in 1 2 3 4 5; do
    cp "$logs/t1.pclog" "$PC_TMP/t1.good"
    # A byte well inside the log (past the header and base record, before
    # the last record), flipped.
    at=$((size / 3 + RANDOM % (size / 3)))
    byte=$(od -An -tu1 -j "$at" -N1 "$logs/t1.pclog" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 0x5a)))" |
        dd of="$logs/t1.pclog" bs=1 seek="$at" conv=notrunc status=none
    set +e
    timeout 20 "$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 \
        --log-dir "$logs" >"$PC_TMP/refuse.out" 2>"$PC_TMP/refuse.err"
    rc=$?
    "$PC_SERVE" --verify "$logs/t1.pclog" >"$PC_TMP/verify.out"
    vrc=$?
    set -e
    ((rc == 1)) || fail "trial $trial: start-up did not stop (exit $rc)"
    grep -q "t1.pclog" "$PC_TMP/refuse.err" &&
        grep -q "offset [0-9]" "$PC_TMP/refuse.err" ||
        fail "trial $trial: the error does not name the file and offset"
    ((vrc == 1)) && grep -q "^first problem: .*offset" "$PC_TMP/verify.out" ||
        fail "trial $trial: --verify did not report the damage"
    cmp -s "$logs/t1.pclog" "$PC_TMP/t1.good" &&
        fail "trial $trial: the flip did not change the file"
    if ((trial < 5)); then
        cp "$PC_TMP/t1.good" "$logs/t1.pclog"
    fi
done
serve_at repair --log-dir "$logs" --repair
grep -q "^rep " "$PC_TMP/repair.out" || fail "--repair did not start"
grep -q "recovered room t1" "$PC_TMP/repair.err" || fail "t1 not repaired"
stop_server
"$PC_SERVE" --verify "$logs/t1.pclog" >"$PC_TMP/verify.out" ||
    fail "the repaired log does not verify"
echo "ok 2 - mid-log damage stops start-up 5/5 times; --repair cuts it"

# ---- 3. A crash at each step of compaction ------------------------------
for point in compact.open compact.write compact.fsync compact.rename \
    compact.dirsync; do
    dir=$PC_TMP/k-$point
    mkdir "$dir"
    serve_at "k-$point" --log-dir "$dir" --fsync always --keyframe-every 4 \
        --room k1 --room k2
    # The failpoint is armed from the second start on: the first creates
    # the logs (a "create.*" publish, not a compaction).
    stop_server
    PHASECAST_FAILPOINTS="$point=crash@1" serve_at "k-$point-crash" \
        --log-dir "$dir" --fsync always --keyframe-every 4
    crashed=$serve_pid
    "$PC_DRIVER" play --pub "$PC_PUB" --req "$PC_REQ" --pace 20 \
        --acks "$PC_TMP/acks-$point" k1 k2 >"$PC_TMP/driver-$point.out" 2>&1 &
    driver=$!
    pc_pids+=("$driver")
    wait "$crashed" 2>/dev/null && fail "$point: the failpoint did not fire"
    serve_at "k-$point-after" --log-dir "$dir" --fsync always \
        --keyframe-every 4
    wait "$driver" || fail "$point: the game did not survive the crash"
    "$PC_DRIVER" check --pub "$PC_PUB" --req "$PC_REQ" \
        --acks "$PC_TMP/acks-$point" || fail "$point: lost an action"
    stop_server
    compgen -G "$dir/*.tmp" >/dev/null && fail "$point: a .tmp file is left"
    for f in "$dir"/*.pclog; do
        "$PC_SERVE" --verify "$f" >/dev/null || fail "$point: $f is damaged"
    done
done
echo "ok 3 - a crash at each step of compaction loses nothing"

# ---- 4. A failed fsync stops the room -----------------------------------
dir=$PC_TMP/f
mkdir "$dir"
# Appends synced: alice's join (1), bob's join (2), alice's move (3).
PHASECAST_FAILPOINTS="log.fsync=eio@3" serve_at fsync --log-dir "$dir" \
    --fsync always --room f1
mkfifo "$PC_TMP/alice.in"
timeout 60 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room f1 --name alice \
    <"$PC_TMP/alice.in" >"$PC_TMP/alice.out" 2>&1 &
pc_pids+=($!)
exec 3>"$PC_TMP/alice.in"
wait_for() { # wait_for FILE PATTERN
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q "$2" "$1" && return 0
        sleep 0.05
    done
    fail "no \"$2\" in $1"
}
wait_for "$PC_TMP/alice.out" "joined f1"
timeout 60 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room f1 --name bob \
    --bot --timeout 30 >"$PC_TMP/bob.out" 2>&1 &
bob=$!
pc_pids+=("$bob")
wait_for "$PC_TMP/bob.out" "joined f1"
echo 'move {"cell": 0}' >&3
wait_for "$PC_TMP/alice.out" "^error"
echo 'move {"cell": 4}' >&3
wait_for "$PC_TMP/alice.out" "^error room_failed"
exec 3>&-
grep -q '^error log_write_failed: .*stopped accepting changes' \
    "$PC_TMP/alice.out" || fail "the failed action's error is not clear"
grep -q 'room f1 FAILED and refuses every change' "$PC_TMP/fsync.err" ||
    fail "the server did not report the failed room"
kill "$bob" 2>/dev/null || true
stop_server
serve_at fsync-after --log-dir "$dir" --fsync always
grep -q "recovered room f1 (tictactoe) at seq 2 " "$PC_TMP/fsync-after.err" ||
    fail "f1 did not recover at seq 2 (its last acknowledged change)"
stop_server
echo "ok 4 - a failed fsync stops the room with a clear error"

# ---- 5. A piles game, whose timers the game arms itself, goes on --------
# Piles arms every timer from its enter callbacks, which a restored room
# does not run again: the timer comes back from the log instead (timer
# records). Four bots play; the server is killed mid-game and restarted;
# the bots ride through and the game reaches GAME_OVER.
dir=$PC_TMP/p
mkdir "$dir"
piles_opts=(--deal-ms 50 --results-ms 30 --scoring-ms 100 --declare-ms 1500
    --play-ms 1500 --rounds 3)
# piles_bots PREFIX - four piles bots in room p1 of the server at
# PC_PUB/PC_REQ, writing PREFIXbotN.out; their pids in bots.
piles_bots() {
    local n
    bots=()
    for n in 1 2 3 4; do
        timeout 120 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room p1 \
            --name "bot$n" --game piles --bot --seed "$n" --timeout 30 \
            >"$PC_TMP/${1}bot$n.out" 2>&1 &
        bots+=($!)
        pc_pids+=($!)
    done
}
serve_at piles --log-dir "$dir" --fsync always --room p1:piles \
    "${piles_opts[@]}" --seed 7
piles_bots ""
wait_for "$PC_TMP/bot4.out" "joined p1"
sleep 0.3
kill -9 "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_at piles-after --log-dir "$dir" --fsync always "${piles_opts[@]}"
grep -q "recovered room p1 (piles)" "$PC_TMP/piles-after.err" ||
    fail "the piles room was not recovered"
grep -q "^room p1 piles" "$PC_TMP/piles-after.out" ||
    fail "the recovered room is not listed"
for b in "${bots[@]}"; do
    wait "$b" || fail "a piles bot did not finish after the restart"
done
at=$(sed -n 's/.*recovered room p1 (piles) at seq \([0-9]*\) .*/\1/p' \
    "$PC_TMP/piles-after.err")
end=$(sed -n 's/^result: .* at seq \([0-9]*\) .*/\1/p' "$PC_TMP/bot1.out")
[[ -n $at && -n $end ]] || fail "no recovered seq or no result"
((end > at)) || fail "the game was over before the kill (seq $at, end $end)"
stop_server
echo "ok 5 - a piles game killed at seq $at goes on to its end at seq $end"

# ---- 6. A crash inside a phase entry -----------------------------------
# The Nth timer record write crashes the server (before the write). Which
# N falls right after the transition into TURN_RESULTS depends on how the
# bots' actions interleave, so a few are tried until the log ends with
# that transition; then the restored room must arm TURN_RESULTS' timer by
# running its enter callback, or the bots would wait forever.
[[ -n ${PC_INSPECT:-} ]] || fail "PC_INSPECT (phasecast-inspect) is not set"
entry_case() { # N: 0 when the log ended inside TURN_RESULTS' entry
    local n=$1 d=$PC_TMP/e$1 b
    mkdir "$d"
    PHASECAST_FAILPOINTS="timer.write=crash@$n" serve_at "entry$n" \
        --log-dir "$d" --fsync always --room p1:piles "${piles_opts[@]}" \
        --rounds 1 --seed 7
    piles_bots "entry$n-"
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$serve_pid" 2>/dev/null && fail "timer.write=crash@$n never crashed"
    wait "$serve_pid" 2>/dev/null || true
    "$PC_INSPECT" --log "$d/p1.pclog" --no-color log --last 1 \
        >"$PC_TMP/entry$n-last.out" 2>&1 || fail "cannot read the log"
    grep -q -- '->TURN_RESULTS ' "$PC_TMP/entry$n-last.out" && return 0
    for b in "${bots[@]}"; do
        kill "$b" 2>/dev/null || true
        wait "$b" 2>/dev/null || true
    done
    return 1
}
hit=
for n in 10 11 9 12 8 13 14 7 15 16; do
    if entry_case "$n"; then
        hit=$n
        break
    fi
done
[[ -n $hit ]] || fail "no crash point fell right after a TURN_RESULTS transition"
serve_at entry-after --log-dir "$PC_TMP/e$hit" --fsync always \
    "${piles_opts[@]}" --rounds 1
at=$(sed -n 's/.*recovered room p1 (piles) at seq \([0-9]*\) .*/\1/p' \
    "$PC_TMP/entry-after.err")
for b in "${bots[@]}"; do
    wait "$b" || fail "a piles bot did not finish after a crash inside an entry"
done
end=$(sed -n 's/^result: .* at seq \([0-9]*\) .*/\1/p' \
    "$PC_TMP/entry$hit-bot1.out")
[[ -n $at && -n $end ]] || fail "no recovered seq or no result"
stop_server
echo "ok 6 - crashed inside TURN_RESULTS' entry at seq $at (timer write" \
    "$hit); the game went on to its end at seq $end"
echo PASS
