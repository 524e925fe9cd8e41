#!/usr/bin/env bash
# tests/cli/encounter_by_hand.sh - phasecast-play by hand in an encounter
# room: a game master (--gm, credential from a private file) and a hero
# each type actions on stdin. The game master places a goblin of 1 hp with
# a secret note and starts; the hero sets a secret objective and attacks.
# The hero sees its own objective in its round_started event and never the
# note or the goblin's hit points; the game master sees them in its
# gm_summary event and its result; both see VICTORY. Each line waits for
# what it needs by polling the other's output (bounded), never for a time.
#
# Needs PC_SERVE and PC_PLAY.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

umask 077
echo "cli-gm-by-hand-$RANDOM$RANDOM-abcdef" >"$PC_TMP/gm"
pc_serve --room e1:encounter --gm-credential-file "$PC_TMP/gm" \
    --round-ms 60000 --resolution-ms 10 --max-rounds 1
net=(--pub "$PC_PUB" --req "$PC_REQ" --room e1)

# until FILE PATTERN - poll FILE for PATTERN for up to 20 s.
until_has() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
: >"$PC_TMP/gm.out"
: >"$PC_TMP/alice.out"

{
    until_has "$PC_TMP/gm.out" 'joined e1 as the game master'
    echo 'add_monster {"id": "m1", "name": "goblin", "hp": 1, "armour": 0, "x": 4, "y": 2, "note": "SECRET-NOTE-7f3"}'
    until_has "$PC_TMP/alice.out" 'ok seq'
    echo 'start'
    until_has "$PC_TMP/gm.out" 'result:'
} | timeout 60 "$PC_PLAY" "${net[@]}" --name gm --gm \
    --gm-credential-file "$PC_TMP/gm" >"$PC_TMP/gm.out" 2>&1 &
pc_pids+=($!)
gm=$!
until_has "$PC_TMP/gm.out" 'add_monster\|ok seq' || fail "the game master did not act"
{
    until_has "$PC_TMP/alice.out" 'joined e1'
    echo 'objective {"text": "OBJECTIVE-find-the-map"}'
    until_has "$PC_TMP/alice.out" 'round 1 begins'
    echo 'attack {"target": "m1"}'
    until_has "$PC_TMP/alice.out" 'result:'
} | timeout 60 "$PC_PLAY" "${net[@]}" --name alice --game encounter \
    >"$PC_TMP/alice.out" 2>&1 || fail "the hero failed"
wait "$gm" || fail "the game master failed"

grep -q 'EVENT round_started (private) {"round":1,"objective":"OBJECTIVE-find-the-map"}' \
    "$PC_TMP/alice.out" || fail "the hero did not see its objective"
grep -q 'result: VICTORY' "$PC_TMP/alice.out" || fail "no victory for the hero"
! grep -q 'SECRET-NOTE\|"m1":1\|hp): ' "$PC_TMP/alice.out" ||
    fail "the hero saw the game master's secrets"
grep -q 'EVENT gm_summary.*{"monsters":{"m1":1}}' "$PC_TMP/gm.out" ||
    fail "the game master did not get its summary"
grep -q 'monster m1 (goblin): 0 of 1 hp, defeated' "$PC_TMP/gm.out" ||
    fail "the game master's result"
grep -q 'EVENT monster_defeated' "$PC_TMP/gm.out" ||
    fail "no monster_defeated event"
echo "encounter_by_hand: ok"
