#!/usr/bin/env bash
# tests/cli/game.sh - serve, watch and two bots play one full game over TCP
# loopback; the watcher's last change is FINISHED and both bots exit 0.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

pc_serve --room r1
timeout 90 "$PC_WATCH" --pub "$PC_PUB" --req "$PC_REQ" --room r1 --until FINISHED \
    --timeout 60 >"$PC_TMP/watch.out" &
watch_pid=$!
pc_pids+=("$watch_pid")
# The watcher joins before the players, so it sees every change.
for ((i = 0; i < 100; i++)); do
    grep -q '^watching' "$PC_TMP/watch.out" && break
    sleep 0.1
done
timeout 90 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room r1 --name alice --bot \
    --seed 1 >"$PC_TMP/alice.out" &
alice=$!
pc_pids+=("$alice")
timeout 90 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room r1 --name bob --bot \
    --seed 2 >"$PC_TMP/bob.out" &
bob=$!
pc_pids+=("$bob")
status=0
wait "$alice" || status=1
wait "$bob" || status=1
wait "$watch_pid" || status=1
cat "$PC_TMP/watch.out" "$PC_TMP/alice.out" "$PC_TMP/bob.out"
[[ $status -eq 0 ]] || { echo "FAIL: a client exited non-zero"; exit 1; }
grep -q '^result: ' "$PC_TMP/alice.out" || { echo "FAIL: no result"; exit 1; }
last=$(grep '^seq ' "$PC_TMP/watch.out" | tail -n 1)
[[ $last == *"phase FINISHED"*"sum ok"* ]] ||
    { echo "FAIL: last change is not FINISHED: $last"; exit 1; }
grep -q 'mismatches 0' "$PC_TMP/watch.out" || { echo "FAIL: mismatches"; exit 1; }
echo PASS
