#!/usr/bin/env bash
# tests/cli/encounter_replay.sh - an encounter played over the network by
# bots replays exactly from its change log: phasecast-serve logs the room
# (--log-dir), a game-master bot and three hero bots (phasecast-play
# processes) play it to VICTORY or DEFEAT, then phasecast-inspect exports
# the log and `import` plays the export through the game's rules again,
# with the same settings: every change (dice rolls, events, the round
# timer's defaults) must come out the same. The same export replayed with
# other settings must diverge, so the check can fail. Waits are bounded
# polls, never timing assertions.
#
# Needs PC_SERVE, PC_PLAY and PC_INSPECT.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

umask 077
echo "cli-replay-$RANDOM$RANDOM-credential" >"$PC_TMP/gm"
opts=(--round-ms 2000 --resolution-ms 20 --max-rounds 12 --max-heroes 3)
mkdir "$PC_TMP/logs"
pc_serve --room cave:encounter --gm-credential-file "$PC_TMP/gm" \
    --log-dir "$PC_TMP/logs" --seed 11 "${opts[@]}" ||
    fail "phasecast-serve did not start"
net=(--pub "$PC_PUB" --req "$PC_REQ" --room cave)

timeout 120 "$PC_PLAY" "${net[@]}" --name gm --gm --bot --seed 5 \
    --gm-credential-file "$PC_TMP/gm" --heroes 3 --timeout 30 \
    >"$PC_TMP/gm.out" 2>&1 &
bots=($!)
pc_pids+=($!)
for h in ann ben cat; do
    timeout 120 "$PC_PLAY" "${net[@]}" --name "$h" --game encounter --bot \
        --seed "${#h}$RANDOM" --timeout 30 >"$PC_TMP/$h.out" 2>&1 &
    bots+=($!)
    pc_pids+=($!)
done
for b in "${bots[@]}"; do
    wait "$b" || fail "a bot did not finish the encounter"
done
outcome=$(sed -n 's/^result: \(VICTORY\|DEFEAT\).*/\1/p' "$PC_TMP/gm.out" |
    head -n 1)
[[ -n $outcome ]] || fail "the game master saw no VICTORY or DEFEAT"

log=$PC_TMP/logs/cave.pclog
"$PC_INSPECT" --log "$log" export >"$PC_TMP/cave.jsonl" ||
    fail "export failed"
changes=$(grep -c '"seq"' "$PC_TMP/cave.jsonl")
events=$("$PC_INSPECT" --log "$log" --no-color log --events | grep -c 'EVENT')
((events > 0)) || fail "the log holds no events"
"$PC_INSPECT" --no-color import "$PC_TMP/cave.jsonl" "${opts[@]}" \
    >"$PC_TMP/import.out" 2>&1 || fail "the export did not replay"
grep -q 'reproduced' "$PC_TMP/import.out" ||
    fail "import did not say the game was reproduced"
if "$PC_INSPECT" --no-color import "$PC_TMP/cave.jsonl" --round-ms 2000 \
    --resolution-ms 20 --max-rounds 1 --max-heroes 3 \
    >"$PC_TMP/import-other.out" 2>&1; then
    fail "a replay with other settings did not diverge"
fi
grep -q 'diverge' "$PC_TMP/import-other.out" ||
    fail "the other settings' replay did not report a divergence"
cat "$PC_TMP/import.out"
echo "ok - an encounter ($outcome, $changes records, $events events) replays exactly from its log"
