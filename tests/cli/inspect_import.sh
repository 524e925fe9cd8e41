#!/usr/bin/env bash
# tests/cli/inspect_import.sh - phasecast-inspect import as a black box: a
# piles game recorded into a change log (pc-inspect-mklog) is exported and
# imported again: reproduced (exit 0), from a log kept whole, from one
# split into segments, from a later seq and through a pipe; an export with
# one line tampered with, or replayed with other settings, exits 1 naming
# the seq; a bad command line exits 2 and a malformed file 1 naming the
# line.
#
# Needs PC_INSPECT and PC_MKLOG.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$PC_TMP/whole" "$PC_TMP/seg"
"$PC_MKLOG" "$PC_TMP/whole" || fail "pc-inspect-mklog failed"
"$PC_MKLOG" "$PC_TMP/seg" --keyframe-every 50 || fail "mklog (segments) failed"
whole="$PC_TMP/whole/p1.pclog"
seg="$PC_TMP/seg/p1.pclog"
# The settings pc-inspect-mklog plays with.
settings=(--rounds 4 --target 10000)

"$PC_INSPECT" --log "$whole" export >"$PC_TMP/p1.jsonl" ||
    fail "export failed"
last=$("$PC_INSPECT" --json --log "$whole" verify | sed -n 's/.*"last":\([0-9]*\).*/\1/p')
[[ -n $last ]] || fail "verify --json gave no last seq"

# run NAME ARGS... - run the tool; keep stdout, stderr and the status.
run() {
    local name=$1
    shift
    st=0
    "$PC_INSPECT" --no-color "$@" >"$PC_TMP/$name.out" 2>"$PC_TMP/$name.err" ||
        st=$?
}

# The export as it is: reproduced, change for change.
run whole import "$PC_TMP/p1.jsonl" "${settings[@]}"
[[ $st -eq 0 ]] || fail "import of the export exited $st"
grep -qx "reproduced: room p1 (piles), seqs 1\.\.$last, [0-9]* stimuli, every change equal" \
    "$PC_TMP/whole.out" || fail "import did not say reproduced"

# The same history read from segments exports the same lines.
"$PC_INSPECT" --log "$seg" export >"$PC_TMP/seg.jsonl" || fail "export (seg)"
cmp -s "$PC_TMP/p1.jsonl" "$PC_TMP/seg.jsonl" ||
    fail "the segmented log exports other lines"

# From a later seq (a restored room), through a pipe, as JSON.
"$PC_INSPECT" --log "$whole" export --from 100 |
    "$PC_INSPECT" --json import - "${settings[@]}" >"$PC_TMP/from.out" ||
    fail "import of an export from seq 100 failed"
grep -q '"ok":true' "$PC_TMP/from.out" || fail "from seq 100: not ok"
grep -q "\"to\":$last" "$PC_TMP/from.out" || fail "from seq 100: not to the end"

# Another setting: the game would go on where the recording ended.
run defaults import "$PC_TMP/p1.jsonl"
[[ $st -eq 1 ]] || fail "import with the default settings exited $st, not 1"
grep -q "^diverged: room p1 (piles) at seq $last " "$PC_TMP/defaults.out" ||
    fail "import with the default settings did not diverge at seq $last"

# One line tampered with: the checksum of seq 57 (line 58).
sed '58s/"sum":"[0-9a-f]*"/"sum":"0000000000000000"/' "$PC_TMP/p1.jsonl" \
    >"$PC_TMP/sum.jsonl"
cmp -s "$PC_TMP/p1.jsonl" "$PC_TMP/sum.jsonl" && fail "sed changed nothing"
run sum import "$PC_TMP/sum.jsonl" "${settings[@]}"
[[ $st -eq 1 ]] || fail "a tampered sum exited $st, not 1"
grep -q "^diverged: room p1 (piles) at seq 57 (line 58)" "$PC_TMP/sum.out" ||
    fail "a tampered sum was not found at seq 57"
grep -q '^  sum      expected "0000000000000000"' "$PC_TMP/sum.out" ||
    fail "the report does not show the tampered sum"
run sumjson --json import "$PC_TMP/sum.jsonl" "${settings[@]}"
[[ $st -eq 1 ]] || fail "--json: a tampered sum exited $st"
grep -q '"ok":false.*"divergence":{"seq":57,"line":58,"problem":"differs"' \
    "$PC_TMP/sumjson.out" || fail "--json: the divergence is not seq 57"

# A removed line: the seq it held is missing.
sed '100d' "$PC_TMP/p1.jsonl" >"$PC_TMP/gap.jsonl"
run gap --json import "$PC_TMP/gap.jsonl" "${settings[@]}"
[[ $st -eq 1 ]] || fail "a removed line exited $st"
grep -q '"divergence":{"seq":99,' "$PC_TMP/gap.out" ||
    fail "a removed line was not reported at seq 99"

# A malformed line: an error naming it, nothing printed as a result.
sed '5s/.*/{"type":"change",/' "$PC_TMP/p1.jsonl" >"$PC_TMP/bad.jsonl"
run bad import "$PC_TMP/bad.jsonl" "${settings[@]}"
[[ $st -eq 1 ]] || fail "a malformed line exited $st"
grep -q "bad_export: line 5: not JSON" "$PC_TMP/bad.err" ||
    fail "a malformed line was not named"
[[ ! -s $PC_TMP/bad.out ]] || fail "a malformed export printed a result"

# Bad usage: exit 2.
for args in "import" "import a b" "import $PC_TMP/p1.jsonl --target 0" \
    "import $PC_TMP/p1.jsonl --frobnicate" "--log $whole import $PC_TMP/p1.jsonl"; do
    st=0
    # shellcheck disable=SC2086 # the words are split on purpose
    "$PC_INSPECT" $args >/dev/null 2>&1 || st=$?
    [[ $st -eq 2 ]] || fail "'$args' exited $st, not 2"
done
"$PC_INSPECT" --help | grep -q "import FILE \[--game NAME\]" ||
    fail "--help does not show import"
echo "inspect_import: ok"
