#!/usr/bin/env bash
# tests/cli/inspect_events.sh - phasecast-inspect on a history with events
# (pc_room_event), as a black box: a piles game recorded by
# pc-inspect-mklog --events 1 (alice's "welcome", a public "round_over"
# per round, the game master's "gm.note") shows its events distinctly in
# `log` and `log --events`, as "kind":"event" with their audience and data
# in --json, in `find --event NAME` (and not_found for a name never
# used), in `export` as the change log's records, and an export with
# events imports again, reproduced change for change, from the start and
# from a later seq. The same answers come from a log split into segments.
#
# Needs PC_INSPECT and PC_MKLOG.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$PC_TMP/whole" "$PC_TMP/seg"
"$PC_MKLOG" "$PC_TMP/whole" --events 1 || fail "pc-inspect-mklog --events failed"
"$PC_MKLOG" "$PC_TMP/seg" --events 1 --keyframe-every 50 ||
    fail "mklog --events (segments) failed"
whole="$PC_TMP/whole/p1.pclog"
seg="$PC_TMP/seg/p1.pclog"
settings=(--rounds 4 --target 10000)

# ins NAME ARGS... - run the tool on both logs; the outputs must agree.
ins() {
    local name=$1
    shift
    "$PC_INSPECT" --no-color --log "$whole" "$@" >"$PC_TMP/$name.out" ||
        fail "$* exited $?"
    "$PC_INSPECT" --no-color --log "$seg" "$@" >"$PC_TMP/$name.seg" ||
        fail "$* (segments) exited $?"
    diff -u "$PC_TMP/$name.out" "$PC_TMP/$name.seg" ||
        fail "$* differs between the whole log and its segments"
}

# log: each event on its own row, its name, audience and data before the
# reason, "event" in the PATCH column.
ins log log
grep -q ' event  EVENT welcome (to alice) {"seat":1}: alice is welcomed$' \
    "$PC_TMP/log.out" || fail "log does not show alice's welcome"
grep -q ' event  EVENT gm.note (to gm) "bob never saw it coming": ' \
    "$PC_TMP/log.out" || fail "log does not show the game master's note"
[[ $(grep -c ' EVENT round_over {"round":[1-4]}: round [1-4] is scored$' \
    "$PC_TMP/log.out") -eq 4 ]] || fail "log does not show four round_over"

# log --events: only the six events, nothing else.
ins events log --events
[[ $(grep -c ' EVENT ' "$PC_TMP/events.out") -eq 6 ]] ||
    fail "log --events does not list six events"
[[ $(wc -l <"$PC_TMP/events.out") -eq 7 ]] ||
    fail "log --events lists more than its events"

# --json: kind event, with the event as the change log holds it.
ins events_json --json log --events
grep -q '"kind":"event"' "$PC_TMP/events_json.out" || fail "--json: no kind event"
grep -q '"event":{"name":"welcome","audience":"player","player":"alice","data":{"seat":1}}' \
    "$PC_TMP/events_json.out" || fail "--json: the welcome is not whole"
grep -q '"event":{"name":"gm.note","audience":"gm","data":"bob never saw it coming"}' \
    "$PC_TMP/events_json.out" || fail "--json: the gm note is not whole"
grep -q '"kind":"update"' "$PC_TMP/events_json.out" &&
    fail "--json log --events lists an update"

# find --event: the last one, or each of them newest first.
ins find find --event round_over
[[ $(wc -l <"$PC_TMP/find.out") -eq 1 ]] || fail "find --event gave more than one"
grep -q 'EVENT round_over {"round":4}' "$PC_TMP/find.out" ||
    fail "find --event is not the last round_over"
ins find_all find --event round_over --all
[[ $(grep -c 'EVENT round_over' "$PC_TMP/find_all.out") -eq 4 ]] ||
    fail "find --event --all does not list four"
head -n 1 "$PC_TMP/find_all.out" | grep -q '"round":4' ||
    fail "find --event --all is not newest first"
st=0
"$PC_INSPECT" --no-color --log "$whole" find --event nope >"$PC_TMP/nf.out" \
    2>"$PC_TMP/nf.err" || st=$?
[[ $st -eq 1 ]] || fail "find --event of a name never used exited $st"
grep -q 'not_found: no event nope' "$PC_TMP/nf.err" ||
    fail "find --event did not say not_found"
st=0
"$PC_INSPECT" --log "$whole" find --event round_over /data >/dev/null 2>&1 ||
    st=$?
[[ $st -eq 2 ]] || fail "find --event with a path exited $st, not 2"

# export: the records the log holds, events included; import reproduces
# them, from the start and from a later seq.
ins export export
[[ $(grep -c '"kind":"event"' "$PC_TMP/export.out") -eq 6 ]] ||
    fail "export does not hold six events"
grep -q '"patch":{},"event":{"name":"round_over","audience":"public","data":{"round":2}}' \
    "$PC_TMP/export.out" || fail "export's round_over is not as the log holds it"
"$PC_INSPECT" import "$PC_TMP/export.out" "${settings[@]}" >"$PC_TMP/imp.out" ||
    fail "import of an export with events diverged: $(cat "$PC_TMP/imp.out")"
grep -q '^reproduced: room p1 (piles), seqs 1\.\.208, ' "$PC_TMP/imp.out" ||
    fail "import did not say reproduced: $(cat "$PC_TMP/imp.out")"
"$PC_INSPECT" --log "$whole" export --from 150 |
    "$PC_INSPECT" import - "${settings[@]}" >"$PC_TMP/imp150.out" 2>/dev/null ||
    fail "import from seq 150 diverged"
grep -q '^reproduced: ' "$PC_TMP/imp150.out" || fail "import from 150: not reproduced"

# A malformed event in an export is refused, naming its line.
sed 's/"audience":"player","player":"alice"/"audience":"player"/' \
    "$PC_TMP/export.out" >"$PC_TMP/bad.jsonl"
st=0
"$PC_INSPECT" import "$PC_TMP/bad.jsonl" "${settings[@]}" >"$PC_TMP/bad.out" \
    2>&1 || st=$?
[[ $st -eq 1 ]] || fail "an export with a malformed event exited $st"
grep -q 'line 6: seq 5: an event' "$PC_TMP/bad.out" ||
    fail "the malformed event's line is not named: $(cat "$PC_TMP/bad.out")"
echo "ok"
