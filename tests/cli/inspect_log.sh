#!/usr/bin/env bash
# tests/cli/inspect_log.sh - phasecast-inspect against a recorded piles
# game, as a black box: every command's output is compared with a golden
# file (tests/inspect/golden/), the same history read from a log that
# compaction split into segments must give the same answers, the
# interactive session is driven through standard input, and bad input
# (a missing seq, a bad path, a corrupt file) gets its error and exit
# status.
#
# Needs PC_INSPECT and PC_MKLOG. PC_UPDATE_GOLDEN=1 rewrites the golden
# files from this run instead of comparing (review the diff before you
# commit it).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

golden=$(cd "$(dirname "${BASH_SOURCE[0]}")/../inspect/golden" && pwd)
mkdir -p "$PC_TMP/whole" "$PC_TMP/seg"
"$PC_MKLOG" "$PC_TMP/whole" || fail "pc-inspect-mklog failed"
"$PC_MKLOG" "$PC_TMP/seg" --keyframe-every 50 || fail "mklog (segments) failed"
whole="$PC_TMP/whole/p1.pclog"
seg="$PC_TMP/seg/p1.pclog"
ls "$PC_TMP/seg" | grep -q 'p1\.pclog\.[0-9]' ||
    fail "compaction kept no segment: $(ls "$PC_TMP/seg")"

# run NAME LOG ARGS... - run the tool, keep stdout+stderr and the status.
run() {
    local name=$1 log=$2
    shift 2
    local st=0
    "$PC_INSPECT" --no-color --log "$log" "$@" >"$PC_TMP/$name.res" 2>&1 || st=$?
    echo "exit $st" >>"$PC_TMP/$name.res"
}

# check NAME ARGS... - the output on the whole log equals the golden file,
# and the same command on the segmented log prints the same.
check() {
    local name=$1
    shift
    run "$name" "$whole" "$@"
    if [[ -n ${PC_UPDATE_GOLDEN:-} ]]; then
        cp "$PC_TMP/$name.res" "$golden/$name.out"
    fi
    diff -u "$golden/$name.out" "$PC_TMP/$name.res" ||
        fail "$name differs from its golden file"
    run "$name.seg" "$seg" "$@"
    diff -u "$PC_TMP/$name.res" "$PC_TMP/$name.seg.res" ||
        fail "$name differs between the whole log and its segments"
}

check log log
check log_round4 log --from 156 --to 202 --reason bob
check log_last log --last 5 --patch
check log_phase log --phase SCORING --last 6
check log_path log --path /data/scores/bob
check log_json --json log --last 3
check show_first show first
check show_path show 160 /data/hands/bob
check show_dotted show 160 scores
check show_json --json show 200 /data/scores
check diff_round diff 155 200
check diff_under diff 155 200 /data/scores
check diff_json --json diff 199 200
check find find /phase SCORING --all
check find_value find scores.bob 13
check find_gone find /data/round_points --gone --all
check blame blame /data/scores/bob
check blame_history blame /data/scores/bob --history
check blame_json --json blame /data/scores/bob
check export export --from 195 --to 200

# The export replays through the game's rules (import): exactly with the
# settings the game was played with, and with one round less it diverges
# where the recording went on to round 4.
"$PC_INSPECT" --log "$whole" export >"$PC_TMP/p1.jsonl" || fail "export"
"$PC_INSPECT" import "$PC_TMP/p1.jsonl" --rounds 4 --target 10000 \
    >"$PC_TMP/import.out" || fail "import of the recorded game diverged"
grep -q '^reproduced: room p1 (piles), seqs 1..202' "$PC_TMP/import.out" ||
    fail "import did not say reproduced"
st=0
"$PC_INSPECT" import "$PC_TMP/p1.jsonl" --rounds 3 --target 10000 \
    >"$PC_TMP/import3.out" || st=$?
[[ $st -eq 1 ]] || fail "a replay with 3 rounds exited $st"
grep -q '^diverged: room p1 (piles) at seq 156' "$PC_TMP/import3.out" ||
    fail "the divergence is not at seq 156"

# The interactive session, driven through standard input.
st=0
"$PC_INSPECT" --no-color --log "$whole" <"$golden/../session.in" \
    >"$PC_TMP/session.res" 2>&1 || st=$?
echo "exit $st" >>"$PC_TMP/session.res"
[[ -n ${PC_UPDATE_GOLDEN:-} ]] && cp "$PC_TMP/session.res" "$golden/session.out"
diff -u "$golden/session.out" "$PC_TMP/session.res" ||
    fail "the session transcript differs from its golden file"

# Errors: a missing seq, a bad path, a missing file (exit 1, a message).
expect_error() {
    local code=$1
    shift
    local st=0
    "$PC_INSPECT" --no-color "$@" >"$PC_TMP/err.out" 2>"$PC_TMP/err.err" || st=$?
    [[ $st -eq 1 ]] || fail "$* exited $st, not 1"
    grep -q "$code" "$PC_TMP/err.err" || fail "$* did not say $code"
    [[ ! -s $PC_TMP/err.out ]] || fail "$* printed a result"
}
expect_error "bad_seq: seq 9999 is not in this history: it holds seqs 0..202" --log "$whole" show 9999
expect_error "bad_seq" --log "$whole" diff 1 100000
expect_error "bad_path: /data/nope does not exist at seq 10" \
    --log "$whole" show 10 /data/nope
expect_error "bad_path" --log "$whole" show 10 '/data/~2'
expect_error "not_found" --log "$PC_TMP/nothing.pclog" log
expect_error "not_found" --log "$whole" find /data/scores/bob 12345
expect_error '"code":"bad_seq"' --json --log "$whole" show 9999
# Bad usage: exit 2.
st=0
"$PC_INSPECT" --log "$whole" frobnicate >/dev/null 2>&1 || st=$?
[[ $st -eq 2 ]] || fail "an unknown command exited $st, not 2"
st=0
"$PC_INSPECT" log >/dev/null 2>&1 || st=$?
[[ $st -eq 2 ]] || fail "no source exited $st, not 2"

# A corrupt log: verify names the offset; other commands refuse it.
cp "$whole" "$PC_TMP/bad.pclog"
size=$(stat -c %s "$PC_TMP/bad.pclog")
printf 'XXXX' | dd of="$PC_TMP/bad.pclog" bs=1 seek=$((size / 2)) \
    conv=notrunc status=none
st=0
"$PC_INSPECT" --no-color --log "$PC_TMP/bad.pclog" verify >"$PC_TMP/v.out" 2>&1 || st=$?
[[ $st -eq 1 ]] || fail "verify of a corrupt log exited $st"
grep -q "corrupt.*at offset" "$PC_TMP/v.out" || fail "verify did not say where"
expect_error "corrupt" --log "$PC_TMP/bad.pclog" log
run verify_clean "$seg" verify
grep -q "every frame and state checksum verified" "$PC_TMP/verify_clean.res" ||
    fail "verify of a clean segmented log did not pass"
grep -q "exit 0" "$PC_TMP/verify_clean.res" || fail "verify exit status"

# A torn tail (the server mid-append) is not an error for a reader.
cp "$whole" "$PC_TMP/torn.pclog"
truncate -s -7 "$PC_TMP/torn.pclog"
"$PC_INSPECT" --no-color --log "$PC_TMP/torn.pclog" show last >/dev/null ||
    fail "a torn tail made the log unreadable"
echo "inspect_log: ok"
