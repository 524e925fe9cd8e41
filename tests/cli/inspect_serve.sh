#!/usr/bin/env bash
# tests/cli/inspect_serve.sh - phasecast-inspect against a real
# phasecast-serve with a log directory and an inspector credential file:
# two tictactoe bots play a game; the inspector reads it from the server
# (the history ring) and from the log, and both give the same changes,
# states and blame; a wrong or missing credential is refused; a server
# whose credential file is empty does not start.
#
# Needs PC_SERVE, PC_PLAY, PC_INSPECT.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

mkdir -p "$PC_TMP/logs"
cred="$PC_TMP/credential"
umask 077
echo "cli-test-credential-$RANDOM$RANDOM-0123456789" >"$cred"
pc_serve --room r1 --seed 5 --log-dir "$PC_TMP/logs" \
    --inspector-credential-file "$cred"
grep -q 'inspector on' "$PC_TMP/serve.err" || fail "serve did not say inspector on"
grep -q -f "$cred" "$PC_TMP/serve.err" "$PC_TMP/serve.out" &&
    fail "serve printed the credential"
for name in alice bob; do
    timeout 90 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room r1 \
        --name "$name" --bot --seed 3 >"$PC_TMP/$name.out" &
    pc_pids+=($!)
done
wait "${pc_pids[1]}" || fail "alice's bot failed"
wait "${pc_pids[2]}" || fail "bob's bot failed"

live=(--rep "$PC_REQ" --room r1 --credential-file "$cred")
log=(--log "$PC_TMP/logs/r1.pclog")
for cmd in "log" "show last" "show first" "blame /phase --history" \
    "diff first last" "export"; do
    # shellcheck disable=SC2086
    "$PC_INSPECT" --no-color "${live[@]}" $cmd >"$PC_TMP/live.res" ||
        fail "live $cmd failed"
    # shellcheck disable=SC2086
    "$PC_INSPECT" --no-color "${log[@]}" $cmd >"$PC_TMP/log.res" ||
        fail "log $cmd failed"
    diff -u "$PC_TMP/log.res" "$PC_TMP/live.res" ||
        fail "$cmd differs between the server and the log"
done
grep -q 'FINISHED' "$PC_TMP/live.res" || fail "the export does not end the game"
"$PC_INSPECT" "${live[@]}" verify | grep -q 'every state checksum verified' ||
    fail "live verify"

# A session through standard input, on the live source.
printf 'goto 3\nstep\nquit\n' |
    "$PC_INSPECT" --no-color "${live[@]}" >"$PC_TMP/session.res" ||
    fail "the live session failed"
grep -q '^seq 4 ' "$PC_TMP/session.res" || fail "step did not reach seq 4"

# Refusals: wrong credential, none at all.
echo "not-the-right-credential-at-all" >"$PC_TMP/wrong"
st=0
"$PC_INSPECT" --rep "$PC_REQ" --room r1 --credential-file "$PC_TMP/wrong" \
    log >"$PC_TMP/out" 2>"$PC_TMP/err" || st=$?
[[ $st -eq 1 ]] || fail "a wrong credential exited $st"
grep -q forbidden "$PC_TMP/err" || fail "no forbidden for a wrong credential"
[[ ! -s $PC_TMP/out ]] || fail "a refused inspector printed a result"
st=0
env -u PHASECAST_INSPECTOR_CREDENTIAL "$PC_INSPECT" --rep "$PC_REQ" --room r1 \
    log >/dev/null 2>"$PC_TMP/err" || st=$?
[[ $st -eq 1 ]] && grep -q no_credential "$PC_TMP/err" ||
    fail "no credential: exit $st"

# An empty credential file stops the server at start.
: >"$PC_TMP/empty"
st=0
"$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 \
    --inspector-credential-file "$PC_TMP/empty" >/dev/null 2>"$PC_TMP/err" ||
    st=$?
[[ $st -eq 1 ]] || fail "an empty credential file: serve exited $st"
echo "inspect_serve: ok"
